"""Results records: every per-seed figure plus the environment, written atomically as JSON."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from prunebench import tasks
from prunebench.config import SEED_TASK, run_digest
from prunebench.errors import UsageError
from prunebench.experiments import task_named
from prunebench.figures import UNITS
from prunebench.machine import environment, is_busy, tf_minor  # noqa: F401  (re-exported)
from prunebench.metrics import spread
from prunebench.timing import SAMPLE_FIELDS, TIMING_REFERENCE, TIMING_SAMPLE, block_ratios

SCHEMA = "prunebench.record/1"


@dataclass
class RunRecord:
    """One ``prunebench run``: its settings, every per-seed result, and the environment."""

    profile: str
    seeds: list[int]
    experiments: dict[str, dict[str, Any]]
    results: list[dict[str, Any]]
    environment: dict[str, Any] = field(default_factory=environment)
    #: The unit of every metric in ``results``, by name.
    units: dict[str, str] = field(default_factory=lambda: dict(UNITS))
    created: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))
    schema: str = SCHEMA
    #: {experiment: why} of the experiments not run because tfmot refused to wrap a layer of
    #: their model (pruning.Refused): one line each, naming the layer, tfmot and TensorFlow.
    refused: dict[str, str] = field(default_factory=dict)

    def values(self, experiment: str, metric: str) -> list[float]:
        """Return the per-seed values of one metric of one experiment, in seed order."""
        return [r["metrics"][metric] for r in self.results
                if r["experiment"] == experiment and metric in r["metrics"]]

    def seed_values(self, experiment: str, metric: str) -> dict[int, float]:
        """Return {seed: value} of one metric of one experiment."""
        return {int(r["seed"]): float(r["metrics"][metric]) for r in self.results
                if r["experiment"] == experiment and metric in r["metrics"]}

    def ratio_samples(self, experiment: str, path: str) -> dict[int, list[float]]:
        """Return {seed: per-round ratios of ``path`` to its reference}, of TIMING_SAMPLE's kind.

        The reference is TIMING_REFERENCE's: numpy's pass, or the dense TFLite path for
        the sparse one. Seeds whose result lacks those block timings (hand-made records,
        records made before the fastest call was kept, experiments without the path)
        are left out.
        """
        key = SAMPLE_FIELDS[TIMING_SAMPLE[path]]
        reference = TIMING_REFERENCE[path]
        found = {}
        for r in self.results:
            blocks = r.get("timings", {})
            if (r["experiment"] == experiment and blocks.get(path, {}).get(key)
                    and blocks.get(reference, {}).get(key)):
                found[int(r["seed"])] = block_ratios(blocks[path][key], blocks[reference][key])
        return found

    def max_load(self) -> float | None:
        """Return the highest 1-minute load average seen while timing, or None if unrecorded."""
        loads = [r["timings"]["load_1min"] for r in self.results
                 if "load_1min" in r.get("timings", {})]
        return max(loads) if loads else None

    def busy(self) -> bool:
        """Return whether something else held a core while this record was timed."""
        return is_busy(self.max_load(), self.environment.get("cores"))

    def busy_experiments(self) -> set[str]:
        """Return the experiments of which some seed was timed on a busy machine."""
        cores = self.environment.get("cores")
        return {r["experiment"] for r in self.results
                if is_busy(r.get("timings", {}).get("load_1min"), cores)}

    def pooled_ratios(self, experiment: str, path: str) -> list[float]:
        """Return every block's time ratio of ``path``, all seeds pooled (timing is seed-free)."""
        return [v for ratios in self.ratio_samples(experiment, path).values() for v in ratios]

    def task_of(self, experiment: str) -> str:
        """Return the task an experiment of this record ran on (records before tasks: the seed's)."""
        config = self.experiments.get(experiment, {}).get("config", {})
        if "task" not in config and experiment in self.refused:
            return task_named(experiment)
        return str(config.get("task", SEED_TASK))

    def tasks(self) -> list[str]:
        """Return the tasks of this record's experiments, in order of first appearance."""
        return list(dict.fromkeys(self.task_of(name) for name in self.experiment_names()))

    def only(self, names: Sequence[str]) -> RunRecord:
        """Return a copy holding only the experiments ``names`` (results and configs)."""
        wanted = set(names)
        return replace(self, experiments={k: v for k, v in self.experiments.items() if k in wanted},
                       results=[r for r in self.results if r["experiment"] in wanted],
                       refused={k: v for k, v in self.refused.items() if k in wanted})

    def of_task(self, task: str) -> RunRecord:
        """Return a copy holding only the experiments of ``task`` (run or refused)."""
        names = dict.fromkeys([*self.experiment_names(), *self.experiments, *self.refused])
        return self.only([n for n in names if self.task_of(n) == task])

    def experiment_names(self) -> list[str]:
        return list(dict.fromkeys(r["experiment"] for r in self.results))

    def aggregate(self) -> dict[str, dict[str, dict[str, float]]]:
        """Return {experiment: {metric: spread over seeds}} for every numeric metric."""
        table: dict[str, dict[str, dict[str, float]]] = {}
        for name in self.experiment_names():
            metrics = [r["metrics"] for r in self.results if r["experiment"] == name]
            table[name] = {m: spread(row[m] for row in metrics) for m in metrics[0]}
        return table


def from_run(experiments: Sequence[Any], seeds: Sequence[int], profile: Any,
             results: Sequence[Any], refused: dict[str, str] | None = None) -> RunRecord:
    """Return the record of a finished run: its configs, digests and per-seed results.

    ``refused``: {experiment: why} of those tfmot refused (they have no config nor results).
    """
    refused = refused or {}
    return RunRecord(
        profile=profile.name,
        seeds=list(seeds),
        experiments={e.name: {"config": asdict(e),
                              "digest": run_digest(e, tasks.get(e.task).budgets(profile))}
                     for e in experiments if e.name not in refused},
        results=[asdict(r) for r in results],
        refused=dict(refused),
    )


def write_json_atomic(path: Path, payload: Any) -> None:
    """Write ``payload`` as JSON to ``path`` through a temp file and rename: never half-written."""
    path = Path(path)
    directory = path.parent if str(path.parent) else Path(".")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from None
    try:
        # mkstemp makes the file private (0600); a results file is as readable as any other.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        with os.fdopen(fd, "w") as handle:
            json.dump(payload, handle, indent=1, sort_keys=True)
            handle.write("\n")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def check_writable(path: Path) -> None:
    """Raise UsageError now, before any training, if ``path`` cannot be written later."""
    path = Path(path)
    directory = path.parent if str(path.parent) else Path(".")
    if path.is_dir():
        raise UsageError(f"cannot write {path}: it is a directory")
    if not directory.is_dir():
        raise UsageError(f"cannot write {path}: no directory {directory}")
    if not os.access(directory, os.W_OK):
        raise UsageError(f"cannot write {path}: directory {directory} is not writable")


def save(record: RunRecord, path: Path) -> None:
    """Write ``record`` to ``path`` atomically."""
    write_json_atomic(path, asdict(record))


def read_document(path: Path, schema: str, what: str) -> dict[str, Any]:
    """Return the JSON object at ``path`` if it declares ``schema``, else raise UsageError.

    ``what`` names the file in messages: 'results file', 'baseline'.
    """
    try:
        raw = json.loads(Path(path).read_text())
    except FileNotFoundError:
        raise UsageError(f"no {what} {path}") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UsageError(f"corrupt {what} {path}: {exc}") from None
    if not isinstance(raw, dict) or raw.get("schema") != schema:
        found = raw.get("schema") if isinstance(raw, dict) else type(raw).__name__
        raise UsageError(f"{path} is not a prunebench {what} (schema {found!r}, want {schema!r})")
    return raw


def load(path: Path) -> RunRecord:
    """Return the record at ``path``, or raise UsageError saying why it cannot be read."""
    raw = read_document(path, SCHEMA, "results file")
    try:
        record = RunRecord(**raw)
        for result in record.results:
            for value in result["metrics"].values():
                float(value)
    except (TypeError, KeyError, ValueError) as exc:
        raise UsageError(f"corrupt results file {path}: {exc}") from None
    return record
