"""Wilcoxon's signed-rank test on per-seed differences, and its exact bounds (Tukey's).

Where both sides ran the same seeds, seed s of A and seed s of B are seeded alike (initial
weights, shuffles), so across Keras builds that train differently their figures still
move together: in the committed TF 2.15 -> 2.16 zoo records (5 seeds) the 12
experiments whose losses moved correlate 0.46-1.0 between the versions, seed by seed (0.9
or more in 7), and for 7 of the 12 the per-seed differences of log loss spread 2-24x less
than either side's seeds (the other 5: from 2x wider to 2.6x narrower). Judging them removes the
seed's own share of the spread.

The estimate is the median of the Walsh averages (every (d_i + d_j) / 2, i <= j: the
one-sample Hodges-Lehmann estimator); a one-sided bound at level alpha is the Walsh average
at the signed-rank critical value, exact and distribution-free given symmetric differences.
n seeds cannot reach below 1 / 2**n (5 seeds: 1/32; 3 seeds cannot reach 5%).
"""

from __future__ import annotations

import math
from functools import cache

import numpy as np


@cache
def _t_counts(n: int) -> tuple[int, ...]:
    """Return how many of the 2**n sign patterns give each signed-rank sum T+ = 0..n(n+1)/2."""
    counts = [1]
    for rank in range(1, n + 1):  # rank k is positive (adds k) or not
        grown = [0] * (len(counts) + rank)
        for t, ways in enumerate(counts):
            grown[t] += ways
            grown[t + rank] += ways
        counts = grown
    return tuple(counts)


@cache
def critical_t(n: int, alpha: float) -> int | None:
    """Return the smallest c with P(T+ >= c) <= alpha under no shift, or None if none exists."""
    counts = _t_counts(n)
    tail = 0
    found = None
    for c in range(len(counts) - 1, -1, -1):
        tail += counts[c]
        if tail / 2**n > alpha:
            break
        found = c
    return found


def smallest_p(n: int) -> float:
    """Return the smallest one-sided p-value n paired differences can give."""
    return 0.5**n


def walsh(differences: np.ndarray) -> np.ndarray:
    """Return the sorted Walsh averages of ``differences``."""
    d = np.asarray(differences, float)
    upper = np.triu_indices(len(d))
    return np.sort((d[upper[0]] + d[upper[1]]) / 2)


def lower(averages: np.ndarray, n: int, alpha: float) -> float:
    """Return the lower one-sided bound at 1 - alpha of the differences' location (-inf: n
    differences cannot reach alpha); ``averages``: their sorted Walsh averages."""
    c = critical_t(n, alpha)
    return -math.inf if c is None else float(averages[len(averages) - c])


def upper(averages: np.ndarray, n: int, alpha: float) -> float:
    """Return the upper one-sided bound at 1 - alpha (+inf: n cannot reach alpha)."""
    c = critical_t(n, alpha)
    return math.inf if c is None else float(averages[c - 1])
