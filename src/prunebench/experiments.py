"""The named experiment registry: one entry per experiment, never one module per experiment."""

from __future__ import annotations

from collections.abc import Iterable

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


_SWEEP = _sweep()
_RANDOM = _random()
REGISTRY: dict[str, ExperimentConfig] = {
    e.name: e for e in (*_canonical(), *_SWEEP, *_RANDOM, *_structured_and_quantized())
}

CANONICAL = (UNPRUNED, "whole_model", "dense_only")

#: Names that stand for several experiments wherever experiments are named.
GROUPS: dict[str, tuple[str, ...]] = {
    "canonical": CANONICAL,
    # 4 sparsities x 2 schedules x 2 scopes (constant 0.5 = the canonical pair).
    "sweep": (UNPRUNED, "whole_model", "dense_only", *(e.name for e in _SWEEP)),
    "random": (UNPRUNED, *(e.name for e in _RANDOM)),
    "structured": (UNPRUNED, "whole_2by4", "dense_2by4"),
    "quantized": (UNPRUNED, "whole_pqat_50", "whole_pqat_87.5"),
    # What every version's baseline holds and `prunebench check` judges: the canonical three
    # and one point of each other family whose figures are steady enough to gate (the
    # random control and whole-model pruning past 75% are not: MSE 7-36x unpruned).
    "gated": (*CANONICAL, "dense_const_87.5", "dense_poly_87.5", "whole_poly_75", "whole_2by4",
              "dense_2by4", "whole_pqat_50"),
    "all": tuple(REGISTRY),
}


def family(experiment: ExperimentConfig) -> str:
    """Return the curve an experiment belongs to: scope, method or structure, schedule."""
    prune = experiment.prune
    if prune is None:
        return UNPRUNED
    scope = _SCOPE_PREFIX[prune.scope]
    if experiment.quantize != "none":
        return f"{scope} {experiment.quantize}"
    if prune.m_by_n is not None:
        return f"{scope} {prune.m_by_n[0]}:{prune.m_by_n[1]}"
    if prune.method == "random":
        return f"{scope} random"
    return f"{scope} {prune.schedule}"


def get_experiment(name: str) -> ExperimentConfig:
    """Return the named experiment, or raise UsageError listing the known ones."""
    try:
        return REGISTRY[name]
    except KeyError:
        raise UsageError(
            f"unknown experiment {name!r}; groups: {', '.join(GROUPS)}; "
            "`prunebench list` shows every experiment"
        ) from None


def resolve(names: Iterable[str] | None, sparsity: float | None = None) -> list[ExperimentConfig]:
    """Return the experiments to run, unpruned first (the others fine-tune its model).

    ``None`` means the canonical three; a group name stands for its experiments.
    ``sparsity`` overrides every pruned target.
    """
    expanded = [n for name in (CANONICAL if names is None else names)
                for n in GROUPS.get(name, (name,))]
    wanted = list(dict.fromkeys(expanded))
    chosen = [get_experiment(n) for n in wanted]
    if UNPRUNED not in wanted:
        chosen.insert(0, REGISTRY[UNPRUNED])
    else:
        chosen.sort(key=lambda e: e.name != UNPRUNED)
    if sparsity is not None:
        chosen = [e.with_sparsity(sparsity) for e in chosen]
    return chosen
