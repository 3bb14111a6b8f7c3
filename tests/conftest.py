"""Shared fixtures: a tiny data set and profile, the sparsity assertion, injected faults."""

from __future__ import annotations

import contextlib
import functools
import importlib
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import pytest

from prunebench import config, experiments, kerasenv, metrics, pipeline, record, tasks
from prunebench.errors import UsageError

# Any test may import TensorFlow directly: let it get the Keras that tfmot uses. Without a
# usable Keras 2, the tests that need it fail with prunebench's own message.
with contextlib.suppress(UsageError):
    kerasenv.prepare_environment()


#: The fault catalogue (scripts/inject/fault_catalogue.py): the harness's and the tests' one.
INJECT_DIR = Path(__file__).resolve().parents[1] / "scripts" / "inject"
if str(INJECT_DIR) not in sys.path:
    sys.path.append(str(INJECT_DIR))
import fault_catalogue  # noqa: E402


def inject(monkeypatch: pytest.MonkeyPatch, kind: str, strength: float = 0.0) -> None:
    """Apply the catalogue's fault ``kind`` in this process, undone when the test ends:
    the same code a process started with INJECT=kind:strength runs."""
    fault = fault_catalogue.CATALOGUE[kind]
    kerasenv.tfmot()  # TensorFlow, tf-keras and tfmot as prunebench loads them
    fault.apply(importlib.import_module(fault.module), strength, monkeypatch)


def assert_sparsity(kernels: Iterable[np.ndarray], target: float, atol: float) -> None:
    """Assert that the exact-zero fraction over ``kernels`` is ``target`` within ``atol``."""
    achieved = metrics.sparsity(list(kernels))
    assert abs(achieved - target) <= atol, f"sparsity {achieved:.4f}, want {target} +- {atol}"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Start the tests marked ``long`` first, in their order: under pytest-xdist the longest
    work then starts while there is other work to balance it, instead of ending the run on
    one worker while the other waits (pytest-xdist puts groups of several tests before them)."""
    items.sort(key=lambda item: item.get_closest_marker("long") is None)


@pytest.fixture(autouse=True)
def _grouped_where_marked(request: pytest.FixtureRequest) -> None:
    """Fail a test marked with an ``xdist_group`` that pytest-xdist's loadgroup did not
    group: the group's tests share a worker, and its fixtures' training, only when their
    ids carry the group (pytest 9.2 with pytest-xdist 3.8 dropped it silently: each test of
    a group trained its shared run again, on another worker)."""
    marked = request.node.get_closest_marker("xdist_group") is not None
    if marked and getattr(request.config.option, "loadgroup", False) and "@" not in request.node.nodeid:
        pytest.fail("pytest-xdist's loadgroup did not group this test (its id has no @group): "
                    "install pytest < 9.2 (pyproject.toml)")


@pytest.fixture(scope="session")
def smoke_profile() -> config.Profile:
    return config.PROFILES["smoke"]


@pytest.fixture(scope="session")
def tiny_data(smoke_profile: config.Profile):
    from prunebench.tasks.friedman1 import load_data

    return load_data(smoke_profile.data)


def skip_known_refusals(refused: dict[str, str], task) -> None:
    """Skip when tfmot refused exactly what the installed TF's committed baseline says it
    refuses (TF 2.15's Keras LSTM); any other refusal fails the test, naming it."""
    from prunebench import baseline

    if not refused:
        return
    major, minor = kerasenv.parse_minor(kerasenv.tf_version() or "0.0")
    own = baseline.default_path(f"{major}.{minor}", task)
    known = {}
    if own.is_file():
        known = baseline.load(own)["profiles"].get("quick", {}).get(baseline.REFUSED_KEY, {})
    unknown = {name: why for name, why in refused.items() if name not in known}
    assert not unknown, f"refused, not known to {own}: {unknown}"
    pytest.skip(f"known refusal under this TF ({own}): {next(iter(refused.values()))}")


@functools.cache
def _trained_base(task_name: str, seed: int, profile_name: str) -> tuple:
    """Return (task, data, model, fit): the seed's unpruned model, trained once per worker."""
    task, profile = tasks.get(task_name), config.PROFILES[profile_name]
    data = task.load_data(profile.data)
    return (task, data, *pipeline.train_base(task, seed, data, profile))


def record_from_trained_base(names: Sequence[str], seed: int,
                             profile: config.Profile) -> record.RunRecord:
    """Return the record of a run of ``names`` (one task's, its unpruned added) on ``seed``,
    each fine-tuned from the seed's unpruned model as ``run`` does, that model trained once
    per worker: the faults the gate tests inject act on pruning, stripping, conversion or
    inference, after the unpruned model's training, which a run repeats identically.
    The unpruned model is measured again each time, under the test's faults."""
    chosen = experiments.resolve(list(names))
    [(task, _)] = pipeline.by_task(chosen)
    _, data, base, fit = _trained_base(task.name, seed, profile.name)
    results = [pipeline.run_experiment(task, e, seed, base, fit, data, profile) for e in chosen]
    pipeline.relate_to_unpruned(results)
    return record.from_run(chosen, [seed], profile, results)
