"""A MobileNet-style depthwise-separable CNN, pruned under tfmot's PruneForLatencyOnXNNPack.

The policy accepts a model that starts with ZeroPadding2D((1, 1)) and a 3x3 stride-2
'valid' Conv2D on 3 input channels, ends its convolutions with
GlobalAveragePooling2D(keepdims=True), and prunes only the 1x1 Conv2D: the digits are
tiled to 3 channels for it.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from prunebench import kerasenv
from prunebench.data import Dataset, digits
from prunebench.tasks.base import Task

CLASSES = 10


def build(data: Dataset) -> Any:
    """Return stem conv -> two depthwise + pointwise blocks -> pooled -> Dense(10)."""
    keras = kerasenv.keras()
    layers = keras.layers
    inputs = keras.Input(shape=data.x_train.shape[1:], name="input")
    x = layers.ZeroPadding2D((1, 1), name="stem_pad")(inputs)
    x = layers.Conv2D(16, 3, strides=2, padding="valid", use_bias=False, name="stem")(x)
    x = layers.BatchNormalization(name="stem_bn")(x)
    x = layers.ReLU(name="stem_relu")(x)
    for block, filters in enumerate((32, 64), start=1):
        x = layers.DepthwiseConv2D(3, padding="same", use_bias=False, name=f"dw{block}")(x)
        x = layers.BatchNormalization(name=f"dw{block}_bn")(x)
        x = layers.ReLU(name=f"dw{block}_relu")(x)
        x = layers.Conv2D(filters, 1, use_bias=False, name=f"pw{block}")(x)
        x = layers.BatchNormalization(name=f"pw{block}_bn")(x)
        x = layers.ReLU(name=f"pw{block}_relu")(x)
    x = layers.GlobalAveragePooling2D(keepdims=True, name="pool")(x)
    x = layers.Flatten(name="flatten")(x)
    outputs = layers.Dense(CLASSES, activation="softmax", name="output")(x)
    return keras.Model(inputs, outputs, name="digits_mobilenet")


TASK = Task(
    name="digits_mobilenet",
    description="MobileNet-style depthwise-separable CNN on load_digits tiled to 3 channels, "
                "pruned with PruneForLatencyOnXNNPack (1x1 Conv2D only)",
    load_data=partial(digits, layout="rgb"),
    build_model=build,
    partial_layers=("pw2",),
    pruning_policy="xnnpack",
)
