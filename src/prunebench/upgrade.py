"""``prunebench upgrade``: both environments run everything, interleaved, into a journal.

A unit is one task's experiments for one seed in one side's interpreter
(``prunebench.sideworker``): training, pruning, fine-tuning, stripping, conversion and
measurement, all with that side's stack. Units go seed by seed, the sides alternating
ABBA (A B for the first seed, B A for the next, ...), so both share the machine's drift.
Then each side's timing workers time the models that side produced, in alternating
processes (``abtest``): ``rounds`` a side.

Everything finished is kept as it completes, in the journal: ``plan.json`` (what runs and
both sides' environments), ``units/<side>-seed<N>-<task>/`` (a unit's record and models,
renamed into place only when its process exited 0) and ``timing/<side>-<round>.json``.
``--resume`` skips what the journal holds, after checking that the plan and both sides'
packages, interpreters, variables and commit are the journal's.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import uuid
from collections.abc import Callable, Sequence
from dataclasses import MISSING, asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any

from prunebench import abtest, cluster, record
from prunebench.abtest import Side
from prunebench.errors import UsageError
from prunebench.record import RunRecord

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


@dataclass(frozen=True)
class Unit:
    side: str
    seed: int
    task: str
    experiments: tuple[str, ...]

    @property
    def key(self) -> str:
        return f"{self.side}-seed{self.seed}-{self.task}"


@dataclass(frozen=True)
class Plan:
    """What an upgrade runs: the same experiments on both sides, each side's seeds."""

    profile: str
    #: (task, its experiments in run order), the unpruned first.
    tasks: tuple[tuple[str, tuple[str, ...]], ...]
    seeds: dict[str, tuple[int, ...]]
    rounds: int
    sparsity: float | None = None
    task_specs: tuple[str, ...] = ()
    #: 'scratch': each side trains its own unpruned models; 'shared': B fine-tunes the
    #: unpruned model A trained and saved (A's unit of a seed then runs first).
    start: str = "scratch"
    #: Seeds a side may grow to while a task's figures are undecided (0: ``seeds`` only).
    max_seeds: int = 0
    #: Seeds later looks added: (task, side, seeds after ``seeds[side]``).
    added: tuple[tuple[str, str, tuple[int, ...]], ...] = ()
    #: What decides which tasks grow: the judge's mode and a digest of its thresholds.
    judge: str = "auto"
    thresholds: str = ""

    def seeds_of(self, side: str, task: str) -> tuple[int, ...]:
        """Return the seeds ``side`` runs ``task`` with, the added ones last."""
        more = (seeds for t, s, seeds in self.added if (t, s) == (task, side))
        return self.seeds[side] + next(more, ())

    def all_seeds(self, side: str) -> tuple[int, ...]:
        """Return every seed ``side`` runs some task with."""
        return tuple(dict.fromkeys(s for task, _ in self.tasks for s in self.seeds_of(side, task)))

    def grown(self, tasks: Sequence[str], size: int) -> Plan:
        """Return this plan with ``tasks`` run on ``size`` seeds a side: new seeds follow
        each side's largest (0 1 2 -> 3 4 5), the same on both sides where they ran the
        same seeds, else none that either side ran (B's own 100 101 102 -> 103 104 105)."""
        added = {(t, s): seeds for t, s, seeds in self.added}
        for task in tasks:
            same = sorted(self.seeds_of("A", task)) == sorted(self.seeds_of("B", task))
            used = {s for side in self.seeds for s in self.seeds_of(side, task)}
            for side, given in self.seeds.items():
                have = self.seeds_of(side, task)
                new = [s for s in range(max(have) + 1, max(have) + 1 + size + len(used))
                       if same or s not in used][:max(0, size - len(have))]
                used.update(new)
                added[(task, side)] = have[len(given):] + tuple(new)
        return replace(self, added=tuple((t, s, seeds) for (t, s), seeds in added.items()))

    def units(self) -> list[Unit]:
        """Return every unit, seed by seed, the sides alternating ABBA (A first if shared)."""
        order: list[Unit] = []
        longest = max(len(self.seeds_of(s, t)) for s in self.seeds for t, _ in self.tasks)
        for index in range(longest):
            abba = index % 2 == 0 or self.start == "shared"
            for side in ("A", "B") if abba else ("B", "A"):
                order.extend(Unit(side, self.seeds_of(side, task)[index], task, names)
                             for task, names in self.tasks
                             if index < len(self.seeds_of(side, task)))
        return order

    def to_json(self) -> dict[str, Any]:
        return json.loads(json.dumps(asdict(self)))


class Journal:
    """The folder that keeps every finished unit and timing round of one upgrade."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)

    def unit_dir(self, unit: Unit) -> Path:
        return self.folder / "units" / unit.key

    def done(self, unit: Unit) -> bool:
        return (self.unit_dir(unit) / RECORD).is_file()

    def timing_file(self, side: str, round_: int) -> Path:
        return self.folder / "timing" / f"{side}-{round_}.json"

    def open(self, plan: Plan, environments: dict[str, dict[str, Any]], resume: bool) -> None:
        """Start the journal, or with ``resume`` check it holds this plan and these sides.

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
            return
        if resume:
            raise UsageError(f"nothing to resume: {path} does not exist")
        self.folder.mkdir(parents=True, exist_ok=True)
        record.write_json_atomic(path, wanted)


def run_unit(side: Side, unit: Unit, plan: Plan, journal: Journal) -> None:
    """Run one unit in ``side``'s interpreter; move its folder into the journal when done."""
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
    except subprocess.TimeoutExpired:
        raise UsageError(f"side {side.name}: {unit.key} took over {UNIT_TIMEOUT_S} s") from None
    if done.returncode != 0 or not (work / RECORD).is_file():
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise UsageError(f"side {side.name}: {unit.key} failed: {last}")
    shutil.rmtree(work / "kept", ignore_errors=True)
    try:
        work.rename(final)
    except OSError:  # another attempt finished first: its figures are the same
        if not journal.done(unit):
            raise
        shutil.rmtree(work, ignore_errors=True)


def run_units(sides: dict[str, Side], plan: Plan, journal: Journal, jobs: int, say: Say,
              scheduler: str | None = None, resuming: bool = True) -> int:
    """Run every unit the journal lacks, in plan order; return how many ran.

    ``jobs`` at a time in local processes, or on the workers of the Dask ``scheduler``:
    a worker only starts the side's interpreter, so workers of any environment serve
    both sides (they must see this machine's files: the journal and the interpreters).
    """
    todo = [u for u in plan.units() if not journal.done(u)]
    skipped = len(plan.units()) - len(todo)
    if skipped and resuming:
        say(f"resuming: {skipped} unit(s) of {len(plan.units())} already in {journal.folder}")

    def one(units: list[Unit]) -> list[Unit]:
        for unit in units:
            run_unit(sides[unit.side], unit, plan, journal)
        return units

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
                for unit in done:
                    count += 1
                    say(f"unit {count}/{len(todo)} done: {unit.key}")
        except Exception as exc:
            if not cluster.lost_worker(exc):
                raise
            raise UsageError(f"a Dask worker was lost more often than Dask retries "
                             f"({type(exc).__name__}); the journal keeps the finished units: "
                             "continue with --resume") from None
    return len(todo)


def side_record(plan: Plan, journal: Journal, side: str) -> RunRecord:
    """Return one side's record, its units merged in task then seed order."""
    units = sorted((u for u in plan.units() if u.side == side),
                   key=lambda u: ([t for t, _ in plan.tasks].index(u.task), u.seed))
    parts = [record.load(journal.unit_dir(u) / RECORD) for u in units]
    merged = RunRecord(profile=plan.profile, seeds=list(plan.all_seeds(side)), experiments={},
                       results=[], environment=parts[0].environment)
    for part in parts:
        merged.experiments.update(part.experiments)
        merged.results.extend(part.results)
        merged.refused.update(part.refused)
    return merged


def timing_manifest(plan: Plan, journal: Journal, side: str) -> Path:
    """Write the manifest of the models ``side`` timed, its first seed's of every task."""
    manifest: dict[str, dict[str, str]] = {}
    seed = plan.seeds[side][0]
    for task, names in plan.tasks:
        models = journal.unit_dir(Unit(side, seed, task, names)) / MODELS
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

    Each side times its own models; the sides alternate ABBA, one process at a time.
    """
    folders = {name: timing_manifest(plan, journal, name) for name in sides}
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in sides}
    for round_ in range(plan.rounds):
        for name in ("A", "B") if round_ % 2 == 0 else ("B", "A"):
            out = journal.timing_file(name, round_)
            if not out.is_file():
                say(f"timing round {round_ + 1}/{plan.rounds}: side {name}")
                abtest.run_side(sides[name], folders[name], plan.profile, out)
            runs[name].append(dict(json.loads(out.read_text())))
    return runs
