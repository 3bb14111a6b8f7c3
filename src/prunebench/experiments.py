"""The named experiment registry: one entry per experiment, never one module per experiment."""

from __future__ import annotations

from collections.abc import Iterable

from prunebench.config import ExperimentConfig, PruneConfig
from prunebench.errors import UsageError

#: The reference every pruned experiment starts from (and is compared with).
UNPRUNED = "unpruned"

REGISTRY: dict[str, ExperimentConfig] = {
    e.name: e
    for e in (
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
    )
}

CANONICAL = (UNPRUNED, "whole_model", "dense_only")


def get_experiment(name: str) -> ExperimentConfig:
    """Return the named experiment, or raise UsageError listing the known ones."""
    try:
        return REGISTRY[name]
    except KeyError:
        raise UsageError(
            f"unknown experiment {name!r}; known: {', '.join(sorted(REGISTRY))}"
        ) from None


def resolve(names: Iterable[str] | None, sparsity: float | None = None) -> list[ExperimentConfig]:
    """Return the experiments to run, unpruned first (the others fine-tune its model).

    ``None`` means the canonical three. ``sparsity`` overrides every pruned target.
    """
    wanted = list(CANONICAL if names is None else dict.fromkeys(names))
    chosen = [get_experiment(n) for n in wanted]
    if UNPRUNED not in wanted:
        chosen.insert(0, REGISTRY[UNPRUNED])
    else:
        chosen.sort(key=lambda e: e.name != UNPRUNED)
    if sparsity is not None:
        chosen = [e.with_sparsity(sparsity) for e in chosen]
    return chosen
