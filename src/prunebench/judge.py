"""Judge side B against side A, figure by figure: paired where seeds reproduce, else over seeds.

Whether a task's seeds reproduce is decided before its figures are judged, from its
unpruned experiment, the model every other experiment of the task fine-tunes: when each
quality figure of it (those with a minimum effect in thresholds.toml: MSE, loss,
accuracy) is within the same-environment band on every seed, both sides trained the same
models, and any later difference is the pruning, stripping or conversion of B. Then:

- a figure within the same band on every seed is ok: identical on every seed;
- in a task that reproduces, a figure is judged seed by seed, each seed against the same
  seed of A: it has CHANGED beyond the same band, and regressed on a seed worse by more
  than its cross band (sparsity, structure, sizes: a converter's few bytes more are news,
  not a regression) or, for a quality figure, the narrower of its minimum effect and cross
  band (a fine-tune that B's stack steers elsewhere moves seeds both ways by a few %);
- with ``mode`` 'paired' (``check`` in its baseline's own environment, where nothing in
  the stack changed) every figure regresses beyond the same band;
- in a task that does not (training numerics differ: another Keras build), a quality
  figure is judged over the seeds (``distribution``: B's worsening, its bounds, the
  minimum effect; WORSE, ok, or INCONCLUSIVE with the seeds that would decide; where both
  sides ran the same seeds, by the per-seed differences wherever their count can reach
  the level), and sparsity, structure and sizes keep their paired cross bands;
- with ``mode`` 'distribution' every figure with a minimum effect is judged over the
  seeds, whatever reproduces; with seeds that differ between the sides, nothing pairs.

The false-alarm rate of the whole verdict is ``family_alpha``: half for the tests over
seeds (Bonferroni over them), half for the timing tests (``abtest.judge``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from statistics import median
from typing import Any

from prunebench import distribution
from prunebench.compare import (
    Band,
    Line,
    PairedCheck,
    Thresholds,
    Verdict,
    current_medians,
    floor_lines,
    judge_paired,
)
from prunebench.errors import EXIT_INCONCLUSIVE, EXIT_OK, EXIT_REGRESSION
from prunebench.experiments import unpruned_of
from prunebench.record import RunRecord

#: auto: by whether seeds reproduce; paired: seed by seed in the same band; cross: seed by
#: seed in the cross band (``check --tolerance cross``); distribution: quality over seeds.
MODES = ("auto", "paired", "cross", "distribution")
_OUTCOMES = {distribution.Outcome.OK: Verdict.OK, distribution.Outcome.WORSE: Verdict.REGRESSION,
             distribution.Outcome.BETTER: Verdict.IMPROVEMENT,
             distribution.Outcome.INCONCLUSIVE: Verdict.INCONCLUSIVE}


@dataclass
class Judgement:
    """Every line of B against A, whether each task reproduced, and what was not judged."""

    lines: list[Line]
    #: {task: (reproduces, why)}
    reproduction: dict[str, tuple[bool, str]]
    notes: list[str] = field(default_factory=list)

    def count(self, verdict: Verdict) -> int:
        return sum(line.verdict is verdict for line in self.lines)

    def exit_code(self) -> int:
        """Return 1 when B is worse anywhere, else 4 when anything is undecided, else 0."""
        if self.count(Verdict.REGRESSION):
            return EXIT_REGRESSION
        return EXIT_INCONCLUSIVE if self.count(Verdict.INCONCLUSIVE) else EXIT_OK


def identical(check: PairedCheck, a: Mapping[int, float], b: Mapping[int, float]) -> bool:
    """Return whether both sides hold the same seeds, each within the same band."""
    return bool(a) and a.keys() == b.keys() and all(
        check.verdict(a[s], b[s], "same") is Verdict.OK for s in a)


#: Figures of the converted (TFLite) models: no evidence of whether training reproduces.
CONVERTED = "tflite_"


def reproduction(a: RunRecord, b: RunRecord, task: str, thresholds: Thresholds
                 ) -> tuple[bool, str]:
    """Return whether ``task``'s seeds reproduce between the sides, and the evidence.

    The evidence is the task's unpruned model, trained from scratch on each side (also
    under ``--start shared``, where B fine-tunes A's): it involves no pruning, so a
    regression in B's pruning cannot disguise itself as a stack whose training differs.
    Only its Keras quality figures count: the TFLite ones also carry the converter's
    doing (the nightly's converter moved friedman1's int8 MSE 0.5% on a seed whose Keras
    model was identical), which is judged, seed by seed, not taken for training noise.
    """
    said = unpruned_of(task)
    if sorted(a.seeds) != sorted(b.seeds):
        return False, f"the sides ran other seeds ({a.seeds} and {b.seeds})"
    moved: list[str] = []
    judged: list[str] = []
    for check in thresholds.paired:
        if check.metric not in thresholds.minimum or check.metric.startswith(CONVERTED):
            continue
        va, vb = a.seed_values(said, check.metric), b.seed_values(said, check.metric)
        if not va or not vb:
            continue
        judged.append(check.metric)
        moved.extend(f"{said}.{check.metric} seed {s} {va[s]:.6g} -> {vb[s]:.6g}"
                     for s in sorted(va) if s in vb
                     and check.verdict(va[s], vb[s], "same") is not Verdict.OK)
    if not judged:
        return False, f"no quality figure of {said} on both sides"
    if moved:
        more = f" and {len(moved) - 3} more" if len(moved) > 3 else ""
        return False, f"{said} differs: {'; '.join(moved[:3])}{more}"
    return True, f"{said} identical on every seed ({', '.join(dict.fromkeys(judged))})"


@dataclass(frozen=True)
class Levels:
    """The levels of one look's tests over seeds, and whether to simulate their power."""

    #: False-alarm rate of each figure's WORSE (its share of the family's).
    alpha: float
    #: Rate at which a worsening of the minimum effect passes as ok.
    alpha_ok: float = distribution.DEFAULT_ALPHA_OK
    #: Which look of how many (seeds added while undecided: ``distribution.schedule``).
    look: tuple[int, int] = (1, 1)
    #: What both levels were divided by for the looks (``distribution.looks_counted``).
    divided: int = 1
    power: bool = False


def _over_seeds(check: PairedCheck, name: str, a: Mapping[int, float], b: Mapping[int, float],
                minimum: float, levels: Levels) -> Line:
    broken = {side: sorted(s for s, v in values.items() if not math.isfinite(v))
              for side, values in (("A", a), ("B", b))}
    if broken["A"] or broken["B"]:  # no place on the figure's scale: B's failing is worse
        worse = len(broken["B"]) > len(broken["A"])
        return Line(Verdict.REGRESSION if worse else Verdict.INCONCLUSIVE, name, check.metric,
                    median(b.values()), median(a.values()),
                    f"over seeds: not a finite number on B's seeds {broken['B'] or 'none'} "
                    f"of {len(b)}, A's {broken['A'] or 'none'} of {len(a)}")
    paired = a.keys() == b.keys()  # the same seeds: seed s of B beside seed s of A
    va = [a[s] for s in sorted(a)] if paired else list(a.values())
    vb = [b[s] for s in sorted(a)] if paired else list(b.values())
    found = distribution.judge(va, vb, check.better, minimum, levels.alpha, levels.alpha_ok,
                               paired=paired)
    said = (f"over seeds: {found.describe()}; {len(b)} vs {len(a)} seeds, "
            f"alpha {levels.alpha:.2g}")
    if levels.look[1] > 1:
        said += f" (look {levels.look[0]} of {levels.look[1]}, levels / {levels.divided})"
    if levels.power:
        said += "; " + distribution.power(va, vb, check.better, minimum, levels.alpha,
                                          levels.alpha_ok, paired=paired).describe()
    return Line(_OUTCOMES[found.outcome], name, check.metric, median(vb), median(va), said)


def _seed_by_seed(check: PairedCheck, name: str, a: Mapping[int, float], b: Mapping[int, float],
                  minimum: Band) -> Line:
    """Return a quality figure's line where training reproduces: each seed's move is B's doing.

    Beyond the same band a seed has CHANGED (news, named); worse by more than the minimum
    effect or the cross band, whichever is narrower (what the figure moves between hosts
    and versions at most), it is a REGRESSION: both sides trained the same models, so
    there is no noise of training to allow for.
    """
    level = median(a.values())
    cross = check.band("cross", name)
    bar, said = (minimum, "minimum effect") if minimum.width(level) <= cross.width(level) else (
        cross, "cross band")
    judged = replace(check, cross=bar, cross_for=())
    line = judge_paired(judged, name, a, b, "cross")
    return replace(line, limit=line.limit.replace("cross band", said)
                   + f"; same band {check.same.describe()}: seeds reproduce")


def judge(a: RunRecord, b: RunRecord, thresholds: Thresholds, mode: str = "auto",
          timing_lines: Sequence[Line] = (), *, alpha_share: float | None = None,
          labels: tuple[str, str] = ("A", "B"), look: tuple[int, int] = (1, 1),
          counted: int | None = None, power: bool = False) -> Judgement:
    """Return the judgement of B's record against A's (``mode``: one of MODES).

    ``alpha_share``: the part of ``thresholds.family_alpha`` the tests over seeds share
    (default: half when ``timing_lines`` are given, else all). ``labels`` name A and B in
    notes and refusals ('the baseline', 'the run' for ``check``). ``look``: this is look k
    of n fixed before the first (seeds added while undecided): each test over seeds is
    made at 1/``counted`` of its levels (default n; ``distribution.looks_counted``).
    ``power``: say each such figure's simulated power.
    """
    tasks = list(dict.fromkeys([*a.tasks(), *b.tasks()]))
    reproduces = {task: reproduction(a, b, task, thresholds) for task in tasks}
    paired_ok = sorted(a.seeds) == sorted(b.seeds)
    if mode == "paired" and not paired_ok:
        raise ValueError("paired judgement needs the same seeds on both sides")
    notes: list[str] = []
    lines = refusal_lines(a, b, notes, labels)
    names = [n for n in a.experiment_names() if n in b.experiment_names()]
    for name in dict.fromkeys([*a.experiment_names(), *b.experiment_names()]):
        if name not in names and name not in a.refused and name not in b.refused:
            notes.append(f"{name} ran on one side only, not judged")
    plan: list[tuple[str, PairedCheck, dict[int, float], dict[int, float], str]] = []
    for name in names:
        task_reproduces = reproduces[a.task_of(name)][0]
        for check in thresholds.paired:
            va, vb = a.seed_values(name, check.metric), b.seed_values(name, check.metric)
            if not va or not vb:
                if va or vb:
                    notes.append(f"{name}.{check.metric} not judged: not in "
                                 f"{labels[0] if vb else labels[1]}")
                continue
            how = _how(check, va, vb, mode, paired_ok, task_reproduces,
                       check.metric in thresholds.minimum)
            if how is None:
                notes.append(f"{name}.{check.metric} not judged: no minimum effect to judge "
                             "it over seeds, and the sides ran other seeds")
                continue
            plan.append((name, check, va, vb, how))
    over_seeds = sum(how == "seeds" for *_, how in plan)
    share = alpha_share if alpha_share is not None else (0.5 if timing_lines else 1.0)
    looks = counted or look[1]
    levels = Levels(thresholds.family_alpha * share / max(1, over_seeds) / looks,
                    distribution.DEFAULT_ALPHA_OK / looks, look, looks, power)
    lines.extend(_line(check, name, va, vb, how, thresholds.minimum, levels)
                 for name, check, va, vb, how in plan)
    lines.extend(timing_lines)
    medians = current_medians(b)
    for name in names:
        unpruned = medians.get(unpruned_of(b.task_of(name)))
        lines.extend(floor_lines(name, medians[name], unpruned, thresholds.floors))
    return Judgement(lines, reproduces, notes)


def _how(check: PairedCheck, va: dict[int, float], vb: dict[int, float], mode: str,
         paired_ok: bool, reproduces: bool, has_minimum: bool) -> str | None:
    """Return how a figure is judged: 'same' or 'cross' band seed by seed, 'reproduced'
    (paired, its task's seeds reproduce), 'seeds' (over the seeds against its minimum
    effect); None when it cannot be (other seeds on each side, no minimum effect)."""
    if mode == "distribution" and has_minimum:
        return "seeds"
    if paired_ok and mode == "cross":
        return "cross"
    if paired_ok and (identical(check, va, vb) or mode == "paired"):
        return "same"
    if paired_ok and reproduces:
        return "reproduced"
    if has_minimum:
        return "seeds"
    return "cross" if paired_ok else None


def _line(check: PairedCheck, name: str, va: dict[int, float], vb: dict[int, float], how: str,
          minimum: Mapping[str, Band], levels: Levels) -> Line:
    """Return the judged line of one figure, judged ``how`` (``_how``)."""
    if how == "seeds":
        return _over_seeds(check, name, va, vb, minimum[check.metric].width(median(va.values())),
                           levels)
    if identical(check, va, vb):
        return Line(Verdict.OK, name, check.metric, vb[min(vb)], va[min(va)],
                    f"identical on every seed ({len(va)}; same band {check.same.describe()})")
    if how == "reproduced" and check.metric in minimum:
        return _seed_by_seed(check, name, va, vb, minimum[check.metric])
    if how == "reproduced":  # changed beyond the same band, worse beyond the cross band
        line = judge_paired(check, name, va, vb, "cross")
        return replace(line, limit=line.limit + "; seeds reproduce")
    return judge_paired(check, name, va, vb, how)


def refusal_lines(a: RunRecord, b: RunRecord, notes: list[str],
                  labels: tuple[str, str] = ("A", "B")) -> list[Line]:
    """Return a line per experiment B refused: a regression where A ran it, ok where A
    refused it too; one A lacks altogether is a note."""
    lines = []
    for name, why in b.refused.items():
        if name in a.refused:
            lines.append(Line(Verdict.OK, name, "refused", None, None,
                              f"{why} (refused in {labels[0]} too)"))
        elif name in a.experiments:
            lines.append(Line(Verdict.REGRESSION, name, "refused", None, None,
                              f"{why}; {labels[0]} ran it"))
        else:
            notes.append(f"{name} refused and not in {labels[0]}, not judged: {why}")
    for name, why in a.refused.items():
        if name not in b.refused and name in b.experiments:
            notes.append(f"{name}: {labels[0]} refused it ({why}), {labels[1]} runs it: not judged")
    return lines


def summary(judgement: Judgement) -> dict[str, Any]:
    """Return the counts a verdict reports."""
    return {verdict.value.lower(): judgement.count(verdict) for verdict in Verdict}
