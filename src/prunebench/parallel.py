"""The pipeline spread over worker processes: one TensorFlow per process, one thread each.

The processes are local (``--jobs N``: a spawn process pool) or a Dask cluster's workers
(``--scheduler ADDRESS``: ``cluster``); both are concurrent.futures executors, the work is
the same.

Work comes in two waves. First every seed's unpruned model is trained (and measured);
then every (seed, pruned experiment) pair is a task of its own, fine-tuning a model
rebuilt from that seed's trained weights. Small tasks keep both cores busy to the end,
and rebuilding from the exact weights gives the figures a serial run gives.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor, as_completed
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from prunebench import kerasenv, pipeline
from prunebench.config import ExperimentConfig, Profile
from prunebench.errors import UsageError

#: ``progress(label, done, total)`` after each finished task.
Progress = Callable[[str, int, int], None]


def _worker_init() -> None:
    kerasenv.keras()  # TensorFlow pinned to its threads before anything runs


def _task(experiment: ExperimentConfig, specs: Sequence[str]) -> Any:
    """Return the experiment's task in a worker, registering the parent's --task specs first.

    Also sets the worker up for TensorFlow: a Dask executor has no initializer.
    """
    from prunebench import tasks

    _worker_init()
    for spec in specs:
        tasks.load_spec(spec)
    return tasks.get(experiment.task)


def _base_task(experiment: ExperimentConfig, seed: int, profile: Profile,
               keep_dir: Path | None, specs: Sequence[str]) -> tuple[Any, list[np.ndarray], Any]:
    task = _task(experiment, specs)
    data = task.load_data(profile.data)
    base, fit = pipeline.train_base(task, seed, data, profile)
    result = pipeline.run_experiment(task, experiment, seed, base, fit, data, profile,
                                     keep_dir=keep_dir)
    return _with_worker(result), base.get_weights(), fit


def _pruned_task(experiment: ExperimentConfig, seed: int, weights: list[np.ndarray],
                 fit: Any, profile: Profile, tensorboard: Path | None,
                 keep_dir: Path | None, specs: Sequence[str]) -> Any:
    task = _task(experiment, specs)
    data = task.load_data(profile.data)
    base = pipeline.rebuilt_base(task, seed, data, weights)
    return _with_worker(pipeline.run_experiment(task, experiment, seed, base, fit, data, profile,
                                                tensorboard=tensorboard, keep_dir=keep_dir))


def _with_worker(result: Any) -> Any:
    """Return ``result`` carrying the environment of the process (and host) that made it."""
    import os
    import platform

    from prunebench.record import environment

    result.environment = {**environment(), "host": platform.node(), "pid": os.getpid()}
    return result


@contextmanager
def _executor(jobs: int, scheduler: str | None) -> Iterator[Executor]:
    if scheduler is not None:
        from prunebench import cluster

        with cluster.executor(scheduler) as pool:
            yield pool
        return
    context = multiprocessing.get_context("spawn")  # fork and TensorFlow threads do not mix
    with ProcessPoolExecutor(max_workers=jobs, mp_context=context,
                             initializer=_worker_init) as pool:
        yield pool


def _result(future: Future[Any], label: str) -> Any:
    """Return a finished task's result; a worker lost for good is one line, not a traceback."""
    from prunebench import cluster

    try:
        return future.result()
    except Exception as exc:
        if cluster.lost_worker(exc):
            raise UsageError(f"a Dask worker was lost running {label} more often than Dask "
                             f"retries ({type(exc).__name__}); no record written") from None
        raise


def run(
    experiments: Sequence[ExperimentConfig],
    seeds: Sequence[int],
    profile: Profile,
    jobs: int,
    progress: Progress | None = None,
    tensorboard: Path | None = None,
    keep_dir: Path | None = None,
    scheduler: str | None = None,
) -> list[Any]:
    """Return the pipeline's results for every seed and experiment, in serial order.

    ``scheduler``: a Dask scheduler's address; its workers run the tasks instead of
    ``jobs`` local processes.
    """
    from prunebench import tasks

    groups = [chosen for _, chosen in pipeline.by_task(experiments)]
    specs = tasks.specs()
    total = len(seeds) * len(experiments)
    done = 0

    def tick(label: str) -> None:
        nonlocal done
        done += 1
        if progress is not None:
            progress(f"{done}/{total} done, last: {label}", done, total)

    results: dict[tuple[int, str], Any] = {}
    with _executor(jobs, scheduler) as pool:
        bases: dict[Future[Any], tuple[int, list[ExperimentConfig]]] = {
            pool.submit(_base_task, chosen[0], seed, profile, keep_dir, specs): (seed, chosen)
            for chosen in groups for seed in seeds}
        pending: dict[Future[Any], tuple[int, str]] = {}
        for future in as_completed(bases):
            seed, chosen = bases[future]
            result, weights, fit = _result(future, f"seed {seed} {chosen[0].name}")
            results[(seed, chosen[0].name)] = result
            tick(f"seed {seed} {chosen[0].name}")
            for experiment in chosen[1:]:
                job = pool.submit(_pruned_task, experiment, seed, weights, fit, profile,
                                  tensorboard, keep_dir, specs)
                pending[job] = (seed, experiment.name)
        for future in as_completed(pending):
            results[pending[future]] = _result(future, " ".join(map(str, pending[future])))
            tick(f"seed {pending[future][0]} {pending[future][1]}")
    return [results[(seed, e.name)] for chosen in groups for seed in seeds for e in chosen]
