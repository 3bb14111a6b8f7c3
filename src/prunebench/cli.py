"""The ``prunebench`` command: run, list, env (and the gate's check and baseline)."""

from __future__ import annotations

import argparse
import importlib.util
import logging
import sys
import tempfile
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import NoReturn

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from prunebench import abtest, baseline, compare, config, experiments, gate, kerasenv, record, report
from prunebench.errors import EXIT_USAGE, UsageError

DEFAULT_SEEDS = (0,)
DEFAULT_OUT = Path("prunebench-results.json")
#: The gate's default: three seeds' median, under 3 minutes on 2 cores for the quick profile.
DEFAULT_CHECK_SEEDS = (0, 1, 2)


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


def add_run_options(parser: argparse.ArgumentParser) -> None:
    """Add the options that choose what to run (shared by run, check and baseline)."""
    parser.add_argument("--experiments", nargs="+", metavar="NAME",
                        help="experiments or groups to run (default: the canonical three; "
                             f"groups: {', '.join(experiments.GROUPS)})")
    parser.add_argument("--seeds", nargs="+", type=_seed, metavar="N",
                        help="seeds (default: 0)")
    parser.add_argument("--profile", default="quick", choices=sorted(config.PROFILES),
                        help="training budget: full is the seed's, quick the same path, smaller")
    parser.add_argument("--sparsity", type=_sparsity, metavar="S",
                        help="override the target sparsity of every pruned experiment")
    parser.add_argument("--tensorboard", type=Path, metavar="DIR",
                        help="write tfmot's PruningSummaries here")
    parser.add_argument("--jobs", type=_jobs, default=1, metavar="N",
                        help="worker processes (default 1; time figures are steadiest at 1)")


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of every subcommand."""
    parser = _Parser(prog="prunebench", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    run = sub.add_parser("run", help="run experiments, print the table, write a JSON record")
    add_run_options(run)
    run.add_argument("--out", type=Path, default=DEFAULT_OUT, help="results record (JSON)")
    check = sub.add_parser("check", help="run (or read) results and gate them against the baseline")
    add_run_options(check)
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
    check.add_argument("--out", type=Path, metavar="FILE", help="also write the run's record")
    base = sub.add_parser("baseline", help="show, or --update, the baseline of the installed TF "
                                           "(--update runs the gated group by default)")
    add_run_options(base)
    base.add_argument("--update", action="store_true",
                      help="run (or read --results) and write the figures into the baseline")
    base.add_argument("--baseline", type=Path, metavar="FILE",
                      help="baseline (default: baselines/tfX.Y.json of the installed TF)")
    base.add_argument("--results", type=Path, metavar="FILE",
                      help="take the figures from this results record instead of running")
    ab = sub.add_parser("ab", help="time the same models in two environments interleaved; "
                                   "exit 1 when B is slower")
    add_run_options(ab)
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
    rep = sub.add_parser("report", help="write an HTML page and PNG plots of results records")
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
    sub.add_parser("list", help="list the experiments")
    sub.add_parser("env", help="print the resolved versions and which Keras is in use")
    return parser


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
    from prunebench import pipeline  # imports TensorFlow: only when something runs

    chosen = experiments.resolve(args.experiments, args.sparsity)
    seeds = list(dict.fromkeys(args.seeds or DEFAULT_SEEDS))
    profile = config.get_profile(args.profile)
    kerasenv.keras()
    with progress_display(console) as hook:
        results = pipeline.run(chosen, seeds, profile, progress=hook, tensorboard=args.tensorboard,
                               jobs=args.jobs)
    return record.from_run(chosen, seeds, profile, results)


def check_run_options(args: argparse.Namespace) -> None:
    """Raise UsageError for run options that would only fail after training."""
    if args.tensorboard is not None and importlib.util.find_spec("tensorboard") is None:
        raise UsageError("--tensorboard needs TensorBoard: pip install tensorboard")


def cmd_run(args: argparse.Namespace, out: Console, err: Console) -> int:
    check_run_options(args)
    record.check_writable(args.out)
    rec = run_record(args, err)
    record.save(rec, args.out)
    out.print(report.results_table(rec))
    out.print(f"record written to {args.out}")
    return 0


def cmd_show(args: argparse.Namespace, out: Console, err: Console) -> int:
    out.print(report.results_table(record.load(args.results)))
    return 0


def cmd_matrix(args: argparse.Namespace, out: Console, err: Console) -> int:
    from prunebench import matrix

    records = [record.load(path) for path in args.results]
    thresholds = compare.load_thresholds(args.thresholds)
    found, notes = matrix.findings(records, thresholds)  # refuses mixed profiles, doubles
    out.print(report.matrix_table(matrix.ordered(records), thresholds))
    say = partial(out.print, highlight=False, markup=False)
    for finding in found:
        say(finding.render())
    for note in notes:
        say(f"note: {note}")
    versions = " -> ".join(str(r.environment.get("tf")) for r in matrix.ordered(records))
    say(f"matrix: {'FAIL' if found else 'PASS'} - TF {versions}: {len(found)} figure(s) worse "
        "than the version before or the first, beyond the gate's cross band")
    return 1 if found else 0


def cmd_list(args: argparse.Namespace, out: Console, err: Console) -> int:
    for name, exp in experiments.REGISTRY.items():
        out.print(f"{name:<18} {experiments.family(exp):<17} {exp.description}", highlight=False)
    out.print("groups (usable wherever experiments are named):", highlight=False)
    for group, names in experiments.GROUPS.items():
        out.print(f"  {group:<11} {len(names):>2} experiments", highlight=False)
    return 0


def cmd_report(args: argparse.Namespace, out: Console, err: Console) -> int:
    from prunebench import html_report  # matplotlib: only when a report is asked for

    records = [record.load(path) for path in args.results]
    page = html_report.write(records, args.out, args.baseline)
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


def _describe_baseline(document: dict, path: Path, profile: str) -> str:
    section = document["profiles"].get(profile, {})
    env = section.get("environment", {})
    return (f"the TF {document['tf_minor']} baseline {path} (TF {env.get('tf', '?')}, {profile} "
            f"profile, seeds {' '.join(map(str, section.get('seeds', [])))}, made "
            f"{section.get('created', '?')})")


def cmd_check(args: argparse.Namespace, out: Console, err: Console) -> int:
    thresholds = compare.load_thresholds(args.thresholds)
    rec = record.load(args.results) if args.results is not None else None
    tf_now = str(rec.environment.get("tf") if rec else kerasenv.tf_version())
    if args.baseline is not None:
        path, why = args.baseline, "given with --baseline"
    else:
        major, minor = kerasenv.parse_minor(tf_now)
        path, why = baseline.find(f"{major}.{minor}", args.against)
    document = baseline.load(path)  # refuse a missing or corrupt baseline before training
    say = partial(out.print, highlight=False, markup=False)
    profile = rec.profile if rec else args.profile
    judged_against = _describe_baseline(document, path, profile)
    say(f"TF {tf_now} judged against {judged_against}: {why}")
    if rec is None:
        held = baseline.profile_section(document, args.profile, path)["experiments"]
        args.seeds = args.seeds or list(DEFAULT_CHECK_SEEDS)
        # By default, judge everything the baseline holds (the canonical three at least).
        args.experiments = args.experiments or list(held)
        check_run_options(args)
        if args.out is not None:
            record.check_writable(args.out)
        rec = run_record(args, err)
        if args.out is not None:
            record.save(rec, args.out)
    judged = gate.gate(rec, document, path, thresholds, regime=args.tolerance,
                       other_tf=why != "its own version's")
    for line in judged.lines:
        say(line.render())
    for note in judged.notes:
        say(f"note: {note}")
    code = compare.exit_code(judged.lines, strict=args.strict)
    count = Counter(line.verdict for line in judged.lines)
    regressed = [ln for ln in judged.lines if ln.verdict is compare.Verdict.REGRESSION]
    if count[compare.Verdict.IMPROVEMENT]:
        say(f"{count[compare.Verdict.IMPROVEMENT]} figure(s) improved beyond tolerance, "
            f"unexplained{' (--strict: fails)' if args.strict else ''}; to keep them, refresh the "
            f"baseline: {baseline.UPDATE_COMMAND.format(profile=rec.profile)}")
    for line in regressed:
        say(f"REGRESSION {line.experiment}.{line.metric}: {line.value:.6g} {line.limit}")
    say(f"environment differences from the baseline: {'; '.join(judged.differences) or 'none'}")
    say(f"gate: {'FAIL' if code else 'PASS'} - TF {tf_now} judged against {judged_against} "
        f"with seeds {' '.join(map(str, rec.seeds))}, {judged.regime} band: {len(judged.lines)} "
        f"checks, {len(regressed)} regressed, {count[compare.Verdict.IMPROVEMENT]} improved, "
        f"{count[compare.Verdict.CHANGED]} changed")
    return code


def cmd_baseline(args: argparse.Namespace, out: Console, err: Console) -> int:
    path = args.baseline or baseline.default_path()
    if not args.update:
        document = baseline.load(path)
        for name, section in document["profiles"].items():
            out.print(f"{path}: TF {document['tf_minor']}, profile {name}, seeds "
                      f"{section['seeds']}, made {section['created']}", highlight=False)
        return 0
    args.seeds = args.seeds or list(range(baseline.MIN_SEEDS))
    baseline.require_seeds(len(args.seeds))  # before training, not after
    record.check_writable(path)
    if path.exists():
        baseline.load(path)  # a corrupt file is refused, not overwritten
    rec = record.load(args.results) if args.results else None
    tf = str(rec.environment.get("tf") if rec else kerasenv.tf_version())
    if kerasenv.is_prerelease(tf):
        raise UsageError(f"TF {tf} is a pre-release: baselines are made from releases; judge it "
                         "with prunebench check (against the newest older baseline)")
    if rec is None:
        if args.experiments is None:
            args.experiments = ["gated"]
            if not kerasenv.pqat_supported():
                args.experiments = [n for n in experiments.GROUPS["gated"]
                                    if experiments.REGISTRY[n].quantize == "none"]
                err.print(f"PQAT experiments left out: tfmot's PQAT needs TF >= 2.16, not {tf}",
                          highlight=False)
        rec = run_record(args, err)
    baseline.update(path, rec)
    out.print(report.results_table(rec))
    out.print(f"baseline {path} updated: profile {rec.profile}, seeds {rec.seeds}", highlight=False)
    return 0


def cmd_ab(args: argparse.Namespace, out: Console, err: Console) -> int:
    from prunebench import pipeline
    from prunebench.data import load_data

    sides = (abtest.make_side("A", args.a, args.a_env), abtest.make_side("B", args.b, args.b_env))
    if args.margin < 1:
        raise UsageError(f"margin must be >= 1, got {args.margin}")
    seeds = args.seeds or list(DEFAULT_SEEDS)
    if len(seeds) != 1:
        raise UsageError("ab times the models of one seed: give one --seeds value")
    if args.out is not None:
        record.check_writable(args.out)
    chosen = experiments.resolve(args.experiments, args.sparsity)
    profile = config.get_profile(args.profile)
    say = partial(out.print, highlight=False, markup=False)
    for side in sides:
        say(side.describe())
    with tempfile.TemporaryDirectory(prefix="prunebench-ab-") as tmp, \
            progress_display(err) as hook:
        kept, models = Path(tmp) / "kept", Path(tmp) / "models"
        pipeline.run(chosen, seeds, profile, progress=hook, keep_dir=kept)
        abtest.save_models(kept, [e.name for e in chosen], seeds[0],
                           load_data(profile.data).x_test, models)
        runs = abtest.interleave(sides, args.rounds, models, profile.name, progress=hook)
    lines = abtest.judge(runs, args.margin)
    env_a, env_b = runs["A"][0]["environment"], runs["B"][0]["environment"]
    differences = gate.environment_differences(env_b, env_a)
    for line in lines:
        say(line.render())
    if args.out is not None:
        record.write_json_atomic(args.out, {"schema": "prunebench.ab/1", "sides": [
            {"name": s.name, "python": s.python, "env": s.env} for s in sides], "runs": runs,
            "lines": [{**vars(ln), "verdict": ln.verdict.value} for ln in lines]})
    code = compare.exit_code(lines)
    say(f"B differs from A in: {'; '.join(differences) or 'nothing recorded (same packages)'}")
    say(f"ab: {'FAIL' if code else 'PASS'} - B against A, {len(lines)} checks, "
        f"{sum(ln.verdict is compare.Verdict.REGRESSION for ln in lines)} slower beyond x"
        f"{args.margin:g}, {args.rounds} processes per side, seed {seeds[0]}")
    return code


NEEDS_KERAS = frozenset({"run", "check", "baseline", "env", "ab"})
COMMANDS = {
    "run": cmd_run, "check": cmd_check, "baseline": cmd_baseline,
    "ab": cmd_ab, "show": cmd_show, "matrix": cmd_matrix, "report": cmd_report, "list": cmd_list,
    "env": cmd_env,
}


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; return its exit code (2 on bad input, with a one-line message)."""
    err = Console(stderr=True)
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    out = Console(width=200) if not sys.stdout.isatty() else Console()
    try:
        args = build_parser().parse_args(argv)
        if args.command in NEEDS_KERAS:
            kerasenv.plan()  # no usable Keras 2: say what to install before anything else
        return COMMANDS[args.command](args, out, err)
    except UsageError as exc:
        print(f"prunebench: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("prunebench: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
