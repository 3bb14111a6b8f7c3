"""``prunebench check``: a run (or a record) judged against each task's stored baseline.

Which tasks and which baselines, refused before anything trains where they cannot judge
the run; each task judged by ``gate``; the verdict printed short, and written as JUnit XML,
JSON and Markdown for a CI system.
"""

from __future__ import annotations

import argparse
import os
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import Any

from rich.console import Console

from prunebench import (
    baseline,
    compare,
    config,
    experiments,
    gate,
    kerasenv,
    record,
    tasks,
    verdicts,
)
from prunebench.errors import EXIT_INCONCLUSIVE, UsageError
from prunebench.running import (
    DEFAULT_CHECK_SEEDS,
    RunPlan,
    configured_tasks,
    run_record,
)


def _describe_baseline(document: dict, path: Path, profile: str) -> str:
    section = document["profiles"].get(profile, {})
    env = section.get("environment", {})
    return (f"the TF {document['tf_minor']} baseline {path} (TF {env.get('tf', '?')}, {profile} "
            f"profile, seeds {' '.join(map(str, section.get('seeds', [])))}, made "
            f"{section.get('created', '?')})")


def judged_tasks(args: argparse.Namespace, rec: record.RunRecord | None,
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
    """``prunebench check``: run (or read) a record, judge it against each task's baseline,
    print the short verdict (``--full``: every line), write JUnit / JSON / Markdown."""
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
    chosen, skipped = _baselines(args, tf_now, judged_tasks(args, rec), required)
    thresholds = thresholds.with_figures(*tasks.figure_thresholds(list(chosen)))
    say = partial(out.print, highlight=False, markup=False, soft_wrap=True)
    profile = rec.profile if rec else args.profile
    described = {name: _describe_baseline(doc, path, profile)
                 for name, (path, _, doc) in chosen.items()}
    for name, (_, why, _) in chosen.items():
        say(f"TF {tf_now} judged against {described[name]}: {why}")
    for note in skipped:
        say(f"note: {note}")
    if rec is None:
        rec = _run(args, chosen, err)
    found = _judge_each(args, rec, chosen, thresholds, say)
    against = (next(iter(described.values())) if len(chosen) == 1 else
               f"the baselines of {len(chosen)} tasks ({', '.join(str(p) for p, _, _ in chosen.values())})")
    return _conclude(args, found, rec, tf_now, against, chosen, say)


def _run(args: argparse.Namespace, chosen: dict[str, tuple[Path, str, dict]], err: Console
         ) -> record.RunRecord:
    """Run what the baselines hold (what tfmot refused when they were made: tried again),
    after refusing what they cannot judge; keep the record in ``--out``."""
    held = [exp for path, _, doc in chosen.values()
            for key in ("experiments", baseline.REFUSED_KEY)
            for exp in baseline.profile_section(doc, args.profile, path).get(key, {})]
    plan = RunPlan.from_args(args, DEFAULT_CHECK_SEEDS, held)
    if args.out is not None:
        record.check_writable(args.out)
    _refuse_before_running(plan, chosen)
    rec = run_record(plan, err)
    if args.out is not None:
        record.save(rec, args.out)
    return rec


@dataclass
class _Found:
    """What every task's judgement gave, together."""

    lines: list[compare.Line] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    differences: list[str] = field(default_factory=list)
    regimes: list[str] = field(default_factory=list)


def _judge_each(args: argparse.Namespace, rec: record.RunRecord,
                chosen: dict[str, tuple[Path, str, dict]], thresholds: compare.Thresholds,
                say: Callable[[str], None]) -> _Found:
    """Judge each task's part of ``rec`` against its baseline; print lines not ok (all with
    --full) and the notes."""
    found = _Found()
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
        found.notes.extend(judged.notes)
        found.lines.extend(judged.lines)
        found.differences.extend(d for d in judged.differences if d not in found.differences)
        found.regimes.append(judged.regime)
    return found


def _conclude(args: argparse.Namespace, found: _Found, rec: record.RunRecord, tf_now: str,
              against: str, chosen: dict[str, tuple[Path, str, dict]],
              say: Callable[[str], None]) -> int:
    """Print the summary and the verdict line, write the verdict files; return the exit code."""
    lines, differences = found.lines, found.differences
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
    regime = "/".join(dict.fromkeys(found.regimes))
    if undecided:
        say(f"{undecided} figure(s) undecided over the seeds run (not a pass): run more seeds, "
            "each line says about how many")
    verdict = {0: "PASS", EXIT_INCONCLUSIVE: "INCONCLUSIVE"}.get(code, "FAIL")
    if not args.full and count[compare.Verdict.OK]:
        say(f"{count[compare.Verdict.OK]} figure(s) ok, not listed (--full lists every line)")
    said = (f"gate: {verdict} - TF {tf_now} judged against {against} "
            f"with seeds {' '.join(map(str, rec.seeds))}, {regime} band: {len(lines)} "
            f"checks, {len(regressed)} regressed, {count[compare.Verdict.IMPROVEMENT]} improved, "
            f"{count[compare.Verdict.CHANGED]} changed"
            + (f", {undecided} inconclusive" if undecided else ""))
    _publish(args, found, verdict, said, {
        "tensorflow": tf_now, "seeds": rec.seeds, "regime": regime,
        "baselines": {name: str(path) for name, (path, _, _) in chosen.items()},
        "differences": differences, "notes": found.notes})
    say(said)
    return code


def _publish(args: argparse.Namespace, found: _Found, verdict: str, said: str,
             about: dict[str, Any]) -> None:
    """Write the verdict as JUnit XML, JSON and Markdown where asked (Markdown also to
    $GITHUB_STEP_SUMMARY when set)."""
    differences = "; ".join(found.differences) or "none"
    if args.junit is not None:
        verdicts.write(args.junit, verdicts.junit(found.lines, "prunebench.check", {
            "tensorflow": about["tensorflow"], "verdict": verdict,
            "seeds": " ".join(map(str, about["seeds"])), "differences": differences}))
    if args.json is not None:
        record.write_json_atomic(args.json, verdicts.document(found.lines, verdict, about))
    if args.markdown is not None or os.environ.get("GITHUB_STEP_SUMMARY"):
        verdicts.publish_markdown(args.markdown, "\n".join([
            f"## prunebench check: **{verdict}**", "", said.removeprefix("gate: "), "",
            f"Environment differences from the baseline: {differences}",
            "", *verdicts.markdown_lines(found.lines, "baseline", "run"),
            *[f"- note: {note}" for note in found.notes]]) + "\n")
