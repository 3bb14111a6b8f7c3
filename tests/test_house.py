"""The code stays readable: modules and functions within their sizes, each exception named."""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "prunebench"
MODULE_LINES = 300
FUNCTION_LINES = 60
#: The exceptions, at most five, each with its reason.
EXCEPTIONS = {
    "cli.py": "the parser: every command's options and their help, in one place",
    "cli.py:build_parser": "one add_argument per option; split, it would scatter the CLI",
    "compare.py": "the bands, the timing test and the thresholds file they are loaded from",
}


def _sizes() -> dict[str, int]:
    found = {}
    for path in sorted(SRC.rglob("*.py")):
        name = path.relative_to(SRC).as_posix()
        text = path.read_text()
        found[name] = len(text.splitlines())
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                found[f"{name}:{node.name}"] = node.end_lineno - node.lineno + 1
    return found


def test_modules_and_functions_keep_their_sizes_but_the_named_exceptions():
    sizes = _sizes()
    over = {name: lines for name, lines in sizes.items()
            if lines > (FUNCTION_LINES if ":" in name else MODULE_LINES)}
    assert set(over) - set(EXCEPTIONS) == set(), over
    assert len(EXCEPTIONS) <= 5
    stale = set(EXCEPTIONS) - set(over)
    assert not stale, f"no longer over their limit, drop them from EXCEPTIONS: {stale}"


def test_no_prunebench_module_is_imported_by_name_at_run_time():
    """importlib / __import__ of prunebench's own modules would hide an import from the
    layer contract (pyproject.toml's import-linter)."""
    found = []
    for path in SRC.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call):
                called = ast.unparse(node.func)
                argument = ast.unparse(node.args[0]) if node.args else ""
                if called in ("importlib.import_module", "__import__") and (
                        "prunebench" in argument):
                    found.append(f"{path.relative_to(SRC)}:{node.lineno} {called}({argument})")
    assert found == [], found
