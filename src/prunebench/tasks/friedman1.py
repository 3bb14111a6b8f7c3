"""The seed's task: a Dense MLP regressing make_friedman1, and its catalogue of experiments.

The canonical three (unpruned, the whole model pruned, only the hidden Dense layer pruned),
a sparsity sweep under both schedules, the random-mask control, 2:4 and PQAT. It is the
seed tutorial's task, so its experiments keep the bare names they had before tasks existed
('whole_model', not 'friedman1/whole_model') and its baselines sit at the root of the
baselines folder (``Task.seed``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from prunebench import kerasenv
from prunebench.config import (
    DEFAULT_TARGET_SPARSITY,
    SEED_TASK,
    DataConfig,
    ExperimentConfig,
    PruneConfig,
)
from prunebench.data import Dataset
from prunebench.tasks.base import UNPRUNED, Task

HIDDEN_UNITS = 128
HIDDEN_LAYER = "hidden"
OUTPUT_LAYER = "output"

#: The sweep's target sparsities: 2x to 16x fewer non-zero weights in the pruned layers.
SWEEP_SPARSITIES = (0.5, 0.75, 0.875, 0.9375)
#: How a scope reads in experiment names, descriptions and curve names.
SCOPE_SHORT = {"whole_model": "whole", "hidden_dense": "dense"}
_SCOPE_TEXT = {"whole_model": "every layer", "hidden_dense": "the hidden Dense layer"}
_SCHEDULE_TEXT = {"constant": "ConstantSparsity", "polynomial": "PolynomialDecay 0 ->"}
_SCHEDULE_SHORT = {"constant": "const", "polynomial": "poly"}


def load_data(config: DataConfig) -> Dataset:
    """Return the train/test split of make_friedman1 that ``config`` describes."""
    from sklearn.datasets import make_friedman1  # scikit-learn loads only when data is made
    from sklearn.model_selection import train_test_split

    x, y = make_friedman1(
        n_samples=config.n_samples, n_features=config.n_features, random_state=config.data_seed
    )
    x_train, x_test, y_train, y_test = train_test_split(
        x, y, test_size=config.test_size, random_state=config.split_seed
    )
    as32 = np.float32
    return Dataset(x_train.astype(as32), y_train.astype(as32),
                   x_test.astype(as32), y_test.astype(as32))


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


def _build(data: Dataset) -> Any:
    return build_model(data.x_train.shape[1])


def _percent(sparsity: float) -> str:
    return f"{sparsity * 100:g}"


CANONICAL = (
    ExperimentConfig(name=UNPRUNED, description="the seed's MLP trained from scratch, no pruning"),
    ExperimentConfig(name="whole_model",
                     description="prune_low_magnitude on the whole trained model, fine-tuned",
                     prune=PruneConfig(scope="whole_model")),
    ExperimentConfig(name="dense_only",
                     description="only the hidden Dense layer wrapped, fine-tuned",
                     prune=PruneConfig(scope="hidden_dense")),
)

#: Magnitude pruning at every sweep sparsity, both schedules, both scopes (ConstantSparsity
#: at 0.5 is the canonical whole_model / dense_only, not repeated).
SWEEP = tuple(
    ExperimentConfig(
        name=f"{prefix}_{_SCHEDULE_SHORT[schedule]}_{_percent(target)}",
        description=f"{_SCHEDULE_TEXT[schedule]} {target:g} on {_SCOPE_TEXT[scope]}, fine-tuned",
        prune=PruneConfig(scope=scope, schedule=schedule, target_sparsity=target),
    )
    for scope, prefix in SCOPE_SHORT.items()
    for schedule in ("constant", "polynomial")
    for target in SWEEP_SPARSITIES
    if not (schedule == "constant" and target == DEFAULT_TARGET_SPARSITY)
)

#: The control: the same sparsities with a random fixed mask instead of magnitudes.
RANDOM = tuple(
    ExperimentConfig(
        name=f"{prefix}_random_{_percent(target)}",
        description=(f"random fixed mask at {target:g} on {_SCOPE_TEXT[scope]}, "
                     "fine-tuned (the magnitude criterion's control)"),
        prune=PruneConfig(scope=scope, target_sparsity=target, method="random"),
    )
    for scope, prefix in SCOPE_SHORT.items()
    for target in SWEEP_SPARSITIES
)

STRUCTURED = tuple(
    ExperimentConfig(
        name=f"{prefix}_2by4",
        description=f"2:4 structured sparsity (sparsity_m_by_n) on {_SCOPE_TEXT[scope]}",
        prune=PruneConfig(scope=scope, m_by_n=(2, 4)),
    ) for scope, prefix in SCOPE_SHORT.items())

QUANTIZED = tuple(
    ExperimentConfig(
        name=f"whole_pqat_{_percent(target)}",
        description=(f"whole model pruned to {target:g}, then pruning-preserving "
                     "quantization-aware training (PQAT), int8 TFLite"),
        prune=PruneConfig(scope="whole_model", target_sparsity=target),
        quantize="pqat",
    ) for target in (0.5, 0.875))

_NAMES = tuple(e.name for e in CANONICAL)

#: What every version's baseline holds and `prunebench check` judges: the canonical three
#: and one point of each other family whose figures are steady enough to gate (the random
#: control and whole-model pruning past 75% are not: MSE 7-36x unpruned).
GATED = (*_NAMES, "dense_const_87.5", "dense_poly_87.5", "whole_poly_75", "whole_2by4",
         "dense_2by4", "whole_pqat_50")

TASK = Task(
    name=SEED_TASK,
    description="the seed tutorial's 10-128-1 Dense MLP on make_friedman1 (regression)",
    load_data=load_data,
    build_model=_build,
    kind="regression",
    partial_layers=(HIDDEN_LAYER,),
    timing_rows=None,  # the whole 3,300-row test set, as its baselines were timed
    experiments=(*CANONICAL, *SWEEP, *RANDOM, *STRUCTURED, *QUANTIZED),
    gated=GATED,
    seed=True,
    groups={
        "canonical": _NAMES,
        # 4 sparsities x 2 schedules x 2 scopes (constant 0.5 = the canonical pair).
        "sweep": (*_NAMES, *(e.name for e in SWEEP)),
        "random": (UNPRUNED, *(e.name for e in RANDOM)),
        "structured": (UNPRUNED, *(e.name for e in STRUCTURED)),
        "quantized": (UNPRUNED, *(e.name for e in QUANTIZED)),
        "gated": GATED,
    },
)
