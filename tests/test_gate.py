"""The regression gate against the committed baseline of the installed TensorFlow.

The injection tests break tfmot or tf-keras from outside (the fault catalogue's patches
of *their* code, scripts/inject/fault_catalogue.py, never prunebench's) and prove the gate
goes red naming the right figure. They run the quick profile on seed 0, which the baseline
also holds: each figure is paired with seed 0 of the baseline, and timing is judged by the
gate's Mann-Whitney test beyond its margin, so a clean run under pytest-xdist (a busy
neighbour) stays green.
"""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

from conftest import inject, record_from_trained_base
from prunebench import baseline, compare, config, gate, kerasenv, record
from prunebench.compare import Verdict
from prunebench.errors import UsageError

# One worker runs them all: each fine-tunes the same trained unpruned model of seed 0
# (conftest.record_from_trained_base), trained once.
pytestmark = [pytest.mark.gate, pytest.mark.xdist_group("friedman1-quick-seed0")]

PROFILE = config.PROFILES["quick"]
SEEDS = (0,)


@pytest.fixture(scope="module")
def baseline_document():
    # The installed version's own baseline; a version without one (a nightly) is judged
    # against the newest older one, as `prunebench check` does.
    major, minor = kerasenv.parse_minor(kerasenv.tf_version() or "0.0")
    try:
        path, _ = baseline.find(f"{major}.{minor}")
    except UsageError as exc:
        pytest.fail(str(exc))
    return path, baseline.load(path)


def judge(baseline_document, names=("whole_model",)) -> list[compare.Line]:
    """Return the gate's lines for a quick run of ``names`` (plus unpruned) on SEEDS."""
    path, document = baseline_document
    rec = quick_record(names)
    judged = gate.gate(rec, document, path, compare.load_thresholds(),
                       other_tf=str(document["tf_minor"]) != record.tf_minor(rec.environment))
    # Shown with pytest -rP: the evidence behind each verdict, and the band it was judged in.
    print(f"{judged.regime} band; differences: {judged.differences}; notes: {judged.notes}")
    print(explain(judged.lines))
    return judged.lines


def regressed(lines: list[compare.Line]) -> set[str]:
    return {f"{ln.experiment}.{ln.metric}" for ln in lines if ln.verdict is Verdict.REGRESSION}


def explain(lines: list[compare.Line]) -> str:
    return "\n".join(ln.render() for ln in lines)


@pytest.fixture(scope="module")
def clean_run() -> record.RunRecord:
    """A clean quick run of the canonical three on SEEDS: judged against the stored baseline,
    and the session's reference of the timing test."""
    return quick_record(("whole_model", "dense_only"))


def test_clean_quick_gate_passes(baseline_document, clean_run):
    path, document = baseline_document
    judged = gate.gate(clean_run, document, path, compare.load_thresholds(),
                       other_tf=str(document["tf_minor"]) != record.tf_minor(clean_run.environment))
    print(f"{judged.regime} band; differences: {judged.differences}; notes: {judged.notes}")
    print(explain(judged.lines))
    assert compare.exit_code(judged.lines) == 0, explain(judged.lines)
    assert {ln.experiment for ln in judged.lines} == {"unpruned", "whole_model", "dense_only"}


def test_schedule_reaching_less_sparsity_is_caught(baseline_document, monkeypatch):
    inject(monkeypatch, "schedule", 0.1)  # asks 0.5, delivers 0.4
    lines = judge(baseline_document)
    assert compare.exit_code(lines) == 1
    assert "whole_model.sparsity_pruned" in regressed(lines), explain(lines)


def test_mask_keeping_the_smallest_weights_is_caught(baseline_document, monkeypatch):
    inject(monkeypatch, "mask_inverted")  # the largest weights pruned, the smallest kept
    lines = judge(baseline_document)
    assert compare.exit_code(lines) == 1
    assert "whole_model.mse" in regressed(lines), explain(lines)


def quick_record(names: tuple[str, ...]) -> record.RunRecord:
    """Return the record of a quick run of ``names`` (plus unpruned) on SEEDS, here, each
    fine-tuned from the module's one trained unpruned model."""
    [seed] = SEEDS
    return record_from_trained_base(names, seed, PROFILE)


def timing_lines(judged: gate.Judgement) -> list[compare.Line]:
    return [ln for ln in judged.lines if ln.metric.endswith("_time_ratio")]


def on_another_cpu(document: dict) -> dict:
    """Return a copy of a baseline whose recorded CPU type is not this host's."""
    copied = copy.deepcopy(document)
    copied["profiles"][PROFILE.name]["environment"]["cpu_id"] = "another CPU type (a test's copy)"
    return copied


def test_dense_layers_doing_four_times_the_work_are_caught(baseline_document, clean_run,
                                                          monkeypatch):
    """Against the stored baseline where its timing can be used here; otherwise (another CPU
    type, a baseline timed busy) against the same models timed clean in this session. Both
    ways, whatever the host: with the baseline as recorded, and with a copy whose CPU type
    is another's, which the stored timing can never judge."""
    path, document = baseline_document
    thresholds = compare.load_thresholds()
    other_tf = str(document["tf_minor"]) != record.tf_minor(clean_run.environment)
    inject(monkeypatch, "dense_fourfold")  # every Dense output computed four times, unchanged
    slower = quick_record(("whole_model",))
    reference = baseline.session_reference(clean_run)  # this session's: no work injected
    for label, stored in (("as recorded", document), ("on another CPU type", on_another_cpu(document))):
        judged = gate.gate(slower, stored, path, thresholds, other_tf=other_tf)
        if label == "on another CPU type":
            assert not timing_lines(judged) and any("another CPU type" in n for n in judged.notes)
        if not timing_lines(judged):
            # Four times the Dense arithmetic, every value unchanged: nothing else differs.
            judged = gate.gate(slower, reference, Path("this session's clean run"), thresholds,
                               same_session=True)
        print(f"{label}: {judged.regime} band; notes: {judged.notes}")
        print(explain(judged.lines))
        assert compare.exit_code(judged.lines) == 1, f"{label}\n{explain(judged.lines)}"
        # The Keras path x2 or more alone: under pytest-xdist, with the other worker
        # training beside it, twice the work showed only x1.27-x1.53 on one seed's 15
        # samples, too close to the margins to be called every time.
        assert "whole_model.keras_time_ratio" in regressed(judged.lines), f"{label}\n{explain(judged.lines)}"


def test_stripped_weights_no_longer_exactly_zero_are_caught(baseline_document, monkeypatch):
    api = kerasenv.tfmot().sparsity.keras
    original = api.strip_pruning

    inject(monkeypatch, "strip_leak", 1e-7)  # pruned weights left at N(0, 1e-7), not 0
    assert api.strip_pruning is not original  # the public name prunebench calls, too
    lines = judge(baseline_document)
    assert compare.exit_code(lines) == 1
    assert "whole_model.keras_zip_bytes" in regressed(lines), explain(lines)
