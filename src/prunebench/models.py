"""Model helpers every task shares: a copy of a model, its summary."""

from __future__ import annotations

from typing import Any

from prunebench import kerasenv


def copy_model(model: Any) -> Any:
    """Return a structurally equal model holding a copy of ``model``'s weights."""
    keras = kerasenv.keras()
    clone = keras.models.clone_model(model)
    clone.set_weights(model.get_weights())
    return clone


def summary(model: Any) -> list[dict[str, Any]]:
    """Return the model summary the seed compares: one row per layer, name, type, params."""
    return [
        {"layer": layer.name, "type": type(layer).__name__, "params": int(layer.count_params())}
        for layer in model.layers
    ]
