"""The named experiment registry: one entry per experiment, never one module per experiment."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from prunebench import tasks
from prunebench.config import DEFAULT_TARGET_SPARSITY, ExperimentConfig, PruneConfig
from prunebench.errors import UsageError

#: The reference every pruned experiment starts from (and is compared with).
UNPRUNED = "unpruned"

#: The sweep's target sparsities: 2x to 16x fewer non-zero weights in the pruned layers.
SWEEP_SPARSITIES = (0.5, 0.75, 0.875, 0.9375)
_SCOPE_PREFIX = {"whole_model": "whole", "hidden_dense": "dense"}
_SCOPE_TEXT = {"whole_model": "every layer", "hidden_dense": "the hidden Dense layer"}
_SCHEDULE_TEXT = {"constant": "ConstantSparsity", "polynomial": "PolynomialDecay 0 ->"}
_SCHEDULE_SHORT = {"constant": "const", "polynomial": "poly"}


def _percent(sparsity: float) -> str:
    return f"{sparsity * 100:g}"


def _canonical() -> list[ExperimentConfig]:
    return [
        ExperimentConfig(
            name=UNPRUNED,
            description="the seed's MLP trained from scratch, no pruning",
        ),
        ExperimentConfig(
            name="whole_model",
            description="prune_low_magnitude on the whole trained model, fine-tuned",
            prune=PruneConfig(scope="whole_model"),
        ),
        ExperimentConfig(
            name="dense_only",
            description="only the hidden Dense layer wrapped, fine-tuned",
            prune=PruneConfig(scope="hidden_dense"),
        ),
    ]


def _sweep() -> list[ExperimentConfig]:
    """Magnitude pruning at every sweep sparsity, both schedules, both scopes.

    ConstantSparsity at 0.5 is the canonical whole_model / dense_only, not repeated.
    """
    found = []
    for scope, prefix in _SCOPE_PREFIX.items():
        for schedule in ("constant", "polynomial"):
            for target in SWEEP_SPARSITIES:
                if schedule == "constant" and target == DEFAULT_TARGET_SPARSITY:
                    continue
                found.append(ExperimentConfig(
                    name=f"{prefix}_{_SCHEDULE_SHORT[schedule]}_{_percent(target)}",
                    description=(f"{_SCHEDULE_TEXT[schedule]} {target:g} on "
                                 f"{_SCOPE_TEXT[scope]}, fine-tuned"),
                    prune=PruneConfig(scope=scope, schedule=schedule, target_sparsity=target),
                ))
    return found


def _random() -> list[ExperimentConfig]:
    """The control: the same sparsities with a random fixed mask instead of magnitudes."""
    return [
        ExperimentConfig(
            name=f"{prefix}_random_{_percent(target)}",
            description=(f"random fixed mask at {target:g} on {_SCOPE_TEXT[scope]}, "
                         "fine-tuned (the magnitude criterion's control)"),
            prune=PruneConfig(scope=scope, target_sparsity=target, method="random"),
        )
        for scope, prefix in _SCOPE_PREFIX.items()
        for target in SWEEP_SPARSITIES
    ]


def _structured_and_quantized() -> list[ExperimentConfig]:
    return [
        *(ExperimentConfig(
            name=f"{prefix}_2by4",
            description=f"2:4 structured sparsity (sparsity_m_by_n) on {_SCOPE_TEXT[scope]}",
            prune=PruneConfig(scope=scope, m_by_n=(2, 4)),
        ) for scope, prefix in _SCOPE_PREFIX.items()),
        *(ExperimentConfig(
            name=f"whole_pqat_{_percent(target)}",
            description=(f"whole model pruned to {target:g}, then pruning-preserving "
                         "quantization-aware training (PQAT), int8 TFLite"),
            prune=PruneConfig(scope="whole_model", target_sparsity=target),
            quantize="pqat",
        ) for target in (0.5, 0.875)),
    ]


#: Separates a task from its experiment in a name: 'digits_cnn/whole_model'.
TASK_SEPARATOR = "/"


def task_experiments(task: tasks.Task) -> list[ExperimentConfig]:
    """Return a task's experiments named '<task>/<experiment>' (the seed's task: its registry)."""
    if task.name == tasks.DEFAULT:
        return [e for e in REGISTRY.values() if e.task == tasks.DEFAULT]
    return [replace(e, name=f"{task.name}{TASK_SEPARATOR}{e.name}", task=task.name)
            for e in task.experiments]


def unpruned_of(task: str) -> str:
    """Return the name of ``task``'s unpruned experiment, the one its others fine-tune."""
    return UNPRUNED if task == tasks.DEFAULT else f"{task}{TASK_SEPARATOR}{UNPRUNED}"


def task_named(experiment: str) -> str:
    """Return the task an experiment's name says: '<task>/<name>', or the seed's bare names."""
    task, separator, _ = experiment.partition(TASK_SEPARATOR)
    return task if separator else tasks.DEFAULT


def gated_of(task: tasks.Task) -> tuple[str, ...]:
    """Return the experiments ``task``'s baselines hold and the gate judges."""
    if task.name == tasks.DEFAULT:
        return GROUPS["gated"]
    return tuple(f"{task.name}{TASK_SEPARATOR}{name}" for name in task.gated)


_SWEEP = _sweep()
_RANDOM = _random()
REGISTRY: dict[str, ExperimentConfig] = {
    e.name: e for e in (*_canonical(), *_SWEEP, *_RANDOM, *_structured_and_quantized())
}
#: The built-in zoo beyond the seed's task, in registry order.
ZOO = tuple(name for name in tasks.BUILTIN if name != tasks.DEFAULT)
_ZOO_EXPERIMENTS = {task: task_experiments(tasks.builtin(task)) for task in ZOO}
REGISTRY.update({e.name: e for found in _ZOO_EXPERIMENTS.values() for e in found})

CANONICAL = (UNPRUNED, "whole_model", "dense_only")

#: What every version's baseline of the seed's task holds and `prunebench check` judges:
#: the canonical three and one point of each other family whose figures are steady enough
#: to gate (the random control and whole-model pruning past 75% are not: MSE 7-36x unpruned).
GATED = (*CANONICAL, "dense_const_87.5", "dense_poly_87.5", "whole_poly_75", "whole_2by4",
         "dense_2by4", "whole_pqat_50")

#: Names that stand for several experiments wherever experiments are named.
GROUPS: dict[str, tuple[str, ...]] = {
    "canonical": CANONICAL,
    # 4 sparsities x 2 schedules x 2 scopes (constant 0.5 = the canonical pair).
    "sweep": (UNPRUNED, "whole_model", "dense_only", *(e.name for e in _SWEEP)),
    "random": (UNPRUNED, *(e.name for e in _RANDOM)),
    "structured": (UNPRUNED, "whole_2by4", "dense_2by4"),
    "quantized": (UNPRUNED, "whole_pqat_50", "whole_pqat_87.5"),
    "gated": GATED,
    # Every experiment of every built-in task but the seed's.
    "zoo": tuple(e.name for found in _ZOO_EXPERIMENTS.values() for e in found),
    # What the zoo's baselines hold: each task's unpruned, whole, partial (and block-sparse).
    "zoo_gated": tuple(f"{t}{TASK_SEPARATOR}{n}" for t in ZOO for n in tasks.builtin(t).gated),
    # What CI gates (.ci/run): the seed's gated group and one experiment of every zoo task
    # (its partial one: a layer family pruned alone), plus the block-sparse one, the only
    # experiment whose sparse TFLite speed and structure are gated.
    "ci": (*GATED, *(f"{t}{TASK_SEPARATOR}partial" for t in ZOO),
           f"digits_wide_mlp{TASK_SEPARATOR}block_90"),
    "all": tuple(REGISTRY),
    # Each task's name stands for its experiments.
    **{task: tuple(e.name for e in found) for task, found in _ZOO_EXPERIMENTS.items()},
}


def family(experiment: ExperimentConfig) -> str:
    """Return the curve an experiment belongs to: scope, method or structure, schedule."""
    prune = experiment.prune
    prefix = "" if experiment.task == tasks.DEFAULT else f"{experiment.task} "
    if prune is None:
        return prefix + UNPRUNED
    if experiment.task != tasks.DEFAULT:
        shape = "block" if prune.block_size else prune.scope.removesuffix("_model")
        return f"{prefix}{shape}"
    scope = _SCOPE_PREFIX[prune.scope]
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
