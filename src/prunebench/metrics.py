"""Pure metric functions on arrays and bytes: the oracle of the suite, free of TF state."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterable, Mapping

import numpy as np

#: Probabilities are clipped here before the logarithm, as Keras' cross-entropy clips them.
PROBABILITY_EPSILON = 1e-7


def mse(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Return the mean squared error of predictions, shapes (n,) or (n, 1), computed in float64."""
    diff = np.ravel(y_true).astype(np.float64) - np.ravel(y_pred).astype(np.float64)
    return float(np.mean(diff**2))


def mae(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Return the mean absolute error of predictions, shapes (n,) or (n, 1)."""
    diff = np.ravel(y_true).astype(np.float64) - np.ravel(y_pred).astype(np.float64)
    return float(np.mean(np.abs(diff)))


def accuracy(labels: np.ndarray, probabilities: np.ndarray) -> float:
    """Return the share of rows whose most probable class is the label; shapes (n,), (n, k)."""
    predicted = np.argmax(np.asarray(probabilities), axis=-1)
    return float(np.mean(predicted == np.ravel(labels).astype(np.int64)))


def crossentropy(labels: np.ndarray, probabilities: np.ndarray) -> float:
    """Return the mean -log p(label) in nats; labels (n,), probabilities (n, k), float64."""
    probs = np.clip(np.asarray(probabilities, dtype=np.float64), PROBABILITY_EPSILON,
                    1.0 - PROBABILITY_EPSILON)
    picked = probs[np.arange(len(probs)), np.ravel(labels).astype(np.int64)]
    return float(-np.mean(np.log(picked)))


def count_zeros(arrays: Iterable[np.ndarray]) -> tuple[int, int]:
    """Return (exact zeros, total elements) over all arrays."""
    zeros = total = 0
    for a in arrays:
        zeros += int(np.count_nonzero(a == 0))
        total += int(np.size(a))
    return zeros, total


def sparsity(arrays: Iterable[np.ndarray]) -> float:
    """Return the fraction of elements that are exactly zero over all arrays (0 when empty)."""
    zeros, total = count_zeros(arrays)
    return zeros / total if total else 0.0


def per_layer_sparsity(kernels: Mapping[str, np.ndarray]) -> dict[str, float]:
    """Return {name: fraction of exact zeros} for each named array."""
    return {name: sparsity([k]) for name, k in kernels.items()}


def is_m_by_n(kernel: np.ndarray, m: int, n: int) -> bool:
    """Return whether a Dense kernel (inputs x outputs) keeps at most n - m non-zeros in
    every n consecutive input weights of each output unit (a short last group likewise).

    tfmot groups along the input axis, as TFLite lays the kernel out (outputs x inputs),
    and pads the last group with zeros, which then count as pruned.
    """
    rows = np.asarray(kernel).T
    keep = n - m
    for start in range(0, rows.shape[1], n):
        block = rows[:, start:start + n]
        if np.any(np.count_nonzero(block, axis=1) > keep):
            return False
    return True


def m_by_n_sparsity(shapes: Iterable[tuple[int, int]], m: int, n: int) -> float:
    """Return the sparsity m:n pruning gives Dense kernels of ``shapes`` (inputs, outputs).

    Groups run along the inputs; tfmot pads a short last group of r weights with zeros
    and keeps the n - m largest, so only max(0, r - (n - m)) of its real weights go.
    """
    zeros = total = 0
    for inputs, outputs in shapes:
        rest = inputs % n
        zeros += outputs * (m * (inputs // n) + max(0, rest - (n - m)))
        total += inputs * outputs
    return zeros / total if total else 0.0


def zipped_size(payload: bytes, name: str = "model") -> int:
    """Return the bytes of a ZIP_DEFLATED archive holding ``payload`` (the seed's size measure)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(name, payload)
    return len(buffer.getvalue())


def spread(values: Iterable[float]) -> dict[str, float]:
    """Return median, min, max and relative range ((max - min) / |median|) of values."""
    arr = np.asarray(list(values), dtype=np.float64)
    if arr.size == 0:
        raise ValueError("spread of no values")
    med = float(np.median(arr))
    lo, hi = float(arr.min()), float(arr.max())
    rel = (hi - lo) / abs(med) if med else 0.0
    return {"median": med, "min": lo, "max": hi, "rel_range": rel, "n": int(arr.size)}
