"""Runs the chain for each seed: data -> model -> train -> prune -> fine-tune -> strip -> measure.

Every pruned experiment fine-tunes a copy of the same seed's trained unpruned model, as
tfmot's guide does: pruning a freshly initialised model, as the seed tutorial is usually
read, collapses on some seeds (MSE 3 to 229 against 0.02), which no gate can be built on.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from prunebench import kerasenv, models, pruning, tasks, train
from prunebench.config import ExperimentConfig, Profile
from prunebench.data import Dataset
from prunebench.experiments import unpruned_of
from prunebench.measure import ExperimentResult, Trained, measure
from prunebench.tasks import Task

log = logging.getLogger(__name__)

#: ``progress(label, epoch, epochs)`` after each training epoch.
ProgressHook = Callable[[str, int, int], None]


def _hook(progress: ProgressHook | None, label: str) -> train.EpochHook | None:
    if progress is None:
        return None
    return lambda epoch, epochs: progress(label, epoch, epochs)


def train_base(task: Task, seed: int, data: Dataset, profile: Profile,
               progress: ProgressHook | None = None) -> tuple[Any, train.TrainResult]:
    """Return the seed's unpruned model of ``task``, trained, and what the fit cost.

    A task with a ``start`` gives its trained model instead: no epochs, nothing trained.
    """
    kerasenv.seed_everything(seed)
    if task.start is not None:
        return task.started(data), train.TrainResult(epochs_run=0, wall_s=0.0,
                                                      best_val_loss=float("nan"))
    base = task.build(data)
    task.compile(base)
    fit = train.train(base, data, task.budgets(profile).base_train,
                      callbacks=task.new_callbacks(),
                      on_epoch=_hook(progress, f"seed {seed} {unpruned_of(task.name)}"))
    return base, fit


def rebuilt_base(task: Task, seed: int, data: Dataset, weights: list[Any]) -> Any:
    """Return the seed's trained unpruned model built again (in another process) from its
    ``weights``, its layers named as ``train_base`` named them: a layer built without a
    name is named by Keras's count, and a pruned copy keeps its base's names."""
    kerasenv.seed_everything(seed)
    base = task.fresh(data)
    base.set_weights(weights)
    return base


def fine_tune(
    task: Task,
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
    budget = task.budgets(profile).prune_train
    steps = data.steps_per_epoch(budget.batch_size, budget.validation_split)
    prune = pruning.resolve_end_step(experiment.prune, steps, budget.epochs)
    hook = _hook(progress, f"seed {seed} {experiment.name}")
    kerasenv.seed_everything(seed)
    if prune.method == "random":
        model = models.copy_model(base)
        masks = pruning.random_masks(model, task.scoped_layers(model, prune.scope), prune, seed)
        cbs = [pruning.fixed_mask_callback(masks)]
    else:
        model = pruning.apply_pruning(models.copy_model(base), prune, task.partial_layers,
                                      task.pruning_policy)
        logs = (tensorboard / f"{experiment.name.replace('/', '-')}-seed{seed}"
                if tensorboard else None)
        cbs = pruning.callbacks(logs)
    task.compile(model)
    fit = train.train(model, data, budget, callbacks=[*cbs, *task.new_callbacks()], on_epoch=hook,
                      start_from_epoch=pruning.settle_epochs(prune, steps, budget.epochs))
    if prune.method == "random":
        pruning.apply_masks(model, masks)  # restored best weights were masked; stay exact
        done = Trained(model, model, fit)
    else:
        done = Trained(model, pruning.strip(model), fit)
    if experiment.quantize == "pqat":
        quantized = pruning.pqat(done.stripped)
        task.compile(quantized)
        qat_fit = train.train(quantized, data, budget, callbacks=task.new_callbacks(),
                              on_epoch=hook)
        done.stripped = pruning.float_weights_of(quantized, done.stripped)
        done.quantized = quantized
        done.fit = train.TrainResult(fit.epochs_run + qat_fit.epochs_run,
                                     fit.wall_s + qat_fit.wall_s, qat_fit.best_val_loss)
    return done


def run_experiment(
    task: Task,
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
        trained = Trained(base, base, base_fit)
    else:
        trained = fine_tune(task, experiment, seed, base, data, profile, progress, tensorboard)
    return measure(task, experiment, seed, trained, data, profile, keep_dir)


def relate_to_unpruned(results: Sequence[ExperimentResult]) -> None:
    """Set ``<primary>_vs_unpruned`` on every result from its task's unpruned, same seed.

    ``mse_vs_unpruned`` for the seed's task, ``accuracy_vs_unpruned`` for classifiers.
    """
    primary = {r.task: tasks.get(r.task).primary.name for r in results}
    reference = {(r.task, r.seed): r.metrics[primary[r.task]] for r in results
                 if r.experiment == unpruned_of(r.task)}
    for result in results:
        name = primary[result.task]
        m = result.metrics
        m[f"{name}_vs_unpruned"] = m[name] / reference[(result.task, result.seed)]
        log.info("seed %d %-17s %s %.4f  sparsity %.4f  %d epochs in %.1f s", result.seed,
                 result.experiment, name, m[name], m["sparsity_pruned"], m["epochs_run"],
                 m["train_s"])


def run_seed(
    task: Task,
    experiments: Sequence[ExperimentConfig],
    seed: int,
    profile: Profile,
    data: Dataset,
    progress: ProgressHook | None = None,
    tensorboard: Path | None = None,
    keep_dir: Path | None = None,
) -> list[ExperimentResult]:
    """Return the results of ``task``'s ``experiments`` (unpruned first) for one seed."""
    base, fit = train_base(task, seed, data, profile, progress)
    results = [run_experiment(task, e, seed, base, fit, data, profile, progress, tensorboard,
                              keep_dir)
               for e in experiments]
    relate_to_unpruned(results)
    return results


def refusals(experiments: Sequence[ExperimentConfig], profile: Profile) -> dict[str, str]:
    """Return {experiment: why} for the experiments whose model tfmot refuses to wrap.

    Each tfmot experiment's wrapping is tried on a freshly built model of its task, before
    anything trains: a layer tfmot's prune registry does not know under this TensorFlow
    (TF 2.15's Keras LSTM, for one) is then one line, and the other experiments still run.
    """
    found: dict[str, str] = {}
    for task, chosen in by_task(experiments):
        wrapped = [e for e in chosen if e.prune is not None and e.prune.method != "random"]
        if not wrapped:
            continue
        data = task.load_data(profile.data)
        budget = task.budgets(profile).prune_train
        steps = data.steps_per_epoch(budget.batch_size, budget.validation_split)
        for experiment in wrapped:
            assert experiment.prune is not None
            prune = pruning.resolve_end_step(experiment.prune, steps, budget.epochs)
            try:
                pruning.apply_pruning(task.fresh(data), prune, task.partial_layers,
                                      task.pruning_policy)
            except pruning.Refused as exc:
                found[experiment.name] = str(exc)
    return found


def by_task(experiments: Sequence[ExperimentConfig]) -> list[tuple[Task, list[ExperimentConfig]]]:
    """Return the experiments grouped by task in order; raise unless each starts unpruned."""
    groups: dict[str, list[ExperimentConfig]] = {}
    for experiment in experiments:
        groups.setdefault(experiment.task, []).append(experiment)
    for name, chosen in groups.items():
        if chosen[0].name != unpruned_of(name):
            raise ValueError(f"{unpruned_of(name)} must come first: the others fine-tune it")
    return [(tasks.get(name), chosen) for name, chosen in groups.items()]
