"""The experiment registry: every task's experiments by name, groups of them, their curves.

Each task holds its own catalogue (``Task.experiments``, ``Task.groups``): the seed's
sweeps, controls and PQAT are in prunebench.tasks.friedman1 beside its model and data. This
module names them for the whole registry ('<task>/<experiment>', the seed's task bare) and
resolves what a command line names into the experiments to run.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from prunebench import tasks
from prunebench.config import ExperimentConfig
from prunebench.errors import UsageError
from prunebench.tasks.base import TASK_SEPARATOR, UNPRUNED

__all__ = ["CANONICAL", "GROUPS", "REGISTRY", "TASK_SEPARATOR", "UNPRUNED", "ZOO", "family",
           "gated_of", "get_experiment", "resolve", "task_experiments", "task_named",
           "unpruned_of"]


def task_experiments(task: tasks.Task) -> list[ExperimentConfig]:
    """Return a task's experiments named as the registry names them ('<task>/<experiment>')."""
    return [replace(e, name=task.qualified(e.name), task=task.name) for e in task.experiments]


def unpruned_of(task: str) -> str:
    """Return the name of ``task``'s unpruned experiment, the one its others fine-tune."""
    return tasks.qualified(task, UNPRUNED)


def task_named(experiment: str) -> str:
    """Return the task an experiment's name says: '<task>/<name>', or the seed's bare names."""
    return tasks.task_named(experiment)


def gated_of(task: tasks.Task) -> tuple[str, ...]:
    """Return the experiments ``task``'s baselines hold and the gate judges."""
    return tuple(task.qualified(name) for name in task.gated)


_BUILTIN = {name: tasks.builtin(name) for name in tasks.BUILTIN}
_EXPERIMENTS = {name: task_experiments(task) for name, task in _BUILTIN.items()}
REGISTRY: dict[str, ExperimentConfig] = {
    e.name: e for found in _EXPERIMENTS.values() for e in found}
#: The built-in zoo beyond the seed's task, in registry order.
ZOO = tuple(name for name, task in _BUILTIN.items() if not task.seed)
_SEED = next(task for task in _BUILTIN.values() if task.seed)

#: What `prunebench run` runs when no experiment is named: the seed's task's 'canonical'.
CANONICAL = _SEED.groups["canonical"]

#: Names that stand for several experiments wherever experiments are named.
GROUPS: dict[str, tuple[str, ...]] = {
    # Each built-in task's own groups (the seed's: canonical, sweep, random, structured,
    # quantized, gated).
    **{task.qualified(group): tuple(task.qualified(n) for n in members)
       for task in _BUILTIN.values() for group, members in task.groups.items()},
    # Every experiment of every built-in task but the seed's.
    "zoo": tuple(e.name for t in ZOO for e in _EXPERIMENTS[t]),
    # What the zoo's baselines hold: each task's unpruned, whole, partial (and block-sparse).
    "zoo_gated": tuple(n for t in ZOO for n in gated_of(_BUILTIN[t])),
    # What CI gates (.ci/run): the seed's gated group and one experiment of every zoo task
    # (its partial one: a layer family pruned alone), plus the block-sparse one, the only
    # experiment whose sparse TFLite speed and structure are gated.
    "ci": (*gated_of(_SEED), *(_BUILTIN[t].qualified("partial") for t in ZOO),
           _BUILTIN["digits_wide_mlp"].qualified("block_90")),
    "all": tuple(REGISTRY),
    # Each task's name stands for its experiments.
    **{t: tuple(e.name for e in _EXPERIMENTS[t]) for t in ZOO},
}


def family(experiment: ExperimentConfig) -> str:
    """Return the curve an experiment belongs to: scope, method or structure, schedule.

    The seed's task's curves tell its sweep's schedules, the random control, 2:4 and PQAT
    apart ('dense polynomial'); another task's are its task and shape ('digits_cnn whole').
    """
    prune = experiment.prune
    seed = tasks.is_seed(experiment.task)
    prefix = "" if seed else f"{experiment.task} "
    if prune is None:
        return prefix + UNPRUNED
    if not seed:
        shape = "block" if prune.block_size else prune.scope.removesuffix("_model")
        return f"{prefix}{shape}"
    scope = prune.scope.removesuffix("_model").removeprefix("hidden_")
    if experiment.quantize != "none":
        return f"{scope} {experiment.quantize}"
    if prune.m_by_n is not None:
        return f"{scope} {prune.m_by_n[0]}:{prune.m_by_n[1]}"
    if prune.method == "random":
        return f"{scope} random"
    return f"{scope} {prune.schedule}"


def get_experiment(name: str) -> ExperimentConfig:
    """Return the named experiment, or raise UsageError listing the known ones.

    '<task>/<experiment>' names a registered task's experiment (a user task's too).
    """
    if name in REGISTRY:
        return REGISTRY[name]
    task_name, sep, _ = name.partition(TASK_SEPARATOR)
    if sep and task_name in tasks.all_tasks():
        found = {e.name: e for e in task_experiments(tasks.get(task_name))}
        if name in found:
            return found[name]
        raise UsageError(f"task {task_name} has no experiment {name!r}; it has "
                         f"{', '.join(found)}")
    raise UsageError(f"unknown experiment {name!r}; groups: {', '.join(GROUPS)}; "
                     "`prunebench list` shows every experiment")


def _expand(name: str) -> tuple[str, ...]:
    if name in GROUPS:
        return GROUPS[name]
    if name not in REGISTRY and name in tasks.all_tasks():
        return tuple(e.name for e in task_experiments(tasks.get(name)))
    return (name,)


def resolve(names: Iterable[str] | None, sparsity: float | None = None) -> list[ExperimentConfig]:
    """Return the experiments to run, by task, each task's unpruned first (the others fine-tune it).

    ``None`` means the canonical three; a group name stands for its experiments, a
    registered task's name for all of its own.
    """
    expanded = [n for name in (CANONICAL if names is None else names)
                for n in _expand(name)]
    wanted = [get_experiment(n) for n in dict.fromkeys(expanded)]
    by_task: dict[str, list[ExperimentConfig]] = {}
    for experiment in wanted:
        by_task.setdefault(experiment.task, []).append(experiment)
    chosen = []
    for task, found in by_task.items():
        reference = get_experiment(unpruned_of(task))
        chosen.extend([reference, *(e for e in found if e.name != reference.name)])
    if sparsity is not None:
        chosen = [e.with_sparsity(sparsity) for e in chosen]
    return chosen
