"""A user's project: [tool.prunebench] in the nearest pyproject.toml, read from the working
directory up (the whole run / baseline / check flow: tests/test_readme.py)."""

from __future__ import annotations

import re

import pytest

from prunebench import baseline, compare, project, tasks
from prunebench.errors import UsageError
from test_cli import assert_one_line_usage_error, prunebench


@pytest.fixture
def in_project(tmp_path, monkeypatch):
    """Write ``pyproject.toml`` with the given text in tmp_path, work in a folder below it."""
    def write(text: str):
        (tmp_path / "pyproject.toml").write_text(text)
        below = tmp_path / "src" / "deeper"
        below.mkdir(parents=True, exist_ok=True)
        monkeypatch.chdir(below)
        project._current.cache_clear()
        return tmp_path

    yield write
    project._current.cache_clear()


def test_the_nearest_table_is_found_from_below_and_its_paths_are_the_projects(in_project):
    root = in_project('[tool.prunebench]\ntasks = ["my_task:TASK"]\nbaselines = "ci/baselines"\n')
    found = project.current()
    assert found is not None and found.path == root / "pyproject.toml"
    assert found.tasks == ("my_task:TASK",) and found.baselines == root / "ci" / "baselines"
    assert baseline.task_dir(tasks.get("digits_cnn")) == root / "ci" / "baselines" / "digits_cnn"


def test_a_pyproject_without_the_table_is_not_a_project(in_project, tmp_path):
    in_project('[project]\nname = "x"\n')
    assert project.find(tmp_path) is None and project.current() is None


def test_threshold_overrides_are_merged_over_the_packaged_ones(in_project):
    packaged = compare.load_thresholds()
    in_project("[tool.prunebench.thresholds.paired.accuracy]\ncross = { abs = 0.01 }\n")
    merged = compare.load_thresholds()
    by_name = {check.metric: check for check in merged.paired}
    before = {check.metric: check for check in packaged.paired}
    assert by_name["accuracy"].cross.abs == 0.01 != before["accuracy"].cross.abs
    assert by_name["accuracy"].same == before["accuracy"].same  # the rest of the table kept
    assert {m: c for m, c in by_name.items() if m != "accuracy"} == \
        {m: c for m, c in before.items() if m != "accuracy"}


@pytest.mark.parametrize(("text", "fragment"), [
    ('[tool.prunebench]\ntask = ["x:T"]\n', "unknown key 'task'; known: tasks, baselines"),
    ('[tool.prunebench]\ntasks = "x:T"\n', "tasks must be a list of 'module:ATTRIBUTE'"),
    ('[tool.prunebench]\nbaselines = 3\n', "baselines must be a folder"),
    ('[tool.prunebench]\nthresholds = 3\n', "thresholds must be a table"),
    ("[tool.prunebench\n", "cannot read"),
])
def test_a_bad_table_is_refused_naming_the_file(in_project, text, fragment):
    root = in_project(text)
    with pytest.raises(UsageError, match=re.escape(fragment)) as raised:
        project.current()
    assert str(root / "pyproject.toml") in str(raised.value)


def test_from_the_command_line_a_bad_table_is_one_line_and_exit_2(in_project):
    in_project('[tool.prunebench]\ntasks = ["no_such_module:TASK"]\n')
    assert_one_line_usage_error(prunebench("list"), "cannot import task module 'no_such_module'")


def test_bad_threshold_overrides_name_the_project_file(in_project):
    root = in_project("[tool.prunebench.thresholds.paired.accuracy]\ncross = 0.01\n")
    with pytest.raises(UsageError, match="bad thresholds file") as raised:
        compare.load_thresholds()
    assert str(root / "pyproject.toml") in str(raised.value)
