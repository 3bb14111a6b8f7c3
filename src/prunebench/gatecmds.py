"""The gate's subcommands: check, baseline, ab and matrix (``cli`` parses, these judge and print)."""

from __future__ import annotations

import argparse
import os
import tempfile
from collections import Counter
from collections.abc import Sequence
from dataclasses import replace
from functools import partial
from pathlib import Path

from rich.console import Console

from prunebench import (
    abtest,
    baseline,
    compare,
    config,
    experiments,
    gate,
    kerasenv,
    record,
    report,
    tasks,
    verdicts,
)
from prunebench.errors import EXIT_INCONCLUSIVE, UsageError
from prunebench.running import (
    DEFAULT_CHECK_SEEDS,
    DEFAULT_SEEDS,
    RunPlan,
    configured_experiments,
    configured_tasks,
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


def _describe_baseline(document: dict, path: Path, profile: str) -> str:
    section = document["profiles"].get(profile, {})
    env = section.get("environment", {})
    return (f"the TF {document['tf_minor']} baseline {path} (TF {env.get('tf', '?')}, {profile} "
            f"profile, seeds {' '.join(map(str, section.get('seeds', [])))}, made "
            f"{section.get('created', '?')})")


def _judged_tasks(args: argparse.Namespace, rec: record.RunRecord | None,
                  named: Sequence[str] = ()) -> list[str]:
    """Return the tasks a check judges: the record's, the named experiments' (``named``,
    else ``--experiments``), those of the --baseline file's experiments, the project's and
    ``--task``'s, or every registered task that has a baseline (the seed's always)."""
    if rec is not None:
        return rec.tasks()
    named = named or args.experiments or ()
    if named:
        return list(dict.fromkeys(e.task for e in experiments.resolve(named)))
    if getattr(args, "baseline", None) is not None:
        held = baseline.profile_section(baseline.load(args.baseline), args.profile,
                                        args.baseline)["experiments"]
        return list(dict.fromkeys(experiments.get_experiment(n).task for n in held))
    configured = configured_tasks()
    given = [tasks.load_spec(spec).name for spec in getattr(args, "task", [])]
    if configured or given:  # a project's tasks, and those given with --task: those only
        return list(dict.fromkeys([*configured, *given]))
    return [name for name, task in tasks.all_tasks().items()
            if task.seed or any(baseline.task_dir(task).glob("tf*.json"))]


def _baselines(args: argparse.Namespace, tf_now: str, names: list[str], required: bool
               ) -> tuple[dict[str, tuple[Path, str, dict]], list[str]]:
    """Return ({task: (baseline path, why, document)}, notes); refuses missing ones before
    training, unless not ``required`` (the default set): those tasks are left out, said so."""
    if args.baseline is not None:
        if len(names) > 1:
            raise UsageError(f"--baseline names one file, but tasks {', '.join(names)} are "
                             "judged: run them one task at a time")
        return {names[0]: (args.baseline, "given with --baseline",
                           baseline.load(args.baseline))}, []
    major, minor = kerasenv.parse_minor(tf_now)
    found, notes = {}, []
    for name in names:
        try:
            path, why = baseline.find(f"{major}.{minor}", args.against, tasks.get(name))
        except UsageError as exc:
            if required or tasks.is_seed(name):
                raise
            notes.append(f"task {name} not judged: {exc}")
            continue
        found[name] = (path, why, baseline.load(path))
    return found, notes


def _refuse_before_running(plan: RunPlan, chosen: dict[str, tuple[Path, str, dict]]) -> None:
    """Raise UsageError for what the baselines cannot judge (profile, seeds, digests,
    experiments) before the check trains anything."""
    planned_all = record.from_run(plan.chosen(), list(plan.seeds),
                                  config.get_profile(plan.profile), [])
    for name, (path, why, document) in chosen.items():
        other_version = why != baseline.OWN_VERSION
        planned = planned_all if len(chosen) == 1 else planned_all.of_task(name)
        gate.refuse_before_running(planned, document, path, other_tf=other_version,
                                   known_only=other_version)


def cmd_check(args: argparse.Namespace, out: Console, err: Console) -> int:
    thresholds = compare.load_thresholds(args.thresholds)
    for path in (args.junit, args.markdown, args.json):
        if path is not None:
            record.check_writable(path)
    rec = record.load(args.results) if args.results is not None else None
    tf_now = str(rec.environment.get("tf") if rec else kerasenv.tf_version())
    # Tasks named (a record's, --experiments', --task's, the project's) need their
    # baselines; of the default set, those without one are left out, said so.
    required = (rec is not None or bool(args.experiments) or bool(args.task)
                or bool(configured_tasks()))
    chosen, skipped = _baselines(args, tf_now, _judged_tasks(args, rec), required)
    judged_tasks = list(chosen)
    thresholds = thresholds.with_figures(*tasks.figure_thresholds(judged_tasks))
    say = partial(out.print, highlight=False, markup=False, soft_wrap=True)
    profile = rec.profile if rec else args.profile
    described = {name: _describe_baseline(doc, path, profile)
                 for name, (path, _, doc) in chosen.items()}
    for name, (_, why, _) in chosen.items():
        say(f"TF {tf_now} judged against {described[name]}: {why}")
    for note in skipped:
        say(f"note: {note}")
    if rec is None:
        # What each baseline ran, and what tfmot refused when it was made (tried again).
        held = [exp for path, _, doc in chosen.values()
                for key in ("experiments", baseline.REFUSED_KEY)
                for exp in baseline.profile_section(doc, args.profile, path).get(key, {})]
        # By default, judge everything the baselines hold (the canonical three at least).
        plan = RunPlan.from_args(args, DEFAULT_CHECK_SEEDS, held)
        if args.out is not None:
            record.check_writable(args.out)
        _refuse_before_running(plan, chosen)
        rec = run_record(plan, err)
        if args.out is not None:
            record.save(rec, args.out)
    lines: list[compare.Line] = []
    notes: list[str] = []
    differences: list[str] = []
    regimes = []
    # One family-wise false-alarm rate for the whole check: each task's timing tests share
    # an equal part of it (Bonferroni across tasks, then within each).
    shared = replace(thresholds, family_alpha=thresholds.family_alpha / len(chosen))
    for name, (path, why, document) in chosen.items():
        other_version = why != baseline.OWN_VERSION
        part = rec if len(chosen) == 1 else rec.of_task(name)
        # Another version's baseline may hold fewer experiments: judge those it holds, say so.
        judged = gate.gate(part, document, path, shared, regime=args.tolerance,
                           other_tf=other_version, known_only=other_version,
                           timing=not args.no_timing)
        for line in judged.lines:
            if args.full or line.verdict is not compare.Verdict.OK:
                say(line.render())
        for note in judged.notes:
            say(f"note: {note}")
            notes.append(note)
        lines.extend(judged.lines)
        differences.extend(d for d in judged.differences if d not in differences)
        regimes.append(judged.regime)
    code = compare.exit_code(lines, strict=args.strict)
    count = Counter(line.verdict for line in lines)
    undecided = count[compare.Verdict.INCONCLUSIVE]
    if code == 0 and undecided:
        code = EXIT_INCONCLUSIVE
    regressed = [ln for ln in lines if ln.verdict is compare.Verdict.REGRESSION]
    if count[compare.Verdict.IMPROVEMENT]:
        say(f"{count[compare.Verdict.IMPROVEMENT]} figure(s) improved beyond tolerance, "
            f"unexplained{' (--strict: fails)' if args.strict else ''}; to keep them, refresh the "
            f"baseline: {baseline.UPDATE_COMMAND.format(profile=rec.profile)}")
    for line in regressed:
        value = "" if line.value is None else f"{compare.figure(line.value)} "
        say(f"REGRESSION {line.experiment}.{line.metric}: {value}{line.limit}")
    say(f"environment differences from the baseline: {'; '.join(differences) or 'none'}")
    against = (described[judged_tasks[0]] if len(chosen) == 1 else
               f"the baselines of {len(chosen)} tasks ({', '.join(str(p) for p, _, _ in chosen.values())})")
    regime = "/".join(dict.fromkeys(regimes))
    if undecided:
        say(f"{undecided} figure(s) undecided over the seeds run (not a pass): run more seeds, "
            "each line says about how many")
    verdict = {0: "PASS", EXIT_INCONCLUSIVE: "INCONCLUSIVE"}.get(code, "FAIL")
    if not args.full and count[compare.Verdict.OK]:
        say(f"{count[compare.Verdict.OK]} figure(s) ok, not listed (--full lists every line)")
    if args.junit is not None:
        verdicts.write(args.junit, verdicts.junit(lines, "prunebench.check", {
            "tensorflow": tf_now, "verdict": verdict, "seeds": " ".join(map(str, rec.seeds)),
            "differences": "; ".join(differences) or "none"}))
    said = (f"gate: {verdict} - TF {tf_now} judged against {against} "
            f"with seeds {' '.join(map(str, rec.seeds))}, {regime} band: {len(lines)} "
            f"checks, {len(regressed)} regressed, {count[compare.Verdict.IMPROVEMENT]} improved, "
            f"{count[compare.Verdict.CHANGED]} changed"
            + (f", {undecided} inconclusive" if undecided else ""))
    if args.json is not None:
        record.write_json_atomic(args.json, verdicts.document(lines, verdict, {
            "tensorflow": tf_now, "seeds": rec.seeds, "regime": regime,
            "baselines": {name: str(path) for name, (path, _, _) in chosen.items()},
            "differences": differences, "notes": notes}))
    if args.markdown is not None or os.environ.get("GITHUB_STEP_SUMMARY"):
        verdicts.publish_markdown(args.markdown, "\n".join([
            f"## prunebench check: **{verdict}**", "", said.removeprefix("gate: "), "",
            "Environment differences from the baseline: " + ("; ".join(differences) or "none"),
            "", *verdicts.markdown_lines(lines, "baseline", "run"),
            *[f"- note: {note}" for note in notes]]) + "\n")
    say(said)
    return code


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
    names = rec.tasks() if rec else _judged_tasks(args, None, plan.experiments)
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
    for path in paths.values():
        part = rec if len(paths) == 1 else rec.of_task(name)
        baseline.update(path, part)
    out.print(report.results_table(rec))
    for path in paths.values():
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
