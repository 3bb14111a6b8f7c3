"""A Conv2D + BatchNormalization CNN on the 8x8 digits: tfmot's convolution path."""

from __future__ import annotations

from functools import partial
from typing import Any

from prunebench import kerasenv
from prunebench.data import Dataset, digits
from prunebench.tasks.base import Task

CLASSES = 10


def build(data: Dataset) -> Any:
    """Return Conv(16) -> BN -> ReLU -> Conv(32) -> BN -> ReLU -> MaxPool -> Dense(10)."""
    layers = kerasenv.keras().layers
    return kerasenv.keras().Sequential([
        layers.Input(shape=data.x_train.shape[1:], name="input"),
        layers.Conv2D(16, 3, padding="same", use_bias=False, name="conv1"),
        layers.BatchNormalization(name="bn1"),
        layers.ReLU(name="relu1"),
        layers.Conv2D(32, 3, padding="same", use_bias=False, name="conv2"),
        layers.BatchNormalization(name="bn2"),
        layers.ReLU(name="relu2"),
        layers.MaxPooling2D(2, name="pool"),
        layers.Flatten(name="flatten"),
        layers.Dense(CLASSES, activation="softmax", name="output"),
    ], name="digits_cnn")


TASK = Task(
    name="digits_cnn",
    description="Conv2D + BatchNormalization CNN on load_digits 8x8 (10 classes)",
    load_data=partial(digits, layout="image"),
    build_model=build,
    partial_layers=("conv2",),
)
