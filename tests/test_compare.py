"""Check objects, the timing test and floors on literal numbers, at the boundaries."""

from __future__ import annotations

import numpy as np
import pytest

from prunebench import compare, timing
from prunebench.compare import Band, Floors, PairedCheck, TimingCheck, Verdict
from prunebench.errors import UsageError

MSE = PairedCheck("mse", "lower", same=Band(rel=0.001), cross=Band(rel=0.02))
SPARSITY = PairedCheck("sparsity", "higher", same=Band(abs=0.0005), cross=Band(abs=0.002))


def test_band_is_the_wider_of_rel_and_abs():
    assert Band(rel=0.01, abs=3).width(100) == 3
    assert Band(rel=0.01, abs=3).width(1000) == 10
    assert Band(rel=0.5).width(-2) == 1  # of |reference|


@pytest.mark.parametrize(
    ("value", "same", "cross"),
    [
        (1.0, Verdict.OK, Verdict.OK),
        (1.001, Verdict.OK, Verdict.OK),                  # at the same band's edge
        (1.0011, Verdict.REGRESSION, Verdict.CHANGED),    # beyond noise, inside cross
        (1.0199, Verdict.REGRESSION, Verdict.CHANGED),    # just inside the cross band
        (1.0201, Verdict.REGRESSION, Verdict.REGRESSION),
        (1.10, Verdict.REGRESSION, Verdict.REGRESSION),   # the detection target: 10% worse
        (0.9989, Verdict.IMPROVEMENT, Verdict.CHANGED),
        (0.9799, Verdict.IMPROVEMENT, Verdict.IMPROVEMENT),
    ],
)
def test_lower_is_better_in_each_band(value, same, cross):
    assert MSE.verdict(1.0, value, "same") is same
    assert MSE.verdict(1.0, value, "cross") is cross


def test_higher_is_better_boundaries():
    assert SPARSITY.limit(0.5, "cross") == pytest.approx(0.498)
    assert SPARSITY.verdict(0.5, 0.4996, "same") is Verdict.OK
    assert SPARSITY.verdict(0.5, 0.4994, "same") is Verdict.REGRESSION
    assert SPARSITY.verdict(0.5, 0.495, "cross") is Verdict.REGRESSION  # 0.5 points under
    assert SPARSITY.verdict(0.5, 0.5021, "cross") is Verdict.IMPROVEMENT


def test_paired_line_carries_the_worst_seed():
    base = {0: 1.0, 1: 2.0, 2: 3.0}
    line = compare.judge_paired(MSE, "e", base, {0: 1.0, 1: 2.5, 2: 2.0}, "same")
    assert line.verdict is Verdict.REGRESSION
    assert (line.value, line.baseline) == (2.5, 2.0)
    assert "seed 1" in line.limit and "1 regression, 1 improvement, 1 ok" in line.limit


def test_pairing_is_by_seed_not_by_median():
    # Same median and same set of values, but each seed got worse by swapping: caught.
    base = {0: 1.0, 1: 2.0, 2: 3.0}
    line = compare.judge_paired(MSE, "e", base, {0: 3.0, 1: 2.0, 2: 1.0}, "cross")
    assert line.verdict is Verdict.REGRESSION


def test_bad_direction_or_negative_tolerance_rejected():
    with pytest.raises(UsageError, match="better"):
        PairedCheck("m", "smaller", Band(), Band())
    with pytest.raises(UsageError, match=">= 0"):
        Band(rel=-0.1)
    with pytest.raises(UsageError, match="margin"):
        TimingCheck("t", "keras", 0.9)


def _samples(centre, n, seed):
    return list(centre * np.exp(np.random.default_rng(seed).normal(0, 0.03, n)))


def test_timing_test_sees_a_slowdown_beyond_the_margin_and_not_inside_it():
    check = TimingCheck("keras_time_ratio", "keras", margin=1.3)
    base = _samples(1.0, 75, 0)
    assert compare.judge_timing(check, "e", base, _samples(1.5, 45, 1), 1e-3).verdict \
        is Verdict.REGRESSION
    assert compare.judge_timing(check, "e", base, _samples(1.2, 45, 2), 1e-3).verdict is Verdict.OK
    assert compare.judge_timing(check, "e", base, _samples(0.6, 45, 3), 1e-3).verdict \
        is Verdict.IMPROVEMENT


def test_timing_test_p_values_on_separated_samples():
    test = timing.compare_samples([2.0, 2.1, 2.2], [1.0, 1.1, 1.2], margin=1.0)
    assert test.p_slower == pytest.approx(0.05)  # 1 / C(6, 3): complete separation
    assert test.ratio == pytest.approx(2.1 / 1.1)
    assert timing.compare_samples([2.0, 2.1, 2.2], [1.0, 1.1, 1.2], margin=2.5).p_slower > 0.5


def test_block_ratios_pair_rounds():
    assert timing.block_ratios([2.0, 3.0], [1.0, 2.0]) == [2.0, 1.5]
    with pytest.raises(ValueError):
        timing.block_ratios([1.0], [1.0, 2.0])


FLOORS = Floors(sparsity_below_target=0.01, pruned_zip_below_unpruned=True, pruned_mse_factor=3.0)
UNPRUNED = {"mse": 0.1, "keras_zip_bytes": 7000.0, "target_sparsity": 0.0, "sparsity_pruned": 0.0}


def _pruned(**overrides):
    figures = {"mse": 0.2, "keras_zip_bytes": 5000.0, "target_sparsity": 0.5,
               "sparsity_pruned": 0.5}
    return {**figures, **overrides}


def _floor_verdicts(pruned):
    return {line.metric: line.verdict
            for line in compare.floor_lines("whole_model", pruned, UNPRUNED, FLOORS)}


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


def test_improvement_passes_unless_strict():
    line = compare.Line(Verdict.IMPROVEMENT, "e", "mse", 0.1, 1.0, "<= 1.5")
    changed = compare.Line(Verdict.CHANGED, "e", "mse", 0.1, 1.0, "<= 1.5")
    assert compare.exit_code([line, changed]) == 0
    assert compare.exit_code([line], strict=True) == 1
    assert compare.exit_code([changed], strict=True) == 0


def test_packaged_thresholds_load_and_cover_every_gated_metric():
    thresholds = compare.load_thresholds()
    paired = {c.metric: c for c in thresholds.paired}
    assert paired["mse"].better == "lower"
    assert paired["sparsity_pruned"].better == "higher"
    assert {"keras_zip_bytes", "tflite_zip_bytes", "tflite_int8_zip_bytes"} <= set(paired)
    assert {c.metric for c in thresholds.timing} == {"keras_time_ratio", "tflite_time_ratio",
                                                     "tflite_sparse_vs_dense"}
    assert thresholds.family_alpha <= 0.01


@pytest.mark.parametrize(("metric", "worse", "base"), [
    ("mse", 1.10, 1.0), ("mse_vs_unpruned", 1.10, 1.0), ("sparsity_pruned", 0.495, 0.5),
    ("keras_zip_bytes", 1.02 * 5000, 5000.0), ("tflite_zip_bytes", 1.02 * 5000, 5000.0)])
def test_packaged_bands_are_inside_the_detection_targets(metric, worse, base):
    check = {c.metric: c for c in compare.load_thresholds().paired}[metric]
    for regime in compare.REGIMES:
        assert check.verdict(base, worse, regime) is Verdict.REGRESSION, regime


def test_bad_thresholds_file_refused(tmp_path):
    path = tmp_path / "t.toml"
    path.write_text("[paired.mse]\nbetter = 'lower'\nfactor = 2\n")
    with pytest.raises(UsageError, match="bad thresholds file"):
        compare.load_thresholds(path)


def test_timing_improvement_needs_its_own_wider_margin():
    base = [1.0, 1.01, 0.99, 1.02, 0.98] * 6
    faster = [v * 0.75 for v in base]  # a busy neighbour's x0.75, not a faster TensorFlow
    check = compare.TimingCheck("keras_time_ratio", "keras", margin=1.2, faster_margin=1.45)
    assert compare.judge_timing(check, "e", base, faster, 0.001).verdict is compare.Verdict.OK
    same = compare.TimingCheck("keras_time_ratio", "keras", margin=1.2)
    assert compare.judge_timing(same, "e", base, faster, 0.001).verdict is compare.Verdict.IMPROVEMENT
    slower = [v * 1.3 for v in base]
    assert compare.judge_timing(check, "e", base, slower, 0.001).verdict is compare.Verdict.REGRESSION
