"""The distributional judge: exact bounds checked by hand and against scipy, and by
simulation its false-alarm rate at the boundary of the minimum effect and its power."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from prunebench import distribution, ranks
from prunebench.distribution import Outcome


def test_critical_values_are_the_textbook_ones():
    # Mann-Whitney, 5 against 5, one-sided 5%: U <= 4 in the lower tail (P = 0.0476),
    # so U >= 21 in the upper one.
    assert ranks.critical_u(5, 5, 0.05) == 21
    assert ranks.smallest_p(5, 5) == pytest.approx(1 / 252)
    assert ranks.critical_u(5, 5, 0.001) is None  # 5 seeds a side cannot reach 0.1%
    assert ranks.critical_u(8, 8, 0.0005) is not None  # 8 can: 1/12870


@pytest.mark.parametrize("seed", range(20))
def test_the_critical_value_rejects_exactly_where_scipys_exact_test_does(seed):
    rng = np.random.default_rng(seed)
    m, n, alpha = int(rng.integers(3, 9)), int(rng.integers(3, 9)), 0.05
    a, b = rng.normal(size=m), rng.normal(0.8, size=n)
    u = sum(int(y > x) for x in a for y in b)
    p = stats.mannwhitneyu(b, a, alternative="greater", method="exact").pvalue
    c = ranks.critical_u(m, n, alpha)
    assert (c is not None and u >= c) == (p <= alpha), (m, n, u, c, p)


def test_the_shift_is_the_median_of_pairwise_differences_signed_by_direction():
    found = distribution.shift([1, 2, 3], [2, 3, 4], "lower", alpha=0.05)
    assert found.estimate == 1.0  # differences -1 0 0 1 1 1 2 2 3
    assert distribution.shift([1, 2, 3], [2, 3, 4], "higher", alpha=0.05).estimate == -1.0
    # 3 against 3 cannot reach 5% (1/20 = 0.05 can): bounds at the extreme differences.
    assert (found.low, found.high) == (-1.0, 3.0)


def _rates(shift, sd, n, minimum, alpha, runs=2000, seed=1):
    rng = np.random.default_rng(seed)
    outcomes = [distribution.judge(rng.normal(1.0, sd, n), rng.normal(1.0 + shift, sd, n),
                                   "lower", minimum, alpha, plan=False).outcome
                for _ in range(runs)]
    return {o: outcomes.count(o) / runs for o in Outcome}


def test_a_true_shift_equal_to_the_minimum_effect_is_called_worse_at_most_alpha_of_the_time():
    # The worst case of "not worse than the minimum": the false-alarm rate is bounded there.
    rates = _rates(shift=0.1, sd=0.1, n=8, minimum=0.1, alpha=0.01)
    assert rates[Outcome.WORSE] <= 0.01 + 3 * math.sqrt(0.01 * 0.99 / 2000)


def test_the_family_of_a_verdict_over_twenty_figures_keeps_one_percent():
    # 20 figures, each at alpha / 20 (Bonferroni), every one at the minimum's boundary.
    rng = np.random.default_rng(2)
    runs, alarms = 500, 0
    for _ in range(runs):
        alarms += any(distribution.judge(rng.normal(1, 0.1, 8), rng.normal(1.1, 0.1, 8), "lower",
                                         0.1, 0.01 / 20, plan=False).outcome is Outcome.WORSE
                      for _ in range(20))
    assert alarms / runs <= 0.01 + 3 * math.sqrt(0.01 * 0.99 / runs)


@pytest.mark.parametrize(("n", "gap_sd", "power"), [(8, 4, 0.9), (12, 2, 0.7), (16, 2, 0.85)])
def test_a_shift_beyond_the_minimum_effect_is_called_worse_with_the_power_measured(n, gap_sd,
                                                                                  power):
    # At 1% over 20 figures (alpha 0.0005 each), measured: 8 seeds a side call a worsening
    # 4 standard deviations beyond the minimum every time (3: 0.85), 12 seeds 2 sd 0.82,
    # 16 seeds 2 sd 0.95; 5 seeds never can (their smallest p is 1/252).
    rates = _rates(shift=0.1 + gap_sd * 0.1, sd=0.1, n=n, minimum=0.1, alpha=0.01 / 20, runs=400)
    assert rates[Outcome.WORSE] >= power, rates


def test_no_shift_with_a_small_spread_is_ok_and_with_a_large_one_inconclusive():
    assert _rates(shift=0.0, sd=0.02, n=8, minimum=0.1, alpha=0.01, runs=300)[Outcome.OK] >= 0.9
    rng = np.random.default_rng(3)
    wide = distribution.judge(rng.normal(1, 0.5, 5), rng.normal(1, 0.5, 5), "lower", 0.1, 0.01)
    assert wide.outcome is Outcome.INCONCLUSIVE
    assert wide.seeds_to_decide is None or wide.seeds_to_decide > 5
    assert "seeds a side" in wide.describe()


def test_five_seeds_a_side_never_call_worse_below_their_smallest_p():
    far = distribution.judge([1.0] * 5, [9.0, 9.1, 9.2, 9.3, 9.4], "lower", 0.1, alpha=0.001)
    assert far.outcome is Outcome.INCONCLUSIVE and far.shift.low == -math.inf


def test_an_improvement_beyond_the_minimum_is_better_not_ok():
    found = distribution.judge(np.linspace(1.0, 1.01, 8), np.linspace(0.5, 0.51, 8), "lower",
                               0.1, alpha=0.01)
    assert found.outcome is Outcome.BETTER


def test_the_minimum_effect_must_be_positive():
    with pytest.raises(ValueError, match="minimum effect must be > 0"):
        distribution.judge([1, 2], [1, 2], "lower", 0.0, 0.01)


def test_the_simulated_floor_shrinks_with_seeds_and_is_caught_about_as_often_as_it_says():
    rng = np.random.default_rng(5)
    alpha = 0.01 / 20
    small = distribution.power(rng.normal(1, 0.1, 8), rng.normal(1, 0.1, 8), "lower", 0.1, alpha)
    a, b = rng.normal(1, 0.1, 16), rng.normal(1, 0.1, 16)
    large = distribution.power(a, b, "lower", 0.1, alpha)
    assert large.floor is not None and small.floor is not None and large.floor < small.floor
    assert distribution.power(a, b, "lower", 0.1, alpha) == large  # seeded: the same again
    # The floor comes from the samples' spread; drawn from the true one, it is caught near
    # the 80% claimed, and "no worsening is ok" is as frequent as said.
    caught = _rates(shift=large.floor, sd=0.1, n=16, minimum=0.1, alpha=alpha, runs=400)
    assert caught[Outcome.WORSE] >= 0.6, (large, caught)
    clean = _rates(shift=0.0, sd=0.1, n=16, minimum=0.1, alpha=alpha, runs=400)
    assert abs(clean[Outcome.OK] - large.ok_when_clean) <= 0.2, (large, clean)
    assert "would be caught about 80% of the time" in large.describe()


def test_one_seed_a_side_is_undecided_and_has_no_power_without_failing():
    found = distribution.judge([0.5], [0.6], "lower", 0.05, 0.005)
    assert found.outcome is Outcome.INCONCLUSIVE and found.seeds_to_decide is None
    assert not distribution.power([0.5], [0.6, 0.7], "lower", 0.05, 0.005).reachable


def test_five_seeds_a_side_say_that_no_worsening_can_be_called_at_a_small_alpha():
    rng = np.random.default_rng(6)
    found = distribution.power(rng.normal(1, 0.1, 5), rng.normal(1, 0.1, 5), "lower", 0.1,
                               0.01 / 20)
    assert found.floor is None and not found.reachable
    assert "no worsening can be called worse" in found.describe()


def test_looks_double_from_the_seeds_given_up_to_the_most_and_count_if_they_can_decide():
    assert distribution.schedule(3, 16) == (3, 6, 12, 16)
    assert distribution.schedule(5, 8) == (5, 8)
    assert distribution.schedule(3, 3) == (3,)
    # 3 against 3 seeds cannot reach 5% / 3 (their smallest p is 1/20): three looks count.
    assert distribution.looks_counted([(3, 3), (6, 6), (12, 12), (16, 16)], 0.05) == 3
    assert distribution.looks_counted([(5, 5), (10, 10), (20, 20)], 0.05) == 3
    assert distribution.looks_counted([(2, 2), (3, 3)], 0.05) == 1  # neither can: 1/6, 1/20


def test_the_estimated_floor_is_caught_at_least_as_often_as_it_says_even_at_five_seeds():
    # From 20 pairs of 5-seed samples (alpha 0.5%: 5 seeds can reach it), each estimated
    # floor, drawn from the true distribution, is called worse in 300 verdicts: 0.89 on
    # average (0.93 at 8 seeds). Plain resampling of deviations from the median promised
    # floors caught in 0.82 (0.87 at 8): optimistic, which this smoothed bootstrap is less.
    rng = np.random.default_rng(8)
    caught = []
    for draw in range(20):
        found = distribution.power(rng.normal(0, 0.05, 5), rng.normal(0, 0.05, 5), "lower",
                                   0.05, 0.005, seed=draw)
        if found.floor is not None:
            caught.append(_rates(shift=found.floor, sd=0.05, n=5, minimum=0.05, alpha=0.005,
                                 runs=300, seed=draw)[Outcome.WORSE])
    assert len(caught) >= 18 and np.mean(caught) >= 0.85, caught
