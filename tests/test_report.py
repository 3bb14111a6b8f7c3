"""Tables: the results table and the TF-version matrix, from literal records."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from prunebench import compare, matrix, record, report
from test_baseline import make_record
from test_cli import assert_one_line_usage_error, prunebench


def render(table) -> str:
    console = Console(file=io.StringIO(), width=250, color_system=None)
    console.print(table)
    return console.file.getvalue()


def test_results_table_shows_median_and_spread():
    text = render(report.results_table(make_record()))
    assert "unpruned" in text
    assert "0.5200 ±4%" in text  # MSE 0.50..0.54: median 0.52, half-range 0.02 = 4%


def test_matrix_orders_versions_and_flags_a_change_beyond_tolerance():
    newer, older = make_record(tf="2.16.2"), make_record(tf="2.15.1", mse_base=2.0)
    text = render(report.matrix_table(matrix.ordered([newer, older]), compare.load_thresholds()))
    assert text.index("TF 2.15.1") < text.index("TF 2.16.2")
    assert "0.52 better" in text  # 2.15 MSE median 2.02 -> 2.16 median 0.52
    worse = render(report.matrix_table([make_record(tf="2.15.1"),
                                        make_record(tf="2.16.2", mse_base=2.0)],
                                       compare.load_thresholds()))
    assert "2.02 worse" in worse


def test_matrix_leaves_a_change_within_tolerance_unflagged():
    text = render(report.matrix_table([make_record(tf="2.15.1"), make_record(tf="2.16.2")],
                                      compare.load_thresholds()))
    body = text.replace("worse/better", "")
    assert "worse" not in body and "better" not in body


def test_nightly_sorts_after_the_releases_it_follows():
    recs = [make_record(tf="2.23.0.dev20261026"), make_record(tf="2.21.0"),
            make_record(tf="2.22.0rc1"), make_record(tf="2.22.0")]
    assert [r.environment["tf"] for r in matrix.ordered(recs)] == [
        "2.21.0", "2.22.0rc1", "2.22.0", "2.23.0.dev20261026"]


def _matrix(tmp_path, *records):
    paths = []
    for number, rec in enumerate(records):
        paths.append(str(tmp_path / f"{number}.json"))
        record.save(rec, tmp_path / f"{number}.json")
    return prunebench("matrix", *paths)


def pruned_record(tf, factor=1.0):
    """Return a record whose unpruned model is the same in every version (friedman1 from TF
    2.15 to 2.21: its seeds reproduce) and whose pruned one's MSE is x ``factor``."""
    rec = make_record(tf=tf)
    rec.results += [{"experiment": "whole_model", "seed": r["seed"],
                     "metrics": {**r["metrics"], "mse": r["metrics"]["mse"] * 0.9 * factor}}
                    for r in list(rec.results)]
    return rec


@pytest.mark.parametrize(("factor", "code"), [(1.029, 0), (1.031, 1)])
def test_matrix_exits_1_just_beyond_the_cross_band_and_0_just_inside(tmp_path, factor, code):
    # Seeds reproduce (the unpruned model is identical): the pruned MSE is judged seed by
    # seed beyond the narrower of its cross band (3%) and minimum effect (10%).
    done = _matrix(tmp_path, pruned_record("2.15.1"), pruned_record("2.16.2", factor))
    assert done.returncode == code, done.stdout + done.stderr
    if code:
        assert ("REGRESSION whole_model.mse: TF 2.15.1 -> 2.16.2 (from the version before)"
                in done.stdout)
    assert done.stdout.strip().splitlines()[-1].startswith("matrix: " + ("FAIL" if code else "PASS"))


def test_matrix_catches_slow_drift_that_no_single_step_shows(tmp_path):
    steps = [pruned_record(f"2.1{minor}.0", 1.02**k)
             for k, minor in enumerate((5, 6, 7))]  # +2% a version: +4.04% since 2.15
    done = _matrix(tmp_path, *steps)
    assert done.returncode == 1, done.stdout
    assert "TF 2.15.0 -> 2.17.0 (since the first version)" in done.stdout
    assert "(from the version before)" not in done.stdout


def test_matrix_judges_versions_whose_seeds_move_over_the_seeds_and_notes_what_is_undecided(tmp_path):
    # Every seed of the unpruned model moves (another Keras build), the medians hardly.
    moved = make_record(tf="2.16.2")
    for result in moved.results:
        result["metrics"]["mse"] *= 1.3 if result["seed"] % 2 else 0.75
    found, notes = matrix.findings([make_record(tf="2.15.1"), moved], compare.load_thresholds())
    assert not found
    assert any("undecided over 5 seeds (unpruned.mse" in note for note in notes)


def test_matrix_refuses_two_records_of_one_version_naming_both_files(tmp_path):
    assert_one_line_usage_error(_matrix(tmp_path, make_record(), make_record()),
                                f"two records of TF 2.21.0 ({tmp_path / '0.json'} and "
                                f"{tmp_path / '1.json'})")


def test_matrix_refuses_records_of_different_profiles(tmp_path):
    quick, full = tmp_path / "q.json", tmp_path / "f.json"
    record.save(make_record(profile="quick"), quick)
    record.save(make_record(profile="full"), full)
    assert_one_line_usage_error(prunebench("matrix", str(quick), str(full)),
                                "different profiles")


def test_results_table_fits_120_columns_with_every_cell_whole():
    figures = {"mse": 0.65312, "mse_vs_unpruned": 1.2345, "mae": 0.61234, "sparsity_pruned": 0.875,
               "target_sparsity": 0.875, "sparsity_all": 0.86123, "nonzero_params": 1234567.0,
               "params": 9876543.0, "keras_zip_bytes": 12345678.0, "tflite_zip_bytes": 1234567.0,
               "tflite_int8_zip_bytes": 123456.0, "keras_ms": 12.3456, "tflite_ms": 1.2345,
               "keras_time_ratio": 1.23, "epochs_run": 300.0, "train_s": 1234.5}
    results = [{"experiment": "dense_const_87.5", "seed": s,
                "metrics": {k: v * (1 + 0.13 * s) for k, v in figures.items()}} for s in (0, 1, 2)]
    rec = record.RunRecord(profile="quick", seeds=[0, 1, 2], experiments={}, results=results,
                           environment={"tf": "2.23.0.dev20261026", "keras": "tf-keras 2.23.0",
                                        "packages": {"tensorflow-model-optimization": "0.8.1"}})
    console = Console(file=io.StringIO(), width=120, color_system=None)
    console.print(report.results_table(rec))
    text = console.file.getvalue()
    assert max(len(line) for line in text.splitlines()) <= 120
    assert "…" not in text
    for number in ("13,950,616", "1,395,061", "11,160,494", "0.98875", "1395.0", "±12%"):
        assert number in text, number  # whole numbers: a narrow cell folds between words


def test_matrix_fails_on_an_experiment_tfmot_refuses_from_a_version_on_and_notes_the_reverse():
    why = "tfmot 0.8.1 refuses to prune keras.src.layers.rnn.lstm.LSTM under TF 2.16.2"
    ran, refused = make_record(tf="2.15.1"), make_record(tf="2.16.2")
    refused.refused = {"unpruned": why}  # a literal record: the name only has to match
    refused.results = []
    found, _ = matrix.findings([ran, refused], compare.load_thresholds())
    assert [(f.line.experiment, f.line.metric, f.line.limit) for f in found] == [
        ("unpruned", "refused", f"{why}; TF 2.15.1 ran it")]
    assert "REGRESSION unpruned.refused: TF 2.15.1 -> 2.16.2" in found[0].render()
    ran_later = make_record(tf="2.17.1")
    found, notes = matrix.findings([refused, ran_later], compare.load_thresholds())
    assert not found and any("unpruned: TF 2.16.2 refused it" in n and "TF 2.17.1 runs it" in n
                             for n in notes)
