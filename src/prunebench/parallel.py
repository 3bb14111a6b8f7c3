"""The pipeline spread over worker processes: one TensorFlow per process, one thread each.

Work comes in two waves. First every seed's unpruned model is trained (and measured);
then every (seed, pruned experiment) pair is a task of its own, fine-tuning a model
rebuilt from that seed's trained weights. Small tasks keep both cores busy to the end,
and rebuilding from the exact weights gives the figures a serial run gives.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import Any

import numpy as np

from prunebench import kerasenv
from prunebench.config import ExperimentConfig, Profile

#: ``progress(label, done, total)`` after each finished task.
Progress = Callable[[str, int, int], None]


def _worker_init() -> None:
    kerasenv.keras()  # TensorFlow pinned to its threads before anything runs


def _base_task(experiment: ExperimentConfig, seed: int, profile: Profile,
               keep_dir: Path | None) -> tuple[Any, list[np.ndarray], Any]:
    from prunebench import pipeline
    from prunebench.data import load_data

    data = load_data(profile.data)
    base, fit = pipeline.train_base(seed, data, profile)
    result = pipeline.run_experiment(experiment, seed, base, fit, data, profile,
                                     keep_dir=keep_dir)
    return result, base.get_weights(), fit


def _pruned_task(experiment: ExperimentConfig, seed: int, weights: list[np.ndarray],
                 fit: Any, profile: Profile, tensorboard: Path | None,
                 keep_dir: Path | None) -> Any:
    from prunebench import models, pipeline
    from prunebench.data import load_data

    data = load_data(profile.data)
    base = models.build_model(data.x_train.shape[1])
    base.set_weights(weights)
    return pipeline.run_experiment(experiment, seed, base, fit, data, profile,
                                   tensorboard=tensorboard, keep_dir=keep_dir)


def run(
    experiments: Sequence[ExperimentConfig],
    seeds: Sequence[int],
    profile: Profile,
    jobs: int,
    progress: Progress | None = None,
    tensorboard: Path | None = None,
    keep_dir: Path | None = None,
) -> list[Any]:
    """Return the pipeline's results for every seed and experiment, in serial order."""
    unpruned, pruned = experiments[0], list(experiments[1:])
    total = len(seeds) * len(experiments)
    done = 0

    def tick(label: str) -> None:
        nonlocal done
        done += 1
        if progress is not None:
            progress(f"{done}/{total} done, last: {label}", done, total)

    results: dict[tuple[int, str], Any] = {}
    context = multiprocessing.get_context("spawn")  # fork and TensorFlow threads do not mix
    with ProcessPoolExecutor(max_workers=jobs, mp_context=context,
                             initializer=_worker_init) as pool:
        bases: dict[Future[Any], int] = {
            pool.submit(_base_task, unpruned, seed, profile, keep_dir): seed for seed in seeds}
        tasks: dict[Future[Any], tuple[int, str]] = {}
        for future in as_completed(bases):
            seed = bases[future]
            result, weights, fit = future.result()
            results[(seed, unpruned.name)] = result
            tick(f"seed {seed} {unpruned.name}")
            for experiment in pruned:
                task = pool.submit(_pruned_task, experiment, seed, weights, fit, profile,
                                   tensorboard, keep_dir)
                tasks[task] = (seed, experiment.name)
        for future in as_completed(tasks):
            results[tasks[future]] = future.result()
            tick(f"seed {tasks[future][0]} {tasks[future][1]}")
    return [results[(seed, e.name)] for seed in seeds for e in experiments]
