"""Inference over the test set along three paths, timed together in one process.

The gated time figures are ratios to a reference workload: the same forward pass in
numpy, timed in interleaved blocks with the Keras and TFLite calls. A slower machine or a
busy neighbour slows both; a slower TensorFlow or Keras slows only the numerator.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from threadpoolctl import threadpool_limits

from prunebench import timing
from prunebench.config import TimingConfig
from prunebench.timing import TIMING_SAMPLE

#: The reference and TFLite run on one thread, as TensorFlow is pinned to one.
THREADS = 1


def _interpreter_class() -> tuple[Any, str]:
    try:
        from ai_edge_litert.interpreter import Interpreter

        return Interpreter, "ai_edge_litert"
    except ImportError:
        import tensorflow as tf

        return tf.lite.Interpreter, "tf.lite"


def tflite_predictor(flatbuffer: bytes, batch: int) -> tuple[Callable[[np.ndarray], np.ndarray], str]:
    """Return (predict function for ``batch`` rows, interpreter name) for a TFLite model."""
    cls, name = _interpreter_class()
    interpreter = cls(model_content=flatbuffer, num_threads=THREADS)
    inp = interpreter.get_input_details()[0]
    out = interpreter.get_output_details()[0]
    interpreter.resize_tensor_input(inp["index"], [batch, int(inp["shape"][-1])])
    interpreter.allocate_tensors()

    def predict(x: np.ndarray) -> np.ndarray:
        interpreter.set_tensor(inp["index"], x)
        interpreter.invoke()
        return np.array(interpreter.get_tensor(out["index"]))

    return predict, name


def tflite_weight_sparsity(flatbuffer: bytes) -> tuple[float, int]:
    """Return (fraction of zeros, tensor count) over the int8 rank-2 weight tensors.

    Those are the quantized Dense kernels; the sparsity is read back from the flatbuffer
    itself, after quantization rounded every weight.
    """
    cls, _ = _interpreter_class()
    interpreter = cls(model_content=flatbuffer)
    interpreter.allocate_tensors()
    zeros = total = count = 0
    for detail in interpreter.get_tensor_details():
        if detail["dtype"] != np.int8 or len(detail["shape"]) != 2:
            continue
        try:
            values = interpreter.get_tensor(detail["index"])
        except ValueError:
            continue  # an activation tensor, not a weight
        zeros += int(np.count_nonzero(values == 0))
        total += int(values.size)
        count += 1
    return (zeros / total if total else float("nan")), count


def keras_predictor(model: Any) -> Callable[[Any], Any]:
    """Return the model's forward pass compiled with tf.function (no training behaviour)."""
    import tensorflow as tf

    return tf.function(lambda x: model(x, training=False))


def numpy_forward(model: Any) -> Callable[[np.ndarray], np.ndarray]:
    """Return the Dense stack's forward pass in numpy: the reference workload."""
    layers = [
        (layer.kernel.numpy(), layer.bias.numpy(), layer.get_config().get("activation"))
        for layer in model.layers
    ]

    def forward(x: np.ndarray) -> np.ndarray:
        for kernel, bias, activation in layers:
            x = x @ kernel + bias
            if activation == "relu":
                x = np.maximum(x, 0.0)
            elif activation not in (None, "linear"):
                raise ValueError(f"numpy reference has no activation {activation!r}")
        return x

    return forward


@dataclass(frozen=True)
class InferenceTimes:
    """Per-call timings over the whole test set, and the interpreter used for TFLite."""

    keras: timing.TimingStats
    keras_predict: timing.TimingStats
    tflite: timing.TimingStats
    tflite_int8: timing.TimingStats
    reference: timing.TimingStats
    interpreter: str

    @property
    def keras_ratio(self) -> float:
        return _best_ratio(self.keras, self.reference, TIMING_SAMPLE["keras"])

    @property
    def tflite_ratio(self) -> float:
        return _best_ratio(self.tflite, self.reference, TIMING_SAMPLE["tflite"])


def _best_ratio(path: timing.TimingStats, reference: timing.TimingStats, kind: str) -> float:
    """Return the path's least disturbed sample over the reference's, of the gate's kind."""
    return min(path.of_kind(kind)) / min(reference.of_kind(kind))


def time_inference(model: Any, flatbuffer: bytes, int8_flatbuffer: bytes, x: np.ndarray,
                   config: TimingConfig) -> InferenceTimes:
    """Return Keras, TFLite (float, int8) and reference timings of predicting ``x``."""
    import tensorflow as tf

    x_tensor = tf.constant(x)
    keras_fn = keras_predictor(model)
    tflite_fn, interpreter = tflite_predictor(flatbuffer, len(x))
    int8_fn, _ = tflite_predictor(int8_flatbuffer, len(x))
    reference_fn = numpy_forward(model)
    with threadpool_limits(limits=THREADS):
        timed = timing.interleaved(
            {
                "keras": lambda: keras_fn(x_tensor).numpy(),
                "tflite": lambda: tflite_fn(x),
                "tflite_int8": lambda: int8_fn(x),
                "reference": lambda: reference_fn(x),
            },
            warmup=config.warmup, repeats=config.repeats, number=config.number,
        )
        predict = timing.measure(
            lambda: model.predict(x, batch_size=len(x), verbose=0),
            warmup=1, repeats=config.repeats, number=config.predict_number,
        )
    return InferenceTimes(timed["keras"], predict, timed["tflite"], timed["tflite_int8"],
                          timed["reference"], interpreter)


def time_ratios(model: Any, flatbuffer: bytes, x: np.ndarray, config: TimingConfig
                ) -> dict[str, list[float]]:
    """Return per-block time ratios to the numpy reference of the Keras and TFLite paths."""
    import tensorflow as tf

    x_tensor = tf.constant(x)
    keras_fn = keras_predictor(model)
    tflite_fn, _ = tflite_predictor(flatbuffer, len(x))
    reference_fn = numpy_forward(model)
    with threadpool_limits(limits=THREADS):
        timed = timing.interleaved(
            {"keras": lambda: keras_fn(x_tensor).numpy(), "tflite": lambda: tflite_fn(x),
             "reference": lambda: reference_fn(x)},
            warmup=config.warmup, repeats=config.repeats, number=config.number)
    return {path: timing.block_ratios(timed[path].of_kind(TIMING_SAMPLE[path]),
                                      timed["reference"].of_kind(TIMING_SAMPLE[path]))
            for path in ("keras", "tflite")}
