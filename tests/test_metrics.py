"""Metric functions on literal arrays, answers computed by hand."""

from __future__ import annotations

import io
import zipfile

import numpy as np
import pytest

from prunebench import metrics


def test_mse_and_mae_by_hand():
    y = np.array([1.0, 2.0, 3.0])
    pred = np.array([[1.5], [2.0], [1.0]])  # (n, 1) as Keras predicts
    assert metrics.mse(y, pred) == pytest.approx((0.25 + 0 + 4) / 3)
    assert metrics.mae(y, pred) == pytest.approx((0.5 + 0 + 2) / 3)


def test_mse_of_perfect_prediction_is_zero():
    y = np.arange(5, dtype=np.float32)
    assert metrics.mse(y, y) == 0.0


def test_sparsity_counts_exact_zeros_only():
    a = np.array([[0.0, 1e-12], [0.0, -0.0]])  # -0.0 is a zero, 1e-12 is not
    assert metrics.sparsity([a]) == 0.75


def test_sparsity_pools_arrays_by_element_not_by_array():
    a = np.zeros((2, 2))
    b = np.ones(4 * 3)
    assert metrics.sparsity([a, b]) == pytest.approx(4 / 16)
    assert metrics.count_zeros([a, b]) == (4, 16)


def test_sparsity_of_nothing_is_zero():
    assert metrics.sparsity([]) == 0.0


def test_per_layer_sparsity():
    got = metrics.per_layer_sparsity({"a": np.array([0.0, 1.0]), "b": np.ones(3)})
    assert got == {"a": 0.5, "b": 0.0}


def test_zipped_size_is_a_readable_deflate_archive_that_shrinks_zeros():
    payload = bytes(10_000)
    size = metrics.zipped_size(payload)
    assert size < 500
    noisy = np.random.default_rng(0).bytes(10_000)
    assert metrics.zipped_size(noisy) > 10_000  # incompressible: archive overhead on top
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr("model", payload)
    assert size == len(buffer.getvalue())


def test_spread_of_literal_values():
    got = metrics.spread([3.0, 1.0, 2.0])
    assert got == {"median": 2.0, "min": 1.0, "max": 3.0, "rel_range": 1.0, "n": 3}


def test_spread_of_nothing_raises():
    with pytest.raises(ValueError):
        metrics.spread([])
