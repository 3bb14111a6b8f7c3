"""Self-attention over each digit's 8 rows: tfmot's MultiHeadAttention path."""

from __future__ import annotations

from functools import partial
from typing import Any

from prunebench import kerasenv
from prunebench.data import Dataset, digits
from prunebench.tasks.base import Task

CLASSES = 10
WIDTH = 32
HEADS = 2


def build(data: Dataset) -> Any:
    """Return Dense(32) per row -> MultiHeadAttention(2 heads) -> mean over rows -> Dense(10)."""
    keras = kerasenv.keras()
    layers = keras.layers
    inputs = keras.Input(shape=data.x_train.shape[1:], name="input")
    x = layers.Dense(WIDTH, activation="relu", name="embed")(inputs)
    x = layers.MultiHeadAttention(HEADS, WIDTH // HEADS, name="attention")(x, x)
    x = layers.GlobalAveragePooling1D(name="pool")(x)
    outputs = layers.Dense(CLASSES, activation="softmax", name="output")(x)
    return keras.Model(inputs, outputs, name="digits_attention")


TASK = Task(
    name="digits_attention",
    description="MultiHeadAttention (2 heads) over the 8 rows of load_digits images",
    load_data=partial(digits, layout="rows"),
    build_model=build,
    partial_layers=("attention",),
)
