"""Timing with warm-up, repeats and robust statistics: the only module that reads a clock.

On a shared 2-core machine absolute times move by up to 1.6x between processes, so the
figures that gate anything are *ratios* of workloads timed in the same process, in
interleaved blocks. Each call of a block is timed: a block gives its mean and its fastest
call; which one the gate compares, per path, is ``TIMING_SAMPLE`` (a sub-millisecond
Keras call swings 20-40% within a block with the work timed just before it; its fastest
call 1-19%; docs/gate.md, "What is judged, and how").
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

#: What one timing sample of each gated path is: a ratio to the numpy reference's block in
#: the same interleaved round, of the block's fastest call for Keras (a ~0.5 ms Keras call
#: swings 20-40% within a block with what ran before it; its fastest call 1-19%) and of the
#: block's mean for TFLite (steady to 4-8% as it is; a mean also sees a slowdown that hits
#: only some calls, which a fastest call cannot). The reference is summarised the same way.
#: tflite_sparse (block-sparse experiments): the sparse flatbuffer's block mean over the
#: dense flatbuffer's under XNNPACK, the best dense path (``TIMING_REFERENCE``).
TIMING_SAMPLE = {"keras": "fastest", "tflite": "mean", "tflite_sparse": "mean"}
#: What each gated path's samples are divided by: the numpy reference, or another path.
TIMING_REFERENCE = {"keras": "reference", "tflite": "reference", "tflite_sparse": "tflite"}
#: Where each kind of sample is kept in a record's block timings (TimingStats.as_dict).
SAMPLE_FIELDS = {"fastest": "fastest_s", "mean": "samples_s"}

DEFAULT_WARMUP = 3
DEFAULT_REPEATS = 7
DEFAULT_NUMBER = 20


@dataclass(frozen=True)
class TimingStats:
    """Seconds per call over repeated blocks: one sample per block of ``number`` calls."""

    samples: tuple[float, ...]
    number: int
    #: The fastest single call of each block, block by block.
    fastest: tuple[float, ...] = ()

    def of_kind(self, kind: str) -> tuple[float, ...]:
        """Return the per-block samples of ``kind`` (a value of TIMING_SAMPLE)."""
        return self.fastest if kind == "fastest" else self.samples

    @property
    def median(self) -> float:
        return float(np.median(self.samples))

    @property
    def min(self) -> float:
        return float(np.min(self.samples))

    @property
    def iqr(self) -> float:
        q75, q25 = np.percentile(self.samples, [75, 25])
        return float(q75 - q25)

    def as_dict(self) -> dict[str, object]:
        return {
            "median_s": self.median,
            "min_s": self.min,
            "iqr_s": self.iqr,
            "samples_s": list(self.samples),
            "fastest_s": list(self.fastest),
            "calls_per_sample": self.number,
        }


def stopwatch() -> Callable[[], float]:
    """Return a function giving the seconds elapsed since stopwatch() was called."""
    start = time.perf_counter()
    return lambda: time.perf_counter() - start


def _block(fn: Callable[[], object], number: int) -> tuple[float, float]:
    """Return (mean, fastest) seconds per call over ``number`` calls, each timed."""
    clock = time.perf_counter
    calls = []
    for _ in range(number):
        start = clock()
        fn()
        calls.append(clock() - start)
    return sum(calls) / number, min(calls)


def measure(
    fn: Callable[[], object],
    *,
    warmup: int = DEFAULT_WARMUP,
    repeats: int = DEFAULT_REPEATS,
    number: int = DEFAULT_NUMBER,
) -> TimingStats:
    """Return per-call timings of ``fn`` after ``warmup`` untimed calls."""
    return interleaved({"_": fn}, warmup=warmup, repeats=repeats, number=number)["_"]


def interleaved(
    fns: Mapping[str, Callable[[], object]],
    *,
    warmup: int = DEFAULT_WARMUP,
    repeats: int = DEFAULT_REPEATS,
    number: int = DEFAULT_NUMBER,
) -> dict[str, TimingStats]:
    """Return per-call timings of several workloads timed in alternating blocks.

    Alternating (and reversing the order every round) exposes each workload to the same
    background load, so ratios between them are far steadier than their absolute times.
    """
    for fn in fns.values():
        for _ in range(warmup):
            fn()
    names = list(fns)
    blocks: dict[str, list[tuple[float, float]]] = {name: [] for name in names}
    for round_ in range(repeats):
        order = names if round_ % 2 == 0 else names[::-1]
        for name in order:
            blocks[name].append(_block(fns[name], number))
    return {name: TimingStats(tuple(b[0] for b in got), number, tuple(b[1] for b in got))
            for name, got in blocks.items()}


def block_ratios(numerator: Sequence[float], reference: Sequence[float]) -> list[float]:
    """Return numerator / reference per interleaved round: the drift of the round cancels."""
    if len(numerator) != len(reference):
        raise ValueError(f"{len(numerator)} blocks against {len(reference)} reference blocks")
    return [a / b for a, b in zip(numerator, reference, strict=True)]


@dataclass(frozen=True)
class SampleTest:
    """Two samples of a time ratio compared: medians, their ratio and one-sided p-values."""

    current_median: float
    baseline_median: float
    #: current median / baseline median.
    ratio: float
    #: p of "current is slower than margin x baseline" (small: a slowdown beyond the margin).
    p_slower: float
    #: p of "current is faster than baseline / margin".
    p_faster: float


def compare_samples(current: Sequence[float], baseline: Sequence[float],
                    margin: float = 1.0, faster_margin: float | None = None) -> SampleTest:
    """Return one-sided Mann-Whitney U tests of ``current`` against ``baseline`` beyond margins.

    The samples are positive time ratios; the tests run on their logarithms shifted by
    log(margin), so their null hypotheses are "no more than ``margin`` times slower" and
    "no more than ``faster_margin`` (default ``margin``) times faster".
    """
    from scipy.stats import mannwhitneyu

    if len(current) < 2 or len(baseline) < 2:
        raise ValueError("a timing test needs at least two samples on each side")
    cur, base = np.log(np.asarray(current, float)), np.log(np.asarray(baseline, float))
    slower = mannwhitneyu(cur - float(np.log(margin)), base, alternative="greater").pvalue
    faster = mannwhitneyu(cur + float(np.log(faster_margin or margin)), base,
                          alternative="less").pvalue
    cur_med, base_med = float(np.median(current)), float(np.median(baseline))
    return SampleTest(cur_med, base_med, cur_med / base_med, float(slower), float(faster))
