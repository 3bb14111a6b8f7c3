"""The timing helper's bookkeeping (no assertion on how long anything takes)."""

from __future__ import annotations

from prunebench import timing


def test_interleaved_calls_each_workload_warmup_plus_repeats_times_number():
    calls = {"a": 0, "b": 0}

    def bump(name):
        def fn():
            calls[name] += 1
        return fn

    got = timing.interleaved({"a": bump("a"), "b": bump("b")}, warmup=2, repeats=3, number=4)
    assert calls == {"a": 2 + 3 * 4, "b": 2 + 3 * 4}
    assert len(got["a"].samples) == 3 and got["a"].number == 4


def test_stats_are_order_statistics_of_the_samples():
    stats = timing.TimingStats((3.0, 1.0, 2.0, 10.0), number=1)
    assert stats.min == 1.0
    assert stats.median == 2.5
    assert stats.as_dict()["samples_s"] == [3.0, 1.0, 2.0, 10.0]


def test_each_block_keeps_its_fastest_call_which_is_never_above_its_mean():
    durations = iter([0.002, 0.0, 0.001] * 10)

    def uneven():  # spins for a varying time: the fastest call of a block is the shortest
        import time
        end = time.perf_counter() + next(durations)
        while time.perf_counter() < end:
            pass

    got = timing.interleaved({"a": uneven}, warmup=0, repeats=3, number=3)["a"]
    assert len(got.fastest) == 3
    assert all(fast <= mean for fast, mean in zip(got.fastest, got.samples, strict=True))
    assert max(got.fastest) < 0.001 < min(got.samples)
    assert got.as_dict()["fastest_s"] == list(got.fastest)
