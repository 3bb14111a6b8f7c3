"""One figure over two sides' seeds, where seeds do not reproduce: a shift and its bounds.

Across Keras builds a seed's figures move (a zoo loss -55%..+30%) while medians over seeds
move ~10% or less, so pairing seed s of A with seed s of B judges noise. Here each side's
seeds are a sample, and B is judged by the location shift between the two samples:

- the estimate is the Hodges-Lehmann shift (the median of every B - A difference);
- its one-sided confidence bounds are Moses' exact, distribution-free ones, read off the
  sorted differences at the Mann-Whitney critical value (no normality, no large-sample
  approximation: 5 seeds a side is a small sample, and losses are skewed);
- where both sides ran the same seeds, each bound is instead that of the per-seed
  differences (``ranks``: Wilcoxon's signed ranks, Tukey's bounds) whenever that many
  seeds can reach its level (5 for ok at 5%; 11-14 for worse at 0.0005-0.0001): seeds
  seeded alike move together across builds, and pairing them removes their shared spread;
  which test makes a bound depends only on the seeds' count and the level, never on the
  figures, so each verdict is one test at its own level;
- the verdict compares the bounds with a minimum effect worth calling (e.g. loss +10%):
  WORSE when even the lower bound of B's worsening exceeds it (at the family's alpha: the
  false-alarm rate), OK only when the upper bound is inside it (at ``alpha_ok``), and
  INCONCLUSIVE otherwise, with the seeds per side that would likely decide.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum
from statistics import NormalDist

import numpy as np

from prunebench import ranks

#: One-sided level of the bound that must sit inside the minimum effect for OK.
DEFAULT_ALPHA_OK = 0.05
#: Seeds per side beyond which "more seeds" is not a useful answer.
MAX_SEEDS = 64
#: Worsenings, in minimum effects, at which the floor is looked for (``power``).
FLOOR_GRID = (0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0, 8.0, 12.0, 16.0)
#: How often a worsening must be called WORSE to be within the floor.
FLOOR_POWER = 0.8
#: Simulated verdicts per worsening (each a resample of the figure's own spread).
SIMULATIONS = 300


class Outcome(Enum):
    OK = "ok"
    WORSE = "WORSE"
    BETTER = "better"
    INCONCLUSIVE = "inconclusive"


@dataclass(frozen=True)
class Shift:
    """B's worsening against A, in the figure's unit (positive: worse), with its bounds."""

    estimate: float
    #: Lower bound of the worsening at 1 - alpha (-inf: the samples are too small).
    low: float
    #: Upper bound of the worsening at 1 - alpha_ok (+inf: the samples are too small).
    high: float
    #: The bound of an improvement: upper bound of the worsening at 1 - alpha.
    high_at_alpha: float
    #: Which bounds the seeds' paired differences made: those of 'ok', of 'worse' (and
    #: better), of both; empty: every bound compares every A with every B.
    paired: tuple[str, ...] = ()


def shift(a: Sequence[float], b: Sequence[float], better: str, alpha: float,
          alpha_ok: float = DEFAULT_ALPHA_OK, paired: bool = False) -> Shift:
    """Return B's worsening over A (Hodges-Lehmann) with exact one-sided bounds.

    ``better``: 'lower' (a loss: B above A is worse) or 'higher' (accuracy). Moses' bounds
    over every A-B difference; with ``paired`` (``a[i]`` and ``b[i]`` the same seed), a bound
    whose level the seeds' count can reach is the signed-rank bound of the per-seed
    differences instead, and the estimate is theirs.
    """
    sign = 1.0 if better == "lower" else -1.0
    diffs = np.sort(sign * (np.asarray(b, float)[None, :] - np.asarray(a, float)[:, None]).ravel())
    m, n = len(a), len(b)
    if paired and m != n:
        raise ValueError("paired sides need the same seeds")
    averages = ranks.walsh(sign * (np.asarray(b, float) - np.asarray(a, float))
                           ) if paired else diffs

    def by_seed(level: float) -> bool:
        return paired and ranks.smallest_p_paired(n) <= level

    def critical(level: float) -> tuple[np.ndarray, int | None]:
        """Return the sorted values a bound at ``level`` is read from, and its critical value."""
        if by_seed(level):
            return averages, ranks.critical_t(n, level)
        return diffs, ranks.critical_u(m, n, level)

    def lower(level: float) -> float:
        return ranks.lower(*critical(level))

    def upper(level: float) -> float:
        return ranks.upper(*critical(level))

    estimate = float(np.median(averages))
    used = tuple(what for what, level in (("ok", alpha_ok), ("worse", alpha)) if by_seed(level))
    return Shift(estimate, lower(alpha), upper(alpha_ok), upper(alpha), used)


@dataclass(frozen=True)
class Verdict:
    """One figure's outcome, its shift, the minimum effect and, when undecided, the seeds
    per side that would likely decide (None: more than MAX_SEEDS)."""

    outcome: Outcome
    shift: Shift
    minimum: float
    seeds_to_decide: int | None = None

    def describe(self, unit_scale: float = 1.0) -> str:
        est, low, high = (v / unit_scale for v in (self.shift.estimate, self.shift.low,
                                                    self.shift.high))
        said = (f"worsening {est:+.4g} (bounds {low:+.4g} .. {high:+.4g}; minimum effect "
                f"{self.minimum / unit_scale:.4g})")
        if self.shift.paired:
            bounds = " and ".join(self.shift.paired)
            said += f", the {bounds} bound{'s' if len(self.shift.paired) > 1 else ''} by seed"
        if self.outcome is Outcome.INCONCLUSIVE:
            more = (f"about {self.seeds_to_decide} seeds a side would decide"
                    if self.seeds_to_decide else f"more than {MAX_SEEDS} seeds a side")
            said += f"; {more}"
        return said


def judge(a: Sequence[float], b: Sequence[float], better: str, minimum: float, alpha: float,
          alpha_ok: float = DEFAULT_ALPHA_OK, plan: bool = True, paired: bool = False
          ) -> Verdict:
    """Return the outcome of B against A for one figure.

    ``minimum``: the smallest worsening worth calling (> 0, in the figure's unit).
    ``alpha``: the false-alarm rate of WORSE and BETTER for this figure (a share of the
    verdict's family-wise rate); ``alpha_ok``: the rate at which a worsening of
    ``minimum`` or more passes as OK. ``plan``: when INCONCLUSIVE, estimate the seeds
    that would decide (simulations leave it out). ``paired``: ``a[i]`` and ``b[i]`` are
    the same seed (``shift``).
    """
    if minimum <= 0:
        raise ValueError("the minimum effect must be > 0")
    found = shift(a, b, better, alpha, alpha_ok, paired)
    if found.low > minimum:
        return Verdict(Outcome.WORSE, found, minimum)
    if found.high_at_alpha < -minimum:
        return Verdict(Outcome.BETTER, found, minimum)
    if found.high < minimum:  # inside it: a worsening of exactly the minimum is not ok
        return Verdict(Outcome.OK, found, minimum)
    return Verdict(Outcome.INCONCLUSIVE, found, minimum,
                   seeds_to_decide(a, b, better, minimum, alpha, alpha_ok, paired)
                   if plan else None)


def seeds_to_decide(a: Sequence[float], b: Sequence[float], better: str, minimum: float,
                    alpha: float, alpha_ok: float = DEFAULT_ALPHA_OK, paired: bool = False
                    ) -> int | None:
    """Return the seeds per side at which the observed shift and spread would likely decide.

    A planning figure, not a test: the shift's standard error from the two samples'
    variances, shrinking as 1 / sqrt(seeds); the smallest size whose normal bound falls
    inside the minimum (OK) or beyond it (WORSE) and whose exact test can reach the level;
    with ``paired``, the smaller of that and the same from the per-seed differences' spread.
    None beyond MAX_SEEDS, or when the estimate sits on the minimum.
    """
    if min(len(a), len(b)) < 2:  # no spread to plan with
        return None
    estimate = shift(a, b, better, alpha, alpha_ok, paired).estimate
    gap = abs(minimum - estimate)
    if gap == 0:
        return None
    level = alpha_ok if estimate < minimum else alpha
    z = NormalDist().inv_cdf(1 - level)
    routes = [(math.sqrt(float(np.var(a, ddof=1)) + float(np.var(b, ddof=1))),
               lambda k: ranks.smallest_p(k, k))]
    if paired:
        routes.append((float(np.std(np.subtract(b, a), ddof=1)), ranks.smallest_p_paired))
    sizes = []
    for spread, reach in routes:
        size = max(len(a) + 1, len(b) + 1, math.ceil((z * spread / gap) ** 2))
        while size <= MAX_SEEDS and reach(size) > level:
            size += 1
        sizes.append(size)
    return min(sizes) if min(sizes) <= MAX_SEEDS else None


@dataclass(frozen=True)
class Power:
    """What the seeds used can tell of one figure, simulated from its own spread.

    ``ok_when_clean``: how often B with no worsening at all is called OK (an A/A's chance
    of deciding); ``floor``: the smallest worsening (of FLOOR_GRID minimum effects) called
    WORSE in FLOOR_POWER of the verdicts, None beyond the grid.
    """

    ok_when_clean: float
    floor: float | None
    #: Whether these sample sizes can reach the level of WORSE at all.
    reachable: bool = True

    def describe(self, unit_scale: float = 1.0) -> str:
        if self.floor is not None:
            caught = (f"a worsening of {self.floor / unit_scale:+.4g} would be caught about "
                      f"{FLOOR_POWER:.0%} of the time")
        elif self.reachable:
            caught = (f"no worsening up to {FLOOR_GRID[-1]:g} minimum effects is caught "
                      f"{FLOOR_POWER:.0%} of the time")
        else:
            caught = "no worsening can be called worse (too few seeds for alpha)"
        return (f"estimated from these seeds' spread: {caught}; no worsening at all is "
                f"called ok {self.ok_when_clean:.0%} of the time")


def power(a: Sequence[float], b: Sequence[float], better: str, minimum: float, alpha: float,
          alpha_ok: float = DEFAULT_ALPHA_OK, simulations: int = SIMULATIONS,
          seed: int = 0, paired: bool = False) -> Power:
    """Return the power of ``judge`` at these sample sizes, estimated from the figure's spread.

    The spread is both sides' values less their own mean, pooled (the location removed, so
    a real shift between the sides does not widen it); each simulated side resamples it,
    B shifted by the worsening tried. An estimate from the seeds at hand: rough below 8 a
    side. Seeded: the same figures give the same power. Needs 2 values a side. With
    ``paired`` (the same seeds, in order), seeds are resampled with both their values, so
    the sides' seed-by-seed agreement is kept, and judged paired.
    """
    if min(len(a), len(b)) < 2:  # one value has no spread to resample
        return Power(0.0, None, reachable=False)
    rng = np.random.default_rng(seed)
    # Each side less its mean, scaled by sqrt(n / (n - 1)) (deviations from a sample's own
    # mean understate its variance), pooled; each draw jittered by a small normal kernel
    # (a smoothed bootstrap: 5 values resampled have ~4 distinct ones, and the ties and
    # the missing tails made plain resampling promise floors it did not reach).
    sides = [(np.asarray(x, float) - np.mean(x)) * math.sqrt(len(x) / (len(x) - 1))
             for x in (a, b)]
    spread = np.concatenate(sides)
    width = 0.5 * len(spread) ** -0.2  # the kernel's, in the figure's spreads
    jitter = width * float(np.std(spread))
    # Paired seeds are jittered together, by a kernel of the pairs' own covariance: jittered
    # apart, each seed's difference widened by the sides' whole spread (P(ok) 0.50 for 0.83).
    kernel = width ** 2 * np.cov(np.stack(sides), bias=True) if paired else np.zeros((2, 2))
    sign = 1.0 if better == "lower" else -1.0

    def draw(size: int, shift: float) -> np.ndarray:
        return rng.choice(spread, size) + jitter * rng.normal(size=size) + shift

    def draw_seeds(shift: float) -> tuple[np.ndarray, np.ndarray]:
        seeds = rng.integers(0, len(a), len(a))
        noise = rng.multivariate_normal(np.zeros(2), kernel, size=len(a))
        return sides[0][seeds] + noise[:, 0], sides[1][seeds] + noise[:, 1] + shift

    def rate(worsening: float, outcome: Outcome) -> float:
        hits = 0
        for _ in range(simulations):
            xa, xb = (draw_seeds(sign * worsening) if paired
                      else (draw(len(a), 0.0), draw(len(b), sign * worsening)))
            hits += judge(list(xa), list(xb), better, minimum, alpha, alpha_ok, plan=False,
                          paired=paired).outcome is outcome
        return hits / simulations

    clean = rate(0.0, Outcome.OK)
    if ranks.critical_u(len(a), len(b), alpha) is None:
        return Power(clean, None, reachable=False)
    floor = next((k * minimum for k in FLOOR_GRID if rate(k * minimum, Outcome.WORSE)
                  >= FLOOR_POWER), None)
    return Power(clean, floor)


def looks_counted(sizes: Sequence[tuple[int, int]], alpha_ok: float) -> int:
    """Return the number of looks each look's levels are divided by: the looks whose seeds
    can reach their level at all, the smallest r with at most r of them reaching
    ``alpha_ok`` / r. A look whose seeds cannot reach it decides nothing (3 against 3
    seeds: p >= 1/20), rejects nothing, and so spends none of the rate.
    """
    for counted in range(1, len(sizes) + 1):
        if sum(ranks.smallest_p(m, n) <= alpha_ok / counted for m, n in sizes) <= counted:
            return counted
    return len(sizes)


def schedule(first: int, most: int) -> tuple[int, ...]:
    """Return the seeds a side at each look of a verdict that adds seeds while undecided.

    The looks are fixed before any figure is seen, doubling from ``first`` up to ``most``
    (3, 6, 12, 16): their number is what each look's levels are divided by (Bonferroni
    over the looks), so stopping at whichever look decides keeps the verdict's rates.
    """
    if most <= first:
        return (first,)
    looks = [first]
    while looks[-1] < most:
        looks.append(min(most, 2 * looks[-1]))
    return tuple(looks)
