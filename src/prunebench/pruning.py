"""Pruning through tfmot's real API: wrap, the callbacks it needs, strip.

Also the random-mask control (no tfmot: a fixed mask re-applied after every batch) and
tfmot's pruning-preserving quantization-aware training.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from prunebench import kerasenv
from prunebench.config import PruneConfig


def ramp_epochs(config: PruneConfig, epochs: int) -> int:
    """Return the epochs a polynomial ramp takes (0 for a constant schedule)."""
    if config.schedule != "polynomial":
        return 0
    return max(1, round(epochs * config.ramp_fraction))


def settle_epochs(config: PruneConfig, steps: int, epochs: int) -> int:
    """Return the epochs early stopping must wait before it may stop or keep weights.

    A polynomial ramp's epochs; and, whatever the schedule, the epochs before the one
    holding tfmot's second mask update (step begin + frequency): weights restored from
    earlier are not pruned yet. With 31 steps an epoch (the digits), that is 3 epochs;
    with friedman1's 168, none.
    """
    return max(ramp_epochs(config, epochs), (config.begin_step + config.frequency) // steps)


def resolve_end_step(config: PruneConfig, steps: int, epochs: int) -> PruneConfig:
    """Return ``config`` with a concrete PolynomialDecay end step.

    tfmot re-masks only at steps ``begin + k * frequency`` inside [begin, end]: an end step
    off that grid leaves the mask short of the target for good. The end step is therefore
    the last grid step within the ramp's epochs.
    """
    if config.schedule != "polynomial" or config.end_step != -1:
        return config
    ramp_steps = ramp_epochs(config, epochs) * steps
    grid = (ramp_steps - config.begin_step) // config.frequency * config.frequency
    if grid <= 0:
        raise ValueError(f"a {ramp_steps}-step ramp is shorter than one pruning interval")
    return replace(config, end_step=config.begin_step + grid)


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


class Refused(Exception):
    """tfmot refused to wrap a layer of a task's model: its prune registry does not know it.

    The message is one line naming the layer, tfmot and TensorFlow. Under a new TensorFlow
    this is a regression of the upgrade (the gate says so); a version that always refused
    records it in its baseline.
    """


def refusal(exc: ValueError) -> Refused:
    """Return the one-line Refused for tfmot's ValueError ``exc``."""
    text = str(exc)
    passed = re.search(r"You passed: <class '([^']+)'>", text)
    what = passed.group(1) if passed else (text.strip().splitlines() or ["a layer"])[0][:160]
    return Refused(f"tfmot {kerasenv.dist_version('tensorflow-model-optimization')} refuses to prune "
                   f"{what} under TF {kerasenv.tf_version()}")


def apply_pruning(model: Any, config: PruneConfig, partial_layers: Sequence[str] = (),
                  policy: str | None = None) -> Any:
    """Return ``model`` with prune_low_magnitude wrapped around the layers ``config`` scopes.

    whole_model: tfmot's model-level call (under ``policy``: 'xnnpack' is
    PruneForLatencyOnXNNPack); any other scope wraps ``partial_layers`` only. The result
    shares ``model``'s layers (and so its weights), as tfmot's own API does.
    """
    keras = kerasenv.keras()
    sparsity = kerasenv.tfmot().sparsity.keras
    prune = sparsity.prune_low_magnitude
    params: dict[str, Any] = {"pruning_schedule": schedule(config)}
    if config.m_by_n is not None:
        params["sparsity_m_by_n"] = config.m_by_n
    if config.block_size is not None:
        params["block_size"] = config.block_size
    wanted = set(partial_layers)
    if config.scope != "whole_model" and not wanted:
        raise ValueError(f"scope {config.scope!r} wraps the task's partial layers: none given")

    def wrap_hidden(layer: Any) -> Any:
        if layer.name in wanted:
            return prune(layer, **params)
        return layer

    try:
        if config.scope == "whole_model":
            if policy == "xnnpack":
                return prune(model, pruning_policy=sparsity.PruneForLatencyOnXNNPack(), **params)
            return prune(model, **params)
        # As in tfmot's guide: the clone reuses ``model``'s layer objects, so the trained
        # weights carry over, and fine-tuning changes ``model`` too: pass a copy.
        return keras.models.clone_model(model, clone_function=wrap_hidden)
    except ValueError as exc:  # tfmot's registry (or policy) does not accept a layer
        raise refusal(exc) from None


def random_masks(model: Any, layers: Sequence[str], config: PruneConfig,
                 seed: int) -> dict[str, np.ndarray]:
    """Return {layer: 0/1 mask} zeroing ``round(target * size)`` random kernel weights.

    The same count per layer as tfmot's magnitude masks, chosen without looking at them.
    """
    rng = np.random.default_rng(seed)
    masks = {}
    for name in layers:
        shape = model.get_layer(name).kernel.shape
        size = int(np.prod(shape))
        mask = np.ones(size, dtype=np.float32)
        mask[rng.choice(size, size=round(config.target_sparsity * size), replace=False)] = 0.0
        masks[name] = mask.reshape(shape)
    return masks


def apply_masks(model: Any, masks: dict[str, np.ndarray]) -> None:
    """Multiply each masked layer's kernel by its mask, in place."""
    for name, mask in masks.items():
        kernel = model.get_layer(name).kernel
        kernel.assign(kernel * mask)


def fixed_mask_callback(masks: dict[str, np.ndarray]) -> Any:
    """Return a Keras callback that keeps ``masks`` applied after every training batch."""
    keras = kerasenv.keras()

    class FixedMask(keras.callbacks.Callback):  # type: ignore[name-defined]
        def on_train_begin(self, logs: Any = None) -> None:
            apply_masks(self.model, masks)

        def on_train_batch_end(self, batch: int, logs: Any = None) -> None:
            apply_masks(self.model, masks)

    return FixedMask()


def pqat(stripped: Any) -> Any:
    """Return ``stripped`` annotated for tfmot's pruning-preserving QAT (uncompiled)."""
    tfmot = kerasenv.tfmot()
    quantization = tfmot.quantization.keras
    annotated = quantization.quantize_annotate_model(stripped)
    scheme = tfmot.experimental.combine.Default8BitPrunePreserveQuantizeScheme()
    return quantization.quantize_apply(annotated, scheme)


def float_weights_of(quantized: Any, like: Any) -> Any:
    """Return a copy of the float model ``like`` holding the QAT model's trained weights."""
    from prunebench import models

    plain = models.copy_model(like)
    for wrapper in quantized.layers:
        if not hasattr(wrapper, "layer"):
            continue  # the input quantizer
        # The wrapper owns the float kernel (its inner layer sees a fake-quantized one).
        named = {w.name.rsplit("/", 1)[-1].split(":")[0]: w.numpy() for w in wrapper.weights}
        plain.get_layer(wrapper.layer.name).set_weights([named["kernel"], named["bias"]])
    return plain


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
