"""Tables: the results table and the TF-version matrix, from literal records."""

from __future__ import annotations

import io

from rich.console import Console

from prunebench import compare, record, report
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
    text = render(report.matrix_table([newer, older], compare.load_thresholds()))
    assert text.index("TF 2.15.1") < text.index("TF 2.16.2")
    # 2.15 MSE median 2.02 (tolerance 50%: 1.01) -> 2.16 median 0.52: better beyond it.
    assert "0.52 better" in text
    worse = render(report.matrix_table([make_record(tf="2.15.1"),
                                        make_record(tf="2.16.2", mse_base=2.0)],
                                       compare.load_thresholds()))
    assert "2.02 worse" in worse


def test_matrix_leaves_a_change_within_tolerance_unflagged():
    text = render(report.matrix_table([make_record(tf="2.15.1"), make_record(tf="2.16.2")],
                                      compare.load_thresholds()))
    body = text.replace("worse/better", "")
    assert "worse" not in body and "better" not in body


def test_matrix_refuses_records_of_different_profiles(tmp_path):
    quick, full = tmp_path / "q.json", tmp_path / "f.json"
    record.save(make_record(profile="quick"), quick)
    record.save(make_record(profile="full"), full)
    assert_one_line_usage_error(prunebench("matrix", str(quick), str(full)),
                                "different profiles")
