"""Shared asv glue: train every canonical experiment once per environment and commit.

asv keys ``setup_cache`` by the function's source location, so the one inherited
method below runs once for all benchmark classes, and each class reads its own
experiment's figures and saved models from it. No harness logic lives here: asv
imports the installed prunebench. Nothing heavy is imported at module level.
"""

from __future__ import annotations

import os
from pathlib import Path

#: Training budget for asv runs: quick by default, full with PRUNEBENCH_ASV_PROFILE=full.
PROFILE = os.environ.get("PRUNEBENCH_ASV_PROFILE", "quick")
SEED = 0
MODELS_DIR = "models"


class ExperimentBenchmark:
    """Base class: subclasses set ``experiment`` and inherit every benchmark."""

    experiment = ""
    timeout = 1800.0
    # Bump when a benchmark's meaning changes; editing code must not orphan history.
    version = "1"

    def setup_cache(self):
        from prunebench import config, experiments, pipeline

        profile = config.get_profile(PROFILE)
        results = pipeline.run(experiments.resolve(None), [SEED], profile,
                               keep_dir=Path(MODELS_DIR))
        return {r.experiment: r.metrics for r in results}

    def model_path(self, suffix: str) -> Path:
        return Path(MODELS_DIR) / f"{self.experiment}-seed{SEED}{suffix}"


def keras_timer(path: Path):
    """Return (call, x) timing the stripped Keras model at ``path`` on the test set."""
    from prunebench import config, data, export, inference, kerasenv

    kerasenv.keras()
    import tensorflow as tf

    x = tf.constant(data.load_data(config.get_profile(PROFILE).data).x_test)
    return inference.keras_predictor(export.load(path)), x


def tflite_timer(path: Path):
    """Return (call, x) timing the TFLite flatbuffer at ``path`` on the test set."""
    from prunebench import config, data, inference

    x = data.load_data(config.get_profile(PROFILE).data).x_test
    predict, _ = inference.tflite_predictor(path.read_bytes(), len(x))
    return predict, x
