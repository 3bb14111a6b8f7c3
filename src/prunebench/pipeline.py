"""Runs the chain for each seed: data -> model -> train -> prune -> fine-tune -> strip -> measure.

Every pruned experiment fine-tunes a copy of the same seed's trained unpruned model, as
tfmot's guide does: pruning a freshly initialised model, as the seed tutorial is usually
read, collapses on some seeds (MSE 3 to 229 against 0.02), which no gate can be built on.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
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


@dataclass
class Trained:
    """One experiment's models after training: what measure() reads."""

    #: The model as trained: pruning-wrapped for tfmot, masked for the random control.
    trained: Any
    #: The deployable float model: wrappers stripped.
    stripped: Any
    fit: train.TrainResult
    #: The layers whose kernels were pruned.
    pruned_layers: list[str]
    #: The QAT model the int8 TFLite is converted from (PQAT), else None (post-training).
    quantized: Any = None


def _tflite_predict(flatbuffer: bytes, x: np.ndarray) -> np.ndarray:
    predict, _ = inference.tflite_predictor(flatbuffer, len(x))
    return predict(x).ravel()


def measure(
    experiment: ExperimentConfig,
    seed: int,
    models_: Trained,
    data: Dataset,
    profile: Profile,
    keep_dir: Path | None = None,
) -> ExperimentResult:
    """Return every metric of a trained experiment's models.

    With ``keep_dir``, the stripped model stays there as ``{experiment}-seed{seed}.h5``,
    ``.tflite`` and ``.int8.tflite``.
    """
    trained, stripped = models_.trained, models_.stripped
    pred = _predict(stripped, data.x_test)
    kernels = pruning.prunable_kernels(stripped)
    pruned_names = set(models_.pruned_layers)
    pruned_kernels = [k for name, k in kernels.items() if name in pruned_names]
    weights = stripped.get_weights()
    zeros, total = metrics.count_zeros(weights)
    prune = experiment.prune
    target = prune.target_sparsity if prune else 0.0
    m_by_n = prune.m_by_n if prune else None
    if m_by_n is not None:
        # The structure fixes the sparsity: m/n, less where a short last group is kept.
        target = metrics.m_by_n_sparsity([k.shape for k in pruned_kernels], *m_by_n)
    with tempfile.TemporaryDirectory(prefix="prunebench-") as tmp:
        exported = export.export(stripped, Path(tmp), int8_source=models_.quantized)
        reloaded = _predict(export.load(exported.keras_path), data.x_test)
        wrapped_bytes, wrapped_zip = (
            (exported.keras_bytes, exported.keras_zip_bytes) if trained is stripped
            else export.zipped_h5_size(trained, Path(tmp) / "wrapped"))
        if keep_dir is not None:
            keep_dir.mkdir(parents=True, exist_ok=True)
            kept = partial(export.kept_path, keep_dir, experiment.name, seed)
            shutil.copyfile(exported.keras_path, kept(".h5"))
            kept(".tflite").write_bytes(exported.tflite)
            kept(".int8.tflite").write_bytes(exported.tflite_int8)
    tflite_pred = _tflite_predict(exported.tflite, data.x_test)
    times = inference.time_inference(stripped, exported.tflite, exported.tflite_int8,
                                     data.x_test, profile.timing)
    int8_sparsity, int8_tensors = inference.tflite_weight_sparsity(exported.tflite_int8)
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
        "wrapped_bytes": float(wrapped_bytes),
        "wrapped_zip_bytes": float(wrapped_zip),
        "tflite_int8_bytes": float(exported.tflite_int8_bytes),
        "tflite_int8_zip_bytes": float(exported.tflite_int8_zip_bytes),
        "tflite_int8_mse": metrics.mse(data.y_test, _tflite_predict(exported.tflite_int8,
                                                                   data.x_test)),
        "tflite_int8_ms": times.tflite_int8.median * 1e3,
        "tflite_int8_sparsity": int8_sparsity,
        "tflite_int8_tensors": float(int8_tensors),
        "train_s": models_.fit.wall_s,
        "epochs_run": float(models_.fit.epochs_run),
    }
    if m_by_n is not None:
        figures["m_by_n_ok"] = float(all(
            metrics.is_m_by_n(kernels[name], *m_by_n) for name in pruned_names))
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
            "tflite": times.tflite.as_dict(), "tflite_int8": times.tflite_int8.as_dict(),
            "reference": times.reference.as_dict(),
            "tflite_interpreter": times.interpreter,
            # How busy the machine was while timing (1-minute load average): a neighbour
            # slows numpy's reference more than Keras, so the Keras ratio reads low.
            "load_1min": os.getloadavg()[0],
        },
    )


def _hook(progress: ProgressHook | None, label: str) -> train.EpochHook | None:
    if progress is None:
        return None
    return lambda epoch, epochs: progress(label, epoch, epochs)


def train_base(seed: int, data: Dataset, profile: Profile,
               progress: ProgressHook | None = None) -> tuple[Any, train.TrainResult]:
    """Return the seed's unpruned model, trained, and what the fit cost."""
    kerasenv.seed_everything(seed)
    base = models.build_model(data.x_train.shape[1])
    models.compile_model(base)
    fit = train.train(base, data, profile.base_train,
                      on_epoch=_hook(progress, f"seed {seed} {UNPRUNED}"))
    return base, fit


def fine_tune(
    experiment: ExperimentConfig,
    seed: int,
    base: Any,
    data: Dataset,
    profile: Profile,
    progress: ProgressHook | None = None,
    tensorboard: Path | None = None,
) -> Trained:
    """Return a pruned (and, for PQAT, quantization-aware trained) copy of ``base``."""
    assert experiment.prune is not None
    budget = profile.prune_train
    steps = pruning.steps_per_epoch(len(data.x_train), budget.batch_size, budget.validation_split)
    prune = pruning.resolve_end_step(experiment.prune, steps, budget.epochs)
    hook = _hook(progress, f"seed {seed} {experiment.name}")
    kerasenv.seed_everything(seed)
    if prune.method == "random":
        model = models.copy_model(base)
        masks = pruning.random_masks(model, prune, seed)
        cbs = [pruning.fixed_mask_callback(masks)]
    else:
        model = pruning.apply_pruning(models.copy_model(base), prune)
        logs = tensorboard / f"{experiment.name}-seed{seed}" if tensorboard else None
        cbs = pruning.callbacks(logs)
    models.compile_model(model)
    fit = train.train(model, data, budget, callbacks=cbs, on_epoch=hook,
                      start_from_epoch=pruning.ramp_epochs(prune, budget.epochs))
    if prune.method == "random":
        pruning.apply_masks(model, masks)  # restored best weights were masked; stay exact
        done = Trained(model, model, fit, list(masks))
    else:
        done = Trained(model, pruning.strip(model), fit, sorted(pruning.wrapped_layers(model)))
    if experiment.quantize == "pqat":
        quantized = pruning.pqat(done.stripped)
        models.compile_model(quantized)
        qat_fit = train.train(quantized, data, budget, on_epoch=hook)
        done.stripped = pruning.float_weights_of(quantized, done.stripped)
        done.quantized = quantized
        done.fit = train.TrainResult(fit.epochs_run + qat_fit.epochs_run,
                                     fit.wall_s + qat_fit.wall_s, qat_fit.best_val_loss)
    return done


def run_experiment(
    experiment: ExperimentConfig,
    seed: int,
    base: Any,
    base_fit: train.TrainResult,
    data: Dataset,
    profile: Profile,
    progress: ProgressHook | None = None,
    tensorboard: Path | None = None,
    keep_dir: Path | None = None,
) -> ExperimentResult:
    """Return the measured result of one experiment fine-tuned from the seed's ``base``."""
    if experiment.prune is None:
        trained = Trained(base, base, base_fit, [])
    else:
        trained = fine_tune(experiment, seed, base, data, profile, progress, tensorboard)
    return measure(experiment, seed, trained, data, profile, keep_dir)


def relate_to_unpruned(results: Sequence[ExperimentResult]) -> None:
    """Set ``mse_vs_unpruned`` on every result from its own seed's unpruned MSE."""
    reference = {r.seed: r.metrics["mse"] for r in results if r.experiment == UNPRUNED}
    for result in results:
        result.metrics["mse_vs_unpruned"] = result.metrics["mse"] / reference[result.seed]
        m = result.metrics
        log.info("seed %d %-17s MSE %.4f  sparsity %.4f  %d epochs in %.1f s", result.seed,
                 result.experiment, m["mse"], m["sparsity_pruned"], m["epochs_run"], m["train_s"])


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
    base, fit = train_base(seed, data, profile, progress)
    results = [run_experiment(e, seed, base, fit, data, profile, progress, tensorboard, keep_dir)
               for e in experiments]
    relate_to_unpruned(results)
    return results


def run(
    experiments: Sequence[ExperimentConfig],
    seeds: Sequence[int],
    profile: Profile,
    progress: ProgressHook | None = None,
    tensorboard: Path | None = None,
    keep_dir: Path | None = None,
    jobs: int = 1,
) -> list[ExperimentResult]:
    """Return the results of every experiment for every seed; ``experiments[0]`` is unpruned.

    ``jobs`` > 1 spreads the work over that many processes; the figures are the same.
    """
    if not experiments or experiments[0].prune is not None:
        raise ValueError("the unpruned experiment must come first: the others fine-tune it")
    if any(e.quantize == "pqat" for e in experiments):
        kerasenv.require_pqat()
    if jobs > 1:
        from prunebench import parallel

        results = parallel.run(experiments, seeds, profile, jobs, progress, tensorboard, keep_dir)
        relate_to_unpruned(results)
        return results
    data = load_data(profile.data)
    return [r for seed in seeds
            for r in run_seed(experiments, seed, profile, data, progress, tensorboard, keep_dir)]
