"""The seed's task: a Dense MLP regressing make_friedman1 (the canonical experiments' task)."""

from __future__ import annotations

from typing import Any

from prunebench import models
from prunebench.data import Dataset, load_data
from prunebench.tasks.base import Task


def _build(data: Dataset) -> Any:
    return models.build_model(data.x_train.shape[1])


#: Its experiments are the registry's bare-named ones (experiments.py); its baselines are
#: baselines/tfX.Y.json, as before tasks existed.
TASK = Task(
    name="friedman1",
    description="the seed tutorial's 10-128-1 Dense MLP on make_friedman1 (regression)",
    load_data=load_data,
    build_model=_build,
    kind="regression",
    partial_layers=(models.HIDDEN_LAYER,),
    timing_rows=None,  # the whole 3,300-row test set, as its baselines were timed
    experiments=(),
    gated=(),
)
