"""The upgrade's judge on records of literal figures: which seeds pair, what each figure gets."""

from __future__ import annotations

import numpy as np
import pytest

from prunebench import compare, distribution, judge, record
from prunebench.compare import Verdict

THRESHOLDS = compare.load_thresholds()
TASK = "t"
NAMES = (f"{TASK}/unpruned", f"{TASK}/pruned")


def side(losses, accuracy=0.9, sparsity=0.5, zip_bytes=1000.0, seeds=None, names=NAMES,
         refused=None):
    """Return a record: losses[name] is a list of the loss of each seed (default 0, 1, ...)."""
    seeds = list(seeds if seeds is not None else range(len(next(iter(losses.values())))))
    results = [{"experiment": name, "seed": seed,
                "metrics": {"loss": float(losses[name][i]), "accuracy": accuracy,
                            "sparsity_pruned": 0.0 if name.endswith("unpruned") else sparsity,
                            "keras_zip_bytes": zip_bytes}}
               for name in names for i, seed in enumerate(seeds)]
    return record.RunRecord(profile="quick", seeds=seeds,
                            experiments={n: {"config": {"task": TASK}} for n in names},
                            results=results, environment={"tf": "2.21.0"},
                            refused=dict(refused or {}))


def lines_of(found, metric):
    return {ln.experiment: ln for ln in found.lines if ln.metric == metric}


def test_identical_sides_are_ok_on_every_figure_and_say_so():
    a = side({NAMES[0]: [0.5, 0.6, 0.7], NAMES[1]: [0.4, 0.5, 0.6]})
    found = judge.judge(a, a, THRESHOLDS)
    assert found.reproduction[TASK][0] is True
    assert {ln.verdict for ln in found.lines} == {Verdict.OK}
    assert all("identical on every seed" in ln.limit for ln in found.lines)
    assert found.exit_code() == 0


def test_where_training_reproduces_each_seed_is_judged_against_the_minimum_and_sizes_their_cross_band():
    a = side({NAMES[0]: [0.5, 0.6, 0.7], NAMES[1]: [0.4, 0.5, 0.6]})
    b = side({NAMES[0]: [0.5, 0.6, 0.7], NAMES[1]: [0.4, 0.5, 0.603]})  # +0.5% on seed 2
    found = judge.judge(a, b, THRESHOLDS)
    assert found.reproduction[TASK][0] is True
    line = lines_of(found, "loss")[NAMES[1]]
    assert line.verdict is Verdict.CHANGED and "seed 2; minimum effect" in line.limit
    assert found.exit_code() == 0
    worse = side({NAMES[0]: [0.5, 0.6, 0.7], NAMES[1]: [0.4, 0.56, 0.6]})  # +12% on seed 1
    assert lines_of(judge.judge(a, worse, THRESHOLDS), "loss")[NAMES[1]].verdict is Verdict.REGRESSION
    thinner = side({NAMES[0]: [0.5, 0.6, 0.7], NAMES[1]: [0.4, 0.5, 0.6]}, sparsity=0.497)
    found = judge.judge(a, thinner, THRESHOLDS)
    line = lines_of(found, "sparsity_pruned")[NAMES[1]]
    assert line.verdict is Verdict.REGRESSION and "cross band 0.002 abs" in line.limit
    assert found.exit_code() == 1
    # A converter's few bytes more: news, not a regression.
    bigger = side({NAMES[0]: [0.5, 0.6, 0.7], NAMES[1]: [0.4, 0.5, 0.6]}, zip_bytes=1010.0)
    assert lines_of(judge.judge(a, bigger, THRESHOLDS), "keras_zip_bytes")[NAMES[1]].verdict is (
        Verdict.CHANGED)
    # Forced seed by seed in the same band (check in its baseline's environment): all count.
    strict = judge.judge(a, b, THRESHOLDS, mode="paired")
    assert lines_of(strict, "loss")[NAMES[1]].verdict is Verdict.REGRESSION


def test_where_training_differs_quality_is_judged_over_seeds_and_sizes_keep_their_cross_band():
    rng = np.random.default_rng(0)
    base = rng.uniform(0.4, 0.6, 8)
    a = side({NAMES[0]: base, NAMES[1]: base * 0.9})
    # Another Keras build: every seed moves +-30%, the medians do not.
    b = side({NAMES[0]: base[::-1], NAMES[1]: base[::-1] * 0.9}, zip_bytes=1020.0)
    found = judge.judge(a, b, THRESHOLDS)
    assert found.reproduction[TASK][0] is False
    assert "t/unpruned differs: t/unpruned.loss seed" in found.reproduction[TASK][1]
    loss = lines_of(found, "loss")[NAMES[1]]
    assert loss.limit.startswith("over seeds")
    assert loss.verdict in (Verdict.OK, Verdict.INCONCLUSIVE)
    size = lines_of(found, "keras_zip_bytes")[NAMES[1]]
    assert size.verdict is Verdict.REGRESSION and "cross band" in size.limit  # +2% > 1.5%


def test_a_gross_worsening_over_eight_seeds_is_worse_and_three_seeds_are_inconclusive():
    rng = np.random.default_rng(1)
    base = rng.uniform(0.45, 0.55, 8)
    a = side({NAMES[0]: base, NAMES[1]: base})
    b = side({NAMES[0]: base[::-1], NAMES[1]: base[::-1] * 1.5})
    found = judge.judge(a, b, THRESHOLDS)
    assert lines_of(found, "loss")[NAMES[1]].verdict is Verdict.REGRESSION
    few_a = side({NAMES[0]: base[:3], NAMES[1]: base[:3]})
    few_b = side({NAMES[0]: base[:3][::-1], NAMES[1]: base[:3][::-1] * 1.5})
    few = judge.judge(few_a, few_b, THRESHOLDS)
    line = lines_of(few, "loss")[NAMES[1]]
    assert line.verdict is Verdict.INCONCLUSIVE
    assert "seeds a side would decide" in line.limit
    assert few.exit_code() == 4


def test_where_training_differs_the_same_seeds_are_judged_by_their_differences():
    # Another Keras build moves every seed by up to 2%, the seeds' own spread is 40%: each
    # seed's difference bounds B's worsening inside the minimum (10%), where every A
    # against every B cannot; B given other seeds, nothing pairs.
    rng = np.random.default_rng(4)
    base = rng.uniform(0.4, 0.6, 6)
    a = side({NAMES[0]: base, NAMES[1]: base * 0.9})
    moved = base * (1 + rng.uniform(-0.02, 0.02, 6))
    found = judge.judge(a, side({NAMES[0]: moved, NAMES[1]: moved * 0.9}), THRESHOLDS)
    assert found.reproduction[TASK][0] is False
    line = lines_of(found, "loss")[NAMES[1]]
    assert line.verdict is Verdict.OK and "the ok bound by seed" in line.limit, line.limit
    other = side({NAMES[0]: moved, NAMES[1]: moved * 0.9}, seeds=range(100, 106))
    line = lines_of(judge.judge(a, other, THRESHOLDS, mode="distribution"), "loss")[NAMES[1]]
    assert line.verdict is Verdict.INCONCLUSIVE and "by seed" not in line.limit


def test_a_layer_refused_by_b_only_is_worse_and_one_refused_by_a_only_is_a_note():
    a = side({NAMES[0]: [0.5, 0.6], NAMES[1]: [0.4, 0.5]}, refused={"t/other": "no"})
    b = side({NAMES[0]: [0.5, 0.6], "t/other": [0.4, 0.5]}, names=(NAMES[0], "t/other"),
             refused={NAMES[1]: "refused"})
    found = judge.judge(a, b, THRESHOLDS)
    refused = lines_of(found, "refused")
    assert refused[NAMES[1]].verdict is Verdict.REGRESSION and "A ran it" in refused[NAMES[1]].limit
    assert any("t/other: A refused it" in note for note in found.notes)


def test_other_seeds_on_b_judge_quality_over_seeds_and_say_what_cannot_pair():
    a = side({NAMES[0]: [0.5, 0.6, 0.7], NAMES[1]: [0.4, 0.5, 0.6]}, seeds=[0, 1, 2])
    b = side({NAMES[0]: [0.5, 0.6, 0.7], NAMES[1]: [0.4, 0.5, 0.6]}, seeds=[100, 101, 102])
    found = judge.judge(a, b, THRESHOLDS, mode="distribution")
    assert "other seeds" in found.reproduction[TASK][1]
    assert lines_of(found, "loss")[NAMES[1]].limit.startswith("over seeds")
    assert any("keras_zip_bytes not judged" in note for note in found.notes)
    with pytest.raises(ValueError):
        judge.judge(a, b, THRESHOLDS, mode="paired")


def _verdicts(shift_in_minimums, draws, seeds=8, experiments=10, seed=7):
    """Return how many of ``draws`` A/B verdicts call some figure worse.

    Each of ``experiments`` pruned experiments' loss is lognormal with a 5% spread over
    seeds; B's is shifted by ``shift_in_minimums`` times the minimum effect (10%), the
    unpruned one differs seed by seed (no pairing), as across Keras builds.
    """
    rng = np.random.default_rng(seed)
    names = (NAMES[0], *(f"{TASK}/p{i}" for i in range(experiments)))
    alarms = 0
    for _ in range(draws):
        losses_a = {n: 0.5 * np.exp(rng.normal(0, 0.05, seeds)) for n in names}
        losses_b = {n: 0.5 * np.exp(rng.normal(0, 0.05, seeds)) for n in names}
        for n in names[1:]:
            losses_b[n] = losses_b[n] * (1 + 0.1 * shift_in_minimums)
        found = judge.judge(side(losses_a, names=names), side(losses_b, names=names), THRESHOLDS)
        alarms += any(ln.verdict is Verdict.REGRESSION for ln in found.lines)
    return alarms


def test_the_verdicts_false_alarm_rate_at_the_minimum_effect_is_within_its_family_alpha():
    # Every figure worse by exactly the minimum effect: the edge of "not worth calling".
    # Bonferroni over the 11 losses judged keeps the verdict's rate <= 1% (22 of 3,000
    # here); each test at the whole 1% alarmed in 8.9% of verdicts (267 of 3,000).
    alarms = _verdicts(1.0, draws=3000)
    assert alarms / 3000 <= 0.01


def test_the_verdict_has_power_beyond_the_minimum_effect_at_eight_seeds():
    # 8 seeds a side, 5% spread: a worsening of twice the minimum (+20%) is called.
    assert _verdicts(2.0, draws=40) / 40 >= 0.9


def test_a_converter_moving_the_unpruned_tflite_figures_does_not_make_training_differ():
    a = side({NAMES[0]: [0.5, 0.6, 0.7], NAMES[1]: [0.4, 0.5, 0.6]})
    b = side({NAMES[0]: [0.5, 0.6, 0.7], NAMES[1]: [0.4, 0.5, 0.6]})
    for result in a.results:
        result["metrics"]["tflite_accuracy"] = 0.9
    for result in b.results:  # B's converter: its unpruned TFLite model 2 points worse on seed 0
        moved = result["experiment"] == NAMES[0] and result["seed"] == 0
        result["metrics"]["tflite_accuracy"] = 0.88 if moved else 0.9
    found = judge.judge(a, b, THRESHOLDS)
    assert found.reproduction[TASK] == (True, f"{NAMES[0]} identical on every seed (accuracy, loss)")
    line = lines_of(found, "tflite_accuracy")[NAMES[0]]
    assert line.verdict is Verdict.REGRESSION and "seeds reproduce" in line.limit


def _sequential(shift, looks, draws, divide=True, seed=11):
    """Return how often the pruned loss ends OK and WORSE when seeds are added while the
    verdict is undecided, at the looks given (judged over seeds: 'distribution')."""
    rng = np.random.default_rng(seed)
    counted = distribution.looks_counted([(n, n) for n in looks], 0.05) if divide else 1
    ended = {Verdict.OK: 0, Verdict.REGRESSION: 0}
    for _ in range(draws):
        a = {n: 0.5 * np.exp(rng.normal(0, 0.05, looks[-1])) for n in NAMES}
        b = {n: 0.5 * np.exp(rng.normal(0, 0.05, looks[-1])) for n in NAMES}
        b[NAMES[1]] = b[NAMES[1]] * (1 + shift)
        for k, size in enumerate(looks, start=1):
            found = judge.judge(side({n: v[:size] for n, v in a.items()}),
                                side({n: v[:size] for n, v in b.items()}), THRESHOLDS,
                                "distribution", look=(k, len(looks)), counted=counted)
            if found.exit_code() != 4:
                break
        verdict = lines_of(found, "loss")[NAMES[1]].verdict
        ended[verdict] = ended.get(verdict, 0) + 1
    return {v: n / draws for v, n in ended.items()}


def test_adding_seeds_while_undecided_keeps_the_rate_of_passing_a_worsening_of_the_minimum():
    # B worse by exactly the minimum effect (+10%), 5% spread, looks at 3, 6, 12 and 16
    # seeds a side: ok at any look is a false pass. Each look's tests at 1/3 of their
    # levels (3 against 3 seeds cannot reach 5% / 3: that look counts for none) keep it
    # within 5% (2,000 draws: 3.6%); at their whole levels every look is another chance
    # (2,000 draws: 11.8%). A clean B: ok by the last look in 100 of 100.
    looks = (3, 6, 12, 16)
    assert _sequential(0.1, looks, draws=400)[Verdict.OK] <= 0.05 + 3 * (0.05 * 0.95 / 400) ** 0.5
    assert _sequential(0.1, looks, draws=400, divide=False)[Verdict.OK] > 0.05
    # and a clean B is mostly decided ok by the last look
    assert _sequential(0.0, looks, draws=100)[Verdict.OK] >= 0.8
    found = judge.judge(side({n: [0.5, 0.6, 0.7] for n in NAMES}),
                        side({n: [0.6, 0.5, 0.7] for n in NAMES}), THRESHOLDS, "distribution",
                        look=(2, 4), power=True)
    said = lines_of(found, "loss")[NAMES[1]].limit
    assert "(look 2 of 4, levels / 4)" in said and "no worsening at all is called ok" in said


def test_a_figure_that_is_not_a_number_on_b_is_a_regression_seed_by_seed_and_over_seeds():
    nan = float("nan")
    a = side({NAMES[0]: [0.5, 0.6, 0.7], NAMES[1]: [0.4, 0.5, 0.6]})
    # B's fine-tuning diverges on seed 1, its unpruned models reproduce: seed by seed.
    diverged = judge.judge(a, side({NAMES[0]: [0.5, 0.6, 0.7], NAMES[1]: [0.4, nan, 0.6]}),
                           THRESHOLDS)
    assert diverged.reproduction[TASK][0] is True
    line = lines_of(diverged, "loss")[NAMES[1]]
    assert line.verdict is Verdict.REGRESSION and "seed 1" in line.limit, line.limit
    # B's training diverges on seed 1: the seeds do not reproduce, quality goes over them.
    b = side({NAMES[0]: [0.5, nan, 0.7], NAMES[1]: [0.4, nan, 0.6]})
    found = judge.judge(a, b, THRESHOLDS)
    assert found.reproduction[TASK][0] is False
    line = lines_of(found, "loss")[NAMES[1]]
    assert line.verdict is Verdict.REGRESSION
    assert "not a finite number on B's seeds [1] of 3, A's none of 3" in line.limit
    assert found.exit_code() == 1
    # Only A's seed diverged: undecided over the seeds, never a pass.
    back = judge.judge(b, a, THRESHOLDS)
    assert lines_of(back, "loss")[NAMES[1]].verdict is Verdict.INCONCLUSIVE
    # Both sides the same on every seed, that one included: identical.
    assert {ln.verdict for ln in judge.judge(b, b, THRESHOLDS).lines} == {Verdict.OK}
