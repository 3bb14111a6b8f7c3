"""What an upgrade runs: its units (one task's experiments, one seed, one side), in order.

The same experiments on both sides, each side's seeds, and the seeds later looks add where
figures were undecided (``Plan.grown``); the journal holds a plan as JSON (``to_json``).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from typing import Any


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

    def paired(self, task: str) -> bool:
        """Return whether both sides run ``task`` with the same seeds: then seed s of A
        and seed s of B are seeded alike, and judged, left out and timed together."""
        return sorted(self.seeds_of("A", task)) == sorted(self.seeds_of("B", task))

    def grown(self, tasks: Sequence[str], size: int) -> Plan:
        """Return this plan with ``tasks`` run on ``size`` seeds a side: new seeds follow
        each side's largest (0 1 2 -> 3 4 5), the same on both sides where they ran the
        same seeds, else none that either side ran (B's own 100 101 102 -> 103 104 105)."""
        added = {(t, s): seeds for t, s, seeds in self.added}
        for task in tasks:
            same = self.paired(task)
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
