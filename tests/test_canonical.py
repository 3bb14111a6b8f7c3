"""The canonical acceptance, on the full profile over 5 seeds: ~15 min, so marked slow.

    pytest -m slow tests/test_canonical.py
"""

from __future__ import annotations

import statistics

import pytest

from prunebench import config, runners
from prunebench.experiments import resolve

SEEDS = (0, 1, 2, 3, 4)
#: Every seed's test MSE must lie within this factor of its experiment's median.
MSE_SPREAD_FACTOR = 3.0


@pytest.fixture(scope="module")
def full_results():
    return runners.run(resolve(None), SEEDS, config.PROFILES["full"])


# Both cases read one full run: on one worker, so it trains once (else ~10 minutes twice).
@pytest.mark.slow
@pytest.mark.xdist_group("canonical-full")
@pytest.mark.parametrize("name", ["whole_model", "dense_only"])
def test_pruned_experiment_is_stable_over_five_seeds(full_results, name):
    rows = [r for r in full_results if r.experiment == name]
    assert [r.seed for r in rows] == list(SEEDS)
    for row in rows:
        assert row.metrics["sparsity_pruned"] >= row.metrics["target_sparsity"] - 0.01, row.seed
        assert row.invariants["strip_matches_wrapped"] and row.invariants["reload_matches"]
    mses = [r.metrics["mse"] for r in rows]
    median = statistics.median(mses)
    for seed, mse in zip(SEEDS, mses, strict=True):
        assert median / MSE_SPREAD_FACTOR <= mse <= median * MSE_SPREAD_FACTOR, (seed, mses)
