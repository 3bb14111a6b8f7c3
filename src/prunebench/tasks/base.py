"""The task interface: what data, which model, how it is compiled, which figures and which way is better.

A task is one model family (TorchBench's one folder per model). The pipeline, export,
inference and the gate read a task only through this interface; they never name one.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from prunebench import kerasenv
from prunebench.config import DataConfig, ExperimentConfig, Profile
from prunebench.data import Dataset
from prunebench.errors import UsageError
from prunebench.figures import FIGURES
from prunebench.tasks.quality import (
    CLASSIFICATION,
    REGRESSION,
    Quality,
    classification_figures,
    regression_figures,
)
from prunebench.tasks.saved import load_trained, start_label
from prunebench.tasks.training import Training
from prunebench.tasks.weights import prunable

#: What a task predicts: decides its loss and its quality figures.
KINDS = ("regression", "classification")
#: Rows of one timed call: one 64-row batch, as the block-sparse measurement was made;
#: it also keeps a zoo experiment's timing to about a second.
DEFAULT_TIMING_ROWS = 64
#: tfmot's policy for XNNPACK's sparse inference (only 1x1 Conv2D pruned).
POLICIES = ("xnnpack",)


#: What a model of each kind is compiled with by default: adam (the seed's), and the
#: loss its quality figures call for (MSE; sparse cross-entropy over softmax outputs).
COMPILE = {
    "regression": {"loss": "mean_squared_error", "metrics": ["mae", "mse"]},
    "classification": {"loss": "sparse_categorical_crossentropy", "metrics": ["accuracy"]},
}


#: Separates a task from its experiment in a name: 'digits_cnn/whole_model'.
TASK_SEPARATOR = "/"
#: Every task's reference experiment: trained (or started) and not pruned; its others
#: fine-tune it.
UNPRUNED = "unpruned"


def standard_experiments() -> tuple[ExperimentConfig, ...]:
    """Return the three every task has: unpruned, the whole model pruned, a part of it pruned."""
    from prunebench.config import PruneConfig

    return (
        ExperimentConfig(name=UNPRUNED, description="trained from scratch, no pruning"),
        ExperimentConfig(name="whole_model", prune=PruneConfig(scope="whole_model"),
                         description="prune_low_magnitude on the whole trained model, fine-tuned"),
        ExperimentConfig(name="partial", prune=PruneConfig(scope="partial"),
                         description="only the task's partial layers wrapped, fine-tuned"),
    )


@dataclass(frozen=True)
class Task:
    """One model family behind the pipeline's one interface.

    ``experiments`` are named without the task ('whole_model'); the registry names them
    '<task>/<experiment>' (the seed's task keeps bare names: ``seed``).

    Attributes:
        name: An identifier; the task's experiments are named ``<name>/<experiment>``.
        description: One line for ``prunebench list``.
        load_data: ``DataConfig -> Dataset``: float32 inputs; float32 targets for a
            regression, int labels for a classification.
        build_model: ``Dataset -> model``: a new, uncompiled model of
            ``prunebench.kerasenv.keras()`` (tf-keras, the Keras 2 that tfmot prunes); a
            Keras 3 model (``import keras`` on TF >= 2.16) is refused in one line. Not
            needed by a task with a ``start``.
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
        figures: Quality figures of its own beside its kind's (top-5 accuracy, AUC): each a
            ``Quality`` with ``compute`` and the bands the gate judges it in.
        training: How it compiles and fits (optimizer, loss, batch size, epochs per
            profile, callbacks; ``Training``); None: prunebench's (adam, the kind's loss,
            the profile's budget).
        seed: The seed tutorial's task (friedman1, one at most): its experiments and
            groups keep the bare names they had before tasks existed, its baselines sit at
            the root of the baselines folder, and every ``check`` judges it.
        groups: Names that stand for several of its experiments wherever experiments are
            named ('sweep'), registered as '<task>/<group>' (the seed's: bare).
        start: A trained model every seed starts from instead of training its own: a
            ``.h5`` or ``.keras`` file, a SavedModel directory, or a callable
            ``Dataset -> model`` returning a trained model of ``kerasenv.keras()``. The
            seeds then vary pruning and fine-tuning only; the ``unpruned`` experiment
            measures the model as given (no epochs), and each result records where it
            started (``start``: the file's SHA-256 or the callable's name). None: trained
            from scratch on every seed.
    """

    name: str
    description: str
    #: DataConfig -> Dataset (float32 x; y float32 for regression, int labels for classes).
    load_data: Callable[[DataConfig], Dataset]
    #: Dataset -> an uncompiled Keras model (of ``kerasenv.keras()``); None with a ``start``.
    build_model: Callable[[Dataset], Any] | None = None
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
    #: How it compiles and fits, where it owns that; None: prunebench's.
    training: Training | None = None
    #: Quality figures of its own, beside its kind's (``Quality`` with ``compute``).
    figures: tuple[Quality, ...] = ()
    #: A trained model to start every seed from (file, SavedModel directory or callable).
    start: str | Path | Callable[[Dataset], Any] | None = None
    #: The seed tutorial's task: bare names, baselines at the root, always checked.
    seed: bool = False
    #: Named sets of its experiments ('sweep': every point of its sparsity sweep).
    groups: Mapping[str, tuple[str, ...]] = field(default_factory=dict, hash=False)

    def __post_init__(self) -> None:
        if not self.name.isidentifier():
            raise UsageError(f"task name must be an identifier, got {self.name!r}")
        clash = [q.name for q in self.figures if q.compute is None
                 or q.name in FIGURES]
        if clash:
            raise UsageError(f"task {self.name}: figure {clash[0]!r} needs a compute of its "
                             "own and a name no built-in figure has")
        if self.build_model is None and self.start is None:
            raise UsageError(f"task {self.name}: give it a build_model or a trained start")
        if self.kind not in KINDS:
            raise UsageError(f"task {self.name}: kind must be one of {KINDS}, got {self.kind!r}")
        if self.pruning_policy not in (None, *POLICIES):
            raise UsageError(f"task {self.name}: unknown pruning policy {self.pruning_policy!r}")
        names = [e.name for e in self.experiments]
        if UNPRUNED not in names or any(e.prune is None for e in self.experiments
                                        if e.name != UNPRUNED):
            raise UsageError(f"task {self.name}: 'unpruned' must be its one unpruned experiment")
        for what, members in (("gated experiments", self.gated),
                              *((f"group {g!r}", m) for g, m in self.groups.items())):
            unknown = set(members) - set(names)
            if unknown:
                raise UsageError(f"task {self.name}: {what} {sorted(unknown)} are not its own")
        both = sorted(set(self.groups) & set(names))
        if both:
            raise UsageError(f"task {self.name}: {both} name both a group and an experiment")

    def qualified(self, name: str) -> str:
        """Return the registry's name of its experiment or group ``name``: '<task>/<name>',
        the seed's task's bare."""
        return name if self.seed else f"{self.name}{TASK_SEPARATOR}{name}"

    def build(self, data: Dataset) -> Any:
        """Return a new uncompiled model of ``data``; refuse one tfmot cannot prune.

        A model of another Keras than ``kerasenv.keras()`` (a Keras 3 model, from
        ``import keras`` on TF >= 2.16) is a UsageError naming the fix, before anything
        trains: tfmot would refuse it with an error that reads like a layer it dropped.
        """
        if self.build_model is None:
            raise UsageError(f"task {self.name} has no build_model: it starts from {self.start}")
        return self._prunable_keras(self.build_model(data), "build_model returned")

    def fresh(self, data: Dataset) -> Any:
        """Return a new model of the task's architecture: ``build_model``'s, or the
        ``start`` loaded again when the task has no ``build_model``."""
        return self.build(data) if self.build_model is not None else self.started(data)

    def started(self, data: Dataset, source: str | Path | Callable[[Dataset], Any] | None = None
                ) -> Any:
        """Return the trained model to prune, compiled: ``source`` (default: ``start``).

        Files and SavedModel directories are loaded with ``kerasenv.keras()``'s
        ``load_model`` (custom layers registered as Keras serializables load too); a
        callable is called with ``data``. A missing file is a UsageError.
        """
        source = self.start if source is None else source
        if source is None:
            raise UsageError(f"task {self.name} has no trained model to start from")
        if callable(source):
            model = self._prunable_keras(source(data), "start returned")
        else:
            model = load_trained(Path(source), f"task {self.name}")
        self.compile(model)
        return model

    def start_label(self) -> str:
        """Return where every seed starts: '' (from scratch), a file with its SHA-256, or a
        callable's name."""
        return start_label(self.start)

    def _prunable_keras(self, model: Any, said: str) -> Any:
        expected = kerasenv.keras()
        if not isinstance(model, expected.Model):
            origin = type(model).__module__.split(".")[0]
            version = getattr(sys.modules.get(origin), "__version__", "")
            raise UsageError(
                f"task {self.name}: {said} a {type(model).__name__} of "
                f"{origin} {version}".rstrip() + f", not a model of {expected.__name__}, the "
                "Keras tfmot prunes: build it with prunebench.kerasenv.keras() (tf_keras), "
                "not `import keras`")
        return model

    @property
    def quality(self) -> tuple[Quality, ...]:
        """Return the quality figures, the primary first, then the task's own."""
        return (REGRESSION if self.kind == "regression" else CLASSIFICATION) + self.figures

    @property
    def primary(self) -> Quality:
        """Return the figure related to the unpruned model and measured on TFLite too."""
        return self.quality[0]

    def evaluate(self, y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, float]:
        """Return every quality figure of ``y_pred`` against ``y_true``."""
        found = (regression_figures if self.kind == "regression" else classification_figures)(
            y_true, y_pred)
        for own in self.figures:
            assert own.compute is not None
            found[own.name] = float(own.compute(y_true, y_pred))
        return found

    def compile(self, model: Any) -> None:
        """Compile ``model`` as the task's ``training`` says; by default with adam and the
        loss its quality figures call for (``COMPILE``)."""
        own = self.training or Training()
        default = COMPILE[self.kind]
        model.compile(optimizer=own.optimizer() if own.optimizer is not None else "adam",
                      loss=own.loss if own.loss is not None else default["loss"],
                      metrics=list(own.metrics if own.metrics is not None else default["metrics"]))

    def budgets(self, profile: Profile) -> Profile:
        """Return ``profile`` with the task's own batch size, epochs, patience and compile:
        what its fits run, its results record and its digests are made of."""
        own = self.training
        if own is None:
            return profile
        base_epochs, tune_epochs = own.epochs.get(profile.name, (None, None))
        return replace(profile, base_train=own.budget(profile.base_train, base_epochs),
                       prune_train=own.budget(profile.prune_train, tune_epochs))

    def new_callbacks(self) -> list[Any]:
        """Return new instances of the task's own callbacks for one fit ([] by default)."""
        return self.training.new_callbacks() if self.training is not None else []

    def scoped_layers(self, model: Any, scope: str) -> list[str]:
        """Return the layers ``scope`` means to prune: their declared weights are counted."""
        with_weights = [layer for layer in model.layers if prunable(layer)]
        if scope == "whole_model":
            if self.pruning_policy == "xnnpack":
                return [layer.name for layer in with_weights
                        if type(layer).__name__ == "Conv2D" and tuple(layer.kernel_size) == (1, 1)]
            return [layer.name for layer in with_weights]
        return list(self.partial_layers)

