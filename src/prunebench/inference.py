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


def _interpreter_module() -> tuple[Any, str]:
    try:
        from ai_edge_litert import interpreter

        return interpreter, "ai_edge_litert"
    except ImportError:
        import tensorflow as tf

        return tf.lite, "tf.lite"


def _interpreter_class() -> tuple[Any, str]:
    module, name = _interpreter_module()
    return module.Interpreter, name


def make_interpreter(flatbuffer: bytes, delegates: bool = True) -> Any:
    """Return a one-thread interpreter; ``delegates=False``: built-in kernels, no XNNPACK."""
    module, _ = _interpreter_module()
    # LiteRT exports it at the top; tf.lite (the fallback) under experimental.
    types = getattr(module, "OpResolverType", None) or module.experimental.OpResolverType
    kind = types.AUTO if delegates else types.BUILTIN_WITHOUT_DEFAULT_DELEGATES
    return module.Interpreter(model_content=flatbuffer, num_threads=THREADS,
                              experimental_op_resolver_type=kind)


def tflite_predictor(flatbuffer: bytes, batch: int, delegates: bool = True
                     ) -> tuple[Callable[[np.ndarray], np.ndarray], str]:
    """Return (predict function for ``batch`` rows, interpreter name) for a TFLite model.

    ``delegates=False`` runs TFLite's built-in kernels only (no default XNNPACK delegate).
    """
    interpreter = make_interpreter(flatbuffer, delegates)
    name = _interpreter_module()[1]
    inp = interpreter.get_input_details()[0]
    out = interpreter.get_output_details()[0]
    interpreter.resize_tensor_input(inp["index"], [batch, *map(int, inp["shape"][1:])])
    interpreter.allocate_tensors()

    def predict(x: np.ndarray) -> np.ndarray:
        interpreter.set_tensor(inp["index"], x)
        interpreter.invoke()
        return np.array(interpreter.get_tensor(out["index"]))

    return predict, name


def _constant_tensors(interpreter: Any) -> set[int]:
    """Return the indices of the tensors no op produces and the model is not fed: weights."""
    ops = interpreter._get_ops_details()
    produced = {index for op in ops for index in op["outputs"]}
    fed = {detail["index"] for detail in interpreter.get_input_details()}
    return {index for op in ops for index in op["inputs"]
            if index >= 0 and index not in produced and index not in fed}


def tflite_weight_sparsity(flatbuffer: bytes) -> tuple[float, int]:
    """Return (fraction of zeros, tensor count) over the int8 weight tensors of rank >= 2.

    Those are the quantized Dense, convolution, recurrent and attention kernels and
    embedding tables; the sparsity is read back from the flatbuffer itself, after
    quantization rounded every weight. Only constant tensors count: an int8 activation
    (an embedding lookup's output) holds whatever memory it was given.
    """
    cls, _ = _interpreter_class()
    interpreter = cls(model_content=flatbuffer)
    interpreter.allocate_tensors()
    weights = _constant_tensors(interpreter)
    zeros = total = count = 0
    for detail in interpreter.get_tensor_details():
        if (detail["dtype"] != np.int8 or len(detail["shape"]) < 2
                or detail["index"] not in weights):
            continue
        values = interpreter.get_tensor(detail["index"])
        zeros += int(np.count_nonzero(values == 0))
        total += int(values.size)
        count += 1
    return (zeros / total if total else float("nan")), count


@dataclass(frozen=True)
class SparseStructure:
    """What an EXPERIMENTAL_SPARSITY flatbuffer holds: its sparse tensors and its ops."""

    sparse_tensors: int
    densify_ops: int
    ops: tuple[str, ...]


def sparse_structure(flatbuffer: bytes) -> SparseStructure:
    """Return the count of tensors stored sparse, of DENSIFY ops, and every op, in order.

    A sparse tensor carries sparsity parameters (a traversal order and per-dimension
    metadata); a DENSIFY op turns one back into a dense tensor at load time, so a kernel
    behind it runs dense.
    """
    cls, _ = _interpreter_class()
    reader = cls(model_content=flatbuffer)
    sparse = sum(1 for d in reader.get_tensor_details() if d.get("sparsity_parameters"))
    ops = tuple(op["op_name"] for op in reader._get_ops_details())
    return SparseStructure(sparse, sum(op == "DENSIFY" for op in ops), ops)


def keras_predictor(model: Any) -> Callable[[Any], Any]:
    """Return the model's forward pass compiled with tf.function (no training behaviour)."""
    import tensorflow as tf

    return tf.function(lambda x: model(x, training=False))


#: The stand-in reference of a model that is not a Dense stack: a numpy Dense stack of
#: this many weights at least, so a call costs more than numpy's own overhead.
PROXY_MIN_WEIGHTS = 4096
PROXY_SEED = 0


def _is_dense_stack(model: Any) -> bool:
    return all(type(layer).__name__ == "Dense" for layer in model.layers)


def numpy_proxy(model: Any, features: int) -> Callable[[np.ndarray], np.ndarray]:
    """Return a fixed numpy Dense stack, features -> w -> w, as big as ``model`` (>= 4,096).

    The reference of a convolution, recurrent or attention model: its job is to slow down
    with the machine, not to compute the model; its width follows the parameter count
    (features * w + w * w), so it is the same for every experiment of a task.
    """
    budget = max(PROXY_MIN_WEIGHTS, int(model.count_params()))
    width = max(1, int((-features + np.sqrt(features**2 + 4 * budget)) / 2))
    rng = np.random.default_rng(PROXY_SEED)
    first = rng.standard_normal((features, width)).astype(np.float32)
    second = rng.standard_normal((width, width)).astype(np.float32)

    def forward(x: np.ndarray) -> np.ndarray:
        hidden = np.maximum(x.reshape(len(x), -1) @ first, 0.0)
        return hidden @ second

    return forward


def reference_forward(model: Any, x: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
    """Return the reference workload: the model itself in numpy for a Dense stack, else a proxy."""
    if _is_dense_stack(model):
        return numpy_forward(model)
    return numpy_proxy(model, int(np.prod(x.shape[1:])))


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
            elif activation == "softmax":
                x = np.exp(x - x.max(axis=-1, keepdims=True))
                x = x / x.sum(axis=-1, keepdims=True)
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
    #: Block-sparse experiments: the sparse flatbuffer (default kernels), and both
    #: flatbuffers on TFLite's built-in kernels without the XNNPACK delegate.
    sparse: dict[str, timing.TimingStats] | None = None

    @property
    def keras_ratio(self) -> float:
        return _best_ratio(self.keras, self.reference, TIMING_SAMPLE["keras"])

    @property
    def tflite_ratio(self) -> float:
        return _best_ratio(self.tflite, self.reference, TIMING_SAMPLE["tflite"])


def _best_ratio(path: timing.TimingStats, reference: timing.TimingStats, kind: str) -> float:
    """Return the path's least disturbed sample over the reference's, of the gate's kind."""
    return min(path.of_kind(kind)) / min(reference.of_kind(kind))


#: The paths a block-sparse experiment adds to the interleaved blocks.
SPARSE_PATHS = ("tflite_sparse", "tflite_builtin", "tflite_sparse_builtin")


def time_inference(model: Any, flatbuffer: bytes, int8_flatbuffer: bytes, x: np.ndarray,
                   config: TimingConfig, sparse_flatbuffer: bytes | None = None) -> InferenceTimes:
    """Return Keras, TFLite (float, int8) and reference timings of predicting ``x``.

    With ``sparse_flatbuffer``, also the sparse model (default kernels) and the dense and
    sparse models on built-in kernels only, in the same interleaved blocks.
    """
    import tensorflow as tf

    x_tensor = tf.constant(x)
    keras_fn = keras_predictor(model)
    tflite_fn, interpreter = tflite_predictor(flatbuffer, len(x))
    int8_fn, _ = tflite_predictor(int8_flatbuffer, len(x))
    reference_fn = reference_forward(model, x)
    paths = {
        "keras": lambda: keras_fn(x_tensor).numpy(),
        "tflite": lambda: tflite_fn(x),
        "tflite_int8": lambda: int8_fn(x),
        "reference": lambda: reference_fn(x),
    }
    if sparse_flatbuffer is not None:
        sparse_fn, _ = tflite_predictor(sparse_flatbuffer, len(x))
        builtin_fn, _ = tflite_predictor(flatbuffer, len(x), delegates=False)
        sparse_builtin_fn, _ = tflite_predictor(sparse_flatbuffer, len(x), delegates=False)
        paths.update({"tflite_sparse": lambda: sparse_fn(x),
                      "tflite_builtin": lambda: builtin_fn(x),
                      "tflite_sparse_builtin": lambda: sparse_builtin_fn(x)})
    with threadpool_limits(limits=THREADS):
        timed = timing.interleaved(
            paths, warmup=config.warmup, repeats=config.repeats, number=config.number)
        predict = timing.measure(
            lambda: model.predict(x, batch_size=len(x), verbose=0),
            warmup=1, repeats=config.predict_repeats, number=config.predict_number,
        )
    sparse = ({path: timed[path] for path in SPARSE_PATHS}
              if sparse_flatbuffer is not None else None)
    return InferenceTimes(timed["keras"], predict, timed["tflite"], timed["tflite_int8"],
                          timed["reference"], interpreter, sparse)


def time_ratios(model: Any, flatbuffer: bytes, x: np.ndarray, config: TimingConfig
                ) -> dict[str, list[float]]:
    """Return per-block time ratios to the numpy reference of the Keras and TFLite paths."""
    import tensorflow as tf

    x_tensor = tf.constant(x)
    keras_fn = keras_predictor(model)
    tflite_fn, _ = tflite_predictor(flatbuffer, len(x))
    reference_fn = reference_forward(model, x)
    with threadpool_limits(limits=THREADS):
        timed = timing.interleaved(
            {"keras": lambda: keras_fn(x_tensor).numpy(), "tflite": lambda: tflite_fn(x),
             "reference": lambda: reference_fn(x)},
            warmup=config.warmup, repeats=config.repeats, number=config.number)
    return {path: timing.block_ratios(timed[path].of_kind(TIMING_SAMPLE[path]),
                                      timed["reference"].of_kind(TIMING_SAMPLE[path]))
            for path in ("keras", "tflite")}
