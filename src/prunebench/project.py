"""A user's project: the ``[tool.prunebench]`` table of the nearest pyproject.toml.

prunebench used as a dependency reads its settings where the user's other tools read
theirs. From the working directory up, the first pyproject.toml with a
``[tool.prunebench]`` table is the project::

    [tool.prunebench]
    tasks = ["my_package.task:TASK"]   # registered for every command, as --task is
    baselines = "ci/baselines"          # <baselines>/<task>/tfX.Y.json of tasks without a
                                        # baseline_dir of their own
    [tool.prunebench.thresholds.paired.accuracy]
    cross = { abs = 0.01 }              # merged over the packaged thresholds.toml

The project's folder goes first on ``sys.path``, so a task module beside the
pyproject.toml imports without PYTHONPATH. With tasks configured, ``run``, ``baseline``
and ``check`` without ``--experiments`` mean those tasks only.
"""

from __future__ import annotations

import sys
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from prunebench.errors import UsageError

KEYS = ("tasks", "baselines", "thresholds")


@dataclass(frozen=True)
class Project:
    """The settings of one ``[tool.prunebench]`` table."""

    #: The pyproject.toml they came from.
    path: Path
    tasks: tuple[str, ...] = ()
    #: Where the baselines of tasks without a ``baseline_dir`` of their own live.
    baselines: Path | None = None
    #: Merged over the packaged thresholds.toml, table by table.
    thresholds: Mapping[str, Any] = field(default_factory=dict)

    @property
    def root(self) -> Path:
        return self.path.parent


def parse(path: Path) -> Project | None:
    """Return the project ``path`` (a pyproject.toml) describes, or None without the table."""
    try:
        table = tomllib.loads(path.read_text()).get("tool", {}).get("prunebench")
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise UsageError(f"cannot read {path}: {exc}") from None
    if table is None:
        return None
    where = f"{path} [tool.prunebench]"
    if not isinstance(table, dict):
        raise UsageError(f"{where} must be a table")
    unknown = sorted(set(table) - set(KEYS))
    if unknown:
        raise UsageError(f"{where}: unknown key {unknown[0]!r}; known: {', '.join(KEYS)}")
    specs = table.get("tasks", [])
    if not isinstance(specs, list) or not all(isinstance(s, str) for s in specs):
        raise UsageError(f"{where}: tasks must be a list of 'module:ATTRIBUTE' strings")
    folder = table.get("baselines")
    if folder is not None and not isinstance(folder, str):
        raise UsageError(f"{where}: baselines must be a folder, as a string")
    thresholds = table.get("thresholds", {})
    if not isinstance(thresholds, dict):
        raise UsageError(f"{where}: thresholds must be a table")
    return Project(path=path, tasks=tuple(specs),
                   baselines=None if folder is None else path.parent / folder,
                   thresholds=thresholds)


def find(start: Path) -> Project | None:
    """Return the project of the nearest pyproject.toml with the table, from ``start`` up."""
    for folder in (start, *start.parents):
        candidate = folder / "pyproject.toml"
        if candidate.is_file():
            found = parse(candidate)
            if found is not None:
                return found
    return None


@cache
def _current(cwd: Path) -> Project | None:
    found = find(cwd)
    if found is not None and str(found.root) not in sys.path:
        sys.path.insert(0, str(found.root))
    return found


def current() -> Project | None:
    """Return the working directory's project (once per directory), its folder importable."""
    return _current(Path.cwd().resolve())


def merged(base: Mapping[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    """Return ``base`` with ``over`` merged in: tables recursively, other values replaced."""
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = merged(out[key], value)
        else:
            out[key] = value
    return out
