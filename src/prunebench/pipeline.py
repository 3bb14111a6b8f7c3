"""Runs the chain for each seed: data -> model -> train -> prune -> fine-tune -> strip -> measure.

Every pruned experiment fine-tunes a copy of the same seed's trained unpruned model, as
tfmot's guide does: pruning a freshly initialised model, as the seed tutorial is usually
read, collapses on some seeds (MSE 3 to 229 against 0.02), which no gate can be built on.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from prunebench import export, inference, kerasenv, metrics, models, pruning, train
from prunebench.config import ExperimentConfig, Profile, run_digest
from prunebench.data import Dataset, load_data
from prunebench.experiments import UNPRUNED

log = logging.getLogger(__name__)

#: Stripped and wrapped (or reloaded) predictions may differ by float rounding at most this.
PREDICTION_ATOL = 1e-5

#: ``progress(label, epoch, epochs)`` after each training epoch.
ProgressHook = Callable[[str, int, int], None]


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


def _predict(model: Any, x: np.ndarray) -> np.ndarray:
    return np.asarray(model.predict(x, batch_size=len(x), verbose=0)).ravel()


def _max_diff(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.max(np.abs(a.astype(np.float64) - b.astype(np.float64))))


def measure(
    experiment: ExperimentConfig,
    seed: int,
    trained: Any,
    stripped: Any,
    fit: train.TrainResult,
    data: Dataset,
    profile: Profile,
    keep_dir: Path | None = None,
) -> ExperimentResult:
    """Return every metric of a trained model (``trained``: wrapped if pruned) and its strip.

    With ``keep_dir``, the stripped model stays there as ``{experiment}-seed{seed}.h5``
    and ``.tflite``.
    """
    pred = _predict(stripped, data.x_test)
    kernels = pruning.prunable_kernels(stripped)
    pruned_names = pruning.wrapped_layers(trained)
    pruned_kernels = [k for name, k in kernels.items() if name in pruned_names]
    weights = stripped.get_weights()
    zeros, total = metrics.count_zeros(weights)
    target = experiment.prune.target_sparsity if experiment.prune else 0.0
    with tempfile.TemporaryDirectory(prefix="prunebench-") as tmp:
        exported = export.export(stripped, Path(tmp))
        reloaded = _predict(export.load(exported.keras_path), data.x_test)
        if keep_dir is not None:
            keep_dir.mkdir(parents=True, exist_ok=True)
            stem = keep_dir / f"{experiment.name}-seed{seed}"
            shutil.copyfile(exported.keras_path, stem.with_suffix(".h5"))
            stem.with_suffix(".tflite").write_bytes(exported.tflite)
    tflite_predict, _ = inference.tflite_predictor(exported.tflite, len(data.x_test))
    tflite_pred = tflite_predict(data.x_test).ravel()
    times = inference.time_inference(stripped, exported.tflite, data.x_test, profile.timing)
    sparsity_pruned = metrics.sparsity(pruned_kernels)
    figures = {
        "mse": metrics.mse(data.y_test, pred),
        "mae": metrics.mae(data.y_test, pred),
        "tflite_mse": metrics.mse(data.y_test, tflite_pred),
        "target_sparsity": target,
        "sparsity_pruned": sparsity_pruned,
        "density_pruned": 1.0 - sparsity_pruned,
        "sparsity_kernels": metrics.sparsity(kernels.values()),
        "sparsity_all": zeros / total,
        "params": float(total),
        "nonzero_params": float(total - zeros),
        "keras_bytes": float(exported.keras_bytes),
        "keras_zip_bytes": float(exported.keras_zip_bytes),
        "tflite_bytes": float(exported.tflite_bytes),
        "tflite_zip_bytes": float(exported.tflite_zip_bytes),
        "keras_ms": times.keras.median * 1e3,
        "keras_predict_ms": times.keras_predict.median * 1e3,
        "tflite_ms": times.tflite.median * 1e3,
        "reference_ms": times.reference.median * 1e3,
        "keras_time_ratio": times.keras_ratio,
        "tflite_time_ratio": times.tflite_ratio,
        "train_s": fit.wall_s,
        "epochs_run": float(fit.epochs_run),
    }
    wrapped_diff = _max_diff(_predict(trained, data.x_test), pred)
    reload_diff = _max_diff(reloaded, pred)
    layers = [
        {"layer": name, "kernel_sparsity": layer_sparsity, "kernel_size": int(kernels[name].size),
         "pruned": name in pruned_names}
        for name, layer_sparsity in metrics.per_layer_sparsity(kernels).items()
    ]
    return ExperimentResult(
        experiment=experiment.name,
        seed=seed,
        digest=run_digest(experiment, profile),
        metrics=figures,
        layers=layers,
        invariants={
            "strip_matches_wrapped": wrapped_diff <= PREDICTION_ATOL,
            "strip_vs_wrapped_max_diff": wrapped_diff,
            "reload_matches": reload_diff <= PREDICTION_ATOL,
            "reload_max_diff": reload_diff,
            "tflite_vs_keras_max_diff": _max_diff(tflite_pred, pred),
        },
        summary=models.summary(trained),
        timings={
            "keras": times.keras.as_dict(), "keras_predict": times.keras_predict.as_dict(),
            "tflite": times.tflite.as_dict(), "reference": times.reference.as_dict(),
            "tflite_interpreter": times.interpreter,
        },
    )


def _hook(progress: ProgressHook | None, label: str) -> train.EpochHook | None:
    if progress is None:
        return None
    return lambda epoch, epochs: progress(label, epoch, epochs)


def run_seed(
    experiments: Sequence[ExperimentConfig],
    seed: int,
    profile: Profile,
    data: Dataset,
    progress: ProgressHook | None = None,
    tensorboard: Path | None = None,
    keep_dir: Path | None = None,
) -> list[ExperimentResult]:
    """Return the results of ``experiments`` (unpruned first) for one seed."""
    kerasenv.seed_everything(seed)
    base = models.build_model(data.x_train.shape[1])
    models.compile_model(base)
    fit = train.train(base, data, profile.base_train,
                      on_epoch=_hook(progress, f"seed {seed} {UNPRUNED}"))
    results = []
    for experiment in experiments:
        if experiment.prune is None:
            results.append(measure(experiment, seed, base, base, fit, data, profile, keep_dir))
            continue
        kerasenv.seed_everything(seed)
        wrapped = pruning.apply_pruning(models.copy_model(base), experiment.prune)
        models.compile_model(wrapped)
        logs = tensorboard / f"{experiment.name}-seed{seed}" if tensorboard else None
        pruned_fit = train.train(
            wrapped, data, profile.prune_train, callbacks=pruning.callbacks(logs),
            on_epoch=_hook(progress, f"seed {seed} {experiment.name}"),
        )
        stripped = pruning.strip(wrapped)
        results.append(
            measure(experiment, seed, wrapped, stripped, pruned_fit, data, profile, keep_dir))
    reference_mse = results[0].metrics["mse"]
    for result in results:
        result.metrics["mse_vs_unpruned"] = result.metrics["mse"] / reference_mse
        m = result.metrics
        log.info("seed %d %-12s MSE %.4f  sparsity %.4f  %d epochs in %.1f s", seed,
                 result.experiment, m["mse"], m["sparsity_pruned"], m["epochs_run"], m["train_s"])
    return results


def run(
    experiments: Sequence[ExperimentConfig],
    seeds: Sequence[int],
    profile: Profile,
    progress: ProgressHook | None = None,
    tensorboard: Path | None = None,
    keep_dir: Path | None = None,
) -> list[ExperimentResult]:
    """Return the results of every experiment for every seed; ``experiments[0]`` is unpruned."""
    if not experiments or experiments[0].prune is not None:
        raise ValueError("the unpruned experiment must come first: the others fine-tune it")
    data = load_data(profile.data)
    results: list[ExperimentResult] = []
    for seed in seeds:
        results.extend(run_seed(experiments, seed, profile, data, progress, tensorboard, keep_dir))
    return results
