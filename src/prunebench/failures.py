"""Units of an upgrade that failed: what the journal keeps of them, and how B is judged by them.

A unit (one task's experiments, one seed, one side) whose process fails or overruns leaves
no record. The other units are still judged; of the failed ones:

- B failed where A ran: a regression of B, one line per experiment of the task, naming the
  seeds and the error (B's stack cannot do what A's did);
- A failed where B ran: an improvement (the upgrade fixes it); B's experiments that are
  then judged against nothing of A's still meet their floors (``unjudged_floors``);
- both sides failed units of one task: nothing tells the upgrade's doing from the task's,
  so the verdict cannot be made (exit 2, one line naming both errors). From a shared
  start, B's unit of a seed whose A failed cannot start: that too.

Where both sides run the same seeds, a failed seed leaves the other side's same seed out
of the judged records too, so the seeds that remain still pair.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from prunebench import record
from prunebench.compare import Floors, Line, Verdict, current_medians, floor_lines
from prunebench.errors import UsageError
from prunebench.experiments import unpruned_of
from prunebench.record import RunRecord

#: How much of a failed process's error output the journal keeps, for the reader.
KEPT_LINES = 40


@dataclass(frozen=True)
class Failed:
    """A unit that finished without a record: its side, task and seed, its last error line."""

    side: str
    task: str
    seed: int
    error: str


def save(path: Path, failed: Failed, output: str) -> None:
    """Write a failed unit's file (``output``: its error stream, the end kept)."""
    record.write_json_atomic(path, {**asdict(failed),
                                    "output": output.strip().splitlines()[-KEPT_LINES:]})


def load(path: Path) -> Failed:
    """Return the failed unit a file written by ``save`` describes."""
    held = json.loads(path.read_text())
    return Failed(held["side"], held["task"], int(held["seed"]), held["error"])


def left_out(failed: Sequence[Failed], paired: Collection[str] = ()
             ) -> dict[str, set[tuple[str, int]]]:
    """Return {side: {(task, seed)}} not judged: each failed unit, and in the tasks whose
    sides run the same seeds (``paired``), the other side's same seed."""
    out: dict[str, set[tuple[str, int]]] = {"A": set(), "B": set()}
    for each in failed:
        for side in ("A", "B") if each.task in paired else (each.side,):
            out[side].add((each.task, each.seed))
    return out


def lines(failed: Sequence[Failed], experiments: Mapping[str, Sequence[str]]) -> list[Line]:
    """Return the lines of B's failed units (regressions) and of A's (improvements).

    ``experiments``: each task's experiments. Raises UsageError when both sides failed
    units of one task: no verdict can tell whose doing that is.
    """
    found: list[Line] = []
    for task in dict.fromkeys(f.task for f in failed):
        of_task = [f for f in failed if f.task == task]
        sides = sorted({f.side for f in of_task})
        if sides == ["A", "B"]:
            errors = "; ".join(f"{s}: {next(f.error for f in of_task if f.side == s)}"
                               for s in sides)
            raise UsageError(f"both sides failed units of {task}, so the upgrade cannot be "
                             f"judged by them ({errors}); the journal keeps the finished units")
        side = sides[0]
        other = "B" if side == "A" else "A"
        seeds = sorted(f.seed for f in of_task)
        named = f"seed{'s' * (len(seeds) > 1)} {', '.join(map(str, seeds))}"
        verdict = Verdict.REGRESSION if side == "B" else Verdict.IMPROVEMENT
        errors = "; ".join(dict.fromkeys(f.error for f in of_task))  # each different one
        why = f"{side} failed on {named} ({errors}); {other} ran it"
        found.extend(Line(verdict, name, "ran", None, None, why) for name in experiments[task])
    return found


def unjudged_floors(b: RunRecord, judged: RunRecord, floors: Floors) -> list[Line]:
    """Return the floors' lines of B's experiments the judged record ``judged`` lacks (A
    failed every seed of their task), over every seed of ``b``, B's own record."""
    medians = current_medians(b)
    return [line for name in b.experiment_names() if name not in judged.experiment_names()
            for line in floor_lines(name, medians[name], medians.get(unpruned_of(b.task_of(name))),
                                    floors)]
