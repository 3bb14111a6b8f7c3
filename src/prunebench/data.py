"""A task's data (Dataset), and the digits that ship with scikit-learn (the zoo's).

The seed's make_friedman1 lives with its task, prunebench.tasks.friedman1."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from prunebench.config import DataConfig
from prunebench.errors import UsageError


def array_steps(n_train: int, batch_size: int, validation_split: float) -> int:
    """Return the optimizer steps of one epoch over arrays, as Keras counts them with
    ``validation_split`` (the last rows held out)."""
    fitted = n_train - int(n_train * validation_split)
    return math.ceil(fitted / batch_size)


@dataclass(frozen=True)
class Dataset:
    """x_* float32 of shape (n, ...); y_* of shape (n,): float32 targets or int32 labels.

    Training data may instead be a ``tf.data.Dataset`` of ``(x, y)`` batches (``train``,
    with ``validation`` for early stopping; both of known length): every fit then reads
    them, batched as they are, and ``x_train``/``y_train`` may be None. The test set stays
    arrays: every model is measured, converted and timed on it.
    """

    x_train: Any
    y_train: Any
    x_test: np.ndarray
    y_test: np.ndarray
    #: A tf.data.Dataset of (x, y) batches to fit on, instead of x_train/y_train.
    train: Any = None
    #: A tf.data.Dataset of (x, y) batches early stopping watches (with ``train``).
    validation: Any = None

    def steps_per_epoch(self, batch_size: int, validation_split: float) -> int:
        """Return the optimizer steps of one epoch: batches of ``train``, else as Keras
        counts them for the arrays with ``validation_split``."""
        if self.train is None:
            return array_steps(len(self.x_train), batch_size, validation_split)
        import tensorflow as tf

        batches = int(self.train.cardinality())
        if batches < 1 or batches == int(tf.data.INFINITE_CARDINALITY):
            raise UsageError("the train tf.data.Dataset has no known, finite length: give it one "
                             "(dataset.apply(tf.data.experimental.assert_cardinality(batches)))")
        return batches


#: load_digits: 1,797 8x8 images, pixel values 0..16, ten classes.
DIGITS_LEVELS = 17
DIGITS_SIDE = 8
#: Image layouts a digits task asks for.
LAYOUTS = ("flat", "flat784", "image", "rgb", "rows", "tokens")
#: flat784: each image scaled up (nearest neighbour) to MNIST's 28x28, 784 inputs.
UPSAMPLED_SIDE = 28


def _digits_layout(images: np.ndarray, layout: str) -> np.ndarray:
    """Return (n, 8, 8) pixel counts 0..16 arranged as ``layout`` wants, float32.

    Scaled to [0, 1]: flat (n, 64); flat784 (n, 784), scaled up to 28x28 by nearest
    neighbour; image (n, 8, 8, 1); rgb (n, 8, 8, 3), the image tiled; rows (n, 8, 8), a
    sequence of 8 rows. tokens (n, 64): one id per (position, level) pair, for an Embedding.
    """
    n = len(images)
    scaled = images / (DIGITS_LEVELS - 1)
    out: np.ndarray
    if layout == "flat":
        out = scaled.reshape(n, -1)
    elif layout == "flat784":
        nearest = np.arange(UPSAMPLED_SIDE) * DIGITS_SIDE // UPSAMPLED_SIDE
        out = scaled[:, nearest][:, :, nearest].reshape(n, -1)
    elif layout == "image":
        out = scaled[..., None]
    elif layout == "rgb":
        out = np.repeat(scaled[..., None], 3, axis=-1)
    elif layout == "rows":
        out = scaled
    else:
        positions = np.arange(DIGITS_SIDE * DIGITS_SIDE)
        out = positions * DIGITS_LEVELS + images.reshape(n, -1).astype(np.int64)
    return out.astype(np.float32)


def digits(config: DataConfig, layout: str) -> Dataset:
    """Return load_digits split by ``config`` (test_size, split_seed), stratified by class.

    ``config.n_samples`` caps the rows (the smoke profile's 1,000); n_features and
    data_seed are make_friedman1's and not used.
    """
    if layout not in LAYOUTS:
        raise ValueError(f"unknown digits layout {layout!r}; one of {LAYOUTS}")
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    bunch = load_digits()
    images = bunch.images[: config.n_samples]
    labels = bunch.target[: config.n_samples]
    x = _digits_layout(images, layout)
    x_train, x_test, y_train, y_test = train_test_split(
        x, labels, test_size=config.test_size, random_state=config.split_seed, stratify=labels)
    return Dataset(x_train, y_train.astype(np.int32), x_test, y_test.astype(np.int32))
