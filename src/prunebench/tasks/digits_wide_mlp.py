"""A wide MLP (784-512-512-10) on the digits scaled up to 28x28: where block sparsity buys TFLite speed.

Its block_90 experiment prunes (4, 1) blocks to 90% and converts with
Optimize.EXPERIMENTAL_SPARSITY; TFLite's built-in sparse FULLY_CONNECTED kernel runs it,
timed against the dense model under XNNPACK in the same interleaved blocks.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from prunebench import kerasenv
from prunebench.config import ExperimentConfig, PruneConfig
from prunebench.data import Dataset, digits
from prunebench.tasks.base import Task, standard_experiments

CLASSES = 10
HIDDEN = 512
#: (4, 1) blocks: 4 input weights of one output unit, TFLite's 1x4 sparse block.
BLOCK = (4, 1)


def build(data: Dataset) -> Any:
    """Return Dense(512, relu) -> Dense(512, relu) -> Dense(10, softmax)."""
    layers = kerasenv.keras().layers
    return kerasenv.keras().Sequential([
        layers.Input(shape=data.x_train.shape[1:], name="input"),
        layers.Dense(HIDDEN, activation="relu", name="hidden1"),
        layers.Dense(HIDDEN, activation="relu", name="hidden2"),
        layers.Dense(CLASSES, activation="softmax", name="output"),
    ], name="digits_wide_mlp")


_SPARSE = (
    ExperimentConfig(
        name="block_90",
        description="(4, 1) block sparsity at 90% on every layer, EXPERIMENTAL_SPARSITY TFLite",
        prune=PruneConfig(scope="whole_model", target_sparsity=0.9, block_size=BLOCK),
    ),
    ExperimentConfig(
        name="whole_90",
        description="unstructured 90% on every layer, EXPERIMENTAL_SPARSITY TFLite (densified)",
        prune=PruneConfig(scope="whole_model", target_sparsity=0.9, sparse_tflite=True),
    ),
)

TASK = Task(
    name="digits_wide_mlp",
    description="784-512-512-10 Dense MLP on load_digits scaled to 28x28: block-sparse TFLite",
    load_data=partial(digits, layout="flat784"),
    build_model=build,
    partial_layers=("hidden2",),
    experiments=(*standard_experiments(), *_SPARSE),
    gated=("unpruned", "whole_model", "partial", "block_90"),
)
