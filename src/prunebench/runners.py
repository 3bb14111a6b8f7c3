"""Where the pipeline's units of work run: in this process, a local process pool, or Dask.

``pipeline`` holds the units (train a seed's unpruned model, fine-tune one experiment from
it, measure); ``parallel`` spreads them over worker processes (``--jobs N``) or a Dask
cluster's workers (``--scheduler``). This module picks one and returns the results in the
serial order; every runner gives the same figures. It sits above both: the arrows point
down, nothing below imports it.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from prunebench import kerasenv, parallel, pipeline
from prunebench.config import ExperimentConfig, Profile
from prunebench.measure import ExperimentResult


def run(
    experiments: Sequence[ExperimentConfig],
    seeds: Sequence[int],
    profile: Profile,
    progress: pipeline.ProgressHook | None = None,
    tensorboard: Path | None = None,
    keep_dir: Path | None = None,
    jobs: int = 1,
    scheduler: str | None = None,
) -> list[ExperimentResult]:
    """Return the results of every experiment for every seed, task by task.

    Each task's experiments start with its unpruned one (``experiments.resolve`` orders
    them so). ``jobs`` > 1 spreads the work over that many processes, ``scheduler`` (a
    Dask scheduler's address) over that cluster's workers; the figures are the same.
    """
    groups = pipeline.by_task(experiments)
    if any(e.quantize == "pqat" for e in experiments):
        kerasenv.require_pqat()
    if jobs > 1 or scheduler is not None:
        results = parallel.run(experiments, seeds, profile, jobs, progress, tensorboard, keep_dir,
                               scheduler)
        pipeline.relate_to_unpruned(results)
        return results
    found: list[ExperimentResult] = []
    for task, chosen in groups:
        data = task.load_data(profile.data)
        found.extend(r for seed in seeds for r in pipeline.run_seed(
            task, chosen, seed, profile, data, progress, tensorboard, keep_dir))
    return found
