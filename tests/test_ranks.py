"""The paired test over seeds: the signed-rank distribution and Tukey's bounds checked by
hand and against scipy, and by simulation of seeds that move together across builds its
false-pass and false-alarm rates at the minimum effect and what pairing buys."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from prunebench import distribution, ranks
from prunebench.distribution import Outcome


def test_critical_values_are_the_textbook_ones():
    # 5 differences: only T+ = 15 (every one positive) is as rare as 1/32 <= 5%.
    assert ranks.critical_t(5, 0.05) == 15
    assert ranks.smallest_p_paired(5) == 1 / 32
    # 8 differences, one-sided 5%: T <= 5 in the lower tail (P = 10/256), so T+ >= 31.
    assert ranks.critical_t(8, 0.05) == 31
    assert ranks.critical_t(4, 0.05) is None  # 1/16 > 5%: 4 seeds cannot reach it
    assert ranks.critical_t(13, 0.0001) is None and ranks.critical_t(14, 0.0001)


@pytest.mark.parametrize("seed", range(20))
def test_the_critical_value_rejects_exactly_where_scipys_exact_test_does(seed):
    rng = np.random.default_rng(seed)
    n, alpha = int(rng.integers(5, 13)), float(rng.choice([0.05, 0.01]))
    d = rng.normal(0.4, 1.0, n)
    t_plus = sum(rank for rank, x in zip(stats.rankdata(np.abs(d)), d, strict=True) if x > 0)
    p = stats.wilcoxon(d, alternative="greater", method="exact").pvalue
    c = ranks.critical_t(n, alpha)
    assert (c is not None and t_plus >= c) == (p <= alpha), (n, t_plus, c, p)


@pytest.mark.parametrize("seed", range(10))
def test_the_bounds_are_where_the_exact_test_stops_rejecting(seed):
    # Tukey: the lower bound L at alpha is the smallest location the test of
    # "location <= theta" still rejects below, and no longer just above.
    rng = np.random.default_rng(100 + seed)
    d = rng.normal(0.2, 1.0, 9)
    averages = ranks.walsh(d)
    low = ranks.lower(averages, ranks.critical_t(len(d), 0.05))
    high = ranks.upper(averages, ranks.critical_t(len(d), 0.05))

    def p_above(theta):
        return stats.wilcoxon(d - theta, alternative="greater", method="exact").pvalue

    def p_below(theta):
        return stats.wilcoxon(d - theta, alternative="less", method="exact").pvalue

    assert p_above(low - 1e-9) <= 0.05 < p_above(low + 1e-9)
    assert p_below(high + 1e-9) <= 0.05 < p_below(high - 1e-9)
    assert len(averages) == 9 * 10 // 2 and low < np.median(averages) < high


def _seeds(n, shift, rng, rho=0.9, sd=0.15):
    """Return A's and B's losses of n seeds whose logs correlate ``rho`` seed by seed (the
    committed TF 2.15 -> 2.16 zoo records: 0.46-1.0, sd of log loss 0.02-0.31), B worse by
    ``shift`` (a fraction)."""
    common = rng.normal(size=n)
    own = rng.normal(size=(2, n))
    logs = sd * (math.sqrt(rho) * common + math.sqrt(1 - rho) * own)
    return 0.5 * np.exp(logs[0]), 0.5 * np.exp(logs[1]) * (1 + shift)


def _rates(n, shift, paired, runs, alpha=0.01 / 20, seed=1, **spread):
    rng = np.random.default_rng(seed)
    outcomes = []
    for _ in range(runs):
        a, b = _seeds(n, shift, rng, **spread)
        outcomes.append(distribution.judge(a, b, "lower", 0.05, alpha, plan=False,
                                           paired=paired).outcome)
    return {o: outcomes.count(o) / runs for o in Outcome}


def test_seeds_that_move_together_are_decided_ok_where_over_all_pairs_they_are_not():
    # A clean B at 6 seeds a side, the 10% minimum effect: paired, ok in 0.90 of verdicts
    # at rho 0.9 (0.98 at 0.95); every A against every B, 0.20 (0.18).
    paired = _rates(6, 0.0, paired=True, runs=300)[Outcome.OK]
    unpaired = _rates(6, 0.0, paired=False, runs=300)[Outcome.OK]
    assert paired >= 0.8 and unpaired <= 0.35, (paired, unpaired)


def test_a_worsening_of_exactly_the_minimum_passes_as_ok_at_most_five_percent_of_the_time():
    # The edge of "not worth calling": ok there is a false pass, bounded by alpha_ok, with
    # the seeds moving together and apart (where pairing buys nothing).
    for rho in (0.9, 0.0):
        for n in (5, 6, 8):
            ok = _rates(n, 0.1, paired=True, runs=2000, rho=rho, seed=n)[Outcome.OK]
            assert ok <= 0.05 + 3 * math.sqrt(0.05 * 0.95 / 2000), (rho, n, ok)


def test_a_worsening_of_exactly_the_minimum_is_called_worse_at_most_alpha_of_the_time():
    # At alpha 1% 8 seeds can reach the paired test (1/256), so worse is called by it.
    rates = _rates(8, 0.1, paired=True, runs=2000, alpha=0.01, seed=3)
    assert rates[Outcome.WORSE] <= 0.01 + 3 * math.sqrt(0.01 * 0.99 / 2000), rates
    assert distribution.shift([1.0] * 8, [1.2] * 8, "lower", 0.01, paired=True).paired == (
        "ok", "worse")


def test_pairing_a_few_seeds_uses_every_pair_where_the_seeds_cannot_reach_the_level():
    a, b = [0.50, 0.52, 0.55], [0.51, 0.53, 0.56]
    found = distribution.shift(a, b, "lower", 0.0005, paired=True)
    assert found.paired == () and found == distribution.shift(a, b, "lower", 0.0005)
    five = distribution.judge([0.5, 0.6, 0.7, 0.55, 0.65], [0.501, 0.6, 0.702, 0.55, 0.652],
                              "lower", 0.05, 0.0005, paired=True)
    assert five.outcome is Outcome.OK and five.shift.paired == ("ok",)
    assert "the ok bound by seed" in five.describe()
    with pytest.raises(ValueError, match="same seeds"):
        distribution.shift([1.0, 2.0], [1.0], "lower", 0.05, paired=True)


def test_the_power_of_paired_seeds_is_simulated_with_their_agreement_kept():
    rng = np.random.default_rng(9)
    a, b = _seeds(8, 0.0, rng, rho=0.95)
    paired = distribution.power(list(a), list(b), "lower", 0.05, 0.0005, paired=True)
    unpaired = distribution.power(list(a), list(b), "lower", 0.05, 0.0005)
    assert paired.ok_when_clean >= 0.8 > unpaired.ok_when_clean, (paired, unpaired)
    found = distribution.judge(list(a), list(b), "lower", 0.05, 0.0005)
    more = distribution.judge(list(a), list(b), "lower", 0.05, 0.0005, paired=True)
    assert found.outcome is Outcome.INCONCLUSIVE and more.outcome is Outcome.OK


def test_a_worsening_sitting_exactly_on_the_minimum_is_not_ok():
    # Every seed's difference exactly the minimum: the bound equals it, and the minimum is
    # still inside what the seeds allow, so the figure cannot be called ok.
    on = distribution.judge([1.0] * 5, [1.5] * 5, "lower", 0.5, 0.0005, paired=True)
    assert on.outcome is Outcome.INCONCLUSIVE
    inside = distribution.judge([1.0] * 5, [1.49] * 5, "lower", 0.5, 0.0005, paired=True)
    assert inside.outcome is Outcome.OK


def test_the_simulated_chance_of_ok_for_paired_seeds_is_about_the_true_one():
    # Seeds moving together (rho 0.95, 30% spread, 6 a side), B clean: each estimate comes
    # from one sample's own values, rough at 6 seeds, but on average near the judge's true
    # rate (0.56 for 0.66). Jittered apart, every seed's difference widened by the sides'
    # whole spread, and the estimate read 0.34.
    truth = _rates(6, 0.0, True, 1000, rho=0.95, sd=0.3)[Outcome.OK]
    rng = np.random.default_rng(3)
    estimates = [distribution.power(*map(list, _seeds(6, 0.0, rng, rho=0.95, sd=0.3)),
                                    "lower", 0.05, 0.01 / 20, simulations=150, seed=i,
                                    paired=True).ok_when_clean for i in range(20)]
    assert abs(np.mean(estimates) - truth) < 0.15, (np.mean(estimates), truth)
