"""The regression gate: paired checks of deterministic figures, a test for timing, and floors.

Every failure is collected before the verdict, so one run names every regressed figure.
Loading the thresholds and judging one figure live here; matching a record to a baseline
(seeds, digests, environments) lives in ``gate``.
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import Enum
from fnmatch import fnmatchcase
from importlib import resources
from pathlib import Path
from typing import Any

from prunebench import figures, project, timing
from prunebench.errors import UsageError

DIRECTIONS = ("lower", "higher")
#: same: the run's environment equals the baseline's; cross: TF, packages or CPU differ.
REGIMES = ("same", "cross")


class Verdict(Enum):
    OK = "ok"
    CHANGED = "changed"
    IMPROVEMENT = "IMPROVEMENT"
    REGRESSION = "REGRESSION"
    #: Over seeds that do not reproduce: neither inside the minimum effect nor beyond it.
    INCONCLUSIVE = "INCONCLUSIVE"


#: Worst first: a figure's line carries its worst seed.
SEVERITY = (Verdict.REGRESSION, Verdict.IMPROVEMENT, Verdict.CHANGED, Verdict.OK)


@dataclass(frozen=True)
class Band:
    """A tolerance: the wider of ``rel`` x |reference| and ``abs`` (in the metric's unit)."""

    rel: float = 0.0
    abs: float = 0.0

    def __post_init__(self) -> None:
        if min(self.rel, self.abs) < 0:
            raise UsageError("tolerances must be >= 0")

    def width(self, reference: float) -> float:
        return max(self.rel * abs(reference), self.abs)

    def describe(self) -> str:
        parts = ([f"{self.rel:.3g} rel"] if self.rel else []) + ([f"{self.abs:g} abs"] if self.abs else [])
        return " or ".join(parts) or "exact"


@dataclass(frozen=True)
class PairedCheck:
    """A deterministic figure, judged seed by seed against the same seed of the baseline."""

    metric: str
    better: str
    same: Band
    cross: Band
    #: (experiment glob, band): a wider cross band for experiments that measurably move more.
    cross_for: tuple[tuple[str, Band], ...] = ()

    def __post_init__(self) -> None:
        if self.better not in DIRECTIONS:
            raise UsageError(f"threshold {self.metric}: better must be one of {DIRECTIONS}")

    def band(self, regime: str, experiment: str = "") -> Band:
        if regime == "same":
            return self.same
        return next((band for glob, band in self.cross_for if fnmatchcase(experiment, glob)),
                    self.cross)

    def verdict(self, base: float, value: float, regime: str, experiment: str = "") -> Verdict:
        """Return how ``value`` stands against the same seed's ``base`` under ``regime``.

        A value that is not a finite number (a training that diverged) is a regression where
        the base was one, news where only the base was not, and ok where both are the same.
        """
        if not (math.isfinite(value) and math.isfinite(base)):
            if value == base or (math.isnan(value) and math.isnan(base)):
                return Verdict.OK
            return Verdict.CHANGED if math.isfinite(value) else Verdict.REGRESSION
        sign = 1.0 if self.better == "lower" else -1.0
        worse_by = sign * (value - base)
        width = self.band(regime, experiment).width(base)
        if worse_by > width:
            return Verdict.REGRESSION
        if -worse_by > width:
            return Verdict.IMPROVEMENT
        if abs(value - base) > self.same.width(base):
            return Verdict.CHANGED
        return Verdict.OK

    def limit(self, base: float, regime: str, experiment: str = "") -> float:
        """Return the worst value that still passes against ``base``."""
        sign = 1.0 if self.better == "lower" else -1.0
        return base + sign * self.band(regime, experiment).width(base)


@dataclass(frozen=True)
class TimingCheck:
    """A time ratio, judged by one-sided tests over block samples, beyond its margins.

    ``margin``: slower than this factor is a regression; ``faster_margin`` (default: the
    same): faster than 1 / this factor is an improvement; ``busy_margin`` (default: the
    margin): the slower margin for an experiment whose run was timed on a busy machine.
    """

    metric: str
    path: str
    margin: float
    faster_margin: float | None = None
    busy_margin: float | None = None

    def __post_init__(self) -> None:
        margins = (self.margin, self.faster_margin, self.busy_margin)
        if any(m is not None and m < 1.0 for m in margins):
            raise UsageError(f"threshold {self.metric}: margins must be >= 1")
        if self.busy_margin is not None and self.busy_margin < self.margin:
            raise UsageError(f"threshold {self.metric}: busy_margin must be >= margin")

    def for_busy_run(self) -> TimingCheck:
        """Return this check with the busy machine's slower margin."""
        return replace(self, margin=self.busy_margin or self.margin, busy_margin=None,
                       faster_margin=self.faster_margin or self.margin)


@dataclass(frozen=True)
class Floors:
    """Checks that hold whatever the baseline says."""

    sparsity_below_target: float
    pruned_zip_below_unpruned: bool
    pruned_mse_factor: float
    pruned_accuracy_drop: float = 0.1


@dataclass(frozen=True)
class Thresholds:
    paired: tuple[PairedCheck, ...]
    timing: tuple[TimingCheck, ...]
    floors: Floors
    #: The false-alarm rate of all timing tests of one gate together (Bonferroni).
    family_alpha: float = 0.01
    #: {metric: the smallest worsening worth calling} where seeds do not reproduce and a
    #: figure is judged over them (``judge``); relative widths are of A's median.
    minimum: Mapping[str, Band] = field(default_factory=dict)

    def metrics(self) -> set[str]:
        return {c.metric for c in self.paired} | {c.metric for c in self.timing}

    def with_figures(self, checks: Sequence[PairedCheck], minimum: Mapping[str, Band]
                     ) -> Thresholds:
        """Return these thresholds judging tasks' own figures too; a figure the thresholds
        file names already (a project's override) keeps the file's bands."""
        known = self.metrics()
        added = tuple(c for c in checks if c.metric not in known)
        return replace(self, paired=self.paired + added,
                       minimum={**{k: v for k, v in minimum.items() if k not in known},
                                **self.minimum})


def _band(raw: Any) -> Band:
    return Band(**raw)


def _better(name: str, spec: Mapping[str, Any]) -> str:
    """Return which way is better for ``name``: the figure registry's; a thresholds file
    says it only for a figure the registry does not have (a task's own), and may not
    contradict the registry."""
    known = figures.FIGURES.get(name)
    given = spec.get("better")
    if known is None or known.better is None:
        if given is None:
            raise ValueError(f"[paired.{name}] needs better = 'lower' or 'higher'")
        return str(given)
    if given is not None and given != known.better:
        raise ValueError(f"[paired.{name}] better = {given!r}, but {known.better!r} is "
                         f"better for {name}")
    return known.better


def load_thresholds(path: Path | None = None) -> Thresholds:
    """Return the thresholds in ``path``, or the packaged thresholds.toml when None, with
    the project's ``[tool.prunebench.thresholds]`` merged over it."""
    try:
        if path is None:
            text = resources.files("prunebench").joinpath("thresholds.toml").read_text()
        else:
            text = Path(path).read_text()
        raw = tomllib.loads(text)
        configured = project.current()
        if path is None and configured is not None and configured.thresholds:
            raw = project.merged(raw, configured.thresholds)
            path = configured.path  # named in any error: the overrides are the project's
        paired = tuple(PairedCheck(metric=name, better=_better(name, spec),
                                   same=_band(spec["same"]),
                                   cross=_band(spec["cross"]),
                                   cross_for=tuple((glob, _band(band)) for glob, band
                                                   in spec.get("cross_for", {}).items()))
                       for name, spec in raw["paired"].items())
        timing_raw = dict(raw["timing"])
        alpha = float(timing_raw.pop("family_alpha"))
        timed = tuple(TimingCheck(metric=name, **spec) for name, spec in timing_raw.items())
        floors = Floors(**raw["floors"])
        minimum = {name: _band(band) for name, band in raw.get("minimum", {}).items()}
    except FileNotFoundError:
        raise UsageError(f"no thresholds file {path}") from None
    except (tomllib.TOMLDecodeError, KeyError, TypeError, ValueError, AttributeError) as exc:
        raise UsageError(f"bad thresholds file {path or 'thresholds.toml'}: {exc!r}") from None
    if not 0 < alpha < 1:
        raise UsageError(f"bad thresholds file {path or 'thresholds.toml'}: family_alpha in (0, 1)")
    return Thresholds(paired, timed, floors, alpha, minimum)


@dataclass(frozen=True)
class Line:
    """One judged figure: what it is, where it stands, and the verdict."""

    verdict: Verdict
    experiment: str
    metric: str
    value: float | None
    baseline: float | None
    limit: str

    def render(self) -> str:
        return (f"{self.verdict.value:<11} {self.experiment + '.' + self.metric:<38} "
                f"value {figure(self.value):<12} baseline {figure(self.baseline):<12} {self.limit}")


def figure(value: float | None) -> str:
    """Return a figure as the gate prints it: six significant digits, '-' for none."""
    return "-" if value is None else f"{value:.6g}"


def judge_paired(check: PairedCheck, experiment: str, base: Mapping[int, float],
                 current: Mapping[int, float], regime: str) -> Line:
    """Return the line of ``check`` over every seed of ``current``: its worst seed's verdict."""
    judged = {seed: check.verdict(base[seed], value, regime, experiment)
              for seed, value in current.items()}
    worst = min(judged, key=lambda s: (SEVERITY.index(judged[s]), s))
    counts = ", ".join(f"{sum(v is verdict for v in judged.values())} {verdict.value.lower()}"
                       for verdict in SEVERITY if verdict in judged.values())
    op = "<=" if check.better == "lower" else ">="
    limit = check.limit(base[worst], regime, experiment)
    band = check.band(regime, experiment).describe()
    return Line(judged[worst], experiment, check.metric, current[worst], base[worst],
                f"limit {op} {limit:.6g} (seed {worst}; {regime} band {band}; seeds: {counts})")


def judge_timing(check: TimingCheck, experiment: str, base: Sequence[float],
                 current: Sequence[float], alpha: float) -> Line:
    """Return the line of a timing check: the test's verdict on pooled block samples."""
    faster = check.faster_margin or check.margin
    test = timing.compare_samples(current, base, check.margin, faster)
    if test.p_slower < alpha:
        verdict = Verdict.REGRESSION
    elif test.p_faster < alpha:
        verdict = Verdict.IMPROVEMENT
    else:
        verdict = Verdict.OK
    return Line(verdict, experiment, check.metric, test.current_median, test.baseline_median,
                f"x{test.ratio:.3f} (margin x{check.margin:g}"
                f"{f', faster x{faster:g}' if faster != check.margin else ''}; Mann-Whitney p slower "
                f"{test.p_slower:.2g}, faster {test.p_faster:.2g}, alpha {alpha:.2g}; "
                f"n {len(current)} vs {len(base)})")


def floor_lines(name: str, current: Mapping[str, float], unpruned: Mapping[str, float] | None,
                floors: Floors) -> list[Line]:
    """Return the hard floors' lines for one experiment's figures (medians over seeds)."""
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
        if unpruned is not None and "accuracy" in current and "accuracy" in unpruned:
            bound = unpruned["accuracy"] - floors.pruned_accuracy_drop
            ok = current["accuracy"] >= bound
            lines.append(Line(Verdict.OK if ok else Verdict.REGRESSION, name, "accuracy",
                              current["accuracy"], None,
                              f">= {bound:.6g} (floor: unpruned - {floors.pruned_accuracy_drop:g})"))
        if unpruned is not None and "mse" in current and "mse" in unpruned:
            bound = floors.pruned_mse_factor * unpruned["mse"]
            ok = current["mse"] <= bound
            lines.append(Line(Verdict.OK if ok else Verdict.REGRESSION, name, "mse",
                              current["mse"], None,
                              f"<= {bound:.6g} (floor: {floors.pruned_mse_factor:g}x unpruned)"))
    return lines


def exit_code(lines: Sequence[Line], strict: bool = False) -> int:
    """Return 1 when any line regressed (or improved, under ``strict``), else 0."""
    bad = {Verdict.REGRESSION, Verdict.IMPROVEMENT} if strict else {Verdict.REGRESSION}
    return 1 if any(line.verdict in bad for line in lines) else 0


def current_medians(record: Any) -> dict[str, dict[str, float]]:
    """Return {experiment: {metric: median over the record's seeds}}."""
    return {name: {metric: stats["median"] for metric, stats in metrics.items()}
            for name, metrics in record.aggregate().items()}

