"""The timing helper's bookkeeping (no assertion on how long anything takes)."""

from __future__ import annotations

import pytest

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


def test_each_block_keeps_its_fastest_call_and_its_mean(monkeypatch):
    # A clock of the test's own: each call of the workload takes the next duration, so
    # the block figures are known exactly, whatever else the machine is doing.
    now = [0.0]
    durations = iter([0.002, 0.0, 0.001, 0.004, 0.003, 0.005, 0.001, 0.001, 0.001])
    monkeypatch.setattr(timing.time, "perf_counter", lambda: now[0])

    def uneven():
        now[0] += next(durations)

    got = timing.interleaved({"a": uneven}, warmup=0, repeats=3, number=3)["a"]
    assert got.fastest == pytest.approx((0.0, 0.003, 0.001))
    assert got.samples == pytest.approx((0.001, 0.004, 0.001))
    assert got.as_dict()["fastest_s"] == list(got.fastest)
