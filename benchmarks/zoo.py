"""The model zoo: one benchmark class per (task, gated experiment), from one cached run.

Figures are given lower-is-better (asv calls a rise a regression): error (1 - accuracy),
density (1 - sparsity), bytes, and for block-sparse experiments the sparse flatbuffer's
time over the dense one's; the time_ benchmarks time the saved flatbuffers on one 64-row
batch, as the harness does.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from .common import MODELS_DIR, SEED, model_file
from .common import figure_reader as _track

#: The cached run's {experiment: why} of what tfmot refused to wrap.
REFUSED = "refused"


def _x_file(task: str) -> Path:
    return Path(MODELS_DIR) / f"x_test-{task}.npy"


class ZooBenchmark:
    """Base class: subclasses set ``experiment`` ('<task>/<name>')."""

    experiment = ""
    timeout = 3600.0
    version = "1"

    def setup_cache(self):
        import numpy as np

        from prunebench import config, experiments, pipeline, runners, tasks

        profile = replace(config.get_profile("quick"), timing=config.TimingConfig(
            warmup=1, repeats=1, number=1, predict_number=1, predict_repeats=1))
        chosen = experiments.resolve(["zoo_gated"])
        # What tfmot refuses under this TF (TF 2.15's Keras LSTM) is not run: skipped below.
        refused = pipeline.refusals(chosen, profile)
        results = runners.run([e for e in chosen if e.name not in refused], [SEED], profile,
                               keep_dir=Path(MODELS_DIR))
        for name in experiments.ZOO:
            task = tasks.get(name)
            x = task.load_data(profile.data).x_test
            np.save(_x_file(name), x[: task.timing_rows] if task.timing_rows else x)
        return {**{r.experiment: r.metrics for r in results}, REFUSED: refused}

    def setup(self, cache):
        if self.experiment in cache[REFUSED]:  # asv skips a benchmark whose setup raises this
            raise NotImplementedError(cache[REFUSED][self.experiment])

    def flatbuffer_timer(self, suffix: str):
        import numpy as np

        from prunebench import inference

        x = np.load(_x_file(self.experiment.split("/")[0]))
        predict, _ = inference.tflite_predictor(
            model_file(self.experiment, suffix).read_bytes(), len(x))
        predict(x)
        return predict, x


class _Figures(ZooBenchmark):
    track_error = _track("accuracy")
    track_loss = _track("loss")
    track_density_pruned = _track("sparsity_pruned")
    track_keras_zip_bytes = _track("keras_zip_bytes")
    track_tflite_int8_zip_bytes = _track("tflite_int8_zip_bytes")


class _TFLiteTime(ZooBenchmark):
    rounds = 1

    def setup(self, cache):
        super().setup(cache)
        self.call, self.x = self.flatbuffer_timer(".tflite")

    def time_tflite_batch(self, cache):
        """One LiteRT invoke on a 64-row batch, one thread, default delegates."""
        self.call(self.x)


class _SparseTime(ZooBenchmark):
    rounds = 1

    def setup(self, cache):
        super().setup(cache)
        self.call, self.x = self.flatbuffer_timer(".sparse.tflite")

    def time_tflite_sparse_batch(self, cache):
        """The EXPERIMENTAL_SPARSITY flatbuffer on the same batch."""
        self.call(self.x)

    # 1 / the sparse speed-up over dense XNNPACK in the cached run's blocks.
    track_sparse_over_dense = _track("sparse_speedup")


def _label(experiment: str) -> str:
    return "".join(part.title() for part in experiment.replace("/", "_").split("_"))


def _classes() -> dict[str, type]:
    from prunebench.experiments import GROUPS

    found = {}
    for experiment in GROUPS["zoo_gated"]:
        bases = [_Figures, _TFLiteTime]
        if experiment.endswith("block_90"):
            bases.append(_SparseTime)
        for base in bases:
            name = f"{_label(experiment)}{base.__name__.lstrip('_')}"
            found[name] = type(name, (base,), {"experiment": experiment, "__module__": __name__})
    return found


globals().update(_classes())
