"""Across TensorFlow versions: which figure got worse from one version to the next, or since the first.

``prunebench matrix`` exits 1 on any such finding, as ``asv continuous`` fails on a
regression between two commits; ``prunebench report`` (like ``asv compare``) only shows.
Versions are judged through the one judge (``judge.judge``), on the seeds both ran: seed by
seed where a task's seeds reproduce (friedman1 from TF 2.15 to 2.21), over the seeds where
they do not (the zoo across Keras builds; undecided figures are noted); time ratios by
the gate's test, only between records made on one CPU type.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from prunebench import judge
from prunebench.compare import Line, Thresholds, Verdict, figure, judge_timing
from prunebench.errors import UsageError
from prunebench.gate import same_cpu
from prunebench.record import RunRecord


def version_key(rec: RunRecord) -> tuple[int, ...]:
    """Return a sort key of the record's TF version: 2.23.0.dev... sorts after 2.21.0."""
    from packaging.version import Version

    version = Version(str(rec.environment.get("tf")))
    return (*version.release, 1 if version.dev is None and version.pre is None else 0)


def ordered(records: Sequence[RunRecord], files: Sequence[str] | None = None) -> list[RunRecord]:
    """Return the records oldest TF first; refuse mixed profiles and two of one TF version.

    ``files`` names the records in the refusal. Two environments of one TF version (another
    tfmot, host or commit) go side by side in ``prunebench report``, not along this axis.
    """
    profiles = sorted({rec.profile for rec in records})
    if len(profiles) > 1:
        raise UsageError(f"records from different profiles ({', '.join(profiles)}) do not compare")
    names = list(files) if files is not None else [f"record {n + 1}" for n in range(len(records))]
    seen: dict[str, str] = {}
    for rec, name in zip(records, names, strict=True):
        tf = str(rec.environment.get("tf"))
        if tf in seen:
            raise UsageError(f"two records of TF {tf} ({seen[tf]} and {name}): the matrix takes "
                             "one per version (nothing is pooled); prunebench report shows "
                             "both side by side")
        seen[tf] = name
    return sorted(records, key=version_key)


def _seeds(rec: RunRecord, seeds: Sequence[int]) -> RunRecord:
    """Return ``rec`` holding only ``seeds``: versions are paired on the seeds both ran."""
    return replace(rec, seeds=list(seeds), results=[r for r in rec.results if r["seed"] in seeds])


@dataclass(frozen=True)
class Finding:
    """A figure worse in ``newer`` than in ``older``: from the version before, or the first."""

    older: str
    newer: str
    kind: str
    line: Line

    def render(self) -> str:
        return (f"REGRESSION {self.line.experiment}.{self.line.metric}: TF {self.older} -> "
                f"{self.newer} ({self.kind}): {figure(self.line.value)} against "
                f"{figure(self.line.baseline)}, {self.line.limit}")


def findings(records: Sequence[RunRecord], thresholds: Thresholds,
             files: Sequence[str] | None = None) -> tuple[list[Finding], list[str]]:
    """Return every regression between versions, and notes on what could not be compared."""
    recs = ordered(records, files)
    pairs = [(recs[i - 1], rec, "from the version before") for i, rec in enumerate(recs) if i]
    pairs += [(recs[0], rec, "since the first version") for rec in recs[2:]]
    notes: list[str] = []
    judged: list[tuple[RunRecord, RunRecord, str, Line]] = []
    timed = []
    for older, newer, kind in pairs:
        names = [n for n in newer.experiment_names() if n in older.experiment_names()]
        common = sorted(set(older.seeds) & set(newer.seeds))
        if older.busy() and kind == "from the version before":
            notes.append(f"TF {older.environment.get('tf')} was timed on a busy machine (1-minute "
                         f"load {older.max_load():.2f}): its timing is not compared")
        if not common:
            notes.append(f"TF {older.environment.get('tf')} and {newer.environment.get('tf')} "
                         "share no seed: not compared")
            continue
        labels = (f"TF {older.environment.get('tf')}", f"TF {newer.environment.get('tf')}")
        verdict = judge.judge(_seeds(older, common), _seeds(newer, common), thresholds, "auto",
                            alpha_share=0.5, labels=labels)
        undecided = [f"{ln.experiment}.{ln.metric}" for ln in verdict.lines
                     if ln.verdict is Verdict.INCONCLUSIVE]
        if undecided:
            notes.append(f"{labels[0]} -> {labels[1]}: {len(undecided)} figure(s) undecided over "
                         f"{len(common)} seeds ({', '.join(undecided[:3])}"
                         f"{', ...' if len(undecided) > 3 else ''}): run more seeds")
        if kind == "from the version before":
            notes.extend(verdict.notes)
        # A floor holds whatever the versions: said once, from the version before.
        judged.extend((older, newer, kind, line) for line in verdict.lines
                      if kind == "from the version before" or "(floor:" not in line.limit)
        for name in names:
            timed_pair = same_cpu(newer.environment, older.environment) and not older.busy()
            for timer in thresholds.timing if timed_pair else ():
                base_s = older.pooled_ratios(name, timer.path)
                cur_s = newer.pooled_ratios(name, timer.path)
                if len(base_s) >= 2 and len(cur_s) >= 2:
                    timed.append((older, newer, kind, timer, name, base_s, cur_s))
    alpha = thresholds.family_alpha / 2 / max(1, len(timed))
    judged += [(older, newer, kind, judge_timing(timer, name, base_s, cur_s, alpha))
               for older, newer, kind, timer, name, base_s, cur_s in timed]
    found = [Finding(str(o.environment.get("tf")), str(n.environment.get("tf")), kind, line)
             for o, n, kind, line in judged if line.verdict is Verdict.REGRESSION]
    return found, notes
