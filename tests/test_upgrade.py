"""prunebench upgrade: both sides run everything, each with its own variables, into a journal."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from xml.etree import ElementTree

import pytest

from prunebench import __version__, abtest, compare, envbuild, failures, gate, upgrade, upgradeplan
from prunebench.errors import UsageError
from test_cli import assert_one_line_usage_error, prunebench

ROOT = Path(__file__).resolve().parents[1]
INJECT = ROOT / "scripts" / "inject" / "sitecustomize.py"
PYTHON = sys.executable
#: Whether the prunebench under test is this checkout (make test), or installed (tox).
FROM_CHECKOUT = Path(envbuild.__file__).resolve() == ROOT / "src" / "prunebench" / "envbuild.py"
SMALL = ("--experiments", "unpruned", "whole_model", "--profile", "smoke")

#: A sitecustomize for side B only: it notes, per process, every Model.fit, strip_pruning,
#: TFLite conversion and Keras model loaded (with its path), then applies the injection
#: harness (INJECT=KIND:STRENGTH; its fault catalogue is on B's PYTHONPATH after this).
MARKER = '''
import os, sys
_LOG = os.environ["MARKER_LOG"]
def _note(hook):
    with open(_LOG, "a") as handle:
        handle.write(f"{os.getpid()} {hook}\\n")
def _wrap(owner, attr, hook):
    original = getattr(owner, attr)
    def wrapped(*args, **kwargs):
        _note(hook)
        return original(*args, **kwargs)
    setattr(owner, attr, wrapped)
exec(compile(open(os.environ["INJECT_FILE"]).read(), "inject", "exec"))
after_import("tf_keras.src.engine.training", lambda m: _wrap(m.Model, "fit", "fit"))
after_import("tensorflow_model_optimization.python.core.sparsity.keras.prune",
             lambda m: _wrap(m, "strip_pruning", "strip"))
after_import("tensorflow.lite.python.lite",
             lambda m: _wrap(m.TFLiteKerasModelConverterV2, "convert", "convert"))
def _wrap_load(module):
    original = module.load_model
    def load_model(path, *args, **kwargs):
        _note(f"load={path}")
        return original(path, *args, **kwargs)
    module.load_model = load_model
after_import("tf_keras.src.saving.saving_api", _wrap_load)
'''


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        # A TF version names requirements/ of a checkout; installed (tox), that is said.
        (["--from", "2.99", "--to", PYTHON], "no requirements for TensorFlow 2.99"
         if FROM_CHECKOUT else "building a side's environment needs a prunebench checkout"),
        (["--from", "nope", "--to", PYTHON], "'nope' is not an interpreter"),
        (["--from", "missing.txt", "--to", PYTHON], "no requirements file missing.txt"),
        (["--from", PYTHON, "--to", PYTHON, "--scheduler", "tcp://x:1", "--jobs", "2"],
         "give one"),
        (["--from", PYTHON, "--to", PYTHON, "--experiments", "nope"], "unknown experiment 'nope'"),
        (["--from", PYTHON, "--to", PYTHON, "--a-env", "NOEQUALS"], "KEY=VALUE"),
        (["--from", PYTHON, "--to", PYTHON, "--rounds", "1"], "two samples a side"),
        (["--from", PYTHON, "--to", PYTHON, "--start", "shared", "--b-seeds", "5"],
         "give both sides the same seeds"),
        (["--from", PYTHON, "--to", PYTHON, "--judge", "paired", "--b-seeds", "5"],
         "give both the same seeds"),
        (["--from", PYTHON, "--to", PYTHON, "--seeds", "0", "1", "2", "--max-seeds", "3"],
         "nothing to add"),
        (["--from", PYTHON, "--to", PYTHON, "--seeds", "0", "--max-seeds", "4"],
         "at least 2 seeds a side"),
        (["--from", PYTHON, "--to", PYTHON, "--judge", "paired", "--max-seeds", "6"],
         "judges none over the seeds"),
    ],
)
def test_bad_input_is_one_line_before_anything_runs(args, fragment, tmp_path):
    done = prunebench("upgrade", *args, "--out", str(tmp_path / "u.json"), cwd=ROOT)
    assert_one_line_usage_error(done, fragment)
    assert not (tmp_path / "u.json").exists()


def test_specs_name_interpreters_versions_files_and_pins(tmp_path, monkeypatch):
    monkeypatch.setattr(envbuild, "uv", lambda: "uv")  # the commands, wherever uv is
    assert envbuild.parse(PYTHON).kind == "python"
    nightly = envbuild.parse("nightly", ROOT)
    assert nightly.kind == "requirements" and nightly.value.endswith("tf-nightly.txt")
    assert envbuild.parse("2.15", ROOT).value.endswith("tf2.15.txt")
    pins = envbuild.parse("tf-keras==2.21.* tensorflow-model-optimization==0.8.1")
    assert pins.kind == "pins"
    # The nightly installs in two steps, tfmot and prunebench without dependencies.
    here, identity = envbuild.source()
    if FROM_CHECKOUT:  # run from this checkout: it goes in, editable
        assert here == ["-e", str(ROOT)] and identity == (ROOT / "pyproject.toml").read_text()
    else:  # installed (tox's wheel): this version, by name
        assert here == [f"prunebench=={__version__}"] == [identity]
    steps = envbuild.install_commands(nightly, tmp_path, here)
    assert len(steps) == 2 and "--no-deps" in steps[1] and envbuild.TFMOT in steps[1]
    assert steps[1][-len(here):] == here
    assert len(envbuild.install_commands(envbuild.parse("2.21", ROOT), tmp_path, here)) == 1
    # Given a wheel, both sides install that file, and a changed file is a new environment.
    wheel = tmp_path / "prunebench-0.1.0-py3-none-any.whl"
    wheel.write_bytes(b"one")
    given, first = envbuild.source(str(wheel))
    wheel.write_bytes(b"two")
    assert given == [str(wheel)] and envbuild.source(str(wheel))[1] != first
    assert envbuild.source("prunebench==0.1.0") == (["prunebench==0.1.0"], "prunebench==0.1.0")


def test_plan_alternates_the_sides_abba_seed_by_seed():
    plan = upgradeplan.Plan("quick", (("t", ("t/unpruned",)),), {"A": (0, 1, 2), "B": (0, 1, 2)}, 2)
    assert [u.key for u in plan.units()] == ["A-seed0-t", "B-seed0-t", "B-seed1-t", "A-seed1-t",
                                             "A-seed2-t", "B-seed2-t"]


def test_a_plan_grows_only_the_undecided_tasks_each_side_after_its_own_seeds():
    tasks = (("t", ("t/unpruned",)), ("u", ("u/unpruned",)))
    plan = upgradeplan.Plan("quick", tasks, {"A": (0, 1, 2), "B": (100, 101, 102)}, 2, max_seeds=12)
    grown = plan.grown(["t"], 6).grown(["t", "u"], 12)
    assert grown.seeds_of("A", "t") == tuple(range(12))
    assert grown.seeds_of("B", "t") == tuple(range(100, 112))
    assert grown.seeds_of("B", "u") == tuple(range(100, 112))
    assert plan.grown(["t"], 6).seeds_of("A", "u") == (0, 1, 2)  # not undecided: not grown
    keys = [u.key for u in plan.grown(["t"], 6).units()]
    assert keys[:6] == ["A-seed0-t", "A-seed0-u", "B-seed100-t", "B-seed100-u", "B-seed101-t",
                        "B-seed101-u"]
    assert keys[-4:] == ["A-seed4-t", "B-seed104-t", "B-seed105-t", "A-seed5-t"]  # ABBA
    assert len(keys) == 2 * (3 + 6)
    assert grown.all_seeds("A") == tuple(range(12))
    # B's own seeds beside A's: no seed is ever run by both sides
    apart = upgradeplan.Plan("quick", tasks, {"A": (0, 1, 2), "B": (3, 4, 5)}, 2).grown(["t"], 6)
    assert apart.seeds_of("A", "t") == (0, 1, 2, 6, 7, 8)
    assert apart.seeds_of("B", "t") == (3, 4, 5, 9, 10, 11)
    same = upgradeplan.Plan("quick", tasks, {"A": (0, 1, 2), "B": (2, 1, 0)}, 2).grown(["t"], 6)
    assert same.seeds_of("A", "t") == (0, 1, 2, 3, 4, 5) and same.seeds_of("B", "t") == (
        2, 1, 0, 3, 4, 5)
    assert same.paired("t") and same.paired("u") and not apart.paired("t")
    # B given more seeds than A: each side grows to the size, never beyond it
    uneven = upgradeplan.Plan("quick", tasks, {"A": (0, 1, 2), "B": tuple(range(10, 17))}, 2)
    assert uneven.grown(["t"], 8).seeds_of("B", "t") == (*range(10, 17), 17)
    assert uneven.grown(["t"], 6).seeds_of("B", "t") == tuple(range(10, 17))
    assert uneven.grown(["t"], 6).seeds_of("A", "t") == (0, 1, 2, 3, 4, 5)


def test_a_journal_is_resumed_only_with_its_plan_and_environments(tmp_path):
    plan = upgradeplan.Plan("quick", (("t", ("t/unpruned",)),), {"A": (0,), "B": (0,)}, 2)
    envs = {"A": {"python": "3.11.9", "git_sha": "abc"}, "B": {"python": "3.11.9", "git_sha": "abc"}}
    journal = upgrade.Journal(tmp_path / "j")
    with pytest.raises(UsageError, match="nothing to resume"):
        journal.open(plan, envs, resume=True)
    journal.open(plan, envs, resume=False)
    with pytest.raises(UsageError, match="--resume, or remove"):
        journal.open(plan, envs, resume=False)
    journal.open(plan, envs, resume=True)
    other = upgradeplan.Plan("quick", plan.tasks, {"A": (0, 1), "B": (0, 1)}, 2)
    with pytest.raises(UsageError, match="plan differs in seeds"):
        journal.open(other, envs, resume=True)
    moved = {**envs, "B": {"python": "3.11.9", "git_sha": "def"}}
    with pytest.raises(UsageError, match="side B's git_sha differ"):
        journal.open(plan, moved, resume=True)
    # A journal from before the plan had a field reads it as its default.
    held = json.loads((tmp_path / "j" / "plan.json").read_text())
    for key in ("max_seeds", "added", "judge", "thresholds"):
        del held["plan"][key]
    (tmp_path / "j" / "plan.json").write_text(json.dumps(held))
    journal.open(plan, envs, resume=True)
    with pytest.raises(UsageError, match="plan differs in judge"):
        journal.open(upgradeplan.Plan("quick", plan.tasks, plan.seeds, 2, judge="distribution"), envs,
                     resume=True)


@pytest.mark.long
def test_b_variables_reach_every_b_process_and_no_a_process_and_its_regression_is_named(tmp_path):
    """B carries a sitecustomize (PYTHONPATH) that marks fit, strip and conversion per process
    and injects tfmot asking 0.5 points less sparsity: only B's processes fire, and the
    verdict names the sparsity of B, seed by seed (friedman1's seeds reproduce)."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(MARKER)
    log = tmp_path / "marker.log"
    out = tmp_path / "up.json"
    done = prunebench("upgrade", "--from", PYTHON, "--to", PYTHON, *SMALL, "--seeds", "0",
                      "--rounds", "2", "--out", str(out), "--markdown", str(tmp_path / "up.md"),
                      "--junit", str(tmp_path / "junit.xml"),
                      "--b-env", f"PYTHONPATH={site}{os.pathsep}{INJECT.parent}",
                      "--b-env", f"MARKER_LOG={log}",
                      "--b-env", f"INJECT_FILE={INJECT}", "--b-env", "INJECT=schedule:0.005",
                      cwd=tmp_path, timeout=900)
    assert done.returncode == 1, done.stdout + done.stderr
    verdict = json.loads(out.read_text())
    worse = {(ln["experiment"], ln["metric"]) for ln in verdict["lines"]
             if ln["verdict"] == "REGRESSION"}
    assert ("whole_model", "sparsity_pruned") in worse
    assert verdict["reproduction"]["friedman1"]["reproduces"] is True
    assert "INJECT=schedule:0.005" in done.stdout  # the side's description
    # Both sides' timing workers ran pinned to the same CPU.
    assert {tuple(run["cpus"]) for runs in verdict["timing"].values() for run in runs} == {
        (max(os.sched_getaffinity(0)),)}
    hooks: dict[str, set[str]] = {}
    for entry in log.read_text().split("\n"):
        if entry:
            pid, hook = entry.split()
            hooks.setdefault(hook, set()).add(pid)
    # B: 1 unit (seed 0) trains, strips and converts; 2 timing workers convert. A's 3
    # processes would double each count.
    assert (len(hooks["fit"]), len(hooks["strip"]), len(hooks["convert"])) == (1, 1, 3)
    records = verdict["sides"]
    assert records["B"]["record"]["environment"]["variables"]["PYTHONPATH"] == (
        f"{site}{os.pathsep}{INJECT.parent}")
    assert "PYTHONPATH" not in records["A"]["record"]["environment"]["variables"]
    assert "| REGRESSION | `whole_model.sparsity_pruned`" in (tmp_path / "up.md").read_text()
    suite = ElementTree.parse(tmp_path / "junit.xml").getroot().find("testsuite")
    failed = {(c.get("classname"), c.get("name")) for c in suite.findall("testcase")
              if c.find("failure") is not None}
    assert ("prunebench.upgrade.whole_model", "sparsity_pruned") in failed
    assert len(failed) == len(worse) and int(suite.get("tests")) == len(verdict["lines"])


@pytest.mark.slow
def test_a_run_killed_midway_resumes_without_training_again_what_finished(tmp_path):
    out = tmp_path / "up.json"
    args = [PYTHON, "-m", "prunebench.cli", "upgrade", "--from", PYTHON, "--to", PYTHON, *SMALL,
            "--seeds", "0", "1", "--rounds", "2", "--out", str(out)]
    journal = tmp_path / "up.json.journal" / "units"
    killed = subprocess.Popen(args, cwd=tmp_path, start_new_session=True,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 600
    while not (journal.is_dir() and any(".partial" not in p.name for p in journal.iterdir())):
        assert time.monotonic() < deadline and killed.poll() is None
        time.sleep(0.5)
    os.killpg(killed.pid, signal.SIGKILL)
    killed.wait()
    finished = {p.name: (p / "record.json").stat().st_mtime_ns for p in journal.iterdir()
                if ".partial" not in p.name}
    assert finished and not out.exists()
    done = subprocess.run([*args, "--resume"], cwd=tmp_path, capture_output=True, text=True,
                          timeout=900, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"resuming: {len(finished)} unit(s) of 4 already" in done.stderr
    for name, stamp in finished.items():  # not trained again
        assert (journal / name / "record.json").stat().st_mtime_ns == stamp
    verdict = json.loads(out.read_text())
    # A/A of one interpreter: the units from before the kill and after it agree seed by seed.
    paired = {check.metric for check in compare.load_thresholds().paired}
    judged = [ln for ln in verdict["lines"] if ln["metric"] in paired and ln["baseline"] is not None]
    assert len(judged) == 20
    assert all("identical on every seed (2;" in ln["limit"] for ln in judged)
    assert verdict["verdict"] == "PASS"


def _paired_figures(path: Path) -> dict[str, list[tuple]]:
    """Return each side's deterministic figures, (experiment, seed, metric, value), in order."""
    paired = {check.metric for check in compare.load_thresholds().paired}
    sides = json.loads(path.read_text())["sides"]
    return {name: sorted((r["experiment"], r["seed"], m, v) for r in side["record"]["results"]
                         for m, v in r["metrics"].items() if m in paired)
            for name, side in sides.items()}


@pytest.mark.slow
def test_serial_jobs_and_a_dask_cluster_give_the_same_figures_on_both_sides(tmp_path):
    distributed = pytest.importorskip("distributed")
    common = ["upgrade", "--from", PYTHON, "--to", PYTHON, *SMALL, "--seeds", "0", "1",
              "--rounds", "0", "--b-env", "PRUNEBENCH_SIDE_MARK=B"]
    found = {}
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=":0", silence_logs=40) as cluster:
        for label, extra in (("serial", []), ("jobs", ["--jobs", "2"]),
                             ("dask", ["--scheduler", cluster.scheduler_address])):
            out = tmp_path / f"{label}.json"
            done = prunebench(*common, *extra, "--out", str(out), cwd=tmp_path, timeout=900)
            assert done.returncode == 0, done.stdout + done.stderr
            found[label] = _paired_figures(out)
    assert len(found["serial"]["A"]) == 2 * 2 * 10  # 2 experiments, 2 seeds, 10 figures
    assert found["serial"] == found["jobs"] == found["dask"]


@pytest.mark.slow
def test_from_a_shared_start_b_fine_tunes_the_model_a_trained_and_trains_its_own_as_evidence(tmp_path):
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(MARKER)
    log, out = tmp_path / "marker.log", tmp_path / "up.json"
    done = prunebench("upgrade", "--from", PYTHON, "--to", PYTHON, *SMALL, "--seeds", "0",
                      "--rounds", "0", "--start", "shared", "--out", str(out),
                      "--b-env", f"PYTHONPATH={site}{os.pathsep}{INJECT.parent}",
                      "--b-env", f"MARKER_LOG={log}",
                      "--b-env", f"INJECT_FILE={INJECT}", cwd=tmp_path, timeout=900)
    assert done.returncode == 0, done.stdout + done.stderr
    saved = tmp_path / "up.json.journal" / "units" / "A-seed0-friedman1" / "start" / "friedman1"
    assert (saved / "base.h5").is_file() and (saved / "fit.json").is_file()
    hooks = [entry.split()[1] for entry in log.read_text().splitlines()]
    # B fits its own unpruned model (the evidence) and whole_model's fine-tune, which starts
    # from the model A saved: B loaded it.
    assert hooks.count("fit") == 2
    assert f"load={saved / 'base.h5'}" in hooks
    verdict = json.loads(out.read_text())
    a, b = (verdict["sides"][s]["record"]["results"] for s in ("A", "B"))
    assert a[0]["experiment"] == b[0]["experiment"] == "unpruned"
    assert a[0]["metrics"]["mse"] == b[0]["metrics"]["mse"]
    assert "friedman1 (1 seed a side): seeds reproduce: unpruned identical on every seed" in (
        done.stdout)


def test_environment_differences_name_side_a_not_a_baseline():
    a = {"tf": "2.21.0", "packages": {"numpy": "2.4.6"}}
    b = {"tf": "2.23.0.dev20261026", "packages": {"numpy": "2.4.6"}}
    assert gate.environment_differences(b, a, "A") == ["tensorflow 2.23.0.dev20261026 (A 2.21.0)"]
    assert gate.environment_differences(b, a) == ["tensorflow 2.23.0.dev20261026 (baseline 2.21.0)"]


@pytest.mark.slow
def test_undecided_figures_get_more_seeds_up_to_the_most_and_nothing_decided_runs_again(tmp_path):
    # Other seeds on B and the judge forced over the seeds: 3 against 3 seeds cannot say ok
    # at half of 5% (the second look's share), so the first look is undecided for certain;
    # the seed's task grows to 6 seeds a side, B's after its own (103-105).
    out = tmp_path / "up.json"
    done = prunebench("upgrade", "--from", PYTHON, "--to", PYTHON, *SMALL, "--seeds", "0", "1",
                      "2", "--b-seeds", "100", "101", "102", "--judge", "distribution",
                      "--max-seeds", "6", "--rounds", "0", "--out", str(out), cwd=tmp_path,
                      timeout=1800)
    assert done.returncode in (0, 4), done.stdout + done.stderr
    assert "look 2 of 2: " in done.stdout and "6 seeds a side" in done.stdout
    verdict = json.loads(out.read_text())
    assert verdict["seeds"] == {"A": {"friedman1": [0, 1, 2, 3, 4, 5]},
                                "B": {"friedman1": [100, 101, 102, 103, 104, 105]}}
    units = sorted(p.name for p in (tmp_path / "up.json.journal" / "units").iterdir())
    assert len(units) == 12 and "B-seed105-friedman1" in units
    over = [ln for ln in verdict["lines"] if ln["limit"].startswith("over seeds")]
    assert over and all("6 vs 6 seeds" in ln["limit"] and "(look 2 of 2, levels / 2)" in ln["limit"]
                        and "of the time" in ln["limit"] for ln in over)


@pytest.mark.slow
def test_a_dask_worker_lost_for_good_keeps_the_journal_and_resume_gives_the_uninterrupted_figures(
        tmp_path):
    distributed = pytest.importorskip("distributed")
    import dask

    common = ["upgrade", "--from", PYTHON, "--to", PYTHON, *SMALL, "--seeds", "0", "1",
              "--rounds", "0"]
    reference = tmp_path / "serial.json"
    done = prunebench(*common, "--out", str(reference), cwd=tmp_path, timeout=900)
    assert done.returncode == 0, done.stdout + done.stderr
    out = tmp_path / "up.json"
    units = tmp_path / "up.json.journal" / "units"
    # No retry: the unit of the worker killed after the first unit finished is lost for good.
    with dask.config.set({"distributed.scheduler.allowed-failures": 0}), \
            distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                     dashboard_address=":0", silence_logs=40) as cluster, \
            distributed.Client(cluster) as client:
        args = [PYTHON, "-m", "prunebench.cli", *common, "--scheduler",
                cluster.scheduler_address, "--out", str(out)]
        run = subprocess.Popen(args, cwd=tmp_path, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 600
        while not (units.is_dir() and any(".partial" not in p.name for p in units.iterdir())):
            assert time.monotonic() < deadline and run.poll() is None, "no unit finished"
            time.sleep(0.2)
        busy = [w for w, tasks in client.processing().items() if tasks]
        assert busy, "no unit left running to lose"
        pid = client.run(os.getpid, workers=[busy[0]])[busy[0]]
        os.kill(pid, signal.SIGKILL)
        _, stderr = run.communicate(timeout=900)
        code = run.returncode
        assert pid not in set(client.run(os.getpid).values()), "no worker was killed"
        assert code == 2 and "continue with --resume" in stderr, stderr
        # One line of error, after the progress of the units that finished before the kill.
        *progress, last = stderr.strip().splitlines()
        assert last.startswith("prunebench: error:") and "Traceback" not in stderr, stderr
        assert all(line.startswith("unit ") and " done: " in line for line in progress), stderr
        assert not out.exists()
        finished = {p.name: (p / "record.json").stat().st_mtime_ns for p in units.iterdir()
                    if ".partial" not in p.name}
        assert 1 <= len(finished) < 4
        done = subprocess.run([*args, "--resume"], cwd=tmp_path, capture_output=True,
                              text=True, timeout=900, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"resuming: {len(finished)} unit(s) of 4 already" in done.stderr
    for name, stamp in finished.items():  # not trained again
        assert (units / name / "record.json").stat().st_mtime_ns == stamp
    assert _paired_figures(out) == _paired_figures(reference)


#: tfmot as an upgrade might break it, for the units of the seeds in $BROKEN_SEEDS (the unit's
#: spec is the side worker's first argument) while the file $BROKEN_WHILE exists: importing
#: it fails; otherwise it is the installed tfmot.
BROKEN_TFMOT = '''
import importlib, json, os, sys
if (os.path.exists(os.environ["BROKEN_WHILE"])
        and json.load(open(sys.argv[1]))["seed"] in json.loads(os.environ["BROKEN_SEEDS"])):
    raise ImportError("this tensorflow_model_optimization is broken")
_here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != _here]
del sys.modules[__name__]
sys.modules[__name__] = importlib.import_module(__name__)
'''


def _broken_tfmot(tmp_path: Path, seeds: list[int]) -> list[str]:
    """Return the KEY=VALUE variables that break a side's tfmot on ``seeds`` while the file
    ``tmp_path / 'broken' / 'while'`` exists."""
    (tmp_path / "broken" / "tensorflow_model_optimization").mkdir(parents=True, exist_ok=True)
    (tmp_path / "broken" / "tensorflow_model_optimization" / "__init__.py").write_text(BROKEN_TFMOT)
    (tmp_path / "broken" / "while").touch()
    return [f"PYTHONPATH={tmp_path / 'broken'}", f"BROKEN_SEEDS={json.dumps(seeds)}",
            f"BROKEN_WHILE={tmp_path / 'broken' / 'while'}"]


def _timed_units(journal: Path) -> dict[str, set[str]]:
    """Return the unit folders each side's timing manifest points into."""
    return {side: {Path(files["model"]).parent.parent.name for files in
                   json.loads((journal / "timing" / side / abtest.MANIFEST).read_text()).values()}
            for side in "AB"}


def _b_broken_on_seed_0(tmp_path: Path) -> tuple[str, ...]:
    """Run the upgrade of B's tfmot broken on seed 0, check its verdict; return its args.

    Each experiment of the task is a regression of B naming the seed and the error; seed 1,
    which both finished, is judged, and its models timed on both sides, seed 0 of A left out
    so the seeds still pair."""
    out = tmp_path / "up.json"
    broken = [arg for kv in _broken_tfmot(tmp_path, [0]) for arg in ("--b-env", kv)]
    args = ("upgrade", "--from", PYTHON, "--to", PYTHON, *SMALL, "--seeds", "0", "1",
            "--rounds", "2", "--out", str(out), *broken)
    done = prunebench(*args, cwd=tmp_path, timeout=900)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "FAILED: B-seed0-friedman1: ImportError: this tensorflow_model_optimization" in done.stderr
    assert "friedman1 (1 seed a side): seeds reproduce" in done.stdout  # the seeds judged
    verdict = json.loads(out.read_text())
    ran = {ln["experiment"]: ln for ln in verdict["lines"] if ln["metric"] == "ran"}
    assert set(ran) == {"unpruned", "whole_model"}
    assert all(ln["verdict"] == "REGRESSION" and ln["limit"].startswith("B failed on seed 0 (")
               and "broken" in ln["limit"] for ln in ran.values())
    assert [(f["side"], f["seed"]) for f in verdict["failed"]] == [("B", 0)]
    figures = [ln for ln in verdict["lines"] if ln["metric"] != "ran" and ln["baseline"] is not None
               and not ln["metric"].endswith("_time_ratio")]
    assert figures and all("identical on every seed (1;" in ln["limit"] for ln in figures)
    assert any(ln["metric"].endswith("_time_ratio") for ln in verdict["lines"])
    assert {r["seed"] for r in verdict["sides"]["A"]["record"]["results"]} == {1}
    journal = tmp_path / "up.json.journal"
    assert _timed_units(journal) == {"A": {"A-seed1-friedman1"}, "B": {"B-seed1-friedman1"}}
    return args


@pytest.mark.slow
def test_a_unit_b_fails_is_a_regression_and_mended_and_resumed_runs_again(tmp_path):
    """B's tfmot fails to import on seed 0: a regression of B, the other seed still judged
    (above). Then mended: --resume runs B's seed 0 again, times seed 0's models on both
    sides again (the kept rounds timed seed 1's), and passes. Every push runs the failures
    of A alone and of both sides end to end (below) and B's lines alone
    (test_a_side_failing_alone_is_a_regression_of_b_or_an_improvement_of_a)."""
    args = _b_broken_on_seed_0(tmp_path)
    out, journal = tmp_path / "up.json", tmp_path / "up.json.journal"
    (tmp_path / "broken" / "while").unlink()
    done = prunebench(*args, "--resume", cwd=tmp_path, timeout=900)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "resuming: 3 unit(s) of 4 already" in done.stderr
    verdict = json.loads(out.read_text())
    assert verdict["failed"] == [] and not any(ln["metric"] == "ran" for ln in verdict["lines"])
    assert _timed_units(journal) == {"A": {"A-seed0-friedman1"}, "B": {"B-seed0-friedman1"}}
    assert done.stderr.count("timing round") == 4  # each round timed the new models again


@pytest.mark.long
def test_a_unit_a_fails_where_b_ran_is_an_improvement_and_b_still_meets_its_floors(tmp_path):
    out = tmp_path / "up.json"
    broken = [arg for kv in _broken_tfmot(tmp_path, [0]) for arg in ("--a-env", kv)]
    done = prunebench("upgrade", "--from", PYTHON, "--to", PYTHON, *SMALL, "--seeds", "0",
                      "--rounds", "0", "--out", str(out), *broken, cwd=tmp_path, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    lines = json.loads(out.read_text())["lines"]
    assert {(ln["experiment"], ln["verdict"]) for ln in lines if ln["metric"] == "ran"} == {
        ("unpruned", "IMPROVEMENT"), ("whole_model", "IMPROVEMENT")}
    floors = [ln for ln in lines if "(floor:" in ln["limit"]]
    assert ("whole_model", "sparsity_pruned", "ok") in {
        (ln["experiment"], ln["metric"], ln["verdict"]) for ln in floors}


def test_units_both_sides_failed_cannot_be_judged_in_one_line(tmp_path):
    out = tmp_path / "up.json"
    broken = _broken_tfmot(tmp_path, [0])
    done = prunebench("upgrade", "--from", PYTHON, "--to", PYTHON, *SMALL, "--seeds", "0",
                      "--rounds", "0", "--out", str(out),
                      *(arg for kv in broken for side in ("--a-env", "--b-env") for arg in (side, kv)),
                      cwd=tmp_path, timeout=300)
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("prunebench: error: both sides failed units of friedman1") and (
        "A: ImportError" in last and "B: ImportError" in last), last
    assert not out.exists()
    assert len(list((tmp_path / "up.json.journal" / "units").glob("*.failed.json"))) == 2


def test_a_side_failing_alone_is_a_regression_of_b_or_an_improvement_of_a():
    failed_b = [failures.Failed("B", "digits_cnn", 2, "RuntimeError: nan")]
    names = {"digits_cnn": ("digits_cnn/unpruned", "digits_cnn/partial")}
    lines = failures.lines(failed_b, names)
    assert [(ln.verdict, ln.experiment) for ln in lines] == [
        (compare.Verdict.REGRESSION, "digits_cnn/unpruned"),
        (compare.Verdict.REGRESSION, "digits_cnn/partial")]
    assert lines[0].limit == "B failed on seed 2 (RuntimeError: nan); A ran it"
    failed_a = [failures.Failed("A", "digits_cnn", s, "ImportError: x") for s in (0, 1)]
    assert {ln.verdict for ln in failures.lines(failed_a, names)} == {compare.Verdict.IMPROVEMENT}
    assert failures.lines(failed_a, names)[0].limit.startswith("A failed on seeds 0, 1 (ImportError: x); B")
    # Each different error is named once.
    two = [*failed_b, failures.Failed("B", "digits_cnn", 3, "MemoryError")]
    assert failures.lines(two, names)[0].limit == (
        "B failed on seeds 2, 3 (RuntimeError: nan; MemoryError); A ran it")
    # Paired seeds leave the other side's same seed out too; unpaired, only the failed one.
    assert failures.left_out(failed_b, paired={"digits_cnn"}) == {"A": {("digits_cnn", 2)},
                                                        "B": {("digits_cnn", 2)}}
    assert failures.left_out(failed_b) == {"A": set(), "B": {("digits_cnn", 2)}}
    assert failures.left_out(failed_b, paired={"friedman1"}) == failures.left_out(failed_b)
