"""A task whose model is built with Keras 3 (``import keras``), which tfmot cannot prune."""

from __future__ import annotations

from functools import partial

from prunebench.data import digits
from prunebench.tasks import Task


def build(data):
    import keras  # Keras 3 on TF >= 2.16: the mistake this task makes

    return keras.Sequential([keras.layers.Input(shape=data.x_train.shape[1:]),
                             keras.layers.Dense(16, name="hidden"), keras.layers.Dense(10)])


TASK = Task(name="keras3_task", description="a Keras 3 model", load_data=partial(digits, layout="flat"),
            build_model=build, partial_layers=("hidden",))
