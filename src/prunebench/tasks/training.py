"""How a task that owns its training compiles and fits its models: ``Training``."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from prunebench.config import TrainConfig


@dataclass(frozen=True)
class Training:
    """How a task compiles and fits its models, where it owns that; None keeps prunebench's.

    Attributes:
        optimizer: A callable returning a new optimizer of ``kerasenv.keras()`` for each
            fit (an optimizer keeps state), e.g. ``lambda: keras.optimizers.SGD(momentum=0.9)``.
            None: adam.
        loss: The loss as ``Model.compile`` takes it. None: the kind's (MSE, sparse
            cross-entropy).
        metrics: Metrics compiled in (``fit`` reports them; the gate judges the task's
            quality figures). None: the kind's.
        batch_size: Rows per step of every fit. None: the profile's.
        epochs: ``{profile: (unpruned epochs, fine-tune epochs)}``; a profile not named
            keeps its budget.
        patience: Early stopping's patience of every fit. None: the profile's.
        validation_split: The share of the training rows early stopping watches. None:
            the profile's.
        callbacks: A callable returning new callbacks for each fit; they run after
            tfmot's (the masks are updated first) and before early stopping.
    """

    optimizer: Callable[[], Any] | None = None
    loss: Any = None
    metrics: Sequence[Any] | None = None
    batch_size: int | None = None
    epochs: Mapping[str, tuple[int, int]] = field(default_factory=dict)
    patience: int | None = None
    validation_split: float | None = None
    callbacks: Callable[[], Sequence[Any]] | None = None

    def budget(self, config: TrainConfig, epochs: int | None) -> TrainConfig:
        """Return ``config`` with this training's choices, described for the record."""
        chosen: dict[str, Any] = {"batch_size": self.batch_size, "patience": self.patience,
                  "validation_split": self.validation_split, "epochs": epochs}
        return replace(config, **{k: v for k, v in chosen.items() if v is not None},
                       compiled_with=self.describe(),
                       callbacks=tuple(type(c).__name__ for c in self.new_callbacks()))

    def describe(self) -> str:
        """Return what the model is compiled with: 'optimizer SGD(momentum=0.9), loss ...'."""
        said = []
        if self.optimizer is not None:
            said.append(f"optimizer {describe_optimizer(self.optimizer())}")
        if self.loss is not None:
            said.append(f"loss {getattr(self.loss, '__name__', None) or self.loss!r}")
        if self.metrics is not None:
            names = [getattr(m, "__name__", None) or getattr(m, "name", None) or str(m)
                     for m in self.metrics]
            said.append(f"metrics {', '.join(names) or 'none'}")
        return "; ".join(said)

    def new_callbacks(self) -> list[Any]:
        return list(self.callbacks()) if self.callbacks is not None else []


#: Optimizer settings that are bookkeeping, not the optimisation.
_OPTIMIZER_BOOKKEEPING = {"name", "is_legacy_optimizer", "jit_compile"}


def describe_optimizer(optimizer: Any) -> str:
    """Return 'SGD(momentum=0.9)': the class and the settings that differ from its defaults."""
    config = optimizer.get_config()
    try:
        defaults = type(optimizer)().get_config()
    except TypeError:  # an optimizer that needs arguments: every setting is said
        defaults = {}
    changed = [f"{k}={v:g}" if isinstance(v, float) else f"{k}={v!r}"
               for k, v in sorted(config.items())
               if k not in _OPTIMIZER_BOOKKEEPING and (k not in defaults or defaults[k] != v)]
    return f"{type(optimizer).__name__}({', '.join(changed)})"
