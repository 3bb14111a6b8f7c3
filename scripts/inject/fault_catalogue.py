"""The fault catalogue: every regression prunebench's tests and harness inject, in one place.

Each fault acts inside tfmot, tf-keras, TensorFlow's TFLite converter or the LiteRT
interpreter, never inside prunebench, and none sleeps or edits a prediction or a metric:
each changes what the library computes or how much work it does. Two ways in, one code:

- in a process of its own: ``PYTHONPATH=scripts/inject INJECT=KIND:STRENGTH`` (the
  sitecustomize beside this file applies the fault right after Python first imports its
  module): the injection harness, the command-line tests, one side of an upgrade;
- in a test's own process: ``conftest.inject(monkeypatch, KIND, STRENGTH)`` (tests/conftest.py) applies it
  through pytest's monkeypatch, undone when the test ends.

A fault is ``apply(module, strength, patch)``: ``patch`` has monkeypatch's ``setattr``,
``setitem`` and ``delitem``. Nothing in src/ reads this file.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

#: Every random draw of an injection is seeded: an injected run is as repeatable as a clean one.
SEED = 1234
TFMOT = "tensorflow_model_optimization.python.core.sparsity.keras."
#: Inference batches are the whole test set; training batches are 32 rows (or unknown).
INFERENCE_ROWS = 1000


@dataclass(frozen=True)
class Fault:
    """One kind of regression: where it acts, what it does, what it moves and how hard."""

    kind: str
    #: The module whose code it changes, patched right after that module is first imported.
    module: str
    apply: Callable[[Any, float, Any], None]
    #: The figure it moves, and strengths from weak to strong (the harness's grades); None:
    #: a fault the tests inject at one strength.
    figure: str | None = None
    strengths: tuple[float, ...] = ()


def _rng():
    import numpy as np

    return np.random.default_rng(SEED)


def _replace_function(module, name: str, new, patch) -> None:
    """Set ``module.name`` to ``new`` and every loaded module's alias of the original too
    (tfmot's public API re-exports strip_pruning by name: patched before it is imported,
    the alias is the new function; after, it is patched here)."""
    original = getattr(module, name)
    for loaded in list(sys.modules.values()):
        if loaded is not None and getattr(loaded, name, None) is original:
            patch.setattr(loaded, name, new)


def adam_lr(module, strength, patch):
    """tf-keras Adam's default learning rate times STRENGTH (an optimizer default)."""
    original = module.Adam.__init__

    def __init__(self, learning_rate=0.001, *args, **kwargs):
        original(self, learning_rate * strength, *args, **kwargs)

    patch.setattr(module.Adam, "__init__", __init__)


def adam_epsilon(module, strength, patch):
    """tf-keras Adam's default epsilon times STRENGTH (an optimizer default): at 0 a weight
    whose gradient is 0 (a pruned one, a dead unit's) is moved by 0 / 0, and goes NaN."""
    original = module.Adam.__init__

    def __init__(self, *args, epsilon=1e-7, **kwargs):
        original(self, *args, epsilon=epsilon * strength, **kwargs)

    patch.setattr(module.Adam, "__init__", __init__)


def schedule(module, strength, patch):
    """tfmot's schedules ask STRENGTH less sparsity (a fraction: 0.005 = 0.5 points)."""
    for cls in (module.ConstantSparsity, module.PolynomialDecay):
        def weaker(self, step, _original=cls.__call__):
            should_prune, sparsity = _original(self, step)
            return should_prune, sparsity - strength

        patch.setattr(cls, "__call__", weaker)


def mask_noise(module, strength, patch):
    """tfmot ranks weights by |w| x (1 + STRENGTH x N(0, 1)) when it updates masks."""
    import tensorflow as tf

    original = module.Pruning._update_mask

    def noisy(self, weights):
        jitter = 1.0 + strength * tf.random.stateless_normal(tf.shape(weights), seed=[SEED, 0],
                                                              dtype=weights.dtype)
        return original(self, weights * jitter)

    patch.setattr(module.Pruning, "_update_mask", noisy)


def mask_inverted(module, strength, patch):
    """tfmot ranks weights by 1 / |w|: the largest are pruned, the smallest kept."""
    import tensorflow as tf

    original = module.Pruning._update_mask

    def inverted(self, weights):
        return original(self, 1.0 / (tf.math.abs(weights) + 1e-12))

    patch.setattr(module.Pruning, "_update_mask", inverted)


def conv_random_mask(module, strength, patch):
    """tfmot chooses the masks of convolution kernels (rank 4) at random, not by magnitude,
    for a STRENGTH share of their ranking scores (1: all random); other masks untouched."""
    import tensorflow as tf

    original = module.Pruning._update_mask

    def chosen(self, weights):
        if weights.shape.rank != 4:
            return original(self, weights)
        noise = tf.random.stateless_uniform(tf.shape(weights), seed=[SEED, 1], dtype=weights.dtype)
        scale = tf.reduce_max(tf.abs(weights)) + 1e-12
        score = (1.0 - strength) * tf.abs(weights) + strength * noise * scale
        return original(self, score)

    patch.setattr(module.Pruning, "_update_mask", chosen)


def _kernels(model):
    """Every layer's ``kernel`` variable once, nested layers and RNN cells included;
    layers without one (normalisation, pooling, dropout) are passed over."""
    seen = {}
    for layer in [model, *model.submodules]:
        kernel = getattr(layer, "kernel", None)
        if kernel is not None and hasattr(kernel, "assign"):
            seen.setdefault(id(kernel), kernel)
    return list(seen.values())


def strip_noise(module, strength, patch):
    """tfmot's strip_pruning scales each kept weight by (1 + STRENGTH x N(0, 1))."""
    original = module.strip_pruning

    def noisy(model):
        stripped = original(model)
        rng = _rng()
        for variable in _kernels(stripped):
            kernel = variable.numpy()
            kernel *= 1.0 + strength * rng.standard_normal(kernel.shape).astype(kernel.dtype)
            variable.assign(kernel)  # zeros stay zero: sparsity is untouched
        return stripped

    _replace_function(module, "strip_pruning", noisy, patch)


def strip_leak(module, strength, patch):
    """tfmot's strip_pruning leaves pruned weights at N(0, STRENGTH), not exactly 0."""
    original = module.strip_pruning

    def leaky(model):
        stripped = original(model)
        rng = _rng()
        for variable in _kernels(stripped):
            kernel = variable.numpy()
            zeros = kernel == 0
            kernel[zeros] = rng.normal(scale=strength, size=int(zeros.sum()))
            variable.assign(kernel)
        return stripped

    _replace_function(module, "strip_pruning", leaky, patch)


def _padding(size):
    return _rng().integers(0, 256, size=int(size), dtype="uint8").tobytes()


def h5_pad(module, strength, patch):
    """tf-keras writes STRENGTH bytes of incompressible metadata into every HDF5."""
    original = module.model_metadata

    def padded(model, include_optimizer=True, require_config=True):
        metadata = original(model, include_optimizer, require_config)
        metadata["injected_padding"] = _padding(strength).hex()
        return metadata

    _replace_function(module, "model_metadata", padded, patch)


def tflite_pad(module, strength, patch):
    """The TFLite converter's flatbuffer grows by STRENGTH incompressible bytes."""
    original = module.TFLiteKerasModelConverterV2.convert

    def padded(self):
        # Trailing bytes: flatbuffers address from the start, the model still loads.
        return bytes(original(self)) + _padding(strength)

    patch.setattr(module.TFLiteKerasModelConverterV2, "convert", padded)


def tflite_grow(module, strength, patch):
    """The TFLite converter's flatbuffer grows by STRENGTH of its own size in incompressible
    bytes: the same share of every model, a large one or a small one."""
    original = module.TFLiteKerasModelConverterV2.convert

    def grown(self):
        flatbuffer = bytes(original(self))
        return flatbuffer + _padding(len(flatbuffer) * strength)

    patch.setattr(module.TFLiteKerasModelConverterV2, "convert", grown)


def tflite_no_sparse(module, strength, patch):
    """The TFLite converter drops Optimize.EXPERIMENTAL_SPARSITY from its optimizations:
    sparse experiments get dense flatbuffers (STRENGTH unused)."""
    import tensorflow as tf

    original = module.TFLiteKerasModelConverterV2.convert

    def dense_only(self):
        self.optimizations = [o for o in self.optimizations
                              if o != tf.lite.Optimize.EXPERIMENTAL_SPARSITY]
        return original(self)

    patch.setattr(module.TFLiteKerasModelConverterV2, "convert", dense_only)


def keras_work(module, strength, patch):
    """tf-keras Dense, at inference on batches over 1,000 rows, computes its product again
    for a STRENGTH share of the rows and folds it into the bias times 0 (the same values;
    work growing with STRENGTH)."""
    import tensorflow as tf

    original = module.Dense.call

    def call(self, inputs):  # the signature Keras inspects: no training argument
        rows = inputs.shape[0]
        if rows is None or rows <= INFERENCE_ROWS or not self.use_bias:
            return original(self, inputs)
        k = max(1, round(strength * rows))
        again = tf.matmul(tf.reverse(inputs[:k], [0]), self.kernel)  # nothing can merge it
        # bias + 0 * finite == bias exactly: the same values, k rows more work, nothing else
        # (an unused product is pruned from the graph; a pass over the output costs ~30%).
        bias = self.bias + 0.0 * tf.reduce_sum(again)
        return self.activation(tf.nn.bias_add(tf.matmul(inputs, self.kernel), bias))

    patch.setattr(module.Dense, "call", call)


def dense_fourfold(module, strength, patch):
    """tf-keras Dense computes every output four times over, each value unchanged: the same
    rows reversed, rolled and both, averaged ((a + a) * 0.5 == a exactly; STRENGTH unused)."""
    import tensorflow as tf

    original = module.Dense.call

    def roll(x):  # by slices: TFLite has no Roll op
        return tf.concat([x[1:], x[:1]], 0)

    def unroll(x):
        return tf.concat([x[-1:], x[:-1]], 0)

    def four_times(self, inputs):  # the signature Keras inspects: no training argument
        a = original(self, inputs)
        b = tf.reverse(original(self, tf.reverse(inputs, [0])), [0])
        c = unroll(original(self, roll(inputs)))
        d = unroll(tf.reverse(original(self, tf.reverse(roll(inputs), [0])), [0]))
        return ((a + b) * 0.5 + (c + d) * 0.5) * 0.5

    patch.setattr(module.Dense, "call", four_times)


def tflite_work(module, strength, patch):
    """The LiteRT interpreter runs its graph once more on a STRENGTH share of invokes
    (every round(1 / STRENGTH)-th), the same outputs."""
    original = module.Interpreter.invoke
    every = max(1, round(1 / strength))
    calls = [0]

    def invoke(self):
        calls[0] += 1
        if calls[0] % every == 0:
            original(self)  # the same inputs: the same outputs, once more
        return original(self)

    patch.setattr(module.Interpreter, "invoke", invoke)


def rnn_recurrent_unpruned(module, strength, patch):
    """tfmot's prune registry lists only the input kernel of LSTM, GRU and SimpleRNN cells:
    the recurrent kernel is left unpruned (STRENGTH unused)."""
    registry = module.PruneRegistry._RNN_CELLS_WEIGHTS_MAP
    for cell in list(registry):
        patch.setitem(registry, cell, [name for name in registry[cell]
                                       if name != "recurrent_kernel"])


def registry_drops_conv2d(module, strength, patch):
    """tfmot's prune registry no longer knows Conv2D, as TF 2.15's knows no Keras LSTM:
    tfmot refuses to wrap it (STRENGTH unused)."""
    registry = module.PruneRegistry._LAYERS_WEIGHTS_MAP
    for layer in [cls for cls in registry if cls.__name__ == "Conv2D"]:
        patch.delitem(registry, layer)


_DENSE = "tf_keras.src.layers.core.dense"
_LITE = "tensorflow.lite.python.lite"
CATALOGUE: dict[str, Fault] = {fault.kind: fault for fault in (
    Fault("adam_lr", "tf_keras.src.optimizers.adam", adam_lr, "mse", (1.001, 1.01, 1.1)),
    Fault("adam_epsilon", "tf_keras.src.optimizers.adam", adam_epsilon, "mse", (0.0,)),
    Fault("schedule", TFMOT + "pruning_schedule", schedule, "sparsity_pruned",
          (0.001, 0.002, 0.005)),
    Fault("mask_noise", TFMOT + "pruning_impl", mask_noise, "mse", (0.001, 0.01, 0.1)),
    Fault("mask_inverted", TFMOT + "pruning_impl", mask_inverted),
    Fault("conv_random_mask", TFMOT + "pruning_impl", conv_random_mask),
    Fault("strip_noise", TFMOT + "prune", strip_noise, "mse", (0.003, 0.01, 0.03, 0.1)),
    Fault("strip_leak", TFMOT + "prune", strip_leak),
    Fault("h5_pad", "tf_keras.src.saving.legacy.saving_utils", h5_pad, "keras_zip_bytes",
          (8, 32, 64, 128)),
    Fault("tflite_pad", _LITE, tflite_pad, "tflite_zip_bytes", (8, 32, 64, 128)),
    Fault("tflite_grow", _LITE, tflite_grow, "tflite_zip_bytes", (0.005, 0.02, 0.05)),
    Fault("tflite_no_sparse", _LITE, tflite_no_sparse),
    Fault("keras_work", _DENSE, keras_work, "keras_time_ratio", (0.1, 0.25, 0.5, 1.0)),
    Fault("dense_fourfold", _DENSE, dense_fourfold),
    Fault("tflite_work", "ai_edge_litert.interpreter", tflite_work, "tflite_time_ratio",
          (0.1, 0.25, 0.5, 1.0)),
    Fault("rnn_recurrent_unpruned", TFMOT + "prune_registry", rnn_recurrent_unpruned),
    Fault("registry_drops_conv2d", TFMOT + "prune_registry", registry_drops_conv2d),
)}


class Permanent:
    """monkeypatch's three operations, for good: a process injected from its start."""

    @staticmethod
    def setattr(owner, name, value):
        setattr(owner, name, value)

    @staticmethod
    def setitem(mapping, key, value):
        mapping[key] = value

    @staticmethod
    def delitem(mapping, key):
        del mapping[key]


def get(kind: str) -> Fault:
    """Return the fault of ``kind``, or exit naming the known ones."""
    if kind not in CATALOGUE:
        sys.exit(f"INJECT: unknown kind {kind!r}; one of {sorted(CATALOGUE)}")
    return CATALOGUE[kind]
