"""prunebench ab: the judgement on literal samples, bad input, and one real interleaved run."""

from __future__ import annotations

import json

import numpy as np
import pytest

from prunebench import abtest
from prunebench.compare import Verdict
from test_cli import assert_one_line_usage_error, prunebench


def _runs(centre_a, centre_b, processes=8):
    rng = np.random.default_rng(0)

    def one(centre):
        return {"samples": {"e": {path: list(centre * rng.normal(1, 0.01, 15))
                                  for path in abtest.PATHS}}}

    return {"A": [one(centre_a) for _ in range(processes)],
            "B": [one(centre_b) for _ in range(processes)]}


@pytest.mark.parametrize(("b", "verdict"), [(1.0, Verdict.OK), (1.05, Verdict.OK),
                                            (1.25, Verdict.REGRESSION), (0.7, Verdict.IMPROVEMENT)])
def test_b_slower_than_the_margin_regresses_and_inside_it_does_not(b, verdict):
    lines = abtest.judge(_runs(1.0, b), margin=1.1)
    assert {line.verdict for line in lines} == {verdict}
    assert {line.metric for line in lines} == {"keras_time_ratio", "tflite_time_ratio"}


def test_two_processes_a_side_can_never_call_a_regression():
    # 2 against 2: the smallest one-sided p is 1/6, above any gate's alpha. Said, not hidden.
    lines = abtest.judge(_runs(1.0, 3.0, processes=2))
    assert {line.verdict for line in lines} == {Verdict.OK}
    assert "2 vs 2 processes" in lines[0].limit


@pytest.mark.parametrize(("args", "fragment"), [
    (["--b", "/no/such/python"], "no executable interpreter /no/such/python"),
    (["--b-env", "NOEQUALS"], "KEY=VALUE"),
    (["--seeds", "0", "1"], "one --seeds value"),
    (["--margin", "0.5"], "margin must be >= 1"),
])
def test_bad_ab_input_exits_2_in_one_line(args, fragment):
    assert_one_line_usage_error(prunebench("ab", "--profile", "smoke", *args), fragment)


def test_a_against_itself_runs_both_sides_and_writes_every_sample(tmp_path):
    out = tmp_path / "ab.json"
    done = prunebench("ab", "--profile", "smoke", "--experiments", "unpruned", "--rounds", "2",
                      "--b-env", "PRUNEBENCH_AB_SIDE=b", "--out", str(out))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "ab: PASS" in done.stdout.splitlines()[-1]
    saved = json.loads(out.read_text())
    assert [len(saved["runs"][side]) for side in "AB"] == [2, 2]
    samples = saved["runs"]["B"][0]["samples"]["unpruned"]
    assert set(samples) == set(abtest.PATHS) and all(v > 0 for v in samples["keras"])
    assert saved["sides"][1]["env"] == {"PRUNEBENCH_AB_SIDE": "b"}
