"""The seed's regression MLP, built with the Keras that tfmot uses."""

from __future__ import annotations

from typing import Any

from prunebench import kerasenv

HIDDEN_UNITS = 128
HIDDEN_LAYER = "hidden"
OUTPUT_LAYER = "output"


def build_model(n_features: int) -> Any:
    """Return an uncompiled Sequential MLP: Dense(128, relu) -> Dense(1), linear output.

    The output is linear, not ReLU: a ReLU on the single output unit can die, and the
    model then predicts 0 for everything (MSE 228.8 in the reference measurements).
    """
    keras = kerasenv.keras()
    return keras.Sequential(
        [
            keras.layers.Dense(HIDDEN_UNITS, activation="relu", input_shape=(n_features,),
                               name=HIDDEN_LAYER),
            keras.layers.Dense(1, name=OUTPUT_LAYER),
        ],
        name="friedman1_mlp",
    )


def compile_model(model: Any) -> None:
    """Compile as the seed does: adam, MSE loss, mae and mse metrics."""
    model.compile(optimizer="adam", loss="mean_squared_error", metrics=["mae", "mse"])


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
