"""Pruning through tfmot's real API: wrap, the callbacks it needs, strip."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from prunebench import kerasenv
from prunebench.config import PruneConfig
from prunebench.models import HIDDEN_LAYER


def schedule(config: PruneConfig) -> Any:
    """Return the tfmot pruning schedule that ``config`` names."""
    sparsity = kerasenv.tfmot().sparsity.keras
    if config.schedule == "constant":
        return sparsity.ConstantSparsity(
            config.target_sparsity, begin_step=config.begin_step, frequency=config.frequency
        )
    return sparsity.PolynomialDecay(
        initial_sparsity=config.initial_sparsity,
        final_sparsity=config.target_sparsity,
        begin_step=config.begin_step,
        end_step=config.end_step,
        frequency=config.frequency,
    )


def apply_pruning(model: Any, config: PruneConfig) -> Any:
    """Return ``model`` with prune_low_magnitude wrapped around the layers ``config`` scopes.

    The result shares ``model``'s layers (and so its weights), as tfmot's own API does.
    """
    keras = kerasenv.keras()
    prune = kerasenv.tfmot().sparsity.keras.prune_low_magnitude
    params = {"pruning_schedule": schedule(config)}
    if config.scope == "whole_model":
        return prune(model, **params)

    def wrap_hidden(layer: Any) -> Any:
        if layer.name == HIDDEN_LAYER:
            return prune(layer, **params)
        return layer

    # As in tfmot's guide: the clone reuses ``model``'s layer objects, so the trained
    # weights carry over, and fine-tuning changes ``model`` too: pass a copy.
    return keras.models.clone_model(model, clone_function=wrap_hidden)


def callbacks(log_dir: Path | None = None) -> list[Any]:
    """Return the callbacks a pruned fit needs: UpdatePruningStep, and summaries if asked."""
    sparsity = kerasenv.tfmot().sparsity.keras
    # UpdatePruningStep must run its on_epoch_end (re-masking) before EarlyStopping
    # snapshots the best weights, so it comes first.
    found: list[Any] = [sparsity.UpdatePruningStep()]
    if log_dir is not None:
        found.append(sparsity.PruningSummaries(log_dir=str(log_dir)))
    return found


def strip(model: Any) -> Any:
    """Return ``model`` without pruning wrappers, sharing its (masked) weights."""
    return kerasenv.tfmot().sparsity.keras.strip_pruning(model)


def wrapped_layers(model: Any) -> set[str]:
    """Return the names of the layers that carry a pruning wrapper in ``model``."""
    kerasenv.tfmot()
    # The wrapper class is not exported by tfmot's public API; its own callbacks use it so.
    from tensorflow_model_optimization.python.core.sparsity.keras.pruning_wrapper import (
        PruneLowMagnitude as wrapper,
    )

    return {layer.layer.name for layer in model.layers if isinstance(layer, wrapper)}


def prunable_kernels(model: Any) -> dict[str, Any]:
    """Return {layer name: kernel array} for the kernels tfmot prunes in a stripped model."""
    return {
        layer.name: layer.kernel.numpy() for layer in model.layers if hasattr(layer, "kernel")
    }
