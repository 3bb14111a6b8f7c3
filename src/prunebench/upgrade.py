"""``prunebench upgrade``: both environments run everything, interleaved, into a journal.

A unit is one task's experiments for one seed in one side's interpreter
(``prunebench.sideworker``): training, pruning, fine-tuning, stripping, conversion and
measurement, all with that side's stack. Units go seed by seed, the sides alternating
ABBA (A B for the first seed, B A for the next, ...), so both share the machine's drift.
Then each side's timing workers time the models that side produced, in alternating
processes (``abtest``): ``rounds`` a side.

Everything finished is kept as it completes, in the journal: ``plan.json`` (what runs and
both sides' environments), ``units/<side>-seed<N>-<task>/`` (a unit's record and models,
renamed into place only when its process exited 0; one that failed leaves
``units/<key>.failed.json``, ``failures``) and ``timing/<side>-<round>-<models>.json``
(``models``: a digest of the models the round timed).
``--resume`` skips what the journal holds, after checking that the plan and both sides'
packages, interpreters, variables and commit are the journal's; it tries failed units again.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import uuid
from collections.abc import Callable, Collection
from dataclasses import MISSING, fields
from pathlib import Path
from typing import Any

from prunebench import abtest, cluster, failures, record
from prunebench.abtest import Side
from prunebench.errors import UsageError
from prunebench.record import RunRecord
from prunebench.upgradeplan import Plan, Unit

#: The schema of an upgrade's verdict record (``--out``).
SCHEMA = "prunebench.upgrade/1"
PLAN = "plan.json"
#: A unit's record, and its kept models with their manifest, in the unit's folder.
RECORD = "record.json"
MODELS = "models"
#: Where side A's unit keeps the unpruned model B starts from (``--start shared``).
START = "start"
#: One unit: TensorFlow's import, a task's experiments for one seed (the full profile's
#: biggest task, a few minutes on 2 cores).
UNIT_TIMEOUT_S = 3600
#: What of a side's environment must equal the journal's for --resume.
RESUME_KEYS = ("python", "packages", "distributions", "variables", "git_sha", "cpu_id")

Say = Callable[[str], None]


class Journal:
    """The folder that keeps every finished unit and timing round of one upgrade."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)

    def unit_dir(self, unit: Unit) -> Path:
        return self.folder / "units" / unit.key

    def done(self, unit: Unit) -> bool:
        return (self.unit_dir(unit) / RECORD).is_file()

    def failed_file(self, unit: Unit) -> Path:
        return self.folder / "units" / f"{unit.key}.failed.json"

    def fail(self, unit: Unit, error: str, output: str = "") -> None:
        """Keep that ``unit`` failed with ``error`` (its last line), and its error output."""
        failures.save(self.failed_file(unit),
                      failures.Failed(unit.side, unit.task, unit.seed, error), output)

    def failures(self, plan: Plan) -> list[failures.Failed]:
        """Return the plan's units that failed and have not finished since, in plan order."""
        return [failures.load(self.failed_file(u)) for u in plan.units()
                if not self.done(u) and self.failed_file(u).is_file()]

    def timing_file(self, side: str, round_: int, models: str) -> Path:
        return self.folder / "timing" / f"{side}-{round_}-{models}.json"

    def open(self, plan: Plan, environments: dict[str, dict[str, Any]], resume: bool) -> None:
        """Start the journal, or with ``resume`` check it holds this plan and these sides
        (and forget its failed units: a resumed run tries them again).

        Raises UsageError, in one line, for a journal that exists without ``resume`` or
        one whose plan or side environments differ from this run's.
        """
        path = self.folder / PLAN
        wanted = {"plan": plan.to_json(), "environments": environments}
        if path.is_file():
            if not resume:
                raise UsageError(f"{self.folder} holds an earlier upgrade: continue it with "
                                 "--resume, or remove the folder")
            held = json.loads(path.read_text())
            # A journal from before a field existed holds that field's default.
            defaults = {f.name: f.default for f in fields(Plan) if f.default is not MISSING}
            held["plan"] = {**json.loads(json.dumps(defaults)), **held["plan"]}
            if held["plan"] != wanted["plan"]:
                changed = [k for k in wanted["plan"] if held["plan"].get(k) != wanted["plan"][k]]
                raise UsageError(f"cannot resume {self.folder}: its plan differs in "
                                 f"{', '.join(changed)}")
            for side, env in environments.items():
                before = held["environments"][side]
                changed = [k for k in RESUME_KEYS if before.get(k) != env.get(k)]
                if changed:
                    raise UsageError(f"cannot resume {self.folder}: side {side}'s "
                                     f"{', '.join(changed)} differ from the journal's")
            for failed in (self.folder / "units").glob("*.failed.json"):  # tried again
                failed.unlink()
            return
        if resume:
            raise UsageError(f"nothing to resume: {path} does not exist")
        self.folder.mkdir(parents=True, exist_ok=True)
        record.write_json_atomic(path, wanted)


def run_unit(side: Side, unit: Unit, plan: Plan, journal: Journal) -> str | None:
    """Run one unit in ``side``'s interpreter; move its folder into the journal when done.

    Return None when it finished, else its error: it failed or overran, and left its
    failure file.
    """
    final = journal.unit_dir(unit)
    # A folder of this attempt's own: a Dask worker lost mid-unit may leave its process
    # running, writing into its folder, while the unit is tried again elsewhere.
    work = final.with_name(f"{final.name}.partial-{uuid.uuid4().hex[:8]}")
    work.mkdir(parents=True)
    spec: dict[str, Any] = {"experiments": list(unit.experiments), "seed": unit.seed,
                            "profile": plan.profile, "sparsity": plan.sparsity,
                            "task_specs": list(plan.task_specs)}
    if plan.start == "shared":
        first = journal.unit_dir(Unit("A", unit.seed, unit.task, unit.experiments))
        spec["start"] = ({"mode": "save", "dir": str(work / START)} if unit.side == "A" else
                         {"mode": "load", "dir": str(first / START)})
    (work / "unit.json").write_text(json.dumps(spec))
    command = [side.python, "-m", "prunebench.sideworker", str(work / "unit.json"), str(work)]
    try:
        done = subprocess.run(command, env=abtest.side_variables(side), capture_output=True,
                              text=True, timeout=UNIT_TIMEOUT_S, check=False)
        output, finished = done.stderr, done.returncode == 0 and (work / RECORD).is_file()
        error = (output.strip().splitlines() or ["no output"])[-1]
    except subprocess.TimeoutExpired as late:  # its output so far may come as bytes
        held = late.stderr or b""
        output = held.decode(errors="replace") if isinstance(held, bytes) else held
        finished, error = False, f"took over {UNIT_TIMEOUT_S} s"
    if not finished:
        journal.fail(unit, error, output)
        shutil.rmtree(work, ignore_errors=True)
        return error
    journal.failed_file(unit).unlink(missing_ok=True)
    shutil.rmtree(work / "kept", ignore_errors=True)
    try:
        work.rename(final)
    except OSError:  # another attempt finished first: its figures are the same
        if not journal.done(unit):
            raise
        shutil.rmtree(work, ignore_errors=True)
    return None


def run_units(sides: dict[str, Side], plan: Plan, journal: Journal, jobs: int, say: Say,
              scheduler: str | None = None, resuming: bool = True) -> int:
    """Run every unit the journal lacks, in plan order, but those that failed (a resumed
    journal has forgotten its failures: ``Journal.open``); return how many ran.

    ``jobs`` at a time in local processes, or on the workers of the Dask ``scheduler``:
    a worker only starts the side's interpreter, so workers of any environment serve
    both sides (they must see this machine's files: the journal and the interpreters).
    """
    todo = [u for u in plan.units()
            if not journal.done(u) and not journal.failed_file(u).is_file()]
    skipped = len(plan.units()) - len(todo)
    if skipped and resuming:
        say(f"resuming: {skipped} unit(s) of {len(plan.units())} already in {journal.folder}")

    def one(units: list[Unit]) -> list[tuple[Unit, str | None]]:
        ran: list[tuple[Unit, str | None]] = []
        for unit in units:
            if ran and ran[0][1]:  # a shared start whose A failed: B has no model
                why = f"not run: B starts from the model of {ran[0][0].key}, which failed"
                journal.fail(unit, why)
                ran.append((unit, why))
            else:
                ran.append((unit, run_unit(sides[unit.side], unit, plan, journal)))
        return ran

    # Shared start: B's unit of a seed needs the model A's unit saved, so the two go as one.
    work: list[list[Unit]] = [[unit] for unit in todo]
    if plan.start == "shared":  # both sides run the same seeds
        pairs: dict[tuple[int, str], list[Unit]] = {}
        for unit in todo:
            pairs.setdefault((unit.seed, unit.task), []).append(unit)
        work = list(pairs.values())
    count = 0
    with cluster.threads_or_cluster(jobs, scheduler) as pool:
        try:
            for done in pool.map(one, work):
                for unit, error in done:
                    count += 1
                    say(f"unit {count}/{len(todo)} done: {unit.key}" if error is None else
                        f"unit {count}/{len(todo)} FAILED: {unit.key}: {error}")
        except Exception as exc:
            if not cluster.lost_worker(exc):
                raise
            raise UsageError(f"a Dask worker was lost more often than Dask retries "
                             f"({type(exc).__name__}); the journal keeps the finished units: "
                             "continue with --resume") from None
    return len(todo)


def side_record(plan: Plan, journal: Journal, side: str,
                left_out: Collection[tuple[str, int]] = ()) -> RunRecord:
    """Return one side's record, its units merged in task then seed order, but those of
    the (task, seed) pairs ``left_out`` (``failures.left_out``)."""
    units = sorted((u for u in plan.units() if u.side == side
                    and (u.task, u.seed) not in left_out),
                   key=lambda u: ([t for t, _ in plan.tasks].index(u.task), u.seed))
    parts = [record.load(journal.unit_dir(u) / RECORD) for u in units]
    environment = (parts[0].environment if parts else
                   json.loads((journal.folder / PLAN).read_text())["environments"][side])
    merged = RunRecord(profile=plan.profile, seeds=list(plan.all_seeds(side)), experiments={},
                       results=[], environment=environment)
    for part in parts:
        merged.experiments.update(part.experiments)
        merged.results.extend(part.results)
        merged.refused.update(part.refused)
    return merged


def timed_seeds(plan: Plan, journal: Journal) -> dict[str, dict[str, int]]:
    """Return {task: {side: seed}} whose models each side times: where the sides run the
    same seeds, the first both finished; else each side's first finished. A task one side
    finished no unit of (no seed both did) is not timed."""
    timed = {}
    for task, names in plan.tasks:
        finished = {side: [s for s in plan.seeds_of(side, task)
                           if journal.done(Unit(side, s, task, names))] for side in plan.seeds}
        if plan.paired(task):
            both = [s for s in finished["A"] if s in finished["B"]]
            finished = {side: both for side in finished}
        if all(finished.values()):
            timed[task] = {side: seeds[0] for side, seeds in finished.items()}
    return timed


def timing_manifest(plan: Plan, journal: Journal, side: str) -> Path:
    """Write the manifest of the models ``side`` times (``timed_seeds``); return its folder."""
    manifest: dict[str, dict[str, str]] = {}
    for task, seeds in timed_seeds(plan, journal).items():
        unit = Unit(side, seeds[side], task, dict(plan.tasks)[task])
        models = journal.unit_dir(unit) / MODELS
        if (models / abtest.MANIFEST).is_file():
            for name, files in json.loads((models / abtest.MANIFEST).read_text()).items():
                manifest[name] = {k: str((models / v).absolute()) for k, v in files.items()}
    folder = journal.folder / "timing" / side
    folder.mkdir(parents=True, exist_ok=True)
    record.write_json_atomic(folder / abtest.MANIFEST, manifest)
    return folder


def run_timing(sides: dict[str, Side], plan: Plan, journal: Journal, say: Say
               ) -> dict[str, list[dict[str, Any]]]:
    """Return every timing worker's samples per side, running the rounds the journal lacks.

    Each side times its own models; the sides alternate ABBA, one process at a time. A
    round is kept under a digest of the models it timed: where they changed (a resumed run
    whose failed units now finished), the rounds run again.
    """
    folders = {name: timing_manifest(plan, journal, name) for name in sides}
    manifests = {name: (folders[name] / abtest.MANIFEST).read_text() for name in sides}
    if not json.loads(manifests["A"]):
        say("timing: no task has a finished unit on both sides, nothing to time")
        return {}
    models = {name: hashlib.sha256(text.encode()).hexdigest()[:12]
              for name, text in manifests.items()}
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in sides}
    for round_ in range(plan.rounds):
        for name in ("A", "B") if round_ % 2 == 0 else ("B", "A"):
            out = journal.timing_file(name, round_, models[name])
            if not out.is_file():
                say(f"timing round {round_ + 1}/{plan.rounds}: side {name}")
                abtest.run_side(sides[name], folders[name], plan.profile, out)
            runs[name].append(dict(json.loads(out.read_text())))
    return runs
