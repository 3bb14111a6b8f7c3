"""The regression gate: one check object per (metric, direction, tolerance), and hard floors.

Every failure is collected before the verdict, so one run names every regressed figure.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from importlib import resources
from pathlib import Path
from typing import Any

from prunebench.errors import UsageError
from prunebench.experiments import UNPRUNED

DIRECTIONS = ("lower", "higher")


class Verdict(Enum):
    OK = "ok"
    IMPROVEMENT = "IMPROVEMENT"
    REGRESSION = "REGRESSION"


@dataclass(frozen=True)
class Stats:
    """A metric's figures over seeds, as a baseline stores them."""

    median: float
    min: float
    max: float

    @classmethod
    def of(cls, raw: Mapping[str, Any]) -> Stats:
        return cls(float(raw["median"]), float(raw["min"]), float(raw["max"]))


@dataclass(frozen=True)
class Tolerance:
    """How far a metric may move the wrong way before it regresses.

    The allowed width is the widest of ``rel`` x |median|, ``abs``, and ``spread`` x the
    baseline's seed range; ``better`` says which way is good.
    """

    metric: str
    better: str
    rel: float = 0.0
    abs: float = 0.0
    spread: float = 0.0

    def __post_init__(self) -> None:
        if self.better not in DIRECTIONS:
            raise UsageError(f"threshold {self.metric}: better must be one of {DIRECTIONS}")
        if min(self.rel, self.abs, self.spread) < 0:
            raise UsageError(f"threshold {self.metric}: tolerances must be >= 0")

    def width(self, baseline: Stats) -> float:
        return max(self.rel * abs(baseline.median), self.abs,
                   self.spread * (baseline.max - baseline.min))

    def limit(self, baseline: Stats) -> float:
        """Return the worst value that still passes."""
        sign = 1.0 if self.better == "lower" else -1.0
        return baseline.median + sign * self.width(baseline)

    def verdict(self, baseline: Stats, value: float) -> Verdict:
        """Return whether ``value`` regressed, improved or held against ``baseline``."""
        sign = 1.0 if self.better == "lower" else -1.0
        worse_by = sign * (value - baseline.median)
        width = self.width(baseline)
        if worse_by > width:
            return Verdict.REGRESSION
        if -worse_by > width:
            return Verdict.IMPROVEMENT
        return Verdict.OK

    def fails(self, baseline: Stats, value: float) -> bool:
        return self.verdict(baseline, value) is Verdict.REGRESSION


@dataclass(frozen=True)
class Floors:
    """Checks that hold whatever the baseline says."""

    sparsity_below_target: float
    pruned_zip_below_unpruned: bool
    pruned_mse_factor: float


@dataclass(frozen=True)
class Thresholds:
    tolerances: tuple[Tolerance, ...]
    floors: Floors


def load_thresholds(path: Path | None = None) -> Thresholds:
    """Return the thresholds in ``path``, or the packaged thresholds.toml when None."""
    try:
        if path is None:
            text = resources.files("prunebench").joinpath("thresholds.toml").read_text()
        else:
            text = Path(path).read_text()
        raw = tomllib.loads(text)
        tolerances = tuple(Tolerance(metric=name, **spec)
                           for name, spec in raw["metrics"].items())
        floors = Floors(**raw["floors"])
    except FileNotFoundError:
        raise UsageError(f"no thresholds file {path}") from None
    except (tomllib.TOMLDecodeError, KeyError, TypeError) as exc:
        raise UsageError(f"bad thresholds file {path or 'thresholds.toml'}: {exc}") from None
    return Thresholds(tolerances, floors)


@dataclass(frozen=True)
class Line:
    """One judged figure: what it is, where it stands, and the verdict."""

    verdict: Verdict
    experiment: str
    metric: str
    value: float
    baseline: float | None
    limit: str

    def render(self) -> str:
        base = "-" if self.baseline is None else f"{self.baseline:.6g}"
        return (f"{self.verdict.value:<11} {self.experiment + '.' + self.metric:<34} "
                f"value {self.value:<12.6g} baseline {base:<12} limit {self.limit}")


def _floor_lines(name: str, current: Mapping[str, float], unpruned: Mapping[str, float] | None,
                 floors: Floors) -> list[Line]:
    lines = []
    target = current.get("target_sparsity", 0.0)
    if target > 0:
        bound = target - floors.sparsity_below_target
        ok = current["sparsity_pruned"] >= bound
        lines.append(Line(Verdict.OK if ok else Verdict.REGRESSION, name, "sparsity_pruned",
                          current["sparsity_pruned"], None, f">= {bound:.6g} (floor: target)"))
        if unpruned is not None and floors.pruned_zip_below_unpruned:
            ok = current["keras_zip_bytes"] < unpruned["keras_zip_bytes"]
            lines.append(Line(Verdict.OK if ok else Verdict.REGRESSION, name, "keras_zip_bytes",
                              current["keras_zip_bytes"], None,
                              f"< {unpruned['keras_zip_bytes']:.6g} (floor: unpruned)"))
        if unpruned is not None:
            bound = floors.pruned_mse_factor * unpruned["mse"]
            ok = current["mse"] <= bound
            lines.append(Line(Verdict.OK if ok else Verdict.REGRESSION, name, "mse",
                              current["mse"], None,
                              f"<= {bound:.6g} (floor: {floors.pruned_mse_factor:g}x unpruned)"))
    return lines


def compare(
    current: Mapping[str, Mapping[str, float]],
    baseline: Mapping[str, Mapping[str, Mapping[str, Any]]],
    thresholds: Thresholds,
) -> list[Line]:
    """Return one judged line per experiment x gated metric, floors included.

    ``current`` is {experiment: {metric: median over seeds}}; ``baseline`` is
    {experiment: {metric: {median, min, max}}}. An experiment missing from the baseline
    cannot be judged: UsageError.
    """
    lines: list[Line] = []
    unpruned = current.get(UNPRUNED)
    for name, figures in current.items():
        if name not in baseline:
            raise UsageError(f"the baseline has no experiment {name!r}; refresh it")
        for tol in thresholds.tolerances:
            if tol.metric not in figures or tol.metric not in baseline[name]:
                continue
            stats = Stats.of(baseline[name][tol.metric])
            op = "<=" if tol.better == "lower" else ">="
            lines.append(Line(tol.verdict(stats, figures[tol.metric]), name, tol.metric,
                              figures[tol.metric], stats.median, f"{op} {tol.limit(stats):.6g}"))
        lines.extend(_floor_lines(name, figures, unpruned, thresholds.floors))
    return lines


def exit_code(lines: list[Line], strict: bool = False) -> int:
    """Return 1 when any line regressed (or improved, under ``strict``), else 0."""
    bad = {Verdict.REGRESSION, Verdict.IMPROVEMENT} if strict else {Verdict.REGRESSION}
    return 1 if any(line.verdict in bad for line in lines) else 0


def current_medians(record: Any) -> dict[str, dict[str, float]]:
    """Return {experiment: {metric: median over the record's seeds}}."""
    return {name: {metric: stats["median"] for metric, stats in metrics.items()}
            for name, metrics in record.aggregate().items()}


def gate(record: Any, document: Mapping[str, Any], path: Path, thresholds: Thresholds,
         known_only: bool = False) -> list[Line]:
    """Return the judged lines of a run record against a baseline document.

    Raises UsageError when the two cannot be compared: another TF minor version, a
    profile the baseline lacks, or experiments whose configuration changed since; and
    for experiments the baseline lacks, unless ``known_only`` (then they are skipped).
    """
    from prunebench.baseline import UPDATE_COMMAND, profile_section
    from prunebench.record import tf_minor

    minor = tf_minor(record.environment)
    if str(document["tf_minor"]) != minor:
        raise UsageError(f"results are from TF {minor} but {path} is the baseline of "
                         f"TF {document['tf_minor']}")
    section = profile_section(dict(document), record.profile, path)
    refresh = UPDATE_COMMAND.format(profile=record.profile)
    experiments = section["experiments"]
    for name, info in record.experiments.items():
        stored = experiments.get(name, {}).get("digest")
        if stored is not None and stored != info.get("digest"):
            raise UsageError(f"{name} is configured differently from {path} "
                             f"(digest {info.get('digest')} vs {stored}); refresh: {refresh}")
    baseline_stats = {name: exp["metrics"] for name, exp in experiments.items()}
    current = current_medians(record)
    if known_only:
        current = {name: figures for name, figures in current.items() if name in experiments}
    return compare(current, baseline_stats, thresholds)
