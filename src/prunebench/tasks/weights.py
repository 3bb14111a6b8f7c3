"""Which weights of a model tfmot prunes: the denominator of every sparsity figure.

Built-in layers by tfmot's own prune registry; a custom layer by what its
``get_prunable_weights`` (tfmot's ``PrunableLayer``) returns.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from prunebench import kerasenv

#: Weights tfmot's prune_registry prunes, by layer class name: the figures' denominator.
_DECLARED = {
    "Dense": ("kernel",), "Conv1D": ("kernel",), "Conv2D": ("kernel",), "Conv3D": ("kernel",),
    "Conv1DTranspose": ("kernel",), "Conv2DTranspose": ("kernel",),
    "Conv3DTranspose": ("kernel",),
    "SeparableConv1D": ("pointwise_kernel",), "SeparableConv2D": ("pointwise_kernel",),
    "Embedding": ("embeddings",),
    "MultiHeadAttention": ("_query_dense.kernel", "_key_dense.kernel", "_value_dense.kernel",
                           "_output_dense.kernel"),
    "LSTM": ("cell.kernel", "cell.recurrent_kernel"), "GRU": ("cell.kernel", "cell.recurrent_kernel"),
    "SimpleRNN": ("cell.kernel", "cell.recurrent_kernel"),
}


def declared_names(layer: Any) -> tuple[str, ...]:
    """Return the attribute paths of ``layer``'s prunable weights ('cell.recurrent_kernel')."""
    return _DECLARED.get(type(layer).__name__, ())


def _resolve(layer: Any, path: str) -> Any:
    for part in path.split("."):
        layer = getattr(layer, part)
    return layer


def _own_prunable(layer: Any) -> list[Any]:
    """Return the weights a custom layer declares through tfmot's ``PrunableLayer``
    interface (``get_prunable_weights``); [] for any other layer."""
    if not isinstance(layer, kerasenv.tfmot().sparsity.keras.PrunableLayer):
        return []
    return list(layer.get_prunable_weights())


def prunable(layer: Any) -> dict[str, Any]:
    """Return ``{'weight': variable}`` of the weights tfmot prunes in ``layer``.

    Built-in layers: those tfmot's prune registry prunes ('recurrent_kernel'; attention's
    by sub-layer, 'query_dense/kernel'). A custom layer: what its ``get_prunable_weights``
    returns (tfmot's ``PrunableLayer``), named by the variable ('kernel_a').
    """
    found = {path.removeprefix("cell.").lstrip("_").replace(".", "/"): _resolve(layer, path)
             for path in declared_names(layer)}
    for variable in _own_prunable(layer):
        found[variable.name.split("/")[-1].split(":")[0]] = variable
    return found


def declared_weights(model: Any, layers: Any = None) -> dict[str, np.ndarray]:
    """Return {'layer/weight': array} of the prunable weights of ``layers`` (default: all)."""
    wanted = None if layers is None else set(layers)
    return {f"{layer.name}/{short}": np.asarray(variable.numpy())
            for layer in model.layers if wanted is None or layer.name in wanted
            for short, variable in prunable(layer).items()}
