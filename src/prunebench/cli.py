"""The ``prunebench`` command: its parser, run, show, list, env, report (check: ``checkcmd``;
baseline, ab, matrix: ``gatecmds``)."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from functools import partial
from pathlib import Path
from typing import NoReturn

from rich.console import Console

from prunebench import (
    __version__,
    abtest,
    baseline,
    checkcmd,
    compare,
    config,
    experiments,
    gatecmds,
    kerasenv,
    quiet,
    record,
    report,
    scaffold,
    tasks,
    upgradecmd,
)
from prunebench.errors import EXIT_INCONCLUSIVE, EXIT_REFUSED, EXIT_USAGE, UsageError
from prunebench.running import (
    DEFAULT_CHECK_SEEDS,
    RunPlan,
    configured_experiments,
    configured_tasks,
    given_options,
    refuse_unused,
    run_record,
)

DEFAULT_OUT = Path("prunebench-results.json")
#: Output width when stdout is not a terminal: tables are laid out to fit it whole.
PIPED_WIDTH = 120


EXIT_STATUSES = f"""exit statuses:
  0  done; nothing regressed
  1  check, matrix, ab, upgrade: a figure regressed (check --strict: or improved)
  {EXIT_USAGE}  bad input, or nothing could be judged (one line on stderr; no record written)
  {EXIT_REFUSED}  run: tfmot refused to prune a layer of some experiment (the rest ran; the
     record lists the refusal)
  {EXIT_INCONCLUSIVE}  check, upgrade: nothing worse, but some figure undecided over the seeds run
     (the verdict says how many more seeds would decide): not a pass"""


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line and exit 2."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(message)


def _seed(text: str) -> int:
    try:
        return config.validate_seed(int(text))
    except ValueError:
        raise argparse.ArgumentTypeError(f"seed must be a non-negative integer, got {text!r}") from None


def _jobs(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"jobs must be a positive integer, got {text!r}")
    return int(text)


def _minor_version(text: str) -> str:
    major, minor = kerasenv.parse_minor(text)
    if text != f"{major}.{minor}":
        raise argparse.ArgumentTypeError(f"a TensorFlow minor version such as 2.21, got {text!r}")
    return text


def _sparsity(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"sparsity must be a number in [0, 1), got {text!r}") from None
    return config.validate_sparsity(value)


def add_run_options(parser: argparse.ArgumentParser, experiments_default: str,
                    seeds_default: str) -> None:
    """Add the options that choose what to run (shared by run, check, baseline and ab), their
    help giving the command's own defaults."""
    parser.add_argument("--experiments", nargs="+", metavar="NAME",
                        help=f"experiments or groups to run (default: {experiments_default}; "
                             f"groups: {', '.join(experiments.GROUPS)})")
    parser.add_argument("--seeds", nargs="+", type=_seed, metavar="N",
                        help=f"seeds (default: {seeds_default})")
    parser.add_argument("--profile", default="quick", choices=sorted(config.PROFILES),
                        help="training budget: full is the seed's, quick (the default) the same "
                             "path, smaller")
    parser.add_argument("--sparsity", type=_sparsity, metavar="S",
                        help="override the target sparsity of every pruned experiment")
    parser.add_argument("--tensorboard", type=Path, metavar="DIR",
                        help="write tfmot's PruningSummaries here")
    parser.add_argument("--jobs", type=_jobs, default=1, metavar="N",
                        help="worker processes (default 1; time figures are steadiest at 1)")
    parser.add_argument("--scheduler", metavar="ADDRESS",
                        help="run on the workers of this Dask scheduler (tcp://host:8786); "
                             "needs prunebench[dask], workers with --nthreads 1")
    add_task_option(parser)
    add_verbose(parser)


def _add_seeds(parser: argparse.ArgumentParser, flag: str, help_text: str) -> None:
    parser.add_argument(flag, nargs="+", type=_seed, metavar="N", help=help_text)


def _add_common(parser: argparse.ArgumentParser) -> None:
    """Add --profile, --task and --verbose, as every command that runs experiments has them."""
    parser.add_argument("--profile", default="quick", choices=sorted(config.PROFILES),
                        help="training budget: full is the seed's, quick (the default) the same "
                             "path, smaller")
    add_task_option(parser)
    add_verbose(parser)


def add_task_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--task", action="append", default=[], metavar="MODULE:ATTR",
                        help="register a task of your own (a prunebench.tasks.Task object); "
                             "its experiments are then named TASK/EXPERIMENT (repeatable)")


def add_verbose(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--verbose", action="store_true",
                        help="show TensorFlow's C++ log lines (hidden unless "
                             f"{quiet.LEVEL_ENV} is set)")


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of every subcommand."""
    parser = _Parser(prog="prunebench", description="Benchmarks and regression gates for pruning "
                     "TensorFlow models with tfmot.", epilog=EXIT_STATUSES,
                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"prunebench {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    run = sub.add_parser("run", help="run experiments, print the table, write a JSON record")
    add_run_options(run, "the canonical three", "0")
    run.add_argument("--out", type=Path, default=DEFAULT_OUT, help="results record (JSON)")
    check = sub.add_parser("check", help="run (or read) results and gate them against the baseline")
    add_run_options(check, "every experiment the baselines hold, and those tfmot refused "
                    "when they were made", " ".join(map(str, DEFAULT_CHECK_SEEDS)))
    check.add_argument("--baseline", type=Path, metavar="FILE",
                       help="baseline (default: baselines/tfX.Y.json of the TF judged, or the "
                            "newest of an older version when it has none)")
    check.add_argument("--against", type=_minor_version, metavar="X.Y",
                       help="judge against baselines/tfX.Y.json (another version's)")
    check.add_argument("--results", type=Path, metavar="FILE",
                       help="judge this results record instead of running")
    check.add_argument("--thresholds", type=Path, metavar="FILE",
                       help="tolerances (default: the packaged thresholds.toml)")
    check.add_argument("--strict", action="store_true", help="fail on improvements too")
    check.add_argument("--tolerance", choices=compare.REGIMES,
                       help="band of the deterministic figures: same (this TF, packages and CPU "
                            "as the baseline's) or cross; default: chosen from the environments")
    check.add_argument("--no-timing", action="store_true",
                       help="judge every figure but the inference-time ratios (a note says so): "
                            "on a host whose speed drifts from the baseline's; `upgrade` and "
                            "`ab` time both sides in one session instead")
    check.add_argument("--out", type=Path, metavar="FILE", help="also write the run's record")
    check.add_argument("--full", action="store_true",
                       help="print every figure's line; by default only those not ok "
                            "(regressed, changed, improved, undecided), the notes and the verdict")
    check.add_argument("--junit", type=Path, metavar="FILE",
                       help="the verdict as JUnit XML: a test case per experiment and figure")
    check.add_argument("--json", type=Path, metavar="FILE",
                       help="the verdict as JSON: the verdict, its counts and every line")
    check.add_argument("--markdown", type=Path, metavar="FILE",
                       help="the verdict as Markdown (also appended to $GITHUB_STEP_SUMMARY "
                            "when it is set)")
    base = sub.add_parser("baseline", help="show, or --update, the baseline of the installed TF "
                                           "(--update runs the gated group by default)")
    add_run_options(base, " ".join(gatecmds.DEFAULT_BASELINE_EXPERIMENTS),
                    " ".join(map(str, range(baseline.MIN_SEEDS))))
    base.add_argument("--update", action="store_true",
                      help="run (or read --results) and write the figures into the baseline")
    base.add_argument("--baseline", type=Path, metavar="FILE",
                      help="baseline (default: baselines/tfX.Y.json of the installed TF)")
    base.add_argument("--results", type=Path, metavar="FILE",
                      help="take the figures from this results record instead of running")
    base.add_argument("--out", type=Path, metavar="FILE",
                      help="also write the run's record (for prunebench matrix / report)")
    ab = sub.add_parser("ab", help="time the same models in two environments interleaved; "
                                   "exit 1 when B is slower")
    add_run_options(ab, "the canonical three", "0 (one seed)")
    for side in ("a", "b"):
        ab.add_argument(f"--{side}", metavar="PYTHON",
                        help=f"side {side.upper()}'s interpreter (default: this one)")
        ab.add_argument(f"--{side}-env", action="append", metavar="KEY=VALUE",
                        help=f"an environment variable for side {side.upper()} (repeatable)")
    ab.add_argument("--rounds", type=_jobs, default=abtest.DEFAULT_ROUNDS, metavar="N",
                    help=f"worker processes per side (default {abtest.DEFAULT_ROUNDS})")
    ab.add_argument("--margin", type=float, default=abtest.DEFAULT_MARGIN, metavar="X",
                    help=f"slowdown below which B is not called slower (default "
                         f"{abtest.DEFAULT_MARGIN})")
    ab.add_argument("--out", type=Path, metavar="FILE", help="write every sample (JSON)")
    show = sub.add_parser("show", help="print the table of an existing results record")
    show.add_argument("results", type=Path)
    rep = sub.add_parser("report", help="write an HTML page and PNG plots of results records, "
                                        "or the page of an upgrade's verdict record")
    rep.add_argument("results", type=Path, nargs="+", metavar="RESULTS")
    rep.add_argument("--out", type=Path, required=True, metavar="DIR", help="output directory")
    rep.add_argument("--baseline", type=Path, metavar="FILE",
                     help="judge against this baseline (default: baselines/tfX.Y.json of "
                          "the records' TF, when it exists)")
    matrix = sub.add_parser("matrix", help="compare records of several TF versions side by side; "
                                           "exit 1 when a version is worse than the one before "
                                           "or the first")
    matrix.add_argument("results", type=Path, nargs="+", metavar="RESULTS")
    matrix.add_argument("--thresholds", type=Path, metavar="FILE",
                        help="tolerances that flag a change (default: the packaged ones)")
    upgradecmd.add_parser(sub, _add_seeds, _add_common)
    scaffold.add_parser(sub)
    add_task_option(sub.add_parser("list", help="list the tasks and their experiments"))
    add_verbose(sub.add_parser("env", help="print the resolved versions and which Keras is in use"))
    return parser


def cmd_run(args: argparse.Namespace, out: Console, err: Console) -> int:
    plan = RunPlan.from_args(args, default_experiments=configured_experiments())
    record.check_writable(args.out)
    rec = run_record(plan, err)
    record.save(rec, args.out)
    out.print(report.results_table(rec))
    out.print(f"record written to {args.out}")
    if rec.refused:  # the libraries, not the input: the run did less than asked
        out.print(f"{len(rec.refused)} experiment(s) refused by tfmot, not run: "
                  f"{', '.join(rec.refused)}", highlight=False, soft_wrap=True)
        return EXIT_REFUSED
    return 0


def cmd_show(args: argparse.Namespace, out: Console, err: Console) -> int:
    out.print(report.results_table(record.load(args.results)))
    return 0


def cmd_list(args: argparse.Namespace, out: Console, err: Console) -> int:
    say = partial(out.print, highlight=False, markup=False, soft_wrap=True)
    for task in tasks.all_tasks().values():
        say(f"task {task.name}: {task.description} (baselines: {baseline.task_dir(task)}/)")
        for exp in experiments.task_experiments(task):
            say(f"  {exp.name:<28} {experiments.family(exp):<26} {exp.description}")
    out.print("groups (usable wherever experiments are named):", highlight=False)
    for group, names in experiments.GROUPS.items():
        out.print(f"  {group:<11} {len(names):>2} experiments", highlight=False)
    return 0


def cmd_report(args: argparse.Namespace, out: Console, err: Console) -> int:
    # matplotlib: only when a report is asked for
    from prunebench import html_report, html_upgrade

    if any(html_upgrade.is_upgrade(path) for path in args.results):
        page = html_upgrade.write(args.results, args.out, args.baseline)
    else:
        records = [record.load(path) for path in args.results]
        page = html_report.write(records, args.out, args.baseline, [str(p) for p in args.results])
    out.print(f"report written to {page}", highlight=False)
    return 0


def cmd_env(args: argparse.Namespace, out: Console, err: Console) -> int:
    env = record.environment()
    plan = kerasenv.plan()  # raises the one-line error when tf-keras is missing
    used = {name: f"{version or '-'} ({env['distributions'][name]})"
            for name, version in env["packages"].items() if env["distributions"].get(name)}
    rows = {"python": env["python"], **{d: v or "-" for d, v in env["packages"].items()}, **used,
            "keras in use": plan.source, "cpu": f"{env['cpu']} ({env['cores']} cores)",
            "cpu type": env["cpu_id"],
            "git sha": env["git_sha"] or "-"}
    for name, value in rows.items():
        out.print(f"{name:<30} {value}", highlight=False)
    return 0


NEEDS_KERAS = frozenset({"run", "check", "baseline", "env", "ab", "init"})
COMMANDS = {
    "run": cmd_run, "check": checkcmd.cmd_check, "baseline": gatecmds.cmd_baseline,
    "ab": gatecmds.cmd_ab, "show": cmd_show, "matrix": gatecmds.cmd_matrix, "report": cmd_report,
    "list": cmd_list, "env": cmd_env, "upgrade": upgradecmd.cmd_upgrade,
    "init": scaffold.cmd_init,
}


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; return its exit code (2 on bad input, with a one-line message)."""
    restore = None
    try:
        args = build_parser().parse_args(argv)
        refuse_unused(args, lambda: given_options(build_parser(), argv))
        if not getattr(args, "verbose", False):
            restore = quiet.hold_back_cpp_logs(quiet.user_min_level())
        err = Console(stderr=True)
        logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
        out = Console() if sys.stdout.isatty() else Console(width=PIPED_WIDTH)
        if args.command in NEEDS_KERAS:
            kerasenv.plan()  # no usable Keras 2: say what to install before anything else
        if hasattr(args, "task"):  # the project's tasks, then those named for this command
            configured_tasks()
        for spec in getattr(args, "task", []):
            tasks.load_spec(spec)
        return COMMANDS[args.command](args, out, err)
    except UsageError as exc:
        print(f"prunebench: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("prunebench: interrupted", file=sys.stderr)
        return 130
    finally:
        if restore is not None:
            restore()


if __name__ == "__main__":
    sys.exit(main())
