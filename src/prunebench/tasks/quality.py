"""A task's quality figures: the built-in ones of each kind, and how a task adds its own."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from prunebench import figures, metrics
from prunebench.compare import Band, PairedCheck
from prunebench.errors import UsageError
from prunebench.figures import DIRECTIONS


@dataclass(frozen=True)
class Quality:
    """A quality figure of a task's predictions and which way is better.

    The built-in ones (MSE, MAE; accuracy, cross-entropy) are computed by the task's kind
    and judged by the packaged thresholds. A task adds its own (top-5 accuracy, AUC) with
    ``compute``; the gate judges it seed by seed in its ``same`` band (the run's own
    environment) or ``cross`` band (another host or version), and, where seeds do not
    reproduce, over the seeds against its ``minimum`` effect (None: not judged there).
    """

    name: str
    better: str
    #: ``(y_true, y_pred) -> float`` over the test set; None for the built-in figures.
    compute: Callable[[np.ndarray, np.ndarray], float] | None = None
    same: Band = field(default_factory=lambda: Band(rel=0.001))
    cross: Band = field(default_factory=lambda: Band(rel=0.03))
    minimum: Band | None = None

    def __post_init__(self) -> None:
        if self.better not in DIRECTIONS:
            raise UsageError(f"quality {self.name}: better must be one of {DIRECTIONS}")
        if not self.name.isidentifier():
            raise UsageError(f"quality {self.name!r}: its name must be an identifier")

    def check(self) -> PairedCheck:
        """Return how the gate judges it seed by seed."""
        return PairedCheck(metric=self.name, better=self.better, same=self.same,
                           cross=self.cross)


#: Regression: the seed's figures (MSE first: it is related to the unpruned model).
REGRESSION = tuple(Quality(name, figures.get(name).better or "") for name in ("mse", "mae"))
#: Classification over softmax outputs: accuracy first, then cross-entropy.
CLASSIFICATION = tuple(Quality(name, figures.get(name).better or "")
                       for name in ("accuracy", "loss"))


def regression_figures(y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, float]:
    """Return MSE and MAE of predictions of shape (n,) or (n, 1)."""
    pred = np.asarray(y_pred).reshape(len(y_true))
    return {"mse": metrics.mse(y_true, pred), "mae": metrics.mae(y_true, pred)}


def classification_figures(y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, float]:
    """Return accuracy and cross-entropy of (n, classes) probabilities for labels (n,)."""
    return {"accuracy": metrics.accuracy(y_true, y_pred), "loss": metrics.crossentropy(y_true, y_pred)}
