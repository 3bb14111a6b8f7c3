"""Regressions injected from outside prunebench, for scripts/injection_harness.py.

With this folder on PYTHONPATH, Python imports this file at start-up. ``INJECT=KIND:STRENGTH``
picks one regression; without INJECT nothing is touched. Each patch acts inside tfmot,
tf-keras, TensorFlow's TFLite converter or the LiteRT interpreter, right after Python first
imports the module it lives in, and never inside prunebench. None of them sleeps or edits
a prediction or metric: each changes what the library computes or how much work it does.

KIND (STRENGTH):
  adam_lr        tf-keras Adam's default learning rate times STRENGTH (an optimizer default)
  schedule       tfmot's schedules ask STRENGTH less sparsity (a fraction: 0.005 = 0.5 points)
  mask_noise     tfmot ranks weights by |w| x (1 + STRENGTH x N(0, 1)) when it updates masks
  strip_noise    tfmot's strip_pruning scales each kept weight by (1 + STRENGTH x N(0, 1))
  h5_pad         tf-keras writes STRENGTH bytes of incompressible metadata into every HDF5
  tflite_pad     the TFLite converter's flatbuffer grows by STRENGTH incompressible bytes
  keras_work     tf-keras Dense, at inference on batches over 1,000 rows, computes its
                 product again for a STRENGTH share of the rows and folds it into the
                 bias times 0 (the same values; work growing with STRENGTH)
  tflite_work    the LiteRT interpreter runs its graph once more on a STRENGTH share of
                 invokes (every round(1 / STRENGTH)-th), the same outputs
  conv_random_mask  tfmot chooses the masks of convolution kernels (rank 4) at random, not
                 by magnitude, for a STRENGTH share of their weights' ranking scores (1: all
                 random); Dense, RNN, embedding and attention masks are untouched
  rnn_recurrent_unpruned  tfmot's prune registry lists only the input kernel of LSTM, GRU and
                 SimpleRNN cells: the recurrent kernel is left unpruned (STRENGTH unused)
  tflite_no_sparse  the TFLite converter drops Optimize.EXPERIMENTAL_SPARSITY from its
                 optimizations: sparse experiments get dense flatbuffers (STRENGTH unused)
  registry_drops_conv2d  tfmot's prune registry no longer knows Conv2D, as TF 2.15's knows
                 no Keras LSTM: tfmot refuses to wrap it (STRENGTH unused)
"""

from __future__ import annotations

import importlib.abc
import importlib.util
import os
import sys

KIND, _, _STRENGTH = os.environ.get("INJECT", "").partition(":")
STRENGTH = float(_STRENGTH) if _STRENGTH else 0.0
#: Every random draw of an injection is seeded: an injected run is as repeatable as a clean one.
SEED = 1234
TFMOT = "tensorflow_model_optimization.python.core.sparsity.keras."


def after_import(module_name, patch):
    """Call ``patch(module)`` right after ``module_name`` is first executed."""

    class Finder(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path, target=None):
            if name != module_name:
                return None
            sys.meta_path.remove(self)
            spec = importlib.util.find_spec(name)
            original = spec.loader.exec_module

            def exec_module(module):
                original(module)
                patch(module)

            spec.loader.exec_module = exec_module
            return spec

    sys.meta_path.insert(0, Finder())


def _rng():
    import numpy as np

    return np.random.default_rng(SEED)


def adam_lr(module):
    original = module.Adam.__init__

    def __init__(self, learning_rate=0.001, *args, **kwargs):
        original(self, learning_rate * STRENGTH, *args, **kwargs)

    module.Adam.__init__ = __init__


def schedule(module):
    for cls in (module.ConstantSparsity, module.PolynomialDecay):
        def weaker(self, step, _original=cls.__call__):
            should_prune, sparsity = _original(self, step)
            return should_prune, sparsity - STRENGTH

        cls.__call__ = weaker


def mask_noise(module):
    import tensorflow as tf

    original = module.Pruning._update_mask

    def noisy(self, weights):
        jitter = 1.0 + STRENGTH * tf.random.stateless_normal(tf.shape(weights), seed=[SEED, 0],
                                                              dtype=weights.dtype)
        return original(self, weights * jitter)

    module.Pruning._update_mask = noisy


def _kernels(model):
    """Every layer's ``kernel`` variable once, nested layers and RNN cells included;
    layers without one (normalisation, pooling, dropout) are passed over."""
    seen = {}
    for layer in [model, *model.submodules]:
        kernel = getattr(layer, "kernel", None)
        if kernel is not None and hasattr(kernel, "assign"):
            seen.setdefault(id(kernel), kernel)
    return list(seen.values())


def strip_noise(module):
    original = module.strip_pruning

    def noisy(model):
        stripped = original(model)
        rng = _rng()
        for variable in _kernels(stripped):
            kernel = variable.numpy()
            kernel *= 1.0 + STRENGTH * rng.standard_normal(kernel.shape).astype(kernel.dtype)
            variable.assign(kernel)  # zeros stay zero: sparsity is untouched
        return stripped

    module.strip_pruning = noisy


def _padding(size):
    return _rng().integers(0, 256, size=int(size), dtype="uint8").tobytes()


def h5_pad(module):
    original = module.model_metadata

    def padded(model, include_optimizer=True, require_config=True):
        metadata = original(model, include_optimizer, require_config)
        metadata["injected_padding"] = _padding(STRENGTH).hex()
        return metadata

    module.model_metadata = padded


def tflite_pad(module):
    original = module.TFLiteKerasModelConverterV2.convert

    def padded(self):
        # Trailing bytes: flatbuffers address from the start, the model still loads.
        return bytes(original(self)) + _padding(STRENGTH)

    module.TFLiteKerasModelConverterV2.convert = padded


#: Inference batches are the whole test set; training batches are 32 rows (or unknown).
INFERENCE_ROWS = 1000


def keras_work(module):
    import tensorflow as tf

    original = module.Dense.call

    def call(self, inputs):  # the signature Keras inspects: no training argument
        rows = inputs.shape[0]
        if rows is None or rows <= INFERENCE_ROWS or not self.use_bias:
            return original(self, inputs)
        k = max(1, round(STRENGTH * rows))
        again = tf.matmul(tf.reverse(inputs[:k], [0]), self.kernel)  # nothing can merge it
        # bias + 0 * finite == bias exactly: the same values, k rows more work, nothing else
        # (an unused product is pruned from the graph; a pass over the output costs ~30%).
        bias = self.bias + 0.0 * tf.reduce_sum(again)
        return self.activation(tf.nn.bias_add(tf.matmul(inputs, self.kernel), bias))

    module.Dense.call = call


def tflite_work(module):
    original = module.Interpreter.invoke
    every = max(1, round(1 / STRENGTH))
    calls = [0]

    def invoke(self):
        calls[0] += 1
        if calls[0] % every == 0:
            original(self)  # the same inputs: the same outputs, once more
        return original(self)

    module.Interpreter.invoke = invoke


def conv_random_mask(module):
    import tensorflow as tf

    original = module.Pruning._update_mask

    def chosen(self, weights):
        if weights.shape.rank != 4:
            return original(self, weights)
        noise = tf.random.stateless_uniform(tf.shape(weights), seed=[SEED, 1], dtype=weights.dtype)
        scale = tf.reduce_max(tf.abs(weights)) + 1e-12
        score = (1.0 - STRENGTH) * tf.abs(weights) + STRENGTH * noise * scale
        return original(self, score)

    module.Pruning._update_mask = chosen


def rnn_recurrent_unpruned(module):
    registry = module.PruneRegistry._RNN_CELLS_WEIGHTS_MAP
    for cell in list(registry):
        registry[cell] = [name for name in registry[cell] if name != "recurrent_kernel"]


def tflite_no_sparse(module):
    import tensorflow as tf

    original = module.TFLiteKerasModelConverterV2.convert

    def dense_only(self):
        self.optimizations = [o for o in self.optimizations
                              if o != tf.lite.Optimize.EXPERIMENTAL_SPARSITY]
        return original(self)

    module.TFLiteKerasModelConverterV2.convert = dense_only


def registry_drops_conv2d(module):
    registry = module.PruneRegistry._LAYERS_WEIGHTS_MAP
    for layer in [cls for cls in registry if cls.__name__ == "Conv2D"]:
        del registry[layer]


TARGETS = {
    "adam_lr": ("tf_keras.src.optimizers.adam", adam_lr),
    "schedule": (TFMOT + "pruning_schedule", schedule),
    "mask_noise": (TFMOT + "pruning_impl", mask_noise),
    "strip_noise": (TFMOT + "prune", strip_noise),
    "h5_pad": ("tf_keras.src.saving.legacy.saving_utils", h5_pad),
    "tflite_pad": ("tensorflow.lite.python.lite", tflite_pad),
    "keras_work": ("tf_keras.src.layers.core.dense", keras_work),
    "tflite_work": ("ai_edge_litert.interpreter", tflite_work),
    "conv_random_mask": (TFMOT + "pruning_impl", conv_random_mask),
    "rnn_recurrent_unpruned": (TFMOT + "prune_registry", rnn_recurrent_unpruned),
    "tflite_no_sparse": ("tensorflow.lite.python.lite", tflite_no_sparse),
    "registry_drops_conv2d": (TFMOT + "prune_registry", registry_drops_conv2d),
}

if KIND:
    if KIND not in TARGETS:
        sys.exit(f"INJECT: unknown kind {KIND!r}; one of {sorted(TARGETS)}")
    after_import(*TARGETS[KIND])
