"""Run what the command line asks for, with a progress display: shared by run, check, baseline, ab."""

from __future__ import annotations

import argparse
import importlib.util
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from prunebench import config, experiments, kerasenv, record
from prunebench.errors import UsageError

DEFAULT_SEEDS = (0,)
#: The gate's default: three seeds, under 5 minutes on 2 cores for the quick profile.
DEFAULT_CHECK_SEEDS = (0, 1, 2)


@contextmanager
def progress_display(console: Console) -> Iterator[Callable[[str, int, int], None]]:
    """Yield a progress hook that shows the current fit's epochs on ``console``."""
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), console=console, transient=True) as bar:
        task = bar.add_task("starting", total=None)

        def hook(label: str, epoch: int, epochs: int) -> None:
            bar.update(task, description=label, completed=epoch, total=epochs)

        yield hook


def run_record(args: argparse.Namespace, console: Console) -> record.RunRecord:
    """Return the record of running what ``args`` asks for, with a progress display."""
    from prunebench import pipeline, runners  # import TensorFlow: only when something runs

    chosen = experiments.resolve(args.experiments, args.sparsity)
    seeds = list(dict.fromkeys(args.seeds or DEFAULT_SEEDS))
    profile = config.get_profile(args.profile)
    kerasenv.keras()
    refused = pipeline.refusals(chosen, profile)
    for name, why in refused.items():
        console.print(f"refused: {name}: {why}", highlight=False, markup=False, soft_wrap=True)
    accepted = [e for e in chosen if e.name not in refused]
    with progress_display(console) as hook:
        results = runners.run(accepted, seeds, profile, progress=hook,
                               tensorboard=args.tensorboard, jobs=args.jobs,
                               scheduler=getattr(args, "scheduler", None))
    return record.from_run(chosen, seeds, profile, results, refused)


def check_run_options(args: argparse.Namespace) -> None:
    """Raise UsageError for run options that would only fail after training."""
    if getattr(args, "scheduler", None) and args.jobs > 1:
        raise UsageError("--jobs and --scheduler both choose where tasks run: give one")
    if args.tensorboard is not None and importlib.util.find_spec("tensorboard") is None:
        raise UsageError("--tensorboard needs TensorBoard: pip install tensorboard")
