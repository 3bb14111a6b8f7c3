"""Beyond the seed in asv: the sparsity sweep, the random control, 2:4 and PQAT.

A representative slice of the registry (whole-model pruning at every sweep sparsity, and
one point of each other family at 87.5% or 2:4), from one cached run of their own (the
canonical suite's stays the canonical three). One parametrized benchmark per figure:
asv's pages draw a curve per experiment.
"""

from __future__ import annotations

from typing import ClassVar

from .common import BEYOND, ExperimentBenchmark, model_file, tflite_timer, train_and_keep
from .common import figure_reader as _track


class BeyondBenchmark(ExperimentBenchmark):
    """Base of this module's classes: one cached run of its experiments (and whole_model,
    the post-training int8 side of Int8Time), apart from the canonical suite's run."""

    trains = ("whole_model", *BEYOND)

    def setup_cache(self):
        return train_and_keep(self.trains)


def _skip_unless_run(cache, experiment):
    """Skip (asv: NotImplementedError in setup) what the cached run left out.

    PQAT is left out where tfmot cannot do it (TF 2.15).
    """
    if experiment not in cache:
        raise NotImplementedError(f"{experiment} was not run in this environment")


class Beyond(BeyondBenchmark):
    params: ClassVar[list[list[str]]] = [list(BEYOND)]
    param_names: ClassVar[list[str]] = ["experiment"]

    def setup(self, cache, experiment):
        _skip_unless_run(cache, experiment)

    track_mse = _track("mse", parametrized=True)
    track_density = _track("sparsity_all", parametrized=True)
    # 1 - sparsity of the int8 TFLite kernels, read back from the flatbuffer.
    track_int8_density = _track("tflite_int8_sparsity", parametrized=True)
    track_tflite_int8_zip_bytes = _track("tflite_int8_zip_bytes", parametrized=True)
    track_tflite_int8_mse = _track("tflite_int8_mse", parametrized=True)


class Int8Time(BeyondBenchmark):
    """LiteRT on the int8 flatbuffers: post-training (whole_model) against PQAT."""

    params: ClassVar[list[list[str]]] = [["whole_model", "whole_pqat_87.5"]]
    param_names: ClassVar[list[str]] = ["experiment"]
    rounds = 1

    def setup(self, cache, experiment):
        _skip_unless_run(cache, experiment)
        self.call, self.x = tflite_timer(model_file(experiment, ".int8.tflite"))
        self.call(self.x)

    def time_tflite_int8_inference(self, cache, experiment):
        """One LiteRT invoke of the int8 model over the 3,300 test rows, one thread."""
        self.call(self.x)
