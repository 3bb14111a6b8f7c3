"""An LSTM reading each digit's 8 rows as a sequence: tfmot's RNN path (kernel + recurrent kernel)."""

from __future__ import annotations

from functools import partial
from typing import Any

from prunebench import kerasenv
from prunebench.data import Dataset, digits
from prunebench.tasks.base import Task

CLASSES = 10
UNITS = 32


def build(data: Dataset) -> Any:
    """Return LSTM(32) over (8 rows, 8 pixels) -> Dense(10).

    unroll=True: 8 steps unrolled convert to TFLite as plain ops on every TF version.
    """
    layers = kerasenv.keras().layers
    return kerasenv.keras().Sequential([
        layers.Input(shape=data.x_train.shape[1:], name="input"),
        layers.LSTM(UNITS, unroll=True, name="lstm"),
        layers.Dense(CLASSES, activation="softmax", name="output"),
    ], name="digits_lstm")


TASK = Task(
    name="digits_lstm",
    description="LSTM(32) over the 8 rows of load_digits images (10 classes)",
    load_data=partial(digits, layout="rows"),
    build_model=build,
    partial_layers=("lstm",),
)
