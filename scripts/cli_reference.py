"""Write docs/cli.md: every prunebench command's --help, as the parser says it.

    python scripts/cli_reference.py          # rewrite docs/cli.md
    python scripts/cli_reference.py --check  # exit 1 if docs/cli.md is not current

Generated, never edited by hand: tests/test_docs.py fails when the parser and the page
disagree.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "docs" / "cli.md"
#: argparse wraps help to the terminal's width: a fixed one keeps the page stable.
WIDTH = "100"


def render() -> str:
    os.environ["COLUMNS"] = WIDTH
    from prunebench.cli import build_parser

    parser = build_parser()
    parser.prog = "prunebench"
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    parts = ["# Command reference", "",
             "Generated from the parser by `python scripts/cli_reference.py`; every command's "
             "`--help`.", "", "```text", parser.format_help().rstrip(), "```", ""]
    for name, command in sub.choices.items():
        parts += [f"## prunebench {name}", "", "```text", command.format_help().rstrip(), "```", ""]
    return "\n".join(parts)


def main() -> int:
    check = "--check" in sys.argv[1:]
    text = render()
    if check:
        current = PAGE.read_text() if PAGE.exists() else ""
        if current != text:
            print(f"{PAGE} is not current: python scripts/cli_reference.py", file=sys.stderr)
            return 1
        return 0
    PAGE.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
