"""The fault catalogue (scripts/inject/fault_catalogue.py): one code for a test's process and
for a process injected from its start, each fault acting on a library, never on prunebench."""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import INJECT_DIR, fault_catalogue, inject
from prunebench import kerasenv

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("kind", sorted(fault_catalogue.CATALOGUE))
def test_every_fault_patches_a_library_module_that_exists_here(kind):
    fault = fault_catalogue.CATALOGUE[kind]
    assert not fault.module.startswith("prunebench")
    kerasenv.tfmot()
    assert importlib.util.find_spec(fault.module) is not None, fault.module
    assert (fault.figure is None) == (not fault.strengths)


def test_a_fault_injected_in_a_test_is_undone_after_it():
    api = kerasenv.tfmot().sparsity.keras
    from tensorflow_model_optimization.python.core.sparsity.keras import prune_registry

    registry = prune_registry.PruneRegistry._LAYERS_WEIGHTS_MAP
    clean = (api.strip_pruning, set(registry))
    with pytest.MonkeyPatch.context() as patch:
        inject(patch, "strip_leak", 1e-7)
        inject(patch, "registry_drops_conv2d")
        assert api.strip_pruning is not clean[0]  # the public alias prunebench calls
        assert {c.__name__ for c in clean[1] - set(registry)} == {"Conv2D"}
    assert (api.strip_pruning, set(registry)) == clean


def test_a_process_started_with_inject_has_the_same_fault_and_an_unknown_kind_is_named():
    env = {**os.environ, "PYTHONPATH": str(INJECT_DIR), "INJECT": "registry_drops_conv2d"}
    probe = ("from prunebench import kerasenv; kerasenv.tfmot()\n"
             "from tensorflow_model_optimization.python.core.sparsity.keras import prune_registry\n"
             "print(sorted(c.__name__ for c in prune_registry.PruneRegistry._LAYERS_WEIGHTS_MAP"
             " if 'Conv' in c.__name__))")
    done = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True,
                          timeout=300, check=True)
    assert "'Conv2D'" not in done.stdout and "'Conv1D'" in done.stdout, done.stdout
    env["INJECT"] = "nosuch:1"
    bad = subprocess.run([sys.executable, "-c", "pass"], env=env, capture_output=True, text=True,
                         timeout=60)
    assert bad.returncode == 1 and "INJECT: unknown kind 'nosuch'" in bad.stderr


def test_a_sitecustomize_without_its_catalogue_stops_the_process_instead_of_running_clean(
        tmp_path):
    """site.py prints a failing sitecustomize's ImportError and goes on: an injected run
    would silently be a clean one."""
    (tmp_path / "sitecustomize.py").write_text((INJECT_DIR / "sitecustomize.py").read_text())
    env = {**os.environ, "PYTHONPATH": str(tmp_path), "INJECT": "schedule:0.1"}
    done = subprocess.run([sys.executable, "-c", "print('ran')"], env=env, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 1 and "ran" not in done.stdout
    assert "INJECT: no fault catalogue" in done.stderr


def test_a_converter_growing_by_a_share_grows_every_flatbuffer_by_that_share():
    from prunebench import export

    keras = kerasenv.keras()
    small = keras.Sequential([keras.layers.Input((4,)), keras.layers.Dense(8)])
    large = keras.Sequential([keras.layers.Input((64,)), keras.layers.Dense(256)])
    clean = [len(export.to_tflite(m)) for m in (small, large)]
    with pytest.MonkeyPatch.context() as patch:
        inject(patch, "tflite_grow", 0.02)
        grown = [len(export.to_tflite(m)) for m in (small, large)]
    assert grown == [size + int(size * 0.02) for size in clean], (clean, grown)
    assert [len(export.to_tflite(m)) for m in (small, large)] == clean  # undone after


def test_adams_epsilon_at_zero_turns_a_weight_without_gradient_into_nan():
    import numpy as np

    keras = kerasenv.keras()

    def trained():
        keras.utils.set_random_seed(0)
        model = keras.Sequential([keras.layers.Input((2,)), keras.layers.Dense(1)])
        model.compile(optimizer="adam", loss="mse")
        x = np.array([[1.0, 0.0]] * 8, "float32")  # the second input is 0: its weight's
        model.fit(x, np.ones((8, 1), "float32"), epochs=1, verbose=0)  # gradient is 0
        return model.get_weights()[0].ravel()

    assert np.isfinite(trained()).all()
    with pytest.MonkeyPatch.context() as patch:
        inject(patch, "adam_epsilon", 0.0)
        kernel = trained()
    assert np.isfinite(kernel[0]) and np.isnan(kernel[1]), kernel
    assert np.isfinite(trained()).all()  # undone after
