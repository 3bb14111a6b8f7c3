"""Run what the command line asks for, with a progress display: shared by run, check, baseline, ab."""

from __future__ import annotations

import argparse
import importlib.util
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from prunebench import config, experiments, kerasenv, project, record, tasks
from prunebench.errors import UsageError

DEFAULT_SEEDS = (0,)
#: The gate's default: three seeds, under 5 minutes on 2 cores for the quick profile.
DEFAULT_CHECK_SEEDS = (0, 1, 2)
#: The options that choose what runs and how (cli.add_run_options).
RUN_OPTIONS = ("experiments", "seeds", "profile", "sparsity", "tensorboard", "jobs", "scheduler")


@contextmanager
def progress_display(console: Console) -> Iterator[Callable[[str, int, int], None]]:
    """Yield a progress hook that shows the current fit's epochs on ``console``."""
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), console=console, transient=True) as bar:
        task = bar.add_task("starting", total=None)

        def hook(label: str, epoch: int, epochs: int) -> None:
            bar.update(task, description=label, completed=epoch, total=epochs)

        yield hook


@dataclass(frozen=True)
class RunPlan:
    """What a command runs, fixed once from its command line and its defaults.

    ``run``, ``check``, ``baseline`` and ``ab`` each build one and hand it on; nothing
    changes the parsed arguments afterwards. ``experiments`` are names or groups as given
    (empty: the canonical three); ``seeds`` are in order, each once.
    """

    experiments: tuple[str, ...]
    seeds: tuple[int, ...]
    profile: str
    sparsity: float | None = None
    jobs: int = 1
    scheduler: str | None = None
    tensorboard: Path | None = None

    @classmethod
    def from_args(cls, args: argparse.Namespace, default_seeds: Sequence[int] = DEFAULT_SEEDS,
                  default_experiments: Sequence[str] = ()) -> RunPlan:
        """Return the plan ``args`` asks for, the defaults where it gives none; raise
        UsageError for options that would only fail after training."""
        plan = cls(tuple(args.experiments or default_experiments),
                   tuple(dict.fromkeys(args.seeds or default_seeds)), args.profile,
                   args.sparsity, args.jobs, getattr(args, "scheduler", None), args.tensorboard)
        if plan.scheduler and plan.jobs > 1:
            raise UsageError("--jobs and --scheduler both choose where tasks run: give one")
        if plan.tensorboard is not None and importlib.util.find_spec("tensorboard") is None:
            raise UsageError("--tensorboard needs TensorBoard: pip install tensorboard")
        return plan

    def chosen(self) -> list[config.ExperimentConfig]:
        """Return the experiments, resolved: by task, each task's unpruned first."""
        return experiments.resolve(self.experiments or None, self.sparsity)


def given_options(parser: argparse.ArgumentParser, argv: Sequence[str] | None) -> set[str]:
    """Return the destinations of the options ``argv`` gives, defaults left out (the
    parser's defaults are suppressed: pass one built for this call)."""
    parsers = [parser]
    while parsers:
        for action in parsers.pop()._actions:
            if isinstance(action, argparse._SubParsersAction):
                parsers.extend(action.choices.values())
            else:
                action.default = argparse.SUPPRESS
    return set(vars(parser.parse_args(argv)))


def refuse_unused(args: argparse.Namespace, given: Callable[[], set[str]]) -> None:
    """Raise UsageError for an option the command would ignore: what to run, given to
    ``check`` / ``baseline`` reading --results, or to ``baseline`` only showing its file.
    ``given`` returns the options the command line gave; it is called only then."""
    if args.command == "baseline" and not args.update:
        ignored: tuple[str, ...] = (*RUN_OPTIONS, "results", "out")
        why = "baseline without --update only shows the file"
    elif args.command in ("check", "baseline") and args.results is not None:
        ignored = RUN_OPTIONS
        why = (f"{args.command} --results runs nothing; the record's experiments, seeds and "
               "profile are what it takes")
    else:
        return
    said = given()
    unused = [option for option in ignored if option in said]
    if unused:
        raise UsageError(f"--{unused[0]} is not used: {why}")


def configured_tasks() -> list[str]:
    """Register the tasks of the working directory's ``[tool.prunebench]``; return their
    names ([] without one)."""
    found = project.current()
    return [tasks.load_spec(spec).name for spec in found.tasks] if found is not None else []


def configured_experiments() -> tuple[str, ...]:
    """Return the gated experiments of the configured tasks: what ``run``, ``baseline``
    and ``check`` mean without ``--experiments`` in a project that names its tasks."""
    return tuple(name for task in configured_tasks()
                 for name in experiments.gated_of(tasks.get(task)))


def run_record(plan: RunPlan, console: Console) -> record.RunRecord:
    """Return the record of running ``plan``, with a progress display."""
    from prunebench import pipeline, runners  # import TensorFlow: only when something runs

    chosen = plan.chosen()
    profile = config.get_profile(plan.profile)
    kerasenv.keras()
    refused = pipeline.refusals(chosen, profile)
    for name, why in refused.items():
        console.print(f"refused: {name}: {why}", highlight=False, markup=False, soft_wrap=True)
    accepted = [e for e in chosen if e.name not in refused]
    with progress_display(console) as hook:
        results = runners.run(accepted, list(plan.seeds), profile, progress=hook,
                              tensorboard=plan.tensorboard, jobs=plan.jobs,
                              scheduler=plan.scheduler)
    return record.from_run(chosen, list(plan.seeds), profile, results, refused)
