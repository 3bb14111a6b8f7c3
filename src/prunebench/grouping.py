"""Records grouped by the environment that made them: never pooled across, never merged quietly.

Records of one TensorFlow version still differ in what a user compares when one thing
changes: tfmot, tf-keras, numpy, LiteRT, the host, the commit, a variable such as
PYTHONPATH. A group holds the records whose environments agree on all of those
(``GROUP_KEYS``); within a group each (experiment, seed) comes from one file, or the
records are refused in one line naming both files.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from prunebench.errors import UsageError
from prunebench.matrix import version_key
from prunebench.record import RunRecord


def _package(name: str) -> Callable[[Mapping[str, Any]], Any]:
    return lambda env: (env.get("packages") or {}).get(name)


def _field(name: str) -> Callable[[Mapping[str, Any]], Any]:
    return lambda env: env.get(name)


def _variables(env: Mapping[str, Any]) -> Any:
    found = env.get("variables") or {}
    return " ".join(f"{key}={value}" for key, value in sorted(found.items())) or None


#: (label, reader) of everything that tells two environments apart, in the order differences
#: are printed. TensorFlow first: groups sort by it.
GROUP_KEYS: tuple[tuple[str, Callable[[Mapping[str, Any]], Any]], ...] = (
    ("tensorflow", _field("tf")),
    ("tf-keras", _package("tf-keras")),
    ("tfmot", _package("tensorflow-model-optimization")),
    ("numpy", _package("numpy")),
    ("scikit-learn", _package("scikit-learn")),
    ("ai-edge-litert", _package("ai-edge-litert")),
    ("h5py", _package("h5py")),
    ("prunebench", _package("prunebench")),
    ("python", _field("python")),
    ("keras", _field("keras")),
    ("cpu", _field("cpu")),
    ("cpu_id", _field("cpu_id")),
    ("commit", _field("git_sha")),
    ("variables", _variables),
)


def environment_key(env: Mapping[str, Any]) -> tuple[str, ...]:
    """Return what identifies an environment for grouping: every GROUP_KEYS value, as text."""
    return tuple(str(read(env)) for _, read in GROUP_KEYS)


@dataclass(frozen=True)
class Group:
    """Records of one environment, with the files they came from, in the order given."""

    records: tuple[RunRecord, ...]
    files: tuple[str, ...]

    @property
    def environment(self) -> Mapping[str, Any]:
        return self.records[0].environment

    @property
    def tf(self) -> str:
        return str(self.environment.get("tf"))

    def differences(self, others: Sequence[Group]) -> list[str]:
        """Return 'label value' for each GROUP_KEYS figure on which some other group differs."""
        said = []
        for label, read in GROUP_KEYS:
            mine = read(self.environment)
            if any(read(other.environment) != mine for other in others if other is not self):
                said.append(f"{label} {mine if mine is not None else 'unrecorded'}")
        return said


def group(records: Sequence[RunRecord], files: Sequence[str]) -> list[Group]:
    """Return the records grouped by environment, oldest TF first, then in the order given.

    Refuses (UsageError, one line) two files of one environment that both hold a result of
    the same experiment and seed: a seed is reported once per environment, never one of the
    two chosen quietly.
    """
    if len(records) != len(files):
        raise ValueError("one file name per record")
    twice = next((name for n, name in enumerate(files) if name in files[:n]), None)
    if twice is not None:
        raise UsageError(f"{twice} is given twice: each record once")
    found: dict[tuple[str, ...], list[int]] = {}
    for index, rec in enumerate(records):
        found.setdefault(environment_key(rec.environment), []).append(index)
    groups = [Group(tuple(records[i] for i in members), tuple(files[i] for i in members))
              for members in found.values()]
    for each in groups:
        refuse_repeats(each)
    order = {id(g): n for n, g in enumerate(groups)}
    return sorted(groups, key=lambda g: (version_key(g.records[0]), order[id(g)]))


def refuse_repeats(each: Group) -> None:
    """Raise UsageError when two files of ``each`` hold the same experiment and seed."""
    owner: dict[tuple[str, int], str] = {}
    for rec, name in zip(each.records, each.files, strict=True):
        for result in rec.results:
            key = (str(result["experiment"]), int(result["seed"]))
            if key in owner and owner[key] != name:
                raise UsageError(
                    f"{owner[key]} and {name} both hold {key[0]} seed {key[1]} from one "
                    f"environment (TF {each.tf}, same packages, host, commit and variables): "
                    "a seed is reported once per environment; give one of them, or runs "
                    "of other seeds")
            owner[key] = name
