"""The command line, end to end, in subprocesses as a user runs it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def prunebench(*args: str, cwd=None, timeout: float = 600) -> subprocess.CompletedProcess:
    """Run the installed CLI the way a user does; return the finished process."""
    env = {**os.environ, "COLUMNS": "200"}
    return subprocess.run([sys.executable, "-m", "prunebench.cli", *args], capture_output=True,
                          text=True, timeout=timeout, cwd=cwd, env=env, check=False)


def assert_one_line_usage_error(done: subprocess.CompletedProcess, fragment: str) -> None:
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("prunebench: error:") and fragment in lines[0], lines[0]
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["run", "--experiments", "nope"], "unknown experiment 'nope'"),
        (["run", "--sparsity", "1.0"], "sparsity must be in [0, 1)"),
        (["run", "--sparsity", "-0.5"], "sparsity must be in [0, 1)"),
        (["run", "--sparsity", "lots"], "sparsity must be a number"),
        (["run", "--seeds", "1.5"], "seed must be a non-negative integer"),
        (["run", "--seeds", "-1"], "seed must be a non-negative integer"),
        (["run", "--profile", "huge"], "invalid choice: 'huge'"),
        (["frobnicate"], "invalid choice"),
        (["show", "missing.json"], "no results file"),
        # Options a command would ignore: refused before the record is even read.
        (["check", "--results", "r.json", "--seeds", "3"],
         "--seeds is not used: check --results runs nothing"),
        (["check", "--results", "r.json", "--exp", "dense_only"],
         "--experiments is not used: check --results runs nothing"),
        (["baseline", "--update", "--results", "r.json", "--profile", "quick"],
         "--profile is not used: baseline --results runs nothing"),
        (["baseline", "--jobs", "2"], "--jobs is not used: baseline without --update only shows"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(tmp_path, args, fragment):
    done = prunebench(*args, "--out", str(tmp_path / "r.json"), cwd=tmp_path) if args[0] == "run" \
        else prunebench(*args, cwd=tmp_path)
    assert_one_line_usage_error(done, fragment)
    assert not list(tmp_path.iterdir())


def test_unwritable_out_is_refused_before_training(tmp_path):
    done = prunebench("run", "--out", str(tmp_path / "no" / "r.json"))
    assert_one_line_usage_error(done, "cannot write")


def test_corrupt_record_is_refused(tmp_path):
    bad = tmp_path / "r.json"
    bad.write_text("{ half a record")
    assert_one_line_usage_error(prunebench("show", str(bad)), "corrupt results file")


def test_list_names_every_experiment():
    done = prunebench("list")
    assert done.returncode == 0
    for name in ("unpruned", "whole_model", "dense_only"):
        assert name in done.stdout


def test_env_reports_versions_and_keras_in_use():
    done = prunebench("env")
    assert done.returncode == 0, done.stderr
    for key in ("tensorflow", "tf-keras", "tensorflow-model-optimization", "numpy",
                "keras in use", "cpu"):
        assert key in done.stdout


def _run_smoke(tmp_path, name: str, *extra: str) -> dict:
    out = tmp_path / name
    done = prunebench("run", "--profile", "smoke", "--seeds", "5", "--out", str(out), *extra)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(out.read_text())


@pytest.mark.slow
def test_same_seed_same_figures_across_processes(tmp_path):
    """Slow: the same figures across processes are the suite's in test_beyond's parallel run
    (a process pool) and test_cluster's (Dask workers against a command-line run)."""
    keys = ("mse", "mae", "sparsity_pruned", "sparsity_all", "keras_zip_bytes", "tflite_bytes")
    first, second = (_run_smoke(tmp_path, f"{i}.json") for i in range(2))
    pick = [[{k: r["metrics"][k] for k in keys} for r in rec["results"]] for rec in (first, second)]
    assert pick[0] == pick[1]


def test_tensorboard_option_writes_pruning_summaries(tmp_path):
    _run_smoke(tmp_path, "r.json", "--experiments", "whole_model",
               "--tensorboard", str(tmp_path / "tb"))
    events = list((tmp_path / "tb").rglob("events.out.tfevents.*"))
    assert events, "PruningSummaries wrote no event file"


@pytest.mark.parametrize(("args", "fragment"), [
    # A task's group holds experiments its baseline does not (whole_90 is not gated).
    (["--experiments", "digits_wide_mlp", "--seeds", "0"], "has no experiment "
                                                           "'digits_wide_mlp/whole_90'"),
    (["--experiments", "whole_model", "--seeds", "7"], "has no seed 7 to pair with"),
    (["--experiments", "whole_model", "--sparsity", "0.6", "--seeds", "0"],
     "whole_model is configured differently from"),
    (["--experiments", "whole_model", "--profile", "smoke"], "has no 'smoke' profile"),
])
def test_what_a_check_can_know_before_training_is_refused_before_anything_trains(
        args, fragment, monkeypatch, capsys):
    from prunebench import cli, runners

    def trained(*_, **__):
        raise AssertionError("trained before refusing")

    monkeypatch.setattr(runners, "run", trained)
    assert cli.main(["check", *args]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and fragment in err, err


def test_a_run_plan_takes_its_defaults_and_leaves_the_command_line_as_parsed():
    from dataclasses import FrozenInstanceError

    from prunebench import cli
    from prunebench.errors import UsageError
    from prunebench.running import DEFAULT_CHECK_SEEDS, RunPlan

    args = cli.build_parser().parse_args(["check", "--profile", "quick", "--seeds", "2", "0", "2"])
    parsed = dict(vars(args))
    plan = RunPlan.from_args(args, DEFAULT_CHECK_SEEDS, ("gated",))
    assert (plan.seeds, plan.experiments, plan.profile) == ((2, 0), ("gated",), "quick")
    assert vars(args) == parsed
    with pytest.raises(FrozenInstanceError):
        plan.seeds = (5,)  # type: ignore[misc]
    both = cli.build_parser().parse_args(["run", "--jobs", "2", "--scheduler", "tcp://x:1"])
    with pytest.raises(UsageError, match="give one"):
        RunPlan.from_args(both)


def test_a_check_of_a_task_given_with_task_judges_that_task_only(tmp_path):
    """Outside this checkout, with no baselines of the built-in tasks: `check --task` means
    that task, whose missing baseline is what it says, before anything trains."""
    env = {**os.environ, "PYTHONPATH": str(ROOT / "tests" / "data"), "COLUMNS": "200"}
    done = subprocess.run([sys.executable, "-m", "prunebench.cli", "check", "--task",
                           "spec_task:TASK", "--profile", "smoke"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=600, check=False)
    assert_one_line_usage_error(done, "no baseline baselines/spec_task/tf")
