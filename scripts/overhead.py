"""Harness overhead: prunebench's quick run of one seed against the bare calls it wraps.

Both do the same work with tfmot / tf-keras / LiteRT directly: train unpruned, fine-tune
two pruned copies, strip, save HDF5 + zip, convert to TFLite, predict, time inference the
same number of times. They alternate in one process (bare, harness, bare, harness, ...) so
machine load hits both alike; the script prints each wall time and the ratio of medians.

    python scripts/overhead.py [--rounds 2]
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import tempfile
import time
import zipfile

from prunebench import config, experiments, kerasenv, runners
from prunebench.tasks.friedman1 import load_data


def bare_seed(seed: int, profile: config.Profile) -> None:
    """The quick profile's work for one seed, written against the libraries directly."""
    import numpy as np
    import tensorflow as tf
    from ai_edge_litert.interpreter import Interpreter

    keras = kerasenv.keras()
    tfmot = kerasenv.tfmot()
    data = load_data(profile.data)
    x, t = data.x_test, profile.timing

    def fit(model, cfg, callbacks):
        model.compile(optimizer="adam", loss="mean_squared_error", metrics=["mae", "mse"])
        stop = keras.callbacks.EarlyStopping(monitor="val_loss", patience=cfg.patience,
                                             restore_best_weights=True)
        model.fit(data.x_train, data.y_train, epochs=cfg.epochs, batch_size=cfg.batch_size,
                  validation_split=cfg.validation_split, callbacks=[*callbacks, stop], verbose=0)

    def measure(trained, stripped):
        pred = stripped.predict(x, batch_size=len(x), verbose=0)
        trained.predict(x, batch_size=len(x), verbose=0)
        np.mean((pred.ravel() - data.y_test) ** 2)
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "m.h5")
            stripped.save(path, include_optimizer=False, save_format="h5")
            buf = io.BytesIO()
            with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
                z.write(path)
            keras.models.load_model(path).predict(x, batch_size=len(x), verbose=0)
        flat = tf.lite.TFLiteConverter.from_keras_model(stripped).convert()
        interp = Interpreter(model_content=flat, num_threads=1)
        inp, out = interp.get_input_details()[0], interp.get_output_details()[0]
        interp.resize_tensor_input(inp["index"], list(x.shape))
        interp.allocate_tensors()

        def lite():
            interp.set_tensor(inp["index"], x)
            interp.invoke()
            return interp.get_tensor(out["index"])

        fn = tf.function(lambda v: stripped(v, training=False))
        xt = tf.constant(x)
        lite()
        calls = [lambda: fn(xt).numpy(), lite, lambda: stripped.layers[0](xt)]
        for call in calls:
            for _ in range(t.warmup + t.repeats * t.number):
                call()
        for _ in range(1 + t.predict_repeats * t.predict_number):
            stripped.predict(x, batch_size=len(x), verbose=0)

    keras.utils.set_random_seed(seed)
    base = keras.Sequential([keras.layers.Dense(128, activation="relu", input_shape=(10,)),
                             keras.layers.Dense(1)])
    fit(base, profile.base_train, [])
    measure(base, base)
    sparsity = tfmot.sparsity.keras
    for scope in ("whole_model", "hidden_dense"):
        keras.utils.set_random_seed(seed)
        copy = keras.models.clone_model(base)
        copy.set_weights(base.get_weights())
        schedule = sparsity.ConstantSparsity(0.5, begin_step=0, frequency=100)
        if scope == "whole_model":
            wrapped = sparsity.prune_low_magnitude(copy, pruning_schedule=schedule)
        else:
            wrapped = keras.models.clone_model(
                copy, clone_function=lambda layer, hidden=copy.layers[0], s=schedule: (
                    sparsity.prune_low_magnitude(layer, pruning_schedule=s)
                    if layer is hidden else layer))
        fit(wrapped, profile.prune_train, [sparsity.UpdatePruningStep()])
        measure(wrapped, sparsity.strip_pruning(wrapped))


def harness_seed(seed: int, profile: config.Profile) -> None:
    runners.run(experiments.resolve(None), [seed], profile)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    profile = config.get_profile("quick")
    kerasenv.keras()
    times: dict[str, list[float]] = {"bare": [], "harness": []}
    bare_seed(0, profile)  # warm-up: first traces and imports cost the same for both
    for round_ in range(args.rounds):
        order = ("bare", "harness") if round_ % 2 == 0 else ("harness", "bare")
        for name in order:
            start = time.perf_counter()
            (bare_seed if name == "bare" else harness_seed)(0, profile)
            times[name].append(time.perf_counter() - start)
            print(f"round {round_} {name:<8} {times[name][-1]:.1f} s", flush=True)
    bare, harness = (statistics.median(times[k]) for k in ("bare", "harness"))
    print(f"median bare {bare:.1f} s, harness {harness:.1f} s, "
          f"overhead {100 * (harness / bare - 1):+.1f}%")


if __name__ == "__main__":
    main()
