"""Measure one trained experiment: quality, sparsity, sizes, TFLite (dense, int8, sparse), time.

Every figure of a result comes from here; training stays in ``pipeline``.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import asdict, dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from prunebench import export, inference, metrics, models, tasks, timing, train
from prunebench.config import SEED_TASK, ExperimentConfig, Profile, run_digest
from prunebench.data import Dataset
from prunebench.figures import FIGURES
from prunebench.tasks import Task

#: Stripped and wrapped (or reloaded) predictions may differ by float rounding at most this.
PREDICTION_ATOL = 1e-5


@dataclass
class ExperimentResult:
    """Every figure one experiment gave for one seed."""

    experiment: str
    seed: int
    digest: str
    metrics: dict[str, float]
    layers: list[dict[str, Any]]
    invariants: dict[str, Any]
    summary: list[dict[str, Any]]
    timings: dict[str, Any] = field(default_factory=dict)
    task: str = SEED_TASK
    #: The environment of the worker process that made it (parallel and Dask runs; a
    #: serial run's is the record's own).
    environment: dict[str, Any] = field(default_factory=dict)
    #: The trained model it started from ('' when trained from scratch): Task.start_label.
    start: str = ""
    #: The budget and compile of the fit that made it (the unpruned model's, or the
    #: fine-tune's): config.TrainConfig, with the task's own choices.
    training: dict[str, Any] = field(default_factory=dict)


def _predict(model: Any, x: np.ndarray) -> np.ndarray:
    return np.asarray(model.predict(x, batch_size=len(x), verbose=0))


def _max_diff(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.max(np.abs(a.astype(np.float64) - b.astype(np.float64))))


@dataclass
class Trained:
    """One experiment's models after training: what measure() reads."""

    #: The model as trained: pruning-wrapped for tfmot, masked for the random control.
    trained: Any
    #: The deployable float model: wrappers stripped.
    stripped: Any
    fit: train.TrainResult
    #: The QAT model the int8 TFLite is converted from (PQAT), else None (post-training).
    quantized: Any = None


def _tflite_predict(flatbuffer: bytes, x: np.ndarray) -> np.ndarray:
    predict, _ = inference.tflite_predictor(flatbuffer, len(x))
    return predict(x)


def _wrapped_size(trained: Any, stripped: Any, exported: export.Exported,
                  directory: Path) -> tuple[dict[str, float], str | None]:
    """Return ({wrapped_bytes, wrapped_zip_bytes}, None), or ({}, why HDF5 refused the model).

    tfmot's wrapper names every prunable weight's mask 'mask': a layer with two (an
    LSTM's kernel and recurrent kernel, attention's four projections) cannot be saved as
    HDF5 while wrapped. Its deployable (stripped) model is measured as always.
    """
    if trained is stripped:
        return {"wrapped_bytes": float(exported.keras_bytes),
                "wrapped_zip_bytes": float(exported.keras_zip_bytes)}, None
    try:
        raw, zipped = export.zipped_h5_size(trained, directory / "wrapped")
    except ValueError as exc:
        return {}, f"{type(exc).__name__}: {exc}"
    return {"wrapped_bytes": float(raw), "wrapped_zip_bytes": float(zipped)}, None


def _sparse_figures(task: Task, exported: export.Exported, data: Dataset,
                    times: inference.InferenceTimes) -> tuple[dict[str, float], list[str]]:
    """Return the sparse flatbuffer's figures (structure, quality, times) and its op list."""
    assert exported.tflite_sparse is not None and times.sparse is not None
    structure = inference.sparse_structure(exported.tflite_sparse)
    sparse = times.sparse
    quality = task.evaluate(data.y_test, _tflite_predict(exported.tflite_sparse, data.x_test))
    kind = timing.TIMING_SAMPLE["tflite"]
    speedup = np.median(timing.block_ratios(times.tflite.of_kind(kind),
                                            sparse["tflite_sparse"].of_kind(kind)))
    speedup_builtin = np.median(timing.block_ratios(sparse["tflite_builtin"].of_kind(kind),
                                                    sparse["tflite_sparse_builtin"].of_kind(kind)))
    return {
        "tflite_sparse_tensors": float(structure.sparse_tensors),
        "tflite_densify_ops": float(structure.densify_ops),
        "tflite_sparse_bytes": float(len(exported.tflite_sparse)),
        f"tflite_sparse_{task.primary.name}": quality[task.primary.name],
        "tflite_sparse_ms": sparse["tflite_sparse"].median * 1e3,
        "tflite_builtin_ms": sparse["tflite_builtin"].median * 1e3,
        "tflite_sparse_builtin_ms": sparse["tflite_sparse_builtin"].median * 1e3,
        # Dense under XNNPACK (the best dense path) over sparse, per interleaved block.
        "sparse_speedup": float(speedup),
        "sparse_speedup_builtin": float(speedup_builtin),
    }, list(structure.ops)


def _weight_figures(task: Task, prune: Any, stripped: Any
                    ) -> tuple[dict[str, float], dict[str, np.ndarray], set[str]]:
    """Return the sparsity figures, the declared weights and the layers meant to be pruned.

    Sparsity is counted over the weights the task declares prunable in the layers the
    experiment means to prune, whatever tfmot wrapped."""
    declared = tasks.declared_weights(stripped)
    scoped = set(task.scoped_layers(stripped, prune.scope)) if prune else set()
    pruned_weights = [w for key, w in declared.items() if key.split("/")[0] in scoped]
    zeros, total = metrics.count_zeros(stripped.get_weights())
    target = prune.target_sparsity if prune else 0.0
    m_by_n = prune.m_by_n if prune else None
    if m_by_n is not None:
        # The structure fixes the sparsity: m/n, less where a short last group is kept.
        target = metrics.m_by_n_sparsity([w.shape for w in pruned_weights], *m_by_n)
    sparsity_pruned = metrics.sparsity(pruned_weights)
    found = {
        "target_sparsity": target,
        "sparsity_pruned": sparsity_pruned,
        "density_pruned": 1.0 - sparsity_pruned,
        "sparsity_kernels": metrics.sparsity(declared.values()),
        "sparsity_all": zeros / total,
        "params": float(total),
        "nonzero_params": float(total - zeros),
    }
    if m_by_n is not None:
        found["m_by_n_ok"] = float(all(metrics.is_m_by_n(w, *m_by_n) for w in pruned_weights))
    return found, declared, scoped


@dataclass
class _Exported:
    """The files of one measured model, and what reading them back gave."""

    files: export.Exported
    reloaded: np.ndarray
    wrapped: dict[str, float]
    wrapped_error: str | None


def _export(models_: Trained, data: Dataset, sparse: bool, kept: Any) -> _Exported:
    """Export the stripped model (HDF5, TFLite float, int8, sparse), read the HDF5 back,
    size the wrapped model; ``kept(suffix)``: where a copy of each file stays, or None."""
    with tempfile.TemporaryDirectory(prefix="prunebench-") as tmp:
        files = export.export(models_.stripped, Path(tmp), int8_source=models_.quantized,
                              sparse=sparse)
        reloaded = _predict(export.load(files.keras_path), data.x_test)
        wrapped, wrapped_error = _wrapped_size(models_.trained, models_.stripped, files, Path(tmp))
        if kept is not None:
            shutil.copyfile(files.keras_path, kept(".h5"))
            kept(".tflite").write_bytes(files.tflite)
            kept(".int8.tflite").write_bytes(files.tflite_int8)
            if files.tflite_sparse is not None:
                kept(".sparse.tflite").write_bytes(files.tflite_sparse)
    return _Exported(files, reloaded, wrapped, wrapped_error)


def _file_figures(task: Task, files: export.Exported, data: Dataset, tflite_pred: np.ndarray
                  ) -> dict[str, float]:
    """Return the sizes of the files and the quality of the TFLite models (float: its
    predictions ``tflite_pred``, int8)."""
    primary = task.primary.name
    int8_sparsity, int8_tensors = inference.tflite_weight_sparsity(files.tflite_int8)
    return {
        f"tflite_{primary}": task.evaluate(data.y_test, tflite_pred)[primary],
        "keras_bytes": float(files.keras_bytes),
        "keras_zip_bytes": float(files.keras_zip_bytes),
        "tflite_bytes": float(files.tflite_bytes),
        "tflite_zip_bytes": float(files.tflite_zip_bytes),
        "tflite_int8_bytes": float(files.tflite_int8_bytes),
        "tflite_int8_zip_bytes": float(files.tflite_int8_zip_bytes),
        f"tflite_int8_{primary}": task.evaluate(
            data.y_test, _tflite_predict(files.tflite_int8, data.x_test))[primary],
        "tflite_int8_sparsity": int8_sparsity,
        "tflite_int8_tensors": float(int8_tensors),
    }


def _time_figures(times: Any) -> tuple[dict[str, float], dict[str, Any]]:
    """Return the time figures (medians in ms, ratios) and every timed path's samples."""
    found = {
        "keras_ms": times.keras.median * 1e3,
        "keras_predict_ms": times.keras_predict.median * 1e3,
        "tflite_ms": times.tflite.median * 1e3,
        "reference_ms": times.reference.median * 1e3,
        "keras_time_ratio": times.keras_ratio,
        "tflite_time_ratio": times.tflite_ratio,
        "tflite_int8_ms": times.tflite_int8.median * 1e3,
    }
    samples = {
        "keras": times.keras.as_dict(), "keras_predict": times.keras_predict.as_dict(),
        "tflite": times.tflite.as_dict(), "tflite_int8": times.tflite_int8.as_dict(),
        "reference": times.reference.as_dict(),
        **{path: stats.as_dict() for path, stats in (times.sparse or {}).items()},
        "tflite_interpreter": times.interpreter,
        # How busy the machine was while timing (1-minute load average): a neighbour
        # slows numpy's reference more than Keras, so the Keras ratio reads low.
        "load_1min": os.getloadavg()[0],
    }
    return found, samples


def _agreement(pred: np.ndarray, wrapped: np.ndarray, reloaded: np.ndarray,
               tflite: np.ndarray) -> dict[str, Any]:
    """Return how far the wrapped model, the HDF5 read back and the TFLite float model
    predict from the stripped model (``pred``), and whether within float rounding."""
    wrapped_diff, reload_diff = _max_diff(wrapped, pred), _max_diff(reloaded, pred)
    return {"strip_matches_wrapped": wrapped_diff <= PREDICTION_ATOL,
            "strip_vs_wrapped_max_diff": wrapped_diff,
            "reload_matches": reload_diff <= PREDICTION_ATOL,
            "reload_max_diff": reload_diff,
            "tflite_vs_keras_max_diff": _max_diff(tflite, pred)}


def measure(
    task: Task,
    experiment: ExperimentConfig,
    seed: int,
    models_: Trained,
    data: Dataset,
    profile: Profile,
    keep_dir: Path | None = None,
) -> ExperimentResult:
    """Return every metric of a trained experiment's models.

    With ``keep_dir``, the stripped model stays there as ``{experiment}-seed{seed}.h5``,
    ``.tflite`` and ``.int8.tflite`` (and ``.sparse.tflite``).
    """
    trained, stripped, prune = models_.trained, models_.stripped, experiment.prune
    budgets = task.budgets(profile)
    pred = _predict(stripped, data.x_test)
    weight_figures, declared, scoped = _weight_figures(task, prune, stripped)
    sparse = prune is not None and prune.converts_sparse
    if keep_dir is not None:
        keep_dir.mkdir(parents=True, exist_ok=True)
    kept = partial(export.kept_path, keep_dir, experiment.name, seed) if keep_dir else None
    exported = _export(models_, data, sparse, kept)
    tflite_pred = _tflite_predict(exported.files.tflite, data.x_test)
    timed_x = data.x_test[: task.timing_rows] if task.timing_rows else data.x_test
    times = inference.time_inference(stripped, exported.files.tflite, exported.files.tflite_int8,
                                     timed_x, profile.timing, exported.files.tflite_sparse)
    time_figures, timings = _time_figures(times)
    found = {**task.evaluate(data.y_test, pred), **weight_figures,
             **_file_figures(task, exported.files, data, tflite_pred), **time_figures, **exported.wrapped,
             "train_s": models_.fit.wall_s, "epochs_run": float(models_.fit.epochs_run)}
    invariants: dict[str, Any] = {}
    if exported.wrapped_error is not None:
        invariants["wrapped_h5_error"] = exported.wrapped_error
    if sparse:
        sparse_figures, invariants["tflite_sparse_ops"] = _sparse_figures(
            task, exported.files, data, times)
        found.update(sparse_figures)
    unregistered = set(found) - FIGURES.keys() - {own.name for own in task.figures}
    if unregistered:  # a new figure is added to prunebench.figures before it is measured
        raise RuntimeError(f"figures missing from prunebench.figures: {sorted(unregistered)}")
    return ExperimentResult(
        experiment=experiment.name,
        seed=seed,
        digest=run_digest(experiment, budgets),
        metrics=found,
        layers=[{"layer": key.split("/")[0], "weight": key.split("/", 1)[1],
                 "kernel_sparsity": layer_sparsity, "kernel_size": int(declared[key].size),
                 "pruned": key.split("/")[0] in scoped}
                for key, layer_sparsity in metrics.per_layer_sparsity(declared).items()],
        invariants={**_agreement(pred, _predict(trained, data.x_test), exported.reloaded,
                                 tflite_pred), **invariants},
        summary=models.summary(trained),
        timings=timings,
        task=task.name,
        start=task.start_label(),
        training=asdict(budgets.prune_train if prune else budgets.base_train),
    )
