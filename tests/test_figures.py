"""The figure registry is the one source of a figure's unit, direction, label and asv name."""

from __future__ import annotations

import importlib
import inspect
import sys
from pathlib import Path

import pytest

from prunebench import compare, figures, report, tasks
from prunebench.errors import UsageError

ROOT = Path(__file__).resolve().parents[1]


def test_the_thresholds_judge_each_figure_the_way_the_registry_says():
    thresholds = compare.load_thresholds()
    for check in thresholds.paired:
        assert check.better == figures.get(check.metric).better, check.metric
    assert set(thresholds.minimum) <= set(figures.FIGURES)


def test_a_thresholds_file_contradicting_the_registry_is_one_line(tmp_path):
    packaged = (ROOT / "src" / "prunebench" / "thresholds.toml").read_text()
    bad = tmp_path / "t.toml"
    bad.write_text(packaged.replace("[paired.mse]\n", '[paired.mse]\nbetter = "higher"\n', 1))
    with pytest.raises(UsageError, match=r"better = 'higher', but 'lower' is better for mse"):
        compare.load_thresholds(bad)
    bad.write_text(packaged + '\n[paired.top2]\nsame = { rel = 0.01 }\ncross = { rel = 0.05 }\n')
    with pytest.raises(UsageError, match=r"\[paired.top2\] needs better"):
        compare.load_thresholds(bad)


def test_built_in_qualities_take_their_direction_from_the_registry():
    for quality in (*tasks.REGRESSION, *tasks.CLASSIFICATION):
        assert quality.better == figures.get(quality.name).better


def test_every_report_column_is_a_registered_figure_labelled_by_it():
    for table in (report.COLUMNS, report.CLASSIFICATION_COLUMNS, report.SPARSE_COLUMNS,
                  report.COST_COLUMNS):
        for column in table:
            assert column.fmt == figures.get(column.metric).fmt
    assert report.COLUMNS[0].header == figures.get("mse").label


@pytest.mark.parametrize("module", ["experiments", "beyond", "zoo"])
def test_each_asv_track_is_named_by_the_figure_it_reads(module, monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT))
    found = importlib.import_module(f"benchmarks.{module}")
    tracks = [(cls.__name__, name, attr) for _, cls in inspect.getmembers(found, inspect.isclass)
              if cls.__module__ == found.__name__
              for name, attr in vars(cls).items() if name.startswith("track_")]
    assert tracks, f"benchmarks/{module}.py tracks no figure"
    for owner, name, attr in tracks:
        figure = figures.get(attr.figure)
        assert name == f"track_{figure.asv}", f"{owner}.{name} reads {figure.name}"
        assert attr.unit == figure.unit
    sys.modules.pop(f"benchmarks.{module}", None)


@pytest.mark.parametrize("figure, value, tracked", [
    ("mse", 0.2, 0.2), ("sparsity_all", 0.75, 0.25), ("accuracy", 0.9, pytest.approx(0.1)),
    ("sparse_speedup", 1.25, 0.8)])
def test_asv_tracks_what_is_lower_when_better(figure, value, tracked):
    assert figures.get(figure).asv_value(value) == tracked


def test_units_are_from_one_vocabulary_and_unknown_figures_are_named():
    assert set(figures.UNITS.values()) <= set(figures.UNIT_NAMES)
    with pytest.raises(ValueError, match="unit 'B'"):
        figures.Figure("x_bytes", "B", "lower", "x")
    with pytest.raises(UsageError, match="no figure 'msee'"):
        figures.get("msee")
