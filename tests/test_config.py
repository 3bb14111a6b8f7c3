"""Config validation fails fast, before any training."""

from __future__ import annotations

import math
from dataclasses import replace

import pytest

from prunebench import config, experiments
from prunebench.errors import UsageError


@pytest.mark.parametrize("bad", [-0.1, 1.0, 1.5, math.nan, math.inf, "0.5", True, None])
def test_bad_sparsity_rejected(bad):
    with pytest.raises(UsageError, match="sparsity"):
        config.validate_sparsity(bad)


@pytest.mark.parametrize("good", [0, 0.0, 0.5, 0.9999])
def test_sparsity_in_half_open_unit_interval_accepted(good):
    assert config.validate_sparsity(good) == float(good)


@pytest.mark.parametrize("bad", [-1, 1.5, "3", True, 2**31])
def test_bad_seed_rejected(bad):
    with pytest.raises(UsageError, match="seed"):
        config.validate_seed(bad)


def test_prune_config_rejects_unknown_scope_and_schedule():
    with pytest.raises(UsageError, match="scope"):
        config.PruneConfig(scope="everything")
    with pytest.raises(UsageError, match="schedule"):
        config.PruneConfig(scope="whole_model", schedule="cosine")


def test_polynomial_schedule_end_step_is_explicit_or_derived():
    with pytest.raises(UsageError, match="end_step"):
        config.PruneConfig(scope="whole_model", schedule="polynomial", begin_step=100, end_step=50)
    ok = config.PruneConfig(scope="whole_model", schedule="polynomial", end_step=1000)
    assert ok.end_step == 1000
    derived = config.PruneConfig(scope="whole_model", schedule="polynomial")
    assert derived.end_step == -1  # the ramp's end, resolved from the fit (pruning.py)


def test_train_config_rejects_zero_epochs():
    with pytest.raises(UsageError, match="epochs"):
        config.TrainConfig(epochs=0, patience=1)


def test_unknown_profile_lists_known_ones():
    with pytest.raises(UsageError, match="full"):
        config.get_profile("medium")


def test_digest_is_stable_and_sensitive():
    exp = experiments.get_experiment("whole_model")
    profile = config.PROFILES["quick"]
    assert config.digest(exp, profile) == config.digest(exp, profile)
    assert config.digest(exp.with_sparsity(0.75), profile) != config.digest(exp, profile)
    assert len(config.digest(exp)) == 12


def test_run_digest_ignores_timing_precision_but_not_training():
    exp = experiments.get_experiment("whole_model")
    quick = config.PROFILES["quick"]
    more_repeats = replace(quick, timing=config.TimingConfig(repeats=99))
    fewer_epochs = replace(quick, base_train=config.TrainConfig(epochs=5, patience=1))
    assert config.run_digest(exp, more_repeats) == config.run_digest(exp, quick)
    assert config.run_digest(exp, fewer_epochs) != config.run_digest(exp, quick)


def test_full_profile_is_the_seeds_budget():
    full = config.PROFILES["full"]
    assert (full.base_train.epochs, full.base_train.patience) == (300, 30)
    assert (full.prune_train.epochs, full.prune_train.patience) == (100, 10)
    assert full.data == config.DataConfig(n_samples=10_000, n_features=10, test_size=0.33)
