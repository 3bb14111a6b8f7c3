"""The task interface: what data, which model, how it is compiled, which figures and which way is better.

A task is one model family (TorchBench's one folder per model). The pipeline, export,
inference and the gate read a task only through this interface; they never name one.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from prunebench import kerasenv, metrics
from prunebench.config import DataConfig, ExperimentConfig
from prunebench.data import Dataset
from prunebench.errors import UsageError

DIRECTIONS = ("lower", "higher")
#: What a task predicts: decides its loss and its quality figures.
KINDS = ("regression", "classification")
#: Rows of one timed call: one 64-row batch, as the block-sparse measurement was made;
#: it also keeps a zoo experiment's timing to about a second.
DEFAULT_TIMING_ROWS = 64
#: tfmot's policy for XNNPACK's sparse inference (only 1x1 Conv2D pruned).
POLICIES = ("xnnpack",)


@dataclass(frozen=True)
class Quality:
    """A quality figure of a task's predictions and which way is better."""

    name: str
    better: str

    def __post_init__(self) -> None:
        if self.better not in DIRECTIONS:
            raise UsageError(f"quality {self.name}: better must be one of {DIRECTIONS}")


#: Regression: the seed's figures (MSE first: it is related to the unpruned model).
REGRESSION = (Quality("mse", "lower"), Quality("mae", "lower"))
#: Classification over softmax outputs: accuracy first, then cross-entropy.
CLASSIFICATION = (Quality("accuracy", "higher"), Quality("loss", "lower"))


def regression_figures(y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, float]:
    """Return MSE and MAE of predictions of shape (n,) or (n, 1)."""
    pred = np.asarray(y_pred).reshape(len(y_true))
    return {"mse": metrics.mse(y_true, pred), "mae": metrics.mae(y_true, pred)}


def classification_figures(y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, float]:
    """Return accuracy and cross-entropy of (n, classes) probabilities for labels (n,)."""
    return {"accuracy": metrics.accuracy(y_true, y_pred), "loss": metrics.crossentropy(y_true, y_pred)}


def compile_regression(model: Any) -> None:
    """Compile as the seed does: adam, MSE loss, mae and mse metrics."""
    model.compile(optimizer="adam", loss="mean_squared_error", metrics=["mae", "mse"])


def compile_classification(model: Any) -> None:
    """Compile for integer labels and softmax outputs: adam, sparse cross-entropy."""
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])


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


def declared_weights(model: Any, layers: Any = None) -> dict[str, np.ndarray]:
    """Return {'layer/weight': array} of the prunable weights of ``layers`` (default: all).

    The weight name is the attribute path's last part ('recurrent_kernel'), prefixed by the
    sub-layer for attention ('query_dense/kernel').
    """
    found = {}
    wanted = None if layers is None else set(layers)
    for layer in model.layers:
        if wanted is not None and layer.name not in wanted:
            continue
        for path in declared_names(layer):
            short = path.removeprefix("cell.").lstrip("_").replace(".", "/")
            found[f"{layer.name}/{short}"] = np.asarray(_resolve(layer, path).numpy())
    return found


def standard_experiments() -> tuple[ExperimentConfig, ...]:
    """Return the three every task has: unpruned, the whole model pruned, a part of it pruned."""
    from prunebench.config import PruneConfig

    return (
        ExperimentConfig(name="unpruned", description="trained from scratch, no pruning"),
        ExperimentConfig(name="whole_model", prune=PruneConfig(scope="whole_model"),
                         description="prune_low_magnitude on the whole trained model, fine-tuned"),
        ExperimentConfig(name="partial", prune=PruneConfig(scope="partial"),
                         description="only the task's partial layers wrapped, fine-tuned"),
    )


@dataclass(frozen=True)
class Task:
    """One model family behind the pipeline's one interface.

    ``experiments`` are named without the task ('whole_model'); the registry names them
    '<task>/<experiment>' (the seed's friedman1 task keeps bare names).

    Attributes:
        name: An identifier; the task's experiments are named ``<name>/<experiment>``.
        description: One line for ``prunebench list``.
        load_data: ``DataConfig -> Dataset``: float32 inputs; float32 targets for a
            regression, int labels for a classification.
        build_model: ``Dataset -> model``: a new, uncompiled model of
            ``prunebench.kerasenv.keras()`` (tf-keras, the Keras 2 that tfmot prunes); a
            Keras 3 model (``import keras`` on TF >= 2.16) is refused in one line.
        kind: ``"regression"`` (MSE, MAE) or ``"classification"`` (accuracy,
            cross-entropy): decides the loss it is compiled with and its quality figures.
        partial_layers: The layer names the ``partial`` experiment wraps.
        pruning_policy: A tfmot pruning policy the whole-model experiments are pruned
            under (``"xnnpack"``), or None.
        timing_rows: Rows of the test set each timed call predicts (None: all of it).
        experiments: Its experiments; the default is ``unpruned``, ``whole_model`` and
            ``partial`` at 50%.
        gated: The experiments its baseline holds and the gate judges.
        baseline_dir: Where its baselines live; None: ``baselines/<name>/`` under the
            working directory.
    """

    name: str
    description: str
    #: DataConfig -> Dataset (float32 x; y float32 for regression, int labels for classes).
    load_data: Callable[[DataConfig], Dataset]
    #: Dataset -> an uncompiled Keras model (of ``kerasenv.keras()``).
    build_model: Callable[[Dataset], Any]
    kind: str = "classification"
    #: The layer names the 'partial' scope wraps.
    partial_layers: tuple[str, ...] = ()
    #: A tfmot pruning policy the whole-model experiments are pruned under, or None.
    pruning_policy: str | None = None
    #: Rows of the test set each timed call predicts (None: all of it).
    timing_rows: int | None = DEFAULT_TIMING_ROWS
    experiments: tuple[ExperimentConfig, ...] = field(default_factory=standard_experiments)
    #: The experiments its baseline holds and the gate judges.
    gated: tuple[str, ...] = ("unpruned", "whole_model", "partial")
    #: Where this task's baselines live; None: baselines/<task>/ under the working directory.
    baseline_dir: Path | None = None

    def __post_init__(self) -> None:
        if not self.name.isidentifier():
            raise UsageError(f"task name must be an identifier, got {self.name!r}")
        if self.kind not in KINDS:
            raise UsageError(f"task {self.name}: kind must be one of {KINDS}, got {self.kind!r}")
        if self.pruning_policy not in (None, *POLICIES):
            raise UsageError(f"task {self.name}: unknown pruning policy {self.pruning_policy!r}")
        names = [e.name for e in self.experiments]
        if not names:
            return  # the seed's task: its experiments are prunebench.experiments' registry
        if "unpruned" not in names or any(e.prune is None for e in self.experiments
                                           if e.name != "unpruned"):
            raise UsageError(f"task {self.name}: 'unpruned' must be its one unpruned experiment")
        unknown = set(self.gated) - set(names)
        if unknown:
            raise UsageError(f"task {self.name}: gated experiments {sorted(unknown)} are not its own")

    def build(self, data: Dataset) -> Any:
        """Return a new uncompiled model of ``data``; refuse one tfmot cannot prune.

        A model of another Keras than ``kerasenv.keras()`` (a Keras 3 model, from
        ``import keras`` on TF >= 2.16) is a UsageError naming the fix, before anything
        trains: tfmot would refuse it with an error that reads like a layer it dropped.
        """
        model = self.build_model(data)
        expected = kerasenv.keras()
        if not isinstance(model, expected.Model):
            origin = type(model).__module__.split(".")[0]
            version = getattr(sys.modules.get(origin), "__version__", "")
            raise UsageError(
                f"task {self.name}: build_model returned a {type(model).__name__} of "
                f"{origin} {version}".rstrip() + f", not a model of {expected.__name__}, the "
                "Keras tfmot prunes: build it with prunebench.kerasenv.keras() (tf_keras), "
                "not `import keras`")
        return model

    @property
    def quality(self) -> tuple[Quality, ...]:
        """Return the quality figures, the primary first."""
        return REGRESSION if self.kind == "regression" else CLASSIFICATION

    @property
    def primary(self) -> Quality:
        """Return the figure related to the unpruned model and measured on TFLite too."""
        return self.quality[0]

    def evaluate(self, y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, float]:
        """Return every quality figure of ``y_pred`` against ``y_true``."""
        if self.kind == "regression":
            return regression_figures(y_true, y_pred)
        return classification_figures(y_true, y_pred)

    def compile(self, model: Any) -> None:
        """Compile ``model`` with the loss its quality figures call for."""
        if self.kind == "regression":
            compile_regression(model)
        else:
            compile_classification(model)

    def scoped_layers(self, model: Any, scope: str) -> list[str]:
        """Return the layers ``scope`` means to prune: their declared weights are counted."""
        with_weights = [layer for layer in model.layers if declared_names(layer)]
        if scope == "whole_model":
            if self.pruning_policy == "xnnpack":
                return [layer.name for layer in with_weights
                        if type(layer).__name__ == "Conv2D" and tuple(layer.kernel_size) == (1, 1)]
            return [layer.name for layer in with_weights]
        return list(self.partial_layers)
