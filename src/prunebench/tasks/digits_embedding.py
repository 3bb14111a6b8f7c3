"""An Embedding over (pixel position, level) tokens: tfmot's embedding path."""

from __future__ import annotations

from functools import partial
from typing import Any

from prunebench import kerasenv
from prunebench.data import DIGITS_LEVELS, DIGITS_SIDE, Dataset, digits
from prunebench.tasks.base import Task

CLASSES = 10
WIDTH = 16
VOCABULARY = DIGITS_SIDE * DIGITS_SIDE * DIGITS_LEVELS


def build(data: Dataset) -> Any:
    """Return Embedding(1088, 16) over 64 tokens -> mean over tokens -> Dense(10).

    Each token is one pixel's (position, level): the table holds nearly every weight.
    """
    layers = kerasenv.keras().layers
    return kerasenv.keras().Sequential([
        layers.Input(shape=data.x_train.shape[1:], name="input"),
        layers.Embedding(VOCABULARY, WIDTH, name="embedding"),
        layers.GlobalAveragePooling1D(name="pool"),
        layers.Dense(CLASSES, activation="softmax", name="output"),
    ], name="digits_embedding")


TASK = Task(
    name="digits_embedding",
    description="Embedding(1088, 16) over load_digits pixels as (position, level) tokens",
    load_data=partial(digits, layout="tokens"),
    build_model=build,
    partial_layers=("embedding",),
)
