"""Check objects and floors on literal numbers, at the boundaries, in each direction."""

from __future__ import annotations

import pytest

from prunebench import compare
from prunebench.compare import Floors, Stats, Thresholds, Tolerance, Verdict
from prunebench.errors import UsageError

BASE = Stats(median=1.0, min=0.9, max=1.2)  # seed range 0.3


@pytest.mark.parametrize(
    ("tol", "width"),
    [
        (Tolerance("m", "lower", rel=0.5), 0.5),
        (Tolerance("m", "lower", abs=0.2), 0.2),
        (Tolerance("m", "lower", spread=1.0), 0.3),
        (Tolerance("m", "lower", rel=0.1, abs=0.05, spread=2.0), 0.6),  # the widest wins
    ],
)
def test_width_is_the_widest_of_rel_abs_and_spread(tol, width):
    assert tol.width(BASE) == pytest.approx(width)


def test_lower_is_better_boundaries():
    tol = Tolerance("mse", "lower", abs=0.25)  # limit 1.25
    assert tol.verdict(BASE, 1.25) is Verdict.OK          # exactly at the limit
    assert tol.verdict(BASE, 1.2499) is Verdict.OK        # just inside
    assert tol.verdict(BASE, 1.2501) is Verdict.REGRESSION  # just outside
    assert tol.verdict(BASE, 0.7501) is Verdict.OK
    assert tol.verdict(BASE, 0.7499) is Verdict.IMPROVEMENT
    assert tol.limit(BASE) == 1.25
    assert tol.fails(BASE, 1.26) and not tol.fails(BASE, 0.5)


def test_higher_is_better_boundaries():
    tol = Tolerance("sparsity", "higher", abs=0.005)
    base = Stats(0.5, 0.5, 0.5)
    assert tol.limit(base) == pytest.approx(0.495)
    assert tol.verdict(base, 0.4951) is Verdict.OK
    assert tol.verdict(base, 0.4949) is Verdict.REGRESSION
    assert tol.verdict(base, 0.5049) is Verdict.OK
    assert tol.verdict(base, 0.5051) is Verdict.IMPROVEMENT


def test_zero_tolerance_flags_any_change():
    tol = Tolerance("bytes", "lower")
    assert tol.verdict(Stats(100, 100, 100), 100) is Verdict.OK
    assert tol.verdict(Stats(100, 100, 100), 101) is Verdict.REGRESSION


def test_bad_direction_or_negative_tolerance_rejected():
    with pytest.raises(UsageError, match="better"):
        Tolerance("m", "smaller")
    with pytest.raises(UsageError, match=">= 0"):
        Tolerance("m", "lower", rel=-0.1)


FLOORS = Floors(sparsity_below_target=0.01, pruned_zip_below_unpruned=True, pruned_mse_factor=3.0)
NO_TOLERANCES = Thresholds((), FLOORS)
UNPRUNED = {"mse": 0.1, "keras_zip_bytes": 7000.0, "target_sparsity": 0.0, "sparsity_pruned": 0.0}


def _pruned(**overrides):
    figures = {"mse": 0.2, "keras_zip_bytes": 5000.0, "target_sparsity": 0.5,
               "sparsity_pruned": 0.5}
    return {**figures, **overrides}


def _floor_verdicts(pruned):
    current = {"unpruned": UNPRUNED, "whole_model": pruned}
    baseline = {"unpruned": {}, "whole_model": {}}
    return {line.metric: line.verdict
            for line in compare.compare(current, baseline, NO_TOLERANCES)}


def test_floors_pass_a_healthy_pruned_model():
    assert set(_floor_verdicts(_pruned()).values()) == {Verdict.OK}


@pytest.mark.parametrize(
    ("override", "metric"),
    [
        ({"sparsity_pruned": 0.4899}, "sparsity_pruned"),   # below target - 0.01
        ({"keras_zip_bytes": 7000.0}, "keras_zip_bytes"),   # not smaller than unpruned
        ({"mse": 0.3001}, "mse"),                           # above 3x unpruned
    ],
)
def test_each_floor_fails_just_outside(override, metric):
    assert _floor_verdicts(_pruned(**override))[metric] is Verdict.REGRESSION


@pytest.mark.parametrize(
    "override", [{"sparsity_pruned": 0.49}, {"keras_zip_bytes": 6999.0}, {"mse": 0.3}]
)
def test_each_floor_holds_at_its_boundary(override):
    assert set(_floor_verdicts(_pruned(**override)).values()) == {Verdict.OK}


def test_compare_judges_every_gated_metric_and_collects_all_failures():
    thresholds = Thresholds(
        (Tolerance("mse", "lower", rel=0.5), Tolerance("keras_zip_bytes", "lower", rel=0.05)),
        FLOORS,
    )
    stats = {"median": 1.0, "min": 1.0, "max": 1.0}
    baseline = {"unpruned": {"mse": stats, "keras_zip_bytes": {**stats, "median": 7000.0,
                                                              "min": 7000.0, "max": 7000.0}}}
    lines = compare.compare({"unpruned": {"mse": 2.0, "keras_zip_bytes": 8000.0}}, baseline,
                            thresholds)
    assert [(ln.metric, ln.verdict) for ln in lines] == [
        ("mse", Verdict.REGRESSION), ("keras_zip_bytes", Verdict.REGRESSION)]
    assert compare.exit_code(lines) == 1
    assert lines[0].render().startswith("REGRESSION  unpruned.mse")


def test_improvement_passes_unless_strict():
    line = compare.Line(Verdict.IMPROVEMENT, "e", "mse", 0.1, 1.0, "<= 1.5")
    assert compare.exit_code([line]) == 0
    assert compare.exit_code([line], strict=True) == 1


def test_experiment_missing_from_baseline_cannot_be_judged():
    with pytest.raises(UsageError, match="no experiment 'new'"):
        compare.compare({"new": {"mse": 1.0}}, {}, NO_TOLERANCES)


def test_packaged_thresholds_load_and_cover_every_gated_metric():
    thresholds = compare.load_thresholds()
    metrics = {t.metric: t.better for t in thresholds.tolerances}
    assert metrics["mse"] == "lower"
    assert metrics["sparsity_pruned"] == "higher"
    assert {"keras_zip_bytes", "tflite_zip_bytes", "keras_time_ratio"} <= set(metrics)


def test_bad_thresholds_file_refused(tmp_path):
    path = tmp_path / "t.toml"
    path.write_text("[metrics.mse]\nbetter = 'lower'\nfactor = 2\n")
    with pytest.raises(UsageError, match="bad thresholds file"):
        compare.load_thresholds(path)
