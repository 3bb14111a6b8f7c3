"""``prunebench upgrade``: the command, and the verdict as terminal lines, JSON and Markdown."""

from __future__ import annotations

import argparse
import hashlib
import os
from dataclasses import asdict
from functools import partial
from pathlib import Path
from typing import Any

from rich.console import Console

from prunebench import (
    abtest,
    compare,
    distribution,
    envbuild,
    experiments,
    failures,
    gate,
    judge,
    record,
    tasks,
    upgrade,
    upgradeplan,
    verdicts,
)
from prunebench.compare import Line
from prunebench.errors import EXIT_INCONCLUSIVE, UsageError
from prunebench.running import configured_experiments

DEFAULT_OUT = Path("prunebench-upgrade.json")
DEFAULT_ENVS = Path(".prunebench") / "envs"
DEFAULT_SEEDS = (0, 1, 2)
VERDICTS = {0: "PASS", 1: "WORSE", 4: "INCONCLUSIVE"}


def add_parser(sub: Any, add_seeds: Any, add_common: Any) -> None:
    """Add the ``upgrade`` subcommand to ``sub`` (cli's subparsers)."""
    up = sub.add_parser("upgrade", help="run the experiments in two environments, interleaved, "
                                         "and judge B against A; exit 1 when B is worse, 4 when "
                                         "undecided")
    for side, word in (("from", "A, before the upgrade"), ("to", "B, after it")):
        up.add_argument(f"--{side}", dest=f"{side}_spec", required=True, metavar="SPEC",
                        help=f"side {word}: an interpreter or venv, a TF version (2.20, "
                             "nightly: built from requirements/), a requirements file, or pins "
                             "('tf-keras==2.21.*'), built with uv")
    for side in ("a", "b"):
        up.add_argument(f"--{side}-env", action="append", metavar="KEY=VALUE",
                        help=f"an environment variable of every process of side {side.upper()}")
    up.add_argument("--experiments", nargs="+", metavar="NAME",
                    help=f"experiments or groups (default: the canonical three; groups: "
                         f"{', '.join(experiments.GROUPS)})")
    add_seeds(up, "--seeds", f"seeds of both sides (default: {' '.join(map(str, DEFAULT_SEEDS))})")
    add_seeds(up, "--b-seeds", "side B's own seeds (default: --seeds); other seeds than A's "
                               "judge every figure over the seeds")
    up.add_argument("--max-seeds", type=int, default=0, metavar="N",
                    help="while figures are undecided over the seeds, add seeds to their tasks, "
                         "doubling, up to N a side (levels divided over the looks that can "
                         "decide); default 0: the seeds given only")
    up.add_argument("--judge", choices=judge.MODES, default="auto",
                    help="auto: seed by seed where a task's seeds reproduce, else over the "
                         "seeds; paired (same band), cross (cross band) or distribution "
                         "force one")
    up.add_argument("--start", choices=("scratch", "shared"), default="scratch",
                    help="scratch: each side trains its own unpruned models (does my training "
                         "still work?); shared: B prunes and fine-tunes the models A trained "
                         "(B still trains its own unpruned model: the evidence of whether "
                         "training reproduces)")
    up.add_argument("--rounds", type=int, default=abtest.DEFAULT_ROUNDS, metavar="N",
                    help=f"timing processes per side (default {abtest.DEFAULT_ROUNDS}; 12 call Keras "
                         "at 1.25x; 0: no timing)")
    up.add_argument("--margin", type=float, default=abtest.DEFAULT_MARGIN, metavar="X",
                    help=f"slowdown below which B is not called slower (default {abtest.DEFAULT_MARGIN})")
    up.add_argument("--jobs", type=int, default=1, metavar="N",
                    help="units (a task's experiments, one seed, one side) run at once (default 1)")
    up.add_argument("--scheduler", metavar="ADDRESS",
                    help="run the units on this Dask scheduler's workers (tcp://host:8786); "
                         "they must see this machine's files (journal, interpreters)")
    up.add_argument("--prunebench", metavar="SPEC",
                    help="what each built side installs prunebench from: a requirement, a "
                         "wheel or a path (default: this checkout, editable, when run from "
                         "one; else prunebench==<this version>)")
    up.add_argument("--envs", type=Path, default=DEFAULT_ENVS, metavar="DIR",
                    help=f"where built environments live (default {DEFAULT_ENVS})")
    up.add_argument("--journal", type=Path, metavar="DIR",
                    help="keeps every finished unit (default: OUT.journal beside --out)")
    up.add_argument("--resume", action="store_true", help="continue the run the journal holds")
    up.add_argument("--out", type=Path, default=DEFAULT_OUT, help="both sides' records and the "
                    f"verdict (JSON; default {DEFAULT_OUT})")
    up.add_argument("--markdown", type=Path, metavar="FILE",
                    help="a summary for a pull request (also appended to $GITHUB_STEP_SUMMARY)")
    up.add_argument("--junit", type=Path, metavar="FILE",
                    help="the verdict as JUnit XML: a test case per experiment and figure")
    up.add_argument("--thresholds", type=Path, metavar="FILE",
                    help="bands and minimum effects (default: the packaged thresholds.toml)")
    add_common(up)


def _refuse_bad_options(args: argparse.Namespace) -> None:
    """Raise UsageError for options that cannot go together, before anything is built."""
    if args.scheduler and args.jobs > 1:
        raise UsageError("--jobs and --scheduler both choose where units run: give one")
    if args.jobs < 1:
        raise UsageError(f"--jobs must be >= 1, got {args.jobs}")
    if args.rounds == 1 or args.rounds < 0:
        raise UsageError(f"--rounds is 0 (no timing) or >= 2 processes a side (a test needs "
                         f"two samples a side), got {args.rounds}")
    if args.max_seeds:
        _refuse_bad_growth(args)
    if args.margin < 1:
        raise UsageError(f"margin must be >= 1, got {args.margin}")
    for path in (args.out, args.markdown, args.junit):
        if path is not None:
            record.check_writable(path)


def _refuse_bad_growth(args: argparse.Namespace) -> None:
    """Raise UsageError where ``--max-seeds`` could add nothing or judge nothing."""
    counts = [len(set(args.seeds or DEFAULT_SEEDS)), len(set(args.b_seeds or args.seeds
                                                             or DEFAULT_SEEDS))]
    if args.max_seeds <= max(counts):
        raise UsageError(f"--max-seeds {args.max_seeds} is not more than the {max(counts)} "
                         "seeds given a side: nothing to add")
    if min(counts) < 2:
        raise UsageError("--max-seeds judges over the seeds, which needs at least 2 seeds a "
                         "side to start from")
    if args.judge in ("paired", "cross"):
        raise UsageError(f"--max-seeds adds seeds to figures undecided over the seeds; "
                         f"--judge {args.judge} judges none over the seeds")


def _plan(args: argparse.Namespace, chosen: list[Any], thresholds: compare.Thresholds
          ) -> upgradeplan.Plan:
    """Return what both sides run: the experiments' tasks, each side's seeds, the rounds."""
    seeds_a = tuple(dict.fromkeys(args.seeds or DEFAULT_SEEDS))
    seeds_b = tuple(dict.fromkeys(args.b_seeds or seeds_a))
    if args.start == "shared" and seeds_a != seeds_b:
        raise UsageError("--start shared: B starts from A's model of each seed; give both sides "
                         "the same seeds")
    if args.judge == "paired" and sorted(seeds_a) != sorted(seeds_b):
        raise UsageError("--judge paired pairs seed s of A with seed s of B: give both the same seeds")
    grouped: dict[str, list[str]] = {}  # each task's experiments, in first-appearance order
    for each in chosen:
        grouped.setdefault(each.task, []).append(each.name)
    return upgradeplan.Plan(
        profile=args.profile, tasks=tuple((task, tuple(names)) for task, names in grouped.items()),
        seeds={"A": seeds_a, "B": seeds_b}, rounds=args.rounds, task_specs=tuple(args.task),
        start=args.start, max_seeds=args.max_seeds, judge=args.judge,
        thresholds=hashlib.sha256(repr(thresholds).encode()).hexdigest()[:16])


def cmd_upgrade(args: argparse.Namespace, out: Console, err: Console) -> int:
    """``prunebench upgrade``: build or find both sides, run the plan in both (seeds
    interleaved), time both, judge B against A; print and write the verdict."""
    say = partial(out.print, highlight=False, markup=False, soft_wrap=True)
    note = partial(err.print, highlight=False, markup=False, soft_wrap=True)
    _refuse_bad_options(args)
    chosen = experiments.resolve(args.experiments or configured_experiments() or None)
    thresholds = compare.load_thresholds(args.thresholds).with_figures(
        *tasks.figure_thresholds([e.task for e in chosen]))
    plan = _plan(args, chosen, thresholds)
    specs = {"A": envbuild.parse(args.from_spec), "B": envbuild.parse(args.to_spec)}
    sides = {name: abtest.make_side(name, envbuild.build(spec, name, args.envs, note,
                                                         args.prunebench), env)
             for (name, spec), env in zip(specs.items(), (args.a_env, args.b_env), strict=True)}
    environments = {name: abtest.side_environment(side) for name, side in sides.items()}
    differences = gate.environment_differences(environments["B"], environments["A"], "A")
    say(f"B differs from A in: {'; '.join(differences) or 'nothing recorded (same packages)'}")
    for side in sides.values():
        say(side.describe())
    journal = upgrade.Journal(args.journal or args.out.with_name(args.out.name + ".journal"))
    journal.open(plan, environments, args.resume)
    upgrade.run_units(sides, plan, journal, args.jobs, note, args.scheduler)
    runs = upgrade.run_timing(sides, plan, journal, note) if plan.rounds else {}
    timing = abtest.judge(runs, args.margin, thresholds.family_alpha / 2) if runs else []
    plan, records, found = _until_decided(args, plan, sides, journal, thresholds, timing, say,
                                          note)
    code = found.exit_code()
    for task, (same, why) in found.reproduction.items():  # the seeds judged, not planned
        a, b = (len({r["seed"] for r in records[side].results
                     if records[side].task_of(r["experiment"]) == task}) for side in ("A", "B"))
        count = f"{a}" if a == b else f"{a}/{b}"
        say(f"{task} ({count} seed{'s' * (a * b != 1)} a side): "
            f"{'seeds reproduce' if same else 'seeds do not reproduce'}: {why}")
    for line in found.lines:
        say(line.render())
    for text in found.notes:
        say(f"note: {text}")
    payload = {"schema": upgrade.SCHEMA, "verdict": VERDICTS[code], "differences": differences,
               "sides": {name: {"spec": specs[name].text, "python": side.python, "env": side.env,
                                "record": asdict(records[name])} for name, side in sides.items()},
               "timing": runs, "reproduction": {t: {"reproduces": r, "why": w}
                                                for t, (r, w) in found.reproduction.items()},
               "lines": [{**vars(ln), "verdict": ln.verdict.value} for ln in found.lines],
               "notes": found.notes, "summary": judge.summary(found),
               "failed": [asdict(f) for f in journal.failures(plan)],
               "seeds": {side: {task: list(plan.seeds_of(side, task)) for task, _ in plan.tasks}
                         for side in sides}}
    _publish(args, payload, found.lines)
    say(f"upgrade: {VERDICTS[code]} - B against A, {len(found.lines)} checks: "
        + ", ".join(f"{n} {k}" for k, n in judge.summary(found).items() if n)
        + f"; record written to {args.out}")
    return code


def _until_decided(args: argparse.Namespace, plan: upgradeplan.Plan, sides: dict[str, Any],
                   journal: upgrade.Journal, thresholds: compare.Thresholds,
                   timing: list[Line], say: Any, note: Any
                   ) -> tuple[upgradeplan.Plan, dict[str, record.RunRecord], judge.Judgement]:
    """Judge B against A; while figures are undecided and ``--max-seeds`` allows, run their
    tasks on more seeds (the looks of ``distribution.schedule``) and judge again.

    Every look's tests are made at 1/r of their levels, r the looks (fixed before the first)
    whose seeds can reach them (``distribution.looks_counted``):
    stopping at whichever decides keeps the verdict's false-alarm and false-ok rates.
    The last judgement also says each figure judged over seeds' simulated power.
    """
    first = min(len(seeds) for seeds in plan.seeds.values())
    looks = distribution.schedule(first, plan.max_seeds)
    given = (len(plan.seeds["A"]), len(plan.seeds["B"]))
    sizes = [given, *((max(n, given[0]), max(n, given[1])) for n in looks[1:])]
    counted = distribution.looks_counted(sizes, distribution.DEFAULT_ALPHA_OK)

    def judged(look: int, power: bool = False) -> judge.Judgement:
        found = judge.judge(records["A"], records["B"], thresholds, args.judge, timing,
                            look=(look, len(looks)), counted=counted, power=power)
        failed = journal.failures(plan)
        found.lines[:0] = failures.lines(failed, dict(plan.tasks))
        if any(f.side == "A" for f in failed):  # B's seeds left out with A's still meet floors
            own = upgrade.side_record(plan, journal, "B", failures.left_out(failed)["B"])
            found.lines.extend(failures.unjudged_floors(own, records["B"], thresholds.floors))
        return found

    def read(plan: upgradeplan.Plan) -> dict[str, record.RunRecord]:
        """Return both sides' records without the units that failed (and, where the seeds
        pair, the other side's same seed: ``failures.left_out``)."""
        paired = [task for task, _ in plan.tasks if plan.paired(task)]
        away = failures.left_out(journal.failures(plan), paired)
        return {name: upgrade.side_record(plan, journal, name, away[name]) for name in sides}

    look = 1
    records = read(plan)
    found = judged(look)
    while look < len(looks) and found.exit_code() == EXIT_INCONCLUSIVE:
        undecided = [ln for ln in found.lines if ln.verdict is compare.Verdict.INCONCLUSIVE]
        grow = list(dict.fromkeys(records["B"].task_of(ln.experiment) for ln in undecided))
        look += 1
        say(f"look {look} of {len(looks)}: {len(undecided)} figure(s) undecided in "
            f"{', '.join(grow)}: {looks[look - 1]} seeds a side")
        plan = plan.grown(grow, looks[look - 1])
        upgrade.run_units(sides, plan, journal, args.jobs, note, args.scheduler, resuming=False)
        records = read(plan)
        found = judged(look)
    # The same records judged again, each figure over seeds now with its simulated power.
    return plan, records, judged(look, power=True)


def _publish(args: argparse.Namespace, payload: dict[str, Any], lines: list[Line]) -> None:
    """Write the verdict record (``--out``), JUnit XML and Markdown where asked."""
    record.write_json_atomic(args.out, payload)
    if args.junit is not None:
        sides = payload["sides"]
        verdicts.write(args.junit, verdicts.junit(lines, "prunebench.upgrade", {
            "from": sides["A"]["spec"], "to": sides["B"]["spec"], "verdict": payload["verdict"],
            "differences": "; ".join(payload["differences"]) or "none"}))
    if args.markdown is not None or os.environ.get("GITHUB_STEP_SUMMARY"):
        verdicts.publish_markdown(args.markdown, markdown(payload, lines))


def markdown(payload: dict[str, Any], lines: list[Line]) -> str:
    """Return the verdict as Markdown, fit for a pull request comment or a job summary."""
    sides = payload["sides"]
    parts = [f"## prunebench upgrade: **{payload['verdict']}**", "",
             f"A: `{sides['A']['spec']}` → B: `{sides['B']['spec']}`", "",
             "B differs from A in: " + ("; ".join(payload["differences"]) or "nothing recorded"),
             "", "| task | seeds A/B | seeds reproduce | evidence |", "|---|---|---|---|"]
    parts += [f"| {task} | {'/'.join(str(len(payload['seeds'][s].get(task, []))) for s in 'AB')} | "
              f"{'yes' if r['reproduces'] else 'no'} | {r['why']} |"
              for task, r in payload["reproduction"].items()]
    parts += ["", ", ".join(f"{n} {k}" for k, n in payload["summary"].items() if n), ""]
    parts += verdicts.markdown_lines(lines, "A", "B")
    parts += [f"- note: {text}" for text in payload["notes"]]
    return "\n".join(parts) + "\n"
