"""The task registry: the built-in model families, and users' own, found by entry point or spec.

A user package registers a task in its pyproject.toml::

    [project.entry-points."prunebench.tasks"]
    my_task = "my_package.task:TASK"

or names it on the command line: ``--task my_package.task:TASK``. Either way the object is
a :class:`prunebench.tasks.base.Task`.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from importlib.metadata import entry_points
from types import ModuleType

from prunebench.compare import Band, PairedCheck
from prunebench.config import SEED_TASK
from prunebench.errors import UsageError
from prunebench.tasks.base import CLASSIFICATION, REGRESSION, TASK_SEPARATOR, Quality, Task
from prunebench.tasks.training import Training
from prunebench.tasks.weights import declared_weights

__all__ = [
    "CLASSIFICATION",
    "DEFAULT",
    "ENTRY_POINT_GROUP",
    "REGRESSION",
    "Quality",
    "Task",
    "Training",
    "all_tasks",
    "builtin",
    "declared_weights",
    "figure_thresholds",
    "get",
    "is_seed",
    "load_spec",
    "qualified",
    "register",
    "specs",
    "task_named",
]

ENTRY_POINT_GROUP = "prunebench.tasks"
#: The seed tutorial's task (``Task.seed``): its experiments keep bare names ('whole_model').
DEFAULT = SEED_TASK
#: Built-in tasks, by module: each module's TASK.
BUILTIN = ("friedman1", "digits_cnn", "digits_mobilenet", "digits_lstm", "digits_embedding",
           "digits_attention", "digits_wide_mlp")

_REGISTERED: dict[str, Task] = {}
#: The --task specs registered in this process: worker processes register them again.
_SPECS: list[str] = []
_loaded = False


def register(task: object, origin: str = "") -> Task:
    """Add ``task`` to the registry and return it; a second task of one name is refused."""
    if not isinstance(task, Task):
        raise UsageError(f"{origin or task!r} is not a prunebench Task")
    if task.seed != (task.name == DEFAULT):
        raise UsageError(f"task {task.name}: only the built-in {DEFAULT} is the seed's task")
    known = _REGISTERED.get(task.name)
    if known is not None and known is not task:
        raise UsageError(f"two tasks are named {task.name!r}{f' ({origin})' if origin else ''}")
    _REGISTERED[task.name] = task
    return task


def is_seed(task: str) -> bool:
    """Return whether ``task`` names the seed tutorial's task (bare names, root baselines)."""
    return task == DEFAULT


def qualified(task: str, name: str) -> str:
    """Return the registry's name of ``task``'s experiment or group ``name``, as
    ``Task.qualified`` does, without loading the task."""
    return name if is_seed(task) else f"{task}{TASK_SEPARATOR}{name}"


def task_named(experiment: str) -> str:
    """Return the task an experiment's name says: '<task>/<name>', or the seed's bare names."""
    task, separator, _ = experiment.partition(TASK_SEPARATOR)
    return task if separator else DEFAULT


def load_spec(spec: str) -> Task:
    """Import 'package.module:ATTR' and register the Task it names."""
    module_name, _, attr = spec.partition(":")
    if not module_name or not attr:
        raise UsageError(f"--task wants module:attribute, got {spec!r}")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise UsageError(f"cannot import task module {module_name!r}: {exc}") from None
    try:
        task = getattr(module, attr)
    except AttributeError:
        raise UsageError(f"module {module_name!r} has no {attr!r}") from None
    registered = register(task, spec)
    if spec not in _SPECS:
        _SPECS.append(spec)
    return registered


def specs() -> list[str]:
    """Return the --task specs registered in this process, in order."""
    return list(_SPECS)


def builtin(name: str) -> Task:
    """Return a built-in task without loading users' entry points."""
    if name not in BUILTIN:
        raise UsageError(f"no built-in task {name!r}; one of {', '.join(BUILTIN)}")
    return register(_builtin_modules()[name].TASK)


def _builtin_modules() -> dict[str, ModuleType]:
    """The built-in tasks' modules, imported when first asked for (no TensorFlow at import)."""
    from prunebench.tasks import (
        digits_attention,
        digits_cnn,
        digits_embedding,
        digits_lstm,
        digits_mobilenet,
        digits_wide_mlp,
        friedman1,
    )

    modules = {m.__name__.rpartition(".")[2]: m for m in (
        friedman1, digits_cnn, digits_mobilenet, digits_lstm, digits_embedding,
        digits_attention, digits_wide_mlp)}
    return {name: modules[name] for name in BUILTIN}


def _load() -> None:
    global _loaded
    if _loaded:
        return
    _loaded = True
    for name in BUILTIN:
        builtin(name)
    for point in entry_points(group=ENTRY_POINT_GROUP):
        try:
            task = point.load()
        except Exception as exc:  # a broken plug-in is named, not a traceback
            raise UsageError(f"task entry point {point.name!r} ({point.value}) failed to load: "
                             f"{exc!r}") from None
        register(task, f"entry point {point.name} = {point.value}")


def all_tasks() -> dict[str, Task]:
    """Return every registered task by name: built-in, entry points, then --task specs."""
    _load()
    return dict(_REGISTERED)


def figure_thresholds(names: Sequence[str]) -> tuple[list[PairedCheck], dict[str, Band]]:
    """Return how the gate judges the named tasks' own figures: checks and minimum effects."""
    own = [q for name in dict.fromkeys(names) for q in get(name).figures]
    return ([q.check() for q in own],
            {q.name: q.minimum for q in own if q.minimum is not None})


def get(name: str) -> Task:
    """Return the named task, or raise UsageError listing the known ones."""
    found = all_tasks()
    try:
        return found[name]
    except KeyError:
        raise UsageError(f"unknown task {name!r}; one of {', '.join(found)}") from None
