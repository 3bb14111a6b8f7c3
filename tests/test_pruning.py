"""Pruning invariants on tiny data, through tfmot's real API and real training."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from conftest import assert_sparsity
from prunebench import config, figures, kerasenv, models, pipeline, pruning, train
from prunebench.experiments import resolve
from prunebench.tasks import friedman1

FRIEDMAN1 = friedman1.TASK
PARTIAL = FRIEDMAN1.partial_layers
#: Figures only classification tasks and block-sparse experiments give.
OTHER_TASKS = {name for name in figures.UNITS if "accuracy" in name or "sparse" in name
               or name in ("loss", "tflite_densify_ops", "tflite_builtin_ms")}

# 536 training rows in batches of 4: 134 steps, past tfmot's first mask update at step 100.
ONE_EPOCH = config.TrainConfig(epochs=1, patience=1, batch_size=4)


def _trained_base(data):
    kerasenv.seed_everything(0)
    base = friedman1.TASK.build(data)
    friedman1.TASK.compile(base)
    train.train(base, data, ONE_EPOCH)
    return base


def _prune_and_fit(base, prune_config, data):
    wrapped = pruning.apply_pruning(models.copy_model(base), prune_config, PARTIAL)
    friedman1.TASK.compile(wrapped)
    train.train(wrapped, data, ONE_EPOCH, callbacks=pruning.callbacks())
    return wrapped


@pytest.fixture(scope="module")
def base(tiny_data):
    return _trained_base(tiny_data)


def test_zero_sparsity_is_noop(base, tiny_data):
    wrapped = pruning.apply_pruning(models.copy_model(base), config.PruneConfig(
        scope="whole_model", target_sparsity=0.0))
    before = wrapped.predict(tiny_data.x_test, verbose=0)
    np.testing.assert_array_equal(before, base.predict(tiny_data.x_test, verbose=0))
    friedman1.TASK.compile(wrapped)
    train.train(wrapped, tiny_data, ONE_EPOCH, callbacks=pruning.callbacks())
    kernels = pruning.prunable_kernels(pruning.strip(wrapped))
    assert_sparsity(kernels.values(), 0.0, atol=0.0)


@pytest.mark.parametrize("target", [0.5, 0.8])
def test_whole_model_reaches_target_sparsity(base, tiny_data, target):
    wrapped = _prune_and_fit(base, config.PruneConfig("whole_model", target), tiny_data)
    kernels = pruning.prunable_kernels(pruning.strip(wrapped))
    for name, kernel in kernels.items():
        # tfmot rounds the number of pruned weights per layer to a whole weight.
        assert_sparsity([kernel], target, atol=1 / kernel.size), name
    assert pruning.wrapped_layers(wrapped) == {friedman1.HIDDEN_LAYER, friedman1.OUTPUT_LAYER}


def test_hidden_dense_scope_prunes_only_the_hidden_kernel(base, tiny_data):
    wrapped = _prune_and_fit(base, config.PruneConfig("hidden_dense", 0.5), tiny_data)
    kernels = pruning.prunable_kernels(pruning.strip(wrapped))
    assert_sparsity([kernels[friedman1.HIDDEN_LAYER]], 0.5, atol=1e-3)
    assert_sparsity([kernels[friedman1.OUTPUT_LAYER]], 0.0, atol=0.0)
    assert pruning.wrapped_layers(wrapped) == {friedman1.HIDDEN_LAYER}


def test_pruning_a_copy_leaves_the_trained_base_untouched(base, tiny_data):
    weights = [w.copy() for w in base.get_weights()]
    _prune_and_fit(base, config.PruneConfig("whole_model", 0.5), tiny_data)
    for before, after in zip(weights, base.get_weights(), strict=True):
        np.testing.assert_array_equal(before, after)


def test_strip_predicts_exactly_as_wrapped(base, tiny_data):
    wrapped = _prune_and_fit(base, config.PruneConfig("whole_model", 0.5), tiny_data)
    stripped = pruning.strip(wrapped)
    np.testing.assert_array_equal(wrapped.predict(tiny_data.x_test, verbose=0),
                                  stripped.predict(tiny_data.x_test, verbose=0))
    assert not pruning.wrapped_layers(stripped)


#: The two tests of one seed's run: one worker runs it once, and once more to compare.
SHARES_THE_SEED = pytest.mark.xdist_group("pruning-seed0")


@pytest.fixture(scope="module")
def seed_run(smoke_profile, tiny_data):
    """The canonical three on seed 0, smoke profile, in this process."""
    return pipeline.run_seed(FRIEDMAN1, resolve(None), 0, smoke_profile, tiny_data)


@SHARES_THE_SEED
def test_run_seed_reports_invariants_and_target_sparsity(seed_run):
    results = seed_run
    by_name = {r.experiment: r for r in results}
    assert list(by_name) == ["unpruned", "whole_model", "dense_only"]
    for result in results:
        assert result.invariants["strip_matches_wrapped"], result.invariants
        assert result.invariants["reload_matches"], result.invariants
        target = result.metrics["target_sparsity"]
        assert abs(result.metrics["sparsity_pruned"] - target) <= 0.01
    assert by_name["unpruned"].metrics["mse_vs_unpruned"] == 1.0
    for result in results:  # every figure has a unit, and every unit a figure (2:4 aside)
        assert set(result.metrics) == set(figures.UNITS) - {"m_by_n_ok"} - OTHER_TASKS
    assert by_name["whole_model"].metrics["nonzero_params"] < by_name["unpruned"].metrics["params"]
    assert (by_name["whole_model"].metrics["keras_zip_bytes"]
            < by_name["unpruned"].metrics["keras_zip_bytes"])


@SHARES_THE_SEED
def test_same_seed_gives_identical_figures(seed_run, smoke_profile, tiny_data):
    keys = ("mse", "mae", "sparsity_pruned", "sparsity_all", "keras_zip_bytes", "epochs_run")
    runs = [seed_run, pipeline.run_seed(FRIEDMAN1, resolve(None), 0, smoke_profile, tiny_data)]
    first, second = ([{k: r.metrics[k] for k in keys} for r in run] for run in runs)
    assert first == second


def test_predict_is_timed_in_fewer_blocks_than_the_gated_paths(smoke_profile, tiny_data):
    """The gated paths in ``repeats`` interleaved blocks; model.predict, shown and never
    gated, in ``predict_repeats`` blocks of its own."""
    timed = dataclasses.replace(smoke_profile, timing=config.TimingConfig(
        warmup=1, repeats=3, number=2, predict_number=1, predict_repeats=2))
    [unpruned] = resolve(["unpruned"])
    base, fit = pipeline.train_base(FRIEDMAN1, 0, tiny_data, smoke_profile)
    timings = pipeline.run_experiment(FRIEDMAN1, unpruned, 0, base, fit, tiny_data, timed).timings
    assert {path: len(timings[path]["samples_s"]) for path in ("keras", "tflite", "keras_predict")} \
        == {"keras": 3, "tflite": 3, "keras_predict": 2}
