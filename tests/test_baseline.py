"""Baselines: made from >= 5 seeds, merged per profile, refused when they cannot judge."""

from __future__ import annotations

import json
from pathlib import Path
from xml.etree import ElementTree

import pytest

from prunebench import baseline, compare, gate, record
from prunebench.errors import UsageError
from test_cli import assert_one_line_usage_error, prunebench

ROOT = Path(__file__).resolve().parents[1]

FIGURES = {"mse": 0.5, "mse_vs_unpruned": 1.0, "target_sparsity": 0.0, "sparsity_pruned": 0.0,
           "keras_zip_bytes": 7000.0}


def make_record(seeds=(0, 1, 2, 3, 4), tf="2.21.0", profile="quick", mse_step=0.01,
                mse_base=0.5):
    """Return a record of literal figures: MSE is mse_base, rising by mse_step per seed."""
    results = [{"experiment": "unpruned", "seed": s,
                "metrics": {**FIGURES, "mse": mse_base + mse_step * s}} for s in seeds]
    return record.RunRecord(profile=profile, seeds=list(seeds),
                            experiments={"unpruned": {"digest": "abc"}}, results=results,
                            environment={"tf": tf})


def test_update_writes_median_spread_and_values(tmp_path):
    path = tmp_path / "tf2.21.json"
    baseline.update(path, make_record())
    doc = baseline.load(path)
    mse = doc["profiles"]["quick"]["experiments"]["unpruned"]["metrics"]["mse"]
    assert mse["median"] == pytest.approx(0.52)
    assert (mse["min"], mse["max"]) == pytest.approx((0.5, 0.54))
    assert mse["values"] == pytest.approx({"0": 0.5, "1": 0.51, "2": 0.52, "3": 0.53, "4": 0.54})
    assert doc["tf_minor"] == "2.21"


def test_update_keeps_other_profiles(tmp_path):
    path = tmp_path / "b.json"
    baseline.update(path, make_record(profile="quick"))
    baseline.update(path, make_record(profile="full"))
    assert set(baseline.load(path)["profiles"]) == {"quick", "full"}


def test_fewer_than_five_seeds_refused(tmp_path):
    with pytest.raises(UsageError, match="at least 5 seeds"):
        baseline.update(tmp_path / "b.json", make_record(seeds=(0, 1, 2)))


def test_other_tf_version_refused_on_update_and_on_check(tmp_path):
    path = tmp_path / "b.json"
    baseline.update(path, make_record())
    with pytest.raises(UsageError, match=r"TF 2\.21, these results are TF 2\.17"):
        baseline.update(path, make_record(tf="2.17.1"))
    with pytest.raises(UsageError, match=r"results are from TF 2\.17"):
        gate.gate(make_record(tf="2.17.1"), baseline.load(path), path, compare.load_thresholds())


def test_changed_experiment_config_cannot_be_judged(tmp_path):
    path = tmp_path / "b.json"
    baseline.update(path, make_record())
    changed = make_record()
    changed.experiments["unpruned"]["digest"] = "def"
    with pytest.raises(UsageError, match="configured differently"):
        gate.gate(changed, baseline.load(path), path, compare.load_thresholds())


def test_gate_on_a_record_judged_against_itself_passes(tmp_path):
    path = tmp_path / "b.json"
    baseline.update(path, make_record())
    judged = gate.gate(make_record(seeds=(0, 1, 2)), baseline.load(path), path,
                       compare.load_thresholds())
    assert judged.lines and compare.exit_code(judged.lines) == 0
    assert judged.regime == "same" and judged.differences == []
    assert {ln.verdict for ln in judged.lines} == {compare.Verdict.OK}


def test_a_seed_the_baseline_lacks_is_refused_naming_it(tmp_path):
    path = tmp_path / "b.json"
    baseline.update(path, make_record())
    with pytest.raises(UsageError, match="no seed 7 to pair with"):
        gate.gate(make_record(seeds=(0, 7)), baseline.load(path), path, compare.load_thresholds())


def test_one_seed_worse_by_a_tenth_regresses_though_the_median_holds(tmp_path):
    path = tmp_path / "b.json"
    baseline.update(path, make_record())
    worse = make_record(seeds=(0, 1, 2))
    worse.results[0]["metrics"]["mse"] *= 1.10  # seed 0 only: the median is seed 1's
    judged = gate.gate(worse, baseline.load(path), path, compare.load_thresholds())
    mse = next(ln for ln in judged.lines if ln.metric == "mse" and "seed" in ln.limit)
    assert mse.verdict is compare.Verdict.REGRESSION and "seed 0" in mse.limit


def test_other_environment_whose_seeds_move_is_judged_over_seeds_and_named(tmp_path):
    path = tmp_path / "b.json"
    baseline.update(path, make_record())
    other = make_record(seeds=(0, 1, 2))
    other.environment = {"tf": "2.21.0", "packages": {"numpy": "9.9"}}
    other.results[1]["metrics"]["mse"] *= 1.01  # beyond same (0.1%): training moved
    judged = gate.gate(other, baseline.load(path), path, compare.load_thresholds())
    assert judged.regime == "over seeds"
    assert judged.differences == ["numpy 9.9 (baseline None)"]
    mse = next(ln for ln in judged.lines if ln.metric == "mse" and ln.limit.startswith("over"))
    assert mse.verdict is compare.Verdict.OK  # every difference inside 10% of the median
    assert "estimated from these seeds' spread" in mse.limit  # what its seeds could tell
    assert compare.exit_code(judged.lines) == 0
    crossed = gate.gate(other, baseline.load(path), path, compare.load_thresholds(), regime="cross")
    assert crossed.regime == "cross"
    assert compare.Verdict.CHANGED in {ln.verdict for ln in crossed.lines}


def test_old_format_baseline_is_read_paired_by_its_seed_order_and_says_what_it_lacks(tmp_path):
    old = tmp_path / "tf2.21.json"
    values = [0.5, 0.51, 0.52, 0.53, 0.54]
    old.write_text(json.dumps({"schema": "prunebench.baseline/1", "tf_minor": "2.21", "profiles": {
        "quick": {"seeds": [4, 3, 2, 1, 0], "created": "then", "environment": {"tf": "2.21.0"},
                  "experiments": {"unpruned": {"digest": "abc", "metrics": {"mse": {
                      "median": 0.52, "min": 0.5, "max": 0.54, "values": values}}}}}}}))
    document = baseline.load(old)
    assert document["profiles"]["quick"]["experiments"]["unpruned"]["metrics"]["mse"][
        "values"] == {"4": 0.5, "3": 0.51, "2": 0.52, "1": 0.53, "0": 0.54}
    rec = make_record(seeds=(0, 1), mse_base=0.54, mse_step=-0.01)  # seed 0: 0.54, seed 1: 0.53
    judged = gate.gate(rec, document, old, compare.load_thresholds())
    mse = next(ln for ln in judged.lines if ln.metric == "mse")
    assert mse.verdict is compare.Verdict.OK
    assert any("old-format baseline" in note and "prunebench baseline --update" in note
               for note in judged.notes)


def test_timing_samples_of_another_kind_are_not_judged_and_say_the_remake_command(tmp_path):
    path = tmp_path / "tf2.21.json"
    baseline.update(path, make_record())
    document = baseline.load(path)
    assert document["profiles"]["quick"][baseline.TIMING_SAMPLE_KEY] == record.TIMING_SAMPLE
    del document["profiles"]["quick"][baseline.TIMING_SAMPLE_KEY]  # a baseline of block means
    judged = gate.gate(make_record(), document, path, compare.load_thresholds())
    assert any("timing samples of another kind" in note and "prunebench baseline --update"
               in note for note in judged.notes)
    assert compare.exit_code(judged.lines) == 0


@pytest.mark.parametrize(
    ("content", "fragment"),
    [("not json", "corrupt baseline"), ('{"schema": "x"}', "is not a prunebench baseline"),
     (json.dumps({"schema": baseline.SCHEMA, "profiles": {"quick": {}}}), "corrupt baseline")],
)
def test_check_with_corrupt_baseline_exits_2(tmp_path, content, fragment):
    bad = tmp_path / "b.json"
    bad.write_text(content)
    assert_one_line_usage_error(prunebench("check", "--baseline", str(bad)), fragment)


def test_check_without_baseline_says_how_to_make_one(tmp_path):
    done = prunebench("check", cwd=tmp_path)
    assert_one_line_usage_error(done, "no baseline baselines/tf")


def test_check_profile_missing_from_baseline_names_the_command(tmp_path):
    path = tmp_path / "b.json"
    baseline.update(path, make_record(profile="full"))
    done = prunebench("check", "--profile", "quick", "--baseline", str(path))
    assert_one_line_usage_error(done, "prunebench baseline --update --profile quick")


def test_check_of_a_record_from_another_tf_whose_seeds_reproduce_is_judged_in_the_same_band(tmp_path):
    path, results = tmp_path / "b.json", tmp_path / "r.json"
    baseline.update(path, make_record(tf="2.17.1"))
    record.save(make_record(tf="2.21.0"), results)
    done = prunebench("check", "--baseline", str(path), "--results", str(results))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "tensorflow 2.21.0 (baseline 2.17.1)" in done.stdout
    assert "friedman1: seeds reproduce: unpruned identical on every seed" in done.stdout
    assert "gate: PASS - TF 2.21.0 judged against" in done.stdout.splitlines()[-1]
    assert "same band" in done.stdout.splitlines()[-1]
    forced = prunebench("check", "--baseline", str(path), "--results", str(results),
                        "--tolerance", "cross")
    assert "cross band" in forced.stdout.splitlines()[-1]


def classified(seeds=(0, 1, 2, 3, 4), factor=1.0, cpu_id="AMD"):
    """Return a record of a classifier's unpruned and pruned loss and accuracy; the pruned
    loss x factor."""
    results = [{"experiment": name, "seed": s,
                "metrics": {"loss": (0.04 + 0.002 * s) * (factor if name != "unpruned" else 1),
                            "accuracy": 0.98, "sparsity_pruned": 0.5 if name != "unpruned" else 0}}
               for name in ("unpruned", "whole_model") for s in seeds]
    return record.RunRecord(profile="quick", seeds=list(seeds),
                            experiments={"unpruned": {"digest": "a"}, "whole_model": {"digest": "b"}},
                            results=results, environment={"tf": "2.21.0", "cpu_id": cpu_id})


def test_on_another_cpu_type_a_worsening_after_identical_training_is_caught_seed_by_seed(tmp_path):
    """Another host that computes the same numbers (the Intel host against AMD baselines):
    a pruned loss 15% worse passed the cross band (50%); the seeds reproduce, so it is
    judged seed by seed against the minimum effect (10%)."""
    path = tmp_path / "b.json"
    baseline.update(path, classified())
    other = classified(seeds=(0, 1, 2), factor=1.15, cpu_id="another CPU type")
    judged = gate.gate(other, baseline.load(path), path, compare.load_thresholds())
    loss = next(ln for ln in judged.lines if ln.experiment == "whole_model" and ln.metric == "loss")
    assert judged.regime == "same" and loss.verdict is compare.Verdict.REGRESSION
    assert "minimum effect" in loss.limit
    assert any("seeds reproduce" in note for note in judged.notes)
    crossed = gate.gate(other, baseline.load(path), path, compare.load_thresholds(), regime="cross")
    assert compare.exit_code(crossed.lines) == 0  # what the cross band let through
    slight = classified(seeds=(0, 1, 2), factor=1.05, cpu_id="another CPU type")
    found = gate.gate(slight, baseline.load(path), path, compare.load_thresholds())
    assert {ln.verdict for ln in found.lines if ln.metric == "loss"} == {
        compare.Verdict.OK, compare.Verdict.CHANGED}  # moved, inside the minimum: news


def test_check_of_a_regressed_record_exits_1_naming_the_metric(tmp_path, monkeypatch):
    path, results = tmp_path / "b.json", tmp_path / "r.json"
    baseline.update(path, make_record(tf="2.21.0"))
    record.save(make_record(tf="2.21.0", mse_step=1.0), results)  # MSE 0.5 .. 4.5
    junit, markdown, summary = tmp_path / "junit.xml", tmp_path / "v.md", tmp_path / "summary"
    summary.write_text("earlier step\n")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    verdict = tmp_path / "verdict.json"
    done = prunebench("check", "--baseline", str(path), "--results", str(results),
                      "--junit", str(junit), "--markdown", str(markdown), "--json", str(verdict))
    assert done.returncode == 1, done.stdout + done.stderr
    assert "REGRESSION unpruned.mse:" in done.stdout
    assert "gate: FAIL" in done.stdout
    # Short by default: what is not ok, and how many figures were ok.
    verdict_lines = [ln for ln in done.stdout.splitlines() if " value " in ln]
    assert verdict_lines and not [ln for ln in verdict_lines if ln.startswith("ok ")]
    monkeypatch.delenv("GITHUB_STEP_SUMMARY")
    full = prunebench("check", "--baseline", str(path), "--results", str(results), "--full")
    printed = [ln for ln in full.stdout.splitlines() if ln.split(" ")[0] in
               ("ok", "changed", "IMPROVEMENT", "REGRESSION", "INCONCLUSIVE") and " value " in ln]
    oks = sum(ln.startswith("ok ") for ln in printed)
    assert oks and f"{oks} figure(s) ok, not listed (--full lists every line)" in done.stdout
    assert set(verdict_lines) <= set(printed) and len(printed) == len(verdict_lines) + oks
    # The same verdict for a CI system: a test case per line of --full, the regressions failed.
    suite = ElementTree.parse(junit).getroot().find("testsuite")
    cases = suite.findall("testcase")
    assert len(cases) == len(printed) == int(suite.get("tests"))
    failed = [(c.get("classname"), c.get("name")) for c in cases if c.find("failure") is not None]
    assert failed == [("prunebench.check.unpruned", "mse")] and suite.get("failures") == "1"
    assert suite.find("properties/property[@name='verdict']").get("value") == "FAIL"
    # And as Markdown for a job summary: appended to what the job wrote before.
    said = markdown.read_text()
    assert said.startswith("## prunebench check: **FAIL**")
    assert "| REGRESSION | `unpruned.mse` |" in said and f"all {len(cases)} checks" in said
    assert summary.read_text() == "earlier step\n" + said
    # And as JSON: the verdict, its counts, every line.
    found = json.loads(verdict.read_text())
    assert (found["verdict"], found["counts"]["regression"]) == ("FAIL", 1)
    assert len(found["lines"]) == len(cases) and found["seeds"] == [0, 1, 2, 3, 4]
    [bad] = [ln for ln in found["lines"] if ln["verdict"] == "REGRESSION"]
    assert (bad["experiment"], bad["figure"], bad["value"]) == ("unpruned", "mse", 1.5)


def test_update_from_results_keeps_the_record_with_out(tmp_path):
    path, results, kept = tmp_path / "tf2.21.json", tmp_path / "r.json", tmp_path / "kept.json"
    record.save(make_record(), results)
    done = prunebench("baseline", "--update", "--results", str(results), "--baseline", str(path),
                      "--out", str(kept))
    assert done.returncode == 0, done.stdout + done.stderr
    assert record.load(kept).seed_values("unpruned", "mse") == record.load(results).seed_values(
        "unpruned", "mse")
    assert baseline.load(path)["tf_minor"] == "2.21"


def test_a_baseline_timed_on_a_busy_machine_has_its_timing_left_unjudged(tmp_path):
    path = tmp_path / "tf2.21.json"
    rec = make_record()
    for r in rec.results:
        r["timings"] = {"load_1min": 2.1}
    rec.environment["cores"] = 2
    assert rec.busy() and rec.max_load() == 2.1
    baseline.update(path, rec)
    document = baseline.load(path)
    assert document["profiles"]["quick"][baseline.LOAD_KEY] == 2.1
    judged = gate.gate(make_record(), document, path, compare.load_thresholds())
    assert any("timed on a busy machine (1-minute load 2.10 on 2 cores)" in note
               for note in judged.notes)
    assert not [ln for ln in judged.lines if ln.metric.endswith("_time_ratio")]


def test_busy_is_the_load_of_all_cores_but_half_a_one():
    assert record.is_busy(1.6, 2) and not record.is_busy(1.3, 2)
    assert not record.is_busy(None, 2) and not record.is_busy(3.0, None)


def _timed(rec, keras_factor, load):
    """Give every result 15 rounds of Keras and numpy timings, Keras ``keras_factor`` slower."""
    rounds = range(15)
    for r in rec.results:
        reference = [1e-3 * (1 + 0.01 * ((i * 7 + r["seed"]) % 5)) for i in rounds]
        keras = [t * 50 * keras_factor * (1 + 0.01 * ((i * 3) % 4)) for i, t in enumerate(reference)]
        r["timings"] = {"load_1min": load, "keras": {"fastest_s": keras},
                        "reference": {"fastest_s": reference}}
    rec.environment["cores"] = 2
    return rec


def test_a_run_timed_on_a_busy_machine_has_its_keras_ratio_judged_beyond_the_busy_margin(tmp_path):
    path = tmp_path / "tf2.21.json"
    baseline.update(path, _timed(make_record(), 1.0, load=1.0))
    document = baseline.load(path)
    thresholds = compare.load_thresholds()
    keras = next(t for t in thresholds.timing if t.metric == "keras_time_ratio")
    assert keras.margin < 1.3 < keras.busy_margin

    def verdict(factor, load):
        judged = gate.gate(_timed(make_record(seeds=(0,)), factor, load), document, path,
                           thresholds)
        [line] = [ln for ln in judged.lines if ln.metric == "keras_time_ratio"]
        return line.verdict, judged.notes

    assert verdict(1.3, load=1.0)[0] is compare.Verdict.REGRESSION  # quiet: beyond x1.2
    busy_verdict, notes = verdict(1.3, load=2.5)
    assert busy_verdict is compare.Verdict.OK
    assert any("busy machine (1-minute load up to 2.50; 1 of 1 experiments)" in n
               and "keras_time_ratio x1.5" in n for n in notes)
    assert verdict(2.0, load=2.5)[0] is compare.Verdict.REGRESSION  # busy: beyond x1.5


def test_a_busy_margin_narrower_than_the_margin_is_refused():
    with pytest.raises(UsageError, match="busy_margin must be >= margin"):
        compare.TimingCheck("keras_time_ratio", "keras", margin=1.2, busy_margin=1.1)


def test_a_session_reference_timed_busy_is_judged_at_the_busy_margins():
    """A reference made in this session shared the run's load: judged, never left out,
    every experiment at the busy margins, even where the run itself read quiet."""
    reference = baseline.session_reference(_timed(make_record(seeds=(0,)), 1.0, load=2.2))
    thresholds = compare.load_thresholds()

    def verdicts(factor, same_session):
        judged = gate.gate(_timed(make_record(seeds=(0,)), factor, load=1.0), reference,
                           Path("session"), thresholds, same_session=same_session)
        return {ln.verdict for ln in judged.lines if ln.metric == "keras_time_ratio"}, judged.notes

    assert verdicts(2.0, same_session=False)[0] == set()  # a stored busy baseline: not judged
    assert verdicts(1.3, same_session=True)[0] == {compare.Verdict.OK}  # inside x1.5
    found, notes = verdicts(2.0, same_session=True)
    assert found == {compare.Verdict.REGRESSION}
    assert any("session's reference was timed on a busy machine" in n for n in notes)


def test_a_session_reference_holds_any_number_of_seeds_and_the_run_environment():
    rec = make_record(seeds=(0,))
    document = baseline.session_reference(rec)
    assert document["tf_minor"] == "2.21"
    section = document["profiles"]["quick"]
    assert section["seeds"] == [0] and section["environment"] is rec.environment
    assert gate.gate(rec, document, Path("session"), compare.load_thresholds(),
                     same_session=True).regime == "same"


def test_an_experiment_refused_now_that_the_baseline_ran_regresses_and_one_it_refused_too_passes(tmp_path):
    path = tmp_path / "b.json"
    made = classified()
    made.refused = {"other": "refused then"}
    baseline.update(path, made)
    run = classified(seeds=(0, 1, 2))
    run.results = [r for r in run.results if r["experiment"] == "unpruned"]
    run.refused = {"whole_model": "refused now", "other": "refused now"}
    judged = gate.gate(run, baseline.load(path), path, compare.load_thresholds())
    refused = {ln.experiment: ln for ln in judged.lines if ln.metric == "refused"}
    assert refused["whole_model"].verdict is compare.Verdict.REGRESSION
    assert "the baseline ran it" in refused["whole_model"].limit
    assert refused["other"].verdict is compare.Verdict.OK
    assert "refused in the baseline too" in refused["other"].limit


def test_no_timing_judges_every_figure_but_the_time_ratios_and_says_so():
    record_file = str(ROOT / "results" / "versions" / "tf2.21.json")
    timed = prunebench("check", "--results", record_file, "--full")
    untimed = prunebench("check", "--results", record_file, "--no-timing", "--full")
    assert timed.returncode == untimed.returncode == 0, untimed.stderr
    assert "_time_ratio" in timed.stdout and "_time_ratio" not in untimed.stdout
    assert "note: timing not judged: --no-timing" in untimed.stdout
    other = [ln for ln in timed.stdout.splitlines() if ln.startswith("ok ") and "time" not in ln]
    assert other and all(ln in untimed.stdout for ln in other)
