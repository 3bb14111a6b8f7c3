"""The README's own model section runs as written: its task file, then its commands.

The commands run as the README gives them but on the smoke profile instead of quick (a
few epochs on the same code path: 160 s became ~45 s here), so the suite can afford them."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _section() -> tuple[str, list[list[str]]]:
    """Return the README's task file and its prunebench commands, split into arguments."""
    text = (ROOT / "README.md").read_text()
    code = re.search(r"```python\n(# my_task\.py\n.*?)```", text, re.S)
    shell = re.search(r"```sh\n(export PYTHONPATH=\$PWD.*?)```", text, re.S)
    assert code and shell, "the README's own-model section lost its task file or commands"
    commands = [shlex.split(line.split("#")[0]) for line in shell.group(1).splitlines()
                if line.startswith("prunebench ")]
    return code.group(1), commands


def test_the_readme_task_file_and_its_commands_run_as_written(tmp_path):
    source, commands = _section()
    (tmp_path / "my_task.py").write_text(source)
    assert [c[1] for c in commands] == ["run", "baseline", "check"]
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    for command in commands:
        args = ["smoke" if a == "quick" else a for a in command[1:]]
        assert "smoke" in args, command
        done = subprocess.run([sys.executable, "-m", "prunebench.cli", *args],
                              cwd=tmp_path, env=env, capture_output=True, text=True,
                              timeout=900, check=False)
        assert done.returncode == 0, f"{shlex.join(command)}: {done.stderr[-2000:]}"
    assert len(list((tmp_path / "baselines").glob("tf*.json"))) == 1
    assert "gate: PASS" in done.stdout
