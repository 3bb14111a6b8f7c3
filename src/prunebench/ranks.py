"""Exact rank distributions, and the confidence bounds read off them.

Two tests, one way of reading them: a statistic's null distribution is counted, not
approximated (5 seeds a side is a small sample); its critical value at alpha picks the
c-th value from either end of a sorted set, which is the one-sided bound at 1 - alpha.

- Mann-Whitney's rank sum, for two samples (Moses' bounds over every B - A difference):
  U counts the pairs (a, b) with b > a, every ordering of the m + n values equally likely.
- Wilcoxon's signed ranks, for paired differences (Tukey's bounds over their Walsh
  averages, every (d_i + d_j) / 2 with i <= j, whose median is the one-sample
  Hodges-Lehmann estimate): T+ sums the ranks of |d| whose d is positive, each of the 2**n
  sign patterns equally likely. Where both sides ran the same seeds, seed s of A and seed s
  of B are seeded alike (initial weights, shuffles), so across Keras builds that train
  differently their figures still move together: in the committed TF 2.15 -> 2.16 zoo
  records (5 seeds) the 12 experiments whose losses moved correlate 0.46-1.0 between the
  versions, seed by seed (0.9 or more in 7), and for 7 of the 12 the per-seed differences
  of log loss spread 2-24x less than either side's seeds (the other 5: from 2x wider to
  2.6x narrower). Judging the differences removes the seed's own share of the spread. n
  seeds cannot reach below 1 / 2**n (5 seeds: 1/32; 3 seeds cannot reach 5%).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import cache

import numpy as np


def _critical(counts: Sequence[int], total: int, alpha: float) -> int | None:
    """Return the smallest c with P(statistic >= c) <= alpha, ``counts[s]`` of ``total``
    equally likely outcomes giving s; None when even the largest is more likely."""
    tail = 0
    found = None
    for c in range(len(counts) - 1, -1, -1):
        tail += counts[c]
        if tail / total > alpha:
            break
        found = c
    return found


@cache
def _u_counts(m: int, n: int) -> tuple[int, ...]:
    """Return how many of the C(m+n, m) orderings give each Mann-Whitney U = 0..m*n."""
    if m == 0 or n == 0:
        return (1,)
    # U(m, n) = U(m-1, n) + n when the largest value is an A; U(m, n-1) when it is a B.
    with_a, with_b = _u_counts(m - 1, n), _u_counts(m, n - 1)
    counts = [0] * (m * n + 1)
    for u, ways in enumerate(with_a):
        counts[u + n] += ways
    for u, ways in enumerate(with_b):
        counts[u] += ways
    return tuple(counts)


@cache
def critical_u(m: int, n: int, alpha: float) -> int | None:
    """Return the smallest c with P(U >= c) <= alpha under no shift, or None if none exists.

    U counts the pairs (a, b) with b > a; None: the samples are too small for ``alpha``
    (5 against 5 cannot reach below 1/252).
    """
    return _critical(_u_counts(m, n), math.comb(m + n, m), alpha)


def smallest_p(m: int, n: int) -> float:
    """Return the smallest one-sided p-value m against n observations can give."""
    return 1.0 / math.comb(m + n, m)


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
    return _critical(_t_counts(n), 2**n, alpha)


def smallest_p_paired(n: int) -> float:
    """Return the smallest one-sided p-value n paired differences can give."""
    return 0.5**n


def walsh(differences: np.ndarray) -> np.ndarray:
    """Return the sorted Walsh averages of ``differences``."""
    d = np.asarray(differences, float)
    i, j = np.triu_indices(len(d))
    return np.sort((d[i] + d[j]) / 2)


def lower(values: np.ndarray, c: int | None) -> float:
    """Return the lower one-sided bound of sorted ``values`` (every B - A difference, or
    the Walsh averages) at critical value ``c``; -inf when the level cannot be reached."""
    return -math.inf if c is None else float(values[len(values) - c])


def upper(values: np.ndarray, c: int | None) -> float:
    """Return the upper one-sided bound at critical value ``c`` (+inf: none)."""
    return math.inf if c is None else float(values[c - 1])
