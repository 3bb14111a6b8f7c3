"""Records grouped by environment: what tells groups apart, and no seed reported twice."""

from __future__ import annotations

import pytest

from prunebench import grouping, record
from prunebench.errors import UsageError
from test_baseline import make_record


def _made(tf="2.21.0", seeds=(0, 1, 2, 3, 4), **env):
    rec = make_record(tf=tf, seeds=seeds)
    rec.environment.update(env)
    return rec


def test_one_tf_version_in_two_environments_is_two_groups_each_saying_what_differs():
    clean = _made(packages={"tensorflow-model-optimization": "0.8.1"})
    newer = _made(packages={"tensorflow-model-optimization": "0.8.2"})
    injected = _made(packages={"tensorflow-model-optimization": "0.8.1"},
                     variables={"PYTHONPATH": "scripts/inject"})
    groups = grouping.group([clean, newer, injected], ["a.json", "b.json", "c.json"])
    assert [g.files for g in groups] == [("a.json",), ("b.json",), ("c.json",)]
    assert groups[0].differences(groups) == ["tfmot 0.8.1", "variables unrecorded"]
    assert groups[2].differences(groups) == ["tfmot 0.8.1", "variables PYTHONPATH=scripts/inject"]


def test_groups_sort_by_tf_version_and_keep_the_given_order_within_one():
    groups = grouping.group([_made("2.21.0", cpu="x"), _made("2.15.1"), _made("2.21.0", cpu="y")],
                            ["new-x", "old", "new-y"])
    assert [g.files for g in groups] == [("old",), ("new-x",), ("new-y",)]


def test_records_of_one_environment_with_other_seeds_share_a_group():
    [only] = grouping.group([_made(seeds=(0, 1)), _made(seeds=(2, 3))], ["x.json", "y.json"])
    assert only.files == ("x.json", "y.json")


def test_the_same_seed_twice_in_one_environment_is_refused_naming_both_files():
    with pytest.raises(UsageError, match=r"^x\.json and y\.json both hold unpruned seed 1 from "
                                         r"one environment \(TF 2\.21\.0"):
        grouping.group([_made(seeds=(0, 1)), _made(seeds=(1, 2))], ["x.json", "y.json"])


def test_a_record_keeps_the_variables_that_change_its_figures(monkeypatch):
    monkeypatch.setenv("PYTHONPATH", "/somewhere/inject")
    monkeypatch.setenv("TF_ENABLE_ONEDNN_OPTS", "0")
    monkeypatch.setenv("PRUNEBENCH_UNRELATED", "1")
    variables = record.environment()["variables"]
    assert variables["PYTHONPATH"] == "/somewhere/inject"
    assert variables["TF_ENABLE_ONEDNN_OPTS"] == "0"
    assert "PRUNEBENCH_UNRELATED" not in variables


def test_one_file_given_twice_is_refused_not_merged_with_itself():
    with pytest.raises(UsageError, match=r"^x\.json is given twice: each record once$"):
        grouping.group([_made(), _made()], ["x.json", "x.json"])
