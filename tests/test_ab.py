"""prunebench ab: the judgement on literal samples, bad input, and one real interleaved run."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

from prunebench import abtest
from prunebench.compare import Verdict
from prunebench.experiments import ZOO
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


def _ab_against_itself(tmp_path, names):
    """Run ab of this interpreter against itself on ``names``; return the saved samples."""
    out = tmp_path / "ab.json"
    done = prunebench("ab", "--profile", "smoke", "--experiments", *names, "--rounds", "2",
                      "--b-env", "PRUNEBENCH_AB_SIDE=b", "--out", str(out))
    assert done.returncode == 0, done.stdout + done.stderr[-3000:]
    assert "ab: PASS" in done.stdout.splitlines()[-1]
    saved = json.loads(out.read_text())
    assert [len(saved["runs"][side]) for side in "AB"] == [2, 2]
    assert saved["sides"][1]["env"] == {"PRUNEBENCH_AB_SIDE": "b"}
    # Every worker of both sides ran on one CPU, the same, the last this process may use.
    assert {tuple(run["cpus"]) for side in "AB" for run in saved["runs"][side]} == {
        (max(os.sched_getaffinity(0)),)}
    return saved


def _assert_every_model_timed(saved, wanted):
    for side in "AB":
        for run in saved["runs"][side]:
            assert set(run["samples"]) == wanted
            for samples in run["samples"].values():
                assert set(samples) == set(abtest.PATHS) and all(v > 0 for v in samples["keras"])
    assert {line["experiment"] for line in saved["lines"]} == wanted


@pytest.mark.long
def test_a_against_itself_times_two_tasks_models_each_on_its_own_inputs(tmp_path):
    """The seed's MLP and a CNN of the zoo in one run: each side times every model on its
    own task's inputs (a zoo model crashed ab before: '/' in its file name, friedman1's
    rows as its input)."""
    saved = _ab_against_itself(tmp_path, ["unpruned", "digits_cnn/unpruned"])
    _assert_every_model_timed(saved, {"unpruned", "digits_cnn/unpruned"})


@pytest.mark.slow
def test_a_against_itself_times_every_tasks_models(tmp_path):
    """One experiment of every built-in task (182 s here: slow, not in CI)."""
    names = ["whole_model", *(f"{task}/partial" for task in ZOO)]
    saved = _ab_against_itself(tmp_path, names)
    _assert_every_model_timed(saved, {"unpruned", *names, *(f"{t}/unpruned" for t in ZOO)})


def test_ab_refuses_a_scheduler_in_one_line():
    assert_one_line_usage_error(prunebench("ab", "--profile", "smoke", "--scheduler",
                                           "tcp://127.0.0.1:1"), "--scheduler is not supported")
