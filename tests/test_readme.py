"""The README's own model section runs as written: its task file, its pyproject table, then
its commands.

The commands run as the README gives them but on the smoke profile instead of quick (a
few epochs on the same code path: 160 s became ~45 s here), so the suite can afford them."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _section() -> tuple[str, str, list[list[str]]]:
    """Return the README's task file, its pyproject table and its prunebench commands."""
    text = (ROOT / "README.md").read_text()
    code = re.search(r"```python\n(# my_task\.py\n.*?)```", text, re.S)
    table = re.search(r"```toml\n(\[tool\.prunebench\]\n.*?)```", text, re.S)
    shell = re.search(r"```sh\n(prunebench run [^\n]*mine\.json.*?)```", text, re.S)
    assert code and table and shell, "the README's own-model section lost a file or commands"
    commands = [shlex.split(line.split("#")[0]) for line in shell.group(1).splitlines()
                if line.startswith("prunebench ")]
    return code.group(1), table.group(1), commands


@pytest.mark.long
def test_the_readme_task_file_and_its_commands_run_as_written(tmp_path):
    """In a project folder of the README's two files, nothing else: no PYTHONPATH, no
    --task; the project's [tool.prunebench] registers the task and its folder is importable."""
    source, table, commands = _section()
    (tmp_path / "my_task.py").write_text(source)
    (tmp_path / "pyproject.toml").write_text(table)
    assert [c[1] for c in commands] == ["run", "baseline", "check"]
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    for command in commands:
        args = ["smoke" if a == "quick" else a for a in command[1:]]
        assert "smoke" in args, command
        done = subprocess.run([sys.executable, "-m", "prunebench.cli", *args],
                              cwd=tmp_path, env=env, capture_output=True, text=True,
                              timeout=900, check=False)
        assert done.returncode == 0, f"{shlex.join(command)}: {done.stderr[-2000:]}"
    assert [p.relative_to(tmp_path).parts[:2] for p in tmp_path.glob("baselines/**/tf*.json")] \
        == [("baselines", "my_digits")]
    assert "gate: PASS" in done.stdout and "judged against the baselines of" not in done.stdout
    assert "my_digits" in done.stdout.splitlines()[-1]
