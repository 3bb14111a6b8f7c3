"""One benchmark class per canonical experiment; every figure comes from one cached run.

asv counts a rise as a regression for every benchmark type, so each tracked figure is
given in lower-is-better form: MSE, density (1 - sparsity), bytes, seconds, ratios.
"""

from __future__ import annotations

from .common import ExperimentBenchmark, keras_timer, tflite_timer


class _Figures(ExperimentBenchmark):
    def track_mse(self, cache):
        return cache[self.experiment]["mse"]

    track_mse.unit = "y^2"

    def track_mse_vs_unpruned(self, cache):
        return cache[self.experiment]["mse_vs_unpruned"]

    track_mse_vs_unpruned.unit = "ratio"

    def track_density(self, cache):
        """1 - sparsity over all weights (asv treats a rise as worse; never 0)."""
        return 1.0 - cache[self.experiment]["sparsity_all"]

    track_density.unit = "fraction"

    def track_keras_zip_bytes(self, cache):
        return cache[self.experiment]["keras_zip_bytes"]

    track_keras_zip_bytes.unit = "bytes"

    def track_tflite_zip_bytes(self, cache):
        return cache[self.experiment]["tflite_zip_bytes"]

    track_tflite_zip_bytes.unit = "bytes"

    def track_keras_time_ratio(self, cache):
        """Keras inference time / a numpy forward pass timed in the same process."""
        return cache[self.experiment]["keras_time_ratio"]

    track_keras_time_ratio.unit = "ratio"


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
