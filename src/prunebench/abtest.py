"""``prunebench ab``: time the same models in two environments, interleaved, and test it.

Against a stored baseline, a run carries the drift between sessions (docs/gate.md,
"What is judged, and how": up to the timing margin in thresholds.toml). Two environments timed in
alternating processes in one session share that drift, so a smaller slowdown shows, as in
``asv continuous``. Each side is an interpreter plus environment variables: another venv
(a TensorFlow upgrade) or the same one with something on PYTHONPATH.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from prunebench import kerasenv, timing
from prunebench.compare import Line, Verdict
from prunebench.errors import UsageError

#: What ``save_models`` writes beside the models: {experiment: {"model": file, "x": file}}.
MANIFEST = "models.json"
#: Worker processes per side. Each process is one sample (the median of its blocks):
#: 8 against 8 lets a one-sided Mann-Whitney U reach p = 1/12870.
DEFAULT_ROUNDS = 8
#: Slowdowns below this are not called regressions, however significant.
DEFAULT_MARGIN = 1.1
#: False-alarm rate of all tests of one A/B run together (Bonferroni over its checks).
FAMILY_ALPHA = 0.01
PATHS = ("keras", "tflite")
#: One worker: TensorFlow's import, a conversion per model and the timing blocks.
WORKER_TIMEOUT_S = 900
#: What a worker is told when it is not to be pinned (the OS cannot pin processes).
NOT_PINNED = "-"


@dataclass(frozen=True)
class Side:
    """One environment: an interpreter and the variables set for it."""

    name: str
    python: str
    env: dict[str, str] = field(default_factory=dict)

    def describe(self) -> str:
        extra = " ".join(f"{k}={v}" for k, v in self.env.items())
        return f"{self.name}: {self.python}{' with ' + extra if extra else ''}"


def parse_env(items: Sequence[str] | None) -> dict[str, str]:
    """Return {KEY: VALUE} of ``KEY=VALUE`` items, or raise UsageError naming a bad one."""
    env = {}
    for item in items or ():
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise UsageError(f"environment settings are KEY=VALUE, got {item!r}")
        env[key] = value
    return env


def make_side(name: str, python: str | None, env: Sequence[str] | None) -> Side:
    """Return a side, refusing an interpreter that does not exist before anything runs."""
    exe = python or sys.executable
    if not (Path(exe).is_file() and os.access(exe, os.X_OK)):
        raise UsageError(f"side {name}: no executable interpreter {exe}")
    return Side(name, exe, parse_env(env))


def save_models(results_dir: Path, chosen: Sequence[Any], seed: int, profile: Any,
                models_dir: Path) -> None:
    """Move a run's kept HDF5 models to ``models_dir``, each with its task's timed inputs.

    Files are numbered (experiment names hold '/' and dots); ``MANIFEST`` maps each
    experiment to its model and inputs, so both sides time the same weights on the rows
    the run itself timed (the task's ``timing_rows`` of its test set).
    """
    from prunebench import tasks
    from prunebench.export import kept_path

    models_dir.mkdir(parents=True, exist_ok=True)
    manifest: dict[str, dict[str, str]] = {}
    inputs: dict[str, str] = {}
    for number, experiment in enumerate(chosen):
        task = tasks.get(experiment.task)
        if task.name not in inputs:
            x = task.load_data(profile.data).x_test
            inputs[task.name] = f"x{len(inputs)}.npy"
            np.save(models_dir / inputs[task.name], x[: task.timing_rows] if task.timing_rows else x)
        model = f"model{number}.h5"
        kept_path(results_dir, experiment.name, seed, ".h5").rename(models_dir / model)
        manifest[experiment.name] = {"model": model, "x": inputs[task.name]}
    (models_dir / MANIFEST).write_text(json.dumps(manifest, indent=1))


def side_variables(side: Side) -> dict[str, str]:
    """Return the environment of every process of ``side``: this one's, then the side's own.

    The side's prunebench decides which Keras its TensorFlow needs: that is not inherited.
    """
    inherited = {k: v for k, v in os.environ.items() if k != kerasenv.LEGACY_KERAS_ENV}
    return {**inherited, **side.env}


def timing_cpu() -> int | None:
    """Return the CPU every timing worker of both sides is pinned to: the last this process
    may use (the first takes more of the machine's interrupts). None where the OS cannot pin.

    A worker free to move between cores timed its Keras path against the numpy reference
    of the same blocks with twice to three times the spread from process to process of a
    pinned one (the log's standard deviation 0.070-0.083 against 0.022-0.025 in 8
    processes each, interleaved; over the injection harness's runs a median of 0.078
    against 0.040): samples that far apart needed a slowdown near 1.3x to be called.
    """
    cpus = allowed_cpus()
    return cpus[-1] if cpus else None


def allowed_cpus() -> list[int] | None:
    """Return the CPUs this process may run on, sorted; None where the OS cannot say."""
    affinity = getattr(os, "sched_getaffinity", None)
    return sorted(affinity(0)) if affinity is not None else None


def run_side(side: Side, models_dir: Path, profile: str, out: Path) -> dict[str, Any]:
    """Return what one worker process of ``side`` measured, or raise UsageError why not."""
    cpu = timing_cpu()
    cmd = [side.python, "-m", "prunebench.abworker", str(models_dir), str(out), profile,
           NOT_PINNED if cpu is None else str(cpu)]
    try:
        done = subprocess.run(cmd, env=side_variables(side), capture_output=True,
                              text=True, timeout=WORKER_TIMEOUT_S, check=False)
    except subprocess.TimeoutExpired:
        raise UsageError(f"side {side.name}: a worker took over {WORKER_TIMEOUT_S} s") from None
    if done.returncode != 0 or not out.exists():
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise UsageError(f"side {side.name} ({side.python}) failed: {last}")
    return dict(json.loads(out.read_text()))


def interleave(sides: tuple[Side, Side], rounds: int, models_dir: Path, profile: str,
               progress: Callable[[str, int, int], None] | None = None
               ) -> dict[str, list[dict[str, Any]]]:
    """Return every worker's measurement per side, the sides alternating ABBA."""
    runs: dict[str, list[dict[str, Any]]] = {side.name: [] for side in sides}
    with tempfile.TemporaryDirectory(prefix="prunebench-ab-") as tmp:
        for round_ in range(rounds):
            for side in sides if round_ % 2 == 0 else sides[::-1]:
                if progress is not None:
                    progress(f"round {round_ + 1}/{rounds}: side {side.name}", round_, rounds)
                out = Path(tmp) / f"{side.name}-{round_}.json"
                runs[side.name].append(run_side(side, models_dir, profile, out))
    return runs


def judge(runs: dict[str, list[dict[str, Any]]], margin: float = DEFAULT_MARGIN,
          family_alpha: float = FAMILY_ALPHA) -> list[Line]:
    """Return a line per (experiment, path): is B slower than ``margin`` x A?

    A worker process is one sample, the median of its blocks: blocks of one process share
    its memory layout and are not independent draws.
    """
    runs_a, runs_b = runs["A"], runs["B"]
    names = sorted(runs_a[0]["samples"])
    checks = [(name, path) for name in names for path in PATHS]
    alpha = family_alpha / len(checks)
    lines = []
    for name, path in checks:
        a = [float(np.median(run["samples"][name][path])) for run in runs_a]
        b = [float(np.median(run["samples"][name][path])) for run in runs_b]
        test = timing.compare_samples(b, a, margin)
        verdict = (Verdict.REGRESSION if test.p_slower < alpha else
                   Verdict.IMPROVEMENT if test.p_faster < alpha else Verdict.OK)
        lines.append(Line(verdict, name, f"{path}_time_ratio", test.current_median,
                          test.baseline_median,
                          f"B/A x{test.ratio:.3f} (margin x{margin:g}; Mann-Whitney p slower "
                          f"{test.p_slower:.2g}, faster {test.p_faster:.2g}, alpha {alpha:.2g}; "
                          f"{len(b)} vs {len(a)} processes)"))
    return lines


def side_environment(side: Side, python_code: str = "") -> dict[str, Any]:
    """Return ``record.environment()`` as the side's interpreter sees it, or raise UsageError."""
    code = ("import json; from prunebench import kerasenv, record; kerasenv.prepare_environment(); "
            "print(json.dumps(record.environment()))")
    done = subprocess.run([side.python, "-c", python_code or code], env=side_variables(side),
                          capture_output=True, text=True, timeout=600, check=False)
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise UsageError(f"side {side.name} ({side.python}) cannot run prunebench: {last}")
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))
