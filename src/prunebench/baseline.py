"""Committed reference figures, one file per TensorFlow minor version, a section per profile."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from prunebench import kerasenv, project
from prunebench.errors import UsageError
from prunebench.record import TIMING_SAMPLE, RunRecord, read_document, tf_minor, write_json_atomic

SCHEMA = "prunebench.baseline/2"
#: Baselines before timing samples: read (values paired by the stored seed order), and their
#: timing not judged, with a note naming the remake command.
OLD_SCHEMAS = ("prunebench.baseline/1",)
#: The time paths whose per-block ratio samples a baseline keeps for the timing test.
TIMED_PATHS = ("keras", "tflite", "tflite_sparse")
#: What one timing sample is (timing.TIMING_SAMPLE); samples of another kind are not judged.
TIMING_SAMPLE_KEY = "timing_sample"
#: The highest 1-minute load average while the baseline's runs were timed.
LOAD_KEY = "max_load_1min"
BASELINE_DIR = Path("baselines")
#: Fewer seeds than this cannot estimate the seed-to-seed spread the gate relies on.
MIN_SEEDS = 5
#: Why ``find`` chose a baseline, when it is the judged version's own (same band possible).
OWN_VERSION = "its own version's"
UPDATE_COMMAND = ("prunebench baseline --update --profile {profile} --seeds 0 1 2 3 4 "
                  "--experiments gated")


def task_dir(task: Any = None) -> Path:
    """Return where a task's baselines live.

    The seed's task: baselines/ (its files predate tasks); another built-in task:
    baselines/<task>/; a user's task: its own ``baseline_dir`` when it sets one. All
    relative to the working directory unless the task says otherwise, or the project's
    ``[tool.prunebench] baselines`` folder stands for baselines/.
    """

    configured = project.current()
    root = configured.baselines if configured and configured.baselines else BASELINE_DIR
    if task is None or task.seed:
        return root
    return task.baseline_dir if task.baseline_dir is not None else root / task.name


def default_path(minor: str | None = None, task: Any = None) -> Path:
    """Return <task dir>/tfX.Y.json for ``minor``, or for the installed TensorFlow."""
    if minor is None:
        version = kerasenv.tf_version()
        if version is None:
            raise UsageError("TensorFlow is not installed: pip install tensorflow")
        major, minor_number = kerasenv.parse_minor(version)
        minor = f"{major}.{minor_number}"
    return task_dir(task) / f"tf{minor}.json"


def _minor_of(path: Path) -> tuple[int, int] | None:
    stem = path.stem.removeprefix("tf")
    try:
        return kerasenv.parse_minor(stem)
    except UsageError:
        return None


def find(minor: str, against: str | None = None, task: Any = None) -> tuple[Path, str]:
    """Return (baseline path, why that one) to judge ``task`` on TensorFlow ``minor`` ('2.23').

    ``against`` ('2.15') picks a version explicitly. Otherwise the version's own baseline,
    or, for a version without one (a new release, a nightly), the newest baseline of an
    older version: a baseline made on the new version would absorb its regressions.
    """
    directory = task_dir(task)
    if against is not None:
        path = default_path(against, task)
        if not path.exists():
            raise UsageError(f"no baseline {path} to judge against (--against {against})")
        return path, "chosen with --against"
    own = default_path(minor, task)
    if own.exists():
        return own, OWN_VERSION
    wanted = kerasenv.parse_minor(minor)
    older = sorted((found, path) for path in directory.glob("tf*.json")
                   if (found := _minor_of(path)) is not None and found < wanted)
    if not older:
        raise UsageError(f"no baseline {own}, nor one of an older TF in {directory}/; make "
                         f"one with: {UPDATE_COMMAND.format(profile='quick')}")
    return older[-1][1], "no baseline of its own: the newest of an older version"


def require_seeds(count: int) -> None:
    """Raise UsageError unless ``count`` seeds are enough to make a baseline."""
    if count < MIN_SEEDS:
        raise UsageError(f"a baseline needs at least {MIN_SEEDS} seeds, got {count}")


#: A section's {experiment: why} of the experiments tfmot refused when it was made.
REFUSED_KEY = "refused"


def section(record: RunRecord) -> dict[str, Any]:
    """Return the baseline section for ``record``: per experiment, digest and metric stats."""
    require_seeds(len(record.seeds))
    return _section_of(record)


def session_reference(record: RunRecord) -> dict[str, Any]:
    """Return a baseline document made in memory from ``record``, a run of this session.

    What a test or an A/B judges against where no stored baseline can serve (another CPU
    type, a baseline timed busy): the same models, timed in this session, beside whatever
    else the machine is doing. Any number of seeds; never written to baselines/. Judge with
    ``gate.gate(..., same_session=True)``.
    """
    return {"schema": SCHEMA, "tf_minor": tf_minor(record.environment),
            "profiles": {record.profile: _section_of(record)}}


def as_record(section: dict[str, Any], profile: str, names: list[str], seeds: list[int],
              task_of: Any) -> RunRecord:
    """Return a baseline section as the record of its ``names`` for ``seeds``: a reference
    the judge reads as it reads a run (``task_of(name)``: each experiment's task)."""
    held = section["experiments"]
    results = [{"experiment": name, "seed": seed,
                "metrics": {metric: float(stats["values"][str(seed)])
                            for metric, stats in held[name]["metrics"].items()
                            if str(seed) in stats.get("values", {})}}
               for name in names for seed in seeds]
    return RunRecord(profile=profile, seeds=list(seeds),
                     experiments={n: {"config": {"task": task_of(n)},
                                      "digest": held[n].get("digest")} for n in names},
                     results=results, environment=section.get("environment", {}),
                     refused=dict(section.get(REFUSED_KEY, {})))


def _section_of(record: RunRecord) -> dict[str, Any]:
    aggregate = record.aggregate()
    return {
        "seeds": record.seeds,
        "created": record.created,
        "environment": record.environment,
        TIMING_SAMPLE_KEY: TIMING_SAMPLE,
        LOAD_KEY: record.max_load(),
        "experiments": {
            name: {
                "digest": record.experiments.get(name, {}).get("digest"),
                # Values by seed: the gate pairs each seed of a run with the same seed here.
                "metrics": {
                    metric: {**stats, "values": {str(seed): value for seed, value
                                                 in record.seed_values(name, metric).items()}}
                    for metric, stats in aggregate[name].items()
                },
                "timing": {path: samples for path in TIMED_PATHS
                           if (samples := {str(seed): ratios for seed, ratios
                                           in record.ratio_samples(name, path).items()})},
            }
            for name in record.experiment_names()
        },
        # Experiments tfmot refused under this version: a later check that is refused the
        # same way is told so, not failed; one the baseline ran, refused later, fails.
        REFUSED_KEY: dict(record.refused),
    }


def update(path: Path, record: RunRecord) -> None:
    """Write ``record``'s figures into the baseline at ``path``, keeping other profiles."""
    minor = tf_minor(record.environment)
    document: dict[str, Any] = {"schema": SCHEMA, "tf_minor": minor, "profiles": {}}
    if path.exists():
        document = load(path)
        if document["tf_minor"] != minor:
            raise UsageError(f"{path} holds TF {document['tf_minor']}, these results are TF {minor}")
    document["profiles"][record.profile] = section(record)
    write_json_atomic(path, document)


def _schema_of(path: Path) -> object:
    try:
        raw = json.loads(Path(path).read_text())
    except (OSError, UnicodeDecodeError, ValueError):
        return None  # read_document says what is wrong
    return raw.get("schema") if isinstance(raw, dict) else None


def _upgrade(document: dict[str, Any]) -> dict[str, Any]:
    """Return a schema-1 baseline in schema 2's shape: values keyed by seed, no timing samples.

    Schema 1 kept each metric's values in the order of the section's seeds.
    """
    for section in document["profiles"].values():
        section["old_format"] = True
        for exp in section["experiments"].values():
            exp["timing"] = {}
            for metric in exp["metrics"].values():
                metric["values"] = {str(seed): value for seed, value
                                    in zip(section["seeds"], metric["values"], strict=True)}
    return {**document, "schema": SCHEMA}


def load(path: Path) -> dict[str, Any]:
    """Return the baseline at ``path``, or raise UsageError saying why it cannot be used."""
    found = _schema_of(path)
    old = found in OLD_SCHEMAS
    document = read_document(path, str(found) if old else SCHEMA, "baseline")
    try:
        if old:
            document = _upgrade(document)
        for name, prof in document["profiles"].items():
            for exp in prof["experiments"].values():
                for metric in exp["metrics"].values():
                    float(metric["median"]), float(metric["min"]), float(metric["max"])
                    [float(v) for v in metric["values"].values()]
                for samples in exp["timing"].values():
                    [float(v) for ratios in samples.values() for v in ratios]
            if not isinstance(name, str):
                raise TypeError("profile names must be strings")
        str(document["tf_minor"])
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise UsageError(f"corrupt baseline {path}: missing or bad field {exc}") from None
    return document


def profile_section(document: dict[str, Any], profile: str, path: Path) -> dict[str, Any]:
    """Return the section of ``profile``, or raise UsageError naming the command to make it."""
    try:
        return dict(document["profiles"][profile])
    except KeyError:
        raise UsageError(
            f"{path} has no {profile!r} profile; make it with: "
            + UPDATE_COMMAND.format(profile=profile)
        ) from None
