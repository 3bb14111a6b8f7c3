"""The README's and the getting-started page's shell blocks run as written.

Every fenced ``sh`` block of both runs, but those marked slow (an HTML comment ``<!-- slow:
why -->`` on the line before the fence: ``make bench`` / ``make test`` and the upgrade
verdict, nothing else). The tour's blocks run in order, each line in bash, from a folder
that sees the checkout's baselines and results as the checkout does; a line's comment
``# exit N`` is the status it must end with, any other line 0.

The own model section runs in a project folder of its two files, its commands as written
(the quick profile: 161 s alone on 2 cores here)."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from prunebench.record import SCHEMA

ROOT = Path(__file__).resolve().parents[1]
PAGES = ("README.md", "docs/getting-started.md")
#: What a block marked slow may hold: the two set-up commands, and the upgrade verdict.
SLOW_ALLOWED = re.compile(r"make (bench|test)\b|prunebench upgrade ")
OWN_MODEL = "mine.json"  # the own-model block: its own test, in its own project folder


def _blocks(page: str) -> list[tuple[bool, list[str]]]:
    """Return each fenced sh block of ``page``: (marked slow, its command lines)."""
    found = []
    for match in re.finditer(r"(?:^(<!-- slow:[^\n]*-->)\n)?^```sh\n(.*?)^```", (ROOT / page).read_text(),
                             re.S | re.M):
        lines = [ln for ln in match.group(2).splitlines() if ln.strip() and not ln.startswith("#")]
        found.append((match.group(1) is not None, lines))
    return found


def _as_a_user_has_it() -> dict[str, str]:
    """This process's environment without PYTHONPATH, which a user's shell does not have."""
    return {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}


def _expected_status(line: str) -> int:
    said = re.search(r"#\s*exit (\d)\b", line)
    return int(said.group(1)) if said else 0


def test_only_the_benchmark_the_suite_and_the_upgrade_verdict_are_marked_slow():
    slow = [ln for page in PAGES for marked, lines in _blocks(page) if marked for ln in lines]
    assert slow and all(SLOW_ALLOWED.match(ln) for ln in slow), slow
    assert sum(1 for page in PAGES for _ in _blocks(page)) >= 7


@pytest.mark.long
def test_the_tour_runs_as_written(tmp_path):
    """The tour's blocks in order (run, check, report), from a folder beside the checkout's
    baselines and results; what they write is there after them."""
    tour = [ln for page in PAGES for marked, lines in _blocks(page)
            if not marked and not any(OWN_MODEL in ln for ln in lines) for ln in lines]
    assert [ln.split()[1] for ln in tour] == ["run", "run", "list", "check", "check", "report",
                                              "matrix"]
    for name in ("baselines", "results"):
        (tmp_path / name).symlink_to(ROOT / name)
    env = _as_a_user_has_it()
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    printed = []
    for line in tour:
        done = subprocess.run(["bash", "-c", line], cwd=tmp_path, env=env, capture_output=True,
                              text=True, timeout=900, check=False)
        assert done.returncode == _expected_status(line), \
            f"{line}\nexit {done.returncode}\n{done.stdout[-1500:]}\n{done.stderr[-1500:]}"
        printed.append(done.stdout)
    for written in ("run.json", "more.json", "gate.xml", "report/index.html"):
        assert (tmp_path / written).is_file(), written
    _assert_a_whole_quick_record_of_the_canonical_three(tmp_path / "run.json", printed[0])


def _assert_a_whole_quick_record_of_the_canonical_three(path: Path, table: str) -> None:
    """The tour's first run: its table printed, its record complete, the pruned models
    sparse, smaller than the unpruned one and not much worse, their summaries wrapped."""
    for name in ("unpruned", "whole_model", "dense_only"):
        assert name in table
    rec = json.loads(path.read_text())
    assert rec["schema"] == SCHEMA and rec["profile"] == "quick"
    assert rec["environment"]["packages"]["tensorflow-model-optimization"]
    assert set(rec["experiments"]) == {"unpruned", "whole_model", "dense_only"}
    by_name = {r["experiment"]: r for r in rec["results"]}
    unpruned = by_name["unpruned"]["metrics"]
    for name in ("whole_model", "dense_only"):
        result = by_name[name]
        m = result["metrics"]
        assert all(v is True for k, v in result["invariants"].items() if k.endswith("matches")), \
            result["invariants"]
        assert m["sparsity_pruned"] >= m["target_sparsity"] - 0.01
        assert m["keras_zip_bytes"] < unpruned["keras_zip_bytes"]
        assert m["tflite_zip_bytes"] < unpruned["tflite_zip_bytes"]
        assert m["mse"] < 3 * unpruned["mse"]
        # The summary is the wrapped model's, as the seed prints it: wrappers carry masks.
        layers = [row["layer"] for row in result["summary"]]
        assert layers[0] == "prune_low_magnitude_hidden"
        assert sum(r["params"] for r in result["summary"]) > unpruned["params"]


def _section() -> tuple[str, str, list[list[str]]]:
    """Return the README's task file, its pyproject table and its prunebench commands."""
    text = (ROOT / "README.md").read_text()
    code = re.search(r"```python\n(# my_task\.py\n.*?)```", text, re.S)
    table = re.search(r"```toml\n(\[tool\.prunebench\]\n.*?)```", text, re.S)
    shell = [lines for _, lines in _blocks("README.md") if any(OWN_MODEL in ln for ln in lines)]
    assert code and table and len(shell) == 1, "the README's own-model section lost a file or commands"
    commands = [shlex.split(line.split("#")[0]) for line in shell[0] if line.startswith("prunebench ")]
    return code.group(1), table.group(1), commands


@pytest.mark.long
def test_the_readme_task_file_and_its_commands_run_as_written(tmp_path):
    """In a project folder of the README's two files, nothing else: no PYTHONPATH, no
    --task; the project's [tool.prunebench] registers the task and its folder is importable."""
    source, table, commands = _section()
    (tmp_path / "my_task.py").write_text(source)
    (tmp_path / "pyproject.toml").write_text(table)
    assert [c[1] for c in commands] == ["run", "baseline", "check"]
    env = _as_a_user_has_it()
    for command in commands:
        done = subprocess.run([sys.executable, "-m", "prunebench.cli", *command[1:]],
                              cwd=tmp_path, env=env, capture_output=True, text=True,
                              timeout=900, check=False)
        assert done.returncode == 0, f"{shlex.join(command)}: {done.stderr[-2000:]}"
    assert [p.relative_to(tmp_path).parts[:2] for p in tmp_path.glob("baselines/**/tf*.json")] \
        == [("baselines", "my_digits")]
    assert "gate: PASS" in done.stdout and "judged against the baselines of" not in done.stdout
    assert "my_digits" in done.stdout.splitlines()[-1]
