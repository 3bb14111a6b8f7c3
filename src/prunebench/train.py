"""Real Keras training with early stopping, as the seed trains."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from prunebench import kerasenv, timing
from prunebench.config import TrainConfig
from prunebench.data import Dataset
from prunebench.errors import UsageError

EpochHook = Callable[[int, int], None]


@dataclass(frozen=True)
class TrainResult:
    """What a fit cost: epochs actually run (early stopping) and wall seconds."""

    epochs_run: int
    wall_s: float
    best_val_loss: float


def _epoch_callback(keras: Any, hook: EpochHook, epochs: int) -> Any:
    return keras.callbacks.LambdaCallback(
        on_epoch_end=lambda epoch, logs: hook(epoch + 1, epochs)
    )


def train(
    model: Any,
    data: Dataset,
    config: TrainConfig,
    callbacks: Sequence[Any] = (),
    on_epoch: EpochHook | None = None,
    start_from_epoch: int = 0,
) -> TrainResult:
    """Return what fitting the compiled ``model`` on ``data.x_train`` cost; trains in place.

    ``callbacks`` run before EarlyStopping, so tfmot's re-masking at epoch end happens
    before the best weights are snapshot. Early stopping neither stops nor keeps weights
    before epoch ``start_from_epoch`` (a sparsity ramp's end).
    """
    keras = kerasenv.keras()
    stop = keras.callbacks.EarlyStopping(
        monitor="val_loss", patience=config.patience,
        restore_best_weights=config.restore_best_weights, start_from_epoch=start_from_epoch,
    )
    all_callbacks = [*callbacks, stop]
    if on_epoch is not None:
        all_callbacks.append(_epoch_callback(keras, on_epoch, config.epochs))
    elapsed = timing.stopwatch()
    if data.train is not None:  # a tf.data pipeline of the task's, batched as it is
        if data.validation is None:
            raise UsageError("a train tf.data.Dataset needs a validation one for early stopping")
        history = model.fit(data.train, validation_data=data.validation, epochs=config.epochs,
                            callbacks=all_callbacks, verbose=0)
    else:
        history = model.fit(
            data.x_train, data.y_train,
            epochs=config.epochs, batch_size=config.batch_size,
            validation_split=config.validation_split,
            callbacks=all_callbacks, verbose=0,
        )
    wall = elapsed()
    val_loss = history.history.get("val_loss", [float("nan")])
    return TrainResult(epochs_run=len(history.epoch), wall_s=wall, best_val_loss=float(min(val_loss)))
