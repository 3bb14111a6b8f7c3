"""Which Keras is used: decided from installed versions, before TensorFlow is imported."""

from __future__ import annotations

import pytest

from prunebench import kerasenv
from prunebench.errors import UsageError


def _installed(monkeypatch, versions):
    monkeypatch.setattr(kerasenv, "_version", lambda dist: versions.get(dist))


def test_tf_215_uses_its_bundled_keras(monkeypatch):
    _installed(monkeypatch, {"tensorflow": "2.15.1"})
    plan = kerasenv.plan()
    assert not plan.needs_tf_keras
    assert plan.source == "tf.keras (bundled)"


@pytest.mark.parametrize("tf", ["2.16.2", "2.21.0"])
def test_tf_216_and_later_use_tf_keras(monkeypatch, tf):
    _installed(monkeypatch, {"tensorflow": tf, "tf-keras": tf})
    assert kerasenv.plan().needs_tf_keras


def test_tf_216_without_tf_keras_says_what_to_install(monkeypatch):
    _installed(monkeypatch, {"tensorflow": "2.16.2"})
    with pytest.raises(UsageError) as err:
        kerasenv.plan()
    message = str(err.value)
    assert "pip install 'tf-keras~=2.16.0'" in message
    assert "\n" not in message


def test_tensorflow_cpu_distribution_counts(monkeypatch):
    _installed(monkeypatch, {"tensorflow-cpu": "2.15.0", "tf-keras": "2.15.0"})
    assert kerasenv.plan().tf == "2.15.0"


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
    from prunebench.models import build_model

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
