"""A user's own model family, registered with prunebench through an entry point.

Everything a task needs is here: the data, the model, what kind of figures it gives, which
layers the partial experiment prunes, and where its baselines live (beside this file, so
`prunebench check` finds them from any working directory).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from prunebench import kerasenv
from prunebench.config import DataConfig
from prunebench.data import Dataset
from prunebench.tasks import Task

FILTERS = 16
CLASSES = 2


def load(config: DataConfig) -> Dataset:
    """Return load_breast_cancer's 30 measurements, standardised, as (n, 30, 1) sequences."""
    from sklearn.datasets import load_breast_cancer
    from sklearn.model_selection import train_test_split

    x, y = load_breast_cancer(return_X_y=True)
    x_train, x_test, y_train, y_test = train_test_split(
        x, y, test_size=config.test_size, random_state=config.split_seed, stratify=y)
    mean, std = x_train.mean(axis=0), x_train.std(axis=0)
    prepare = lambda a: ((a - mean) / std)[..., None].astype(np.float32)  # noqa: E731
    return Dataset(prepare(x_train), y_train.astype(np.int32), prepare(x_test),
                   y_test.astype(np.int32))


def build(data: Dataset) -> Any:
    """Return Conv1D(16, 3) -> Conv1D(16, 3) -> mean -> Dense(2, softmax)."""
    layers = kerasenv.keras().layers
    return kerasenv.keras().Sequential([
        layers.Input(shape=data.x_train.shape[1:], name="input"),
        layers.Conv1D(FILTERS, 3, activation="relu", name="conv1"),
        layers.Conv1D(FILTERS, 3, activation="relu", name="conv2"),
        layers.GlobalAveragePooling1D(name="pool"),
        layers.Dense(CLASSES, activation="softmax", name="output"),
    ], name="cancer_conv1d")


TASK = Task(
    name="cancer_conv1d",
    description="Conv1D classifier of load_breast_cancer's 30 measurements (an external task)",
    load_data=load,
    build_model=build,
    kind="classification",
    partial_layers=("conv2",),
    baseline_dir=Path(__file__).parent / "baselines",
)
