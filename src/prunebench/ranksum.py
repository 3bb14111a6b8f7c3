"""The Mann-Whitney rank-sum distribution, exact: the two-sample test behind Moses' bounds.

U counts the pairs (a, b) with b > a; with no shift every ordering of the m + n values is
equally likely, so its distribution is counted, not approximated (5 seeds a side is a
small sample).
"""

from __future__ import annotations

import math
from functools import cache


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
    counts = _u_counts(m, n)
    total = math.comb(m + n, m)
    tail = 0
    found = None
    for c in range(m * n, -1, -1):
        tail += counts[c]
        if tail / total > alpha:
            break
        found = c
    return found


def smallest_p(m: int, n: int) -> float:
    """Return the smallest one-sided p-value m against n observations can give."""
    return 1.0 / math.comb(m + n, m)
