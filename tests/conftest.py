"""Shared fixtures: a tiny data set and profile, and the sparsity assertion helper."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable

import numpy as np
import pytest

from prunebench import config, kerasenv, metrics
from prunebench.errors import UsageError

# Any test may import TensorFlow directly: let it get the Keras that tfmot uses. Without a
# usable Keras 2, the tests that need it fail with prunebench's own message.
with contextlib.suppress(UsageError):
    kerasenv.prepare_environment()


def assert_sparsity(kernels: Iterable[np.ndarray], target: float, atol: float) -> None:
    """Assert that the exact-zero fraction over ``kernels`` is ``target`` within ``atol``."""
    achieved = metrics.sparsity(list(kernels))
    assert abs(achieved - target) <= atol, f"sparsity {achieved:.4f}, want {target} +- {atol}"


@pytest.fixture(scope="session")
def smoke_profile() -> config.Profile:
    return config.PROFILES["smoke"]


@pytest.fixture(scope="session")
def tiny_data(smoke_profile: config.Profile):
    from prunebench.data import load_data

    return load_data(smoke_profile.data)
