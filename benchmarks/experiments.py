"""One benchmark class per canonical experiment; every figure comes from one cached run.

asv counts a rise as a regression for every benchmark type, so each tracked figure is
given in lower-is-better form: MSE, density (1 - sparsity), bytes, seconds, ratios.
"""

from __future__ import annotations

from .common import ExperimentBenchmark, keras_timer, tflite_timer
from .common import figure_reader as _track


class _Figures(ExperimentBenchmark):
    track_mse = _track("mse")
    track_mse_vs_unpruned = _track("mse_vs_unpruned")
    # 1 - sparsity over all weights: asv treats a rise as worse, and it is never 0.
    track_density = _track("sparsity_all")
    track_keras_zip_bytes = _track("keras_zip_bytes")
    track_tflite_zip_bytes = _track("tflite_zip_bytes")
    # No track_ for keras_time_ratio: a single sample, judged by --factor alone, it moved
    # 11-18% between identical commits; the time_ benchmarks below carry samples and
    # asv's statistical test, and `prunebench check` gates the ratio over seeds.


class _KerasTime(ExperimentBenchmark):
    # One round: every round is another process that imports TensorFlow again (~5 s).
    rounds = 1

    def setup(self, cache):
        self.call, self.x = keras_timer(self.model_path(".h5"))
        self.call(self.x)

    def time_keras_inference(self, cache):
        """One forward pass over the 3,300 test rows, tf.function, one thread."""
        self.call(self.x)


class _TFLiteTime(ExperimentBenchmark):
    rounds = 1

    def setup(self, cache):
        self.call, self.x = tflite_timer(self.model_path(".tflite"))
        self.call(self.x)

    def time_tflite_inference(self, cache):
        """One LiteRT invoke over the 3,300 test rows, one thread."""
        self.call(self.x)


def _classes(name: str, label: str):
    bases = (_Figures, _KerasTime, _TFLiteTime)
    return [type(f"{label}{base.__name__.lstrip('_')}", (base,), {"experiment": name})
            for base in bases]


UnprunedFigures, UnprunedKerasTime, UnprunedTFLiteTime = _classes("unpruned", "Unpruned")
WholeModelFigures, WholeModelKerasTime, WholeModelTFLiteTime = _classes("whole_model", "WholeModel")
DenseOnlyFigures, DenseOnlyKerasTime, DenseOnlyTFLiteTime = _classes("dense_only", "DenseOnly")
