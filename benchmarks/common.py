"""Shared asv glue: train every benchmarked experiment once per environment and commit.

asv keys ``setup_cache`` by the function's source location: the one inherited method
below runs once for all canonical benchmark classes, and ``beyond.py``'s own once for
its classes; each class reads its own experiment's figures and saved models from it. No
harness logic lives here: asv imports the installed prunebench. Nothing heavy is imported
at module level.
"""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

#: Training budget for asv runs: quick by default, full with PRUNEBENCH_ASV_PROFILE=full.
PROFILE = os.environ.get("PRUNEBENCH_ASV_PROFILE", "quick")
SEED = 0
MODELS_DIR = "models"
#: The test inputs, saved by setup_cache: the timing benchmarks need not import scikit-learn.
X_TEST = "x_test.npy"
#: Beyond the canonical three (benchmarks/beyond.py): the whole-model sparsity sweep and
#: one point of each other family. Trained in the same cached run, from the same base.
BEYOND = ("whole_const_75", "whole_const_87.5", "whole_const_93.75", "whole_poly_87.5",
          "whole_random_87.5", "whole_2by4", "whole_pqat_87.5")


#: The canonical three: what `prunebench run --profile quick --seeds 0` trains, and so all
#: that the canonical suite's cached run trains (its cost is compared with that command's).
CANONICAL = ("unpruned", "whole_model", "dense_only")


def train_and_keep(names):
    """Train ``names`` once on SEED, keep their models in MODELS_DIR, return their figures."""
    import numpy as np

    from prunebench import config, experiments, kerasenv, runners, tasks

    # The harness's own timing blocks feed no asv figure (the time_ benchmarks time
    # the saved models themselves): one block keeps them from costing asv twice.
    profile = replace(config.get_profile(PROFILE), timing=config.TimingConfig(
        warmup=1, repeats=1, number=1, predict_number=1, predict_repeats=1))
    chosen = [e for e in experiments.resolve(names)
              if e.quantize == "none" or kerasenv.pqat_supported()]
    results = runners.run(chosen, [SEED], profile, keep_dir=Path(MODELS_DIR))
    np.save(Path(MODELS_DIR) / X_TEST, tasks.builtin(config.SEED_TASK).load_data(profile.data).x_test)
    return {r.experiment: r.metrics for r in results}


class ExperimentBenchmark:
    """Base class: subclasses set ``experiment`` and inherit every benchmark."""

    experiment = ""
    timeout = 1800.0
    # Bump when a benchmark's meaning changes; editing code must not orphan history.
    version = "1"

    #: What this class's cached run trains (the unpruned model always comes first).
    trains: tuple[str, ...] = CANONICAL

    def setup_cache(self):
        return train_and_keep(self.trains)

    def model_path(self, suffix: str) -> Path:
        return model_file(self.experiment, suffix)


def model_file(experiment: str, suffix: str) -> Path:
    """Return where setup_cache left ``experiment``'s model with ``suffix``."""
    from prunebench.export import kept_path

    return kept_path(Path(MODELS_DIR), experiment, SEED, suffix)


def x_test():
    """Return the test inputs setup_cache saved."""
    import numpy as np

    return np.load(Path(MODELS_DIR) / X_TEST)


def keras_timer(path: Path):
    """Return (call, x) timing the stripped Keras model at ``path`` on the test set."""
    from prunebench import export, inference, kerasenv

    kerasenv.keras()
    import tensorflow as tf

    return inference.keras_predictor(export.load(path)), tf.constant(x_test())


def tflite_timer(path: Path):
    """Return (call, x) timing the TFLite flatbuffer at ``path`` on the test set."""
    from prunebench import inference

    x = x_test()
    predict, _ = inference.tflite_predictor(path.read_bytes(), len(x))
    return predict, x


def figure_reader(metric: str, parametrized: bool = False):
    """Return the asv track_ method of figure ``metric`` (prunebench.figures): its value in
    the cached run, lower is better (1 - a fraction, 1 / a ratio where higher is better),
    in its unit. Its class attribute must be named ``track_`` + the figure's ``asv`` name
    (tests/test_benchmarks.py checks). ``parametrized``: the method takes the experiment."""
    from prunebench import figures

    figure = figures.get(metric)
    if parametrized:
        def track(self, cache, experiment):
            return figure.asv_value(cache[experiment][metric])
    else:
        def track(self, cache):
            return figure.asv_value(cache[self.experiment][metric])

    track.unit = figure.unit
    track.figure = metric
    same = figure.asv_value(0.5) == 0.5
    track.__doc__ = f"{metric if same else figure.asv} of the cached run ({figure.unit})."
    return track
