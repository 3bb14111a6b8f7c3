"""Which Keras is used: decided from installed versions, before TensorFlow is imported."""

from __future__ import annotations

from importlib import metadata

import pytest

from prunebench import kerasenv
from prunebench.errors import UsageError

#: module -> (distribution, version) pairs, as the installed distributions' file lists say.
MODULES = {
    "2.15": {"tensorflow": [("tensorflow", "2.15.1")]},
    "cpu": {"tensorflow": [("tensorflow-cpu", "2.15.0")], "tf_keras": [("tf-keras", "2.15.0")]},
    "nightly": {"tensorflow": [("tf-nightly", "2.23.0.dev20261026")],
                "tf_keras": [("tf-keras-nightly", "2.23.0.dev2026102618")]},
}


def _installed(monkeypatch, modules):
    monkeypatch.setattr(kerasenv, "providers", lambda module: modules.get(module, []))


def _stable(tf, tf_keras=None):
    return {"tensorflow": [("tensorflow", tf)],
            **({"tf_keras": [("tf-keras", tf_keras)]} if tf_keras else {})}


def test_tf_215_uses_its_bundled_keras(monkeypatch):
    _installed(monkeypatch, MODULES["2.15"])
    plan = kerasenv.plan()
    assert not plan.needs_tf_keras
    assert plan.source == "tf.keras (bundled)"


@pytest.mark.parametrize("tf", ["2.16.2", "2.21.0"])
def test_tf_216_and_later_use_tf_keras(monkeypatch, tf):
    _installed(monkeypatch, _stable(tf, tf))
    assert kerasenv.plan().needs_tf_keras


def test_tf_216_without_tf_keras_says_what_to_install(monkeypatch):
    _installed(monkeypatch, _stable("2.16.2"))
    with pytest.raises(UsageError) as err:
        kerasenv.plan()
    message = str(err.value)
    assert "pip install 'tf-keras~=2.16.0'" in message
    assert "\n" not in message


def test_tensorflow_cpu_distribution_counts(monkeypatch):
    _installed(monkeypatch, MODULES["cpu"])
    assert kerasenv.plan().tf == "2.15.0"
    assert kerasenv.plan().tf_dist == "tensorflow-cpu"


def test_nightly_with_tf_keras_nightly_is_used_and_named(monkeypatch):
    _installed(monkeypatch, MODULES["nightly"])
    plan = kerasenv.plan()
    assert plan.tf == "2.23.0.dev20261026" and plan.needs_tf_keras
    assert plan.source == "tf-keras-nightly 2.23.0.dev2026102618 (TF_USE_LEGACY_KERAS=1)"
    assert kerasenv.tf_version() == "2.23.0.dev20261026"


@pytest.mark.parametrize(("modules", "fragment"), [
    ({"tensorflow": [("tf-nightly", "2.23.0.dev20261026")], "tf_keras": [("tf-keras", "2.21.0")]},
     "tf-nightly 2.23.0.dev20261026 with tf-keras 2.21.0"),
    (_stable("2.21.0", "2.20.0"), "tensorflow 2.21.0 with tf-keras 2.20.0"),
    ({"tensorflow": [("tf-nightly", "2.23.0.dev20261026"), ("tensorflow", "2.21.0")]},
     "two TensorFlow installations in one environment (tf-nightly 2.23.0.dev20261026, "
     "tensorflow 2.21.0)"),
    ({"tensorflow": [("tf-nightly", "2.23.0.dev20261026")]}, "tf-keras-nightly"),
])
def test_mismatched_or_doubled_installs_refused_in_one_line(monkeypatch, modules, fragment):
    _installed(monkeypatch, modules)
    with pytest.raises(UsageError) as err:
        kerasenv.plan()
    assert fragment in str(err.value) and "\n" not in str(err.value)


def test_the_real_install_maps_modules_to_distributions():
    assert kerasenv.providers("tensorflow_model_optimization") == [
        ("tensorflow-model-optimization", metadata.version("tensorflow-model-optimization"))]
    assert kerasenv.providers("no_such_module_anywhere") == []


@pytest.mark.parametrize(("version", "pre"), [("2.21.0", False), ("2.15.0.post1", False),
                                              ("2.23.0.dev20261026", True), ("2.22.0rc1", True)])
def test_prerelease_builds_are_told_apart(version, pre):
    assert kerasenv.is_prerelease(version) is pre


def test_no_tensorflow_at_all(monkeypatch):
    _installed(monkeypatch, {})
    with pytest.raises(UsageError, match="TensorFlow is not installed"):
        kerasenv.plan()


@pytest.mark.parametrize(("text", "minor"), [("2.15.0.post1", (2, 15)), ("2.21.0rc1", (2, 21))])
def test_parse_minor(text, minor):
    assert kerasenv.parse_minor(text) == minor


def test_model_is_built_with_the_keras_tfmot_prunes():
    keras = kerasenv.keras()
    tfmot = kerasenv.tfmot()
    from prunebench.tasks.friedman1 import build_model

    model = build_model(10)
    assert isinstance(model, keras.Model)
    wrapped = tfmot.sparsity.keras.prune_low_magnitude(model)  # rejects any other Keras
    assert len(wrapped.layers) == 2


def test_prunebench_keras_is_the_one_tfmot_resolved():
    keras = kerasenv.keras()
    kerasenv.tfmot()
    from tensorflow_model_optimization.python.core.keras.compat import keras as tfmot_keras

    # tfmot reaches tf-keras through tf.keras (tf_keras.api._v2.keras): another module
    # object, but it must hand out the very same classes.
    assert keras.Model is tfmot_keras.Model
    assert keras.layers.Dense is tfmot_keras.layers.Dense
    assert keras.Sequential is tfmot_keras.Sequential
