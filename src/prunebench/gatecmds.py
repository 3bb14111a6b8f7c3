"""The gate's subcommands baseline, ab and matrix (``cli`` parses, these judge and print;
check is ``checkcmd``)."""

from __future__ import annotations

import argparse
import tempfile
from functools import partial
from pathlib import Path

from rich.console import Console

from prunebench import (
    abtest,
    baseline,
    checkcmd,
    compare,
    config,
    experiments,
    gate,
    kerasenv,
    record,
    report,
    tasks,
)
from prunebench.errors import UsageError
from prunebench.running import (
    DEFAULT_SEEDS,
    RunPlan,
    configured_experiments,
    progress_display,
    run_record,
)


def cmd_matrix(args: argparse.Namespace, out: Console, err: Console) -> int:
    from prunebench import matrix

    records = [record.load(path) for path in args.results]
    thresholds = compare.load_thresholds(args.thresholds)
    files = [str(path) for path in args.results]
    found, notes = matrix.findings(records, thresholds, files)  # refuses mixed profiles, doubles
    out.print(report.matrix_table(matrix.ordered(records), thresholds))
    say = partial(out.print, highlight=False, markup=False, soft_wrap=True)
    for finding in found:
        say(finding.render())
    for note in notes:
        say(f"note: {note}")
    versions = " -> ".join(str(r.environment.get("tf")) for r in matrix.ordered(records))
    say(f"matrix: {'FAIL' if found else 'PASS'} - TF {versions}: {len(found)} figure(s) worse "
        "than the version before or the first, beyond the gate's cross band")
    return 1 if found else 0


#: What `prunebench baseline --update` runs unless told: every task's gated experiments.
DEFAULT_BASELINE_EXPERIMENTS = ("gated", "zoo_gated")


def cmd_baseline(args: argparse.Namespace, out: Console, err: Console) -> int:
    if not args.update:
        path = args.baseline or baseline.default_path()
        document = baseline.load(path)
        for name, section in document["profiles"].items():
            out.print(f"{path}: TF {document['tf_minor']}, profile {name}, seeds "
                      f"{section['seeds']}, made {section['created']}", highlight=False)
        return 0
    rec = record.load(args.results) if args.results else None
    tf = str(rec.environment.get("tf") if rec else kerasenv.tf_version())
    if kerasenv.is_prerelease(tf):
        raise UsageError(f"TF {tf} is a pre-release: baselines are made from releases; judge it "
                         "with prunebench check (against the newest older baseline)")
    defaults: list[str] = list(configured_experiments() or DEFAULT_BASELINE_EXPERIMENTS)
    if rec is None and not args.experiments and not configured_experiments() \
            and not kerasenv.pqat_supported():
        defaults = [n for group in DEFAULT_BASELINE_EXPERIMENTS for n in experiments.GROUPS[group]
                    if experiments.REGISTRY[n].quantize == "none"]
        err.print(f"PQAT experiments left out: tfmot's PQAT needs TF >= 2.16, not {tf}",
                  highlight=False)
    plan = RunPlan.from_args(args, range(baseline.MIN_SEEDS), defaults)
    baseline.require_seeds(len(plan.seeds))  # before training, not after
    names = rec.tasks() if rec else checkcmd.judged_tasks(args, None, plan.experiments)
    if args.baseline is not None and len(names) > 1:
        raise UsageError(f"--baseline names one file, but tasks {', '.join(names)} are run: "
                         "make their baselines one task at a time, or leave --baseline out")
    major, minor = kerasenv.parse_minor(tf)
    paths = {name: args.baseline or baseline.default_path(f"{major}.{minor}", tasks.get(name))
             for name in names}
    for path in paths.values():
        path.parent.mkdir(parents=True, exist_ok=True)  # a new task's folder
        record.check_writable(path)
        if path.exists():
            baseline.load(path)  # a corrupt file is refused, not overwritten
    if args.out is not None:
        record.check_writable(args.out)
    if rec is None:
        rec = run_record(plan, err)
    if args.out is not None:
        record.save(rec, args.out)
    for name, path in paths.items():
        part = rec if len(paths) == 1 else rec.of_task(name)
        baseline.update(path, part)
    out.print(report.results_table(rec))
    for name, path in paths.items():
        out.print(f"baseline {path} updated ({name}): profile {rec.profile}, seeds {rec.seeds}",
                  highlight=False)
    return 0


def cmd_ab(args: argparse.Namespace, out: Console, err: Console) -> int:
    from prunebench import pipeline, runners

    sides = (abtest.make_side("A", args.a, args.a_env), abtest.make_side("B", args.b, args.b_env))
    if args.margin < 1:
        raise UsageError(f"margin must be >= 1, got {args.margin}")
    if len(args.seeds or DEFAULT_SEEDS) != 1:
        raise UsageError("ab times the models of one seed: give one --seeds value")
    if args.scheduler:
        raise UsageError("ab keeps the models it trains on this machine for both sides' timing "
                         "workers: --scheduler is not supported; train in processes with --jobs")
    plan = RunPlan.from_args(args)
    if args.out is not None:
        record.check_writable(args.out)
    chosen = plan.chosen()
    profile = config.get_profile(plan.profile)
    say = partial(out.print, highlight=False, markup=False, soft_wrap=True)
    for side in sides:
        say(side.describe())
    refused = pipeline.refusals(chosen, profile)
    for name, why in refused.items():
        err.print(f"refused: {name}: {why}", highlight=False, markup=False, soft_wrap=True)
    chosen = [e for e in chosen if e.name not in refused]
    with tempfile.TemporaryDirectory(prefix="prunebench-ab-") as tmp, \
            progress_display(err) as hook:
        kept, models = Path(tmp) / "kept", Path(tmp) / "models"
        runners.run(chosen, list(plan.seeds), profile, progress=hook, keep_dir=kept,
                    jobs=plan.jobs, tensorboard=plan.tensorboard)
        abtest.save_models(kept, chosen, plan.seeds[0], profile, models)
        runs = abtest.interleave(sides, args.rounds, models, profile.name, progress=hook)
    lines = abtest.judge(runs, args.margin)
    env_a, env_b = runs["A"][0]["environment"], runs["B"][0]["environment"]
    differences = gate.environment_differences(env_b, env_a, "A")
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
        f"{args.margin:g}, {args.rounds} processes per side, seed {plan.seeds[0]}")
    return code
