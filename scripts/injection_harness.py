"""Inject regressions of graded strength into tfmot, tf-keras and TFLite; print what the gate caught.

The injections live in scripts/inject/ (fault_catalogue.py), outside prunebench, and are switched
on by INJECT=KIND:STRENGTH with that folder on PYTHONPATH. For every kind and strength this
runs ``prunebench run`` under the injection, then judges its record through the CLI,
``prunebench check --results``, in the same-environment band and in the cross band. Clean
runs, judged the same way, count false alarms. ``--ab`` also judges the timing kinds in the
A/B mode (``prunebench ab``: side B is side A plus the injection).

    python scripts/injection_harness.py                       # every kind, 2 clean runs
    python scripts/injection_harness.py --kinds keras_work --ab --clean 0
    python scripts/injection_harness.py --neighbour ...       # a numpy matmul loop alongside
    python scripts/injection_harness.py --upgrade 2.21 2.21 --kinds schedule h5_pad
                                  # through prunebench upgrade: B injected, A clean

It prints one row per (kind, strength): the injection's measured effect on its own figure
(worst seed, against the baseline), and per band the exit status and the figures that
regressed (R) or were flagged (I: improvement, c: changed); then the smallest strength
caught per kind and the false alarms. ``--out`` keeps every row as JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
INJECT_DIR = ROOT / "scripts" / "inject"
PRUNEBENCH = [sys.executable, "-m", "prunebench.cli"]

sys.path.insert(0, str(INJECT_DIR))
from fault_catalogue import CATALOGUE  # noqa: E402  (scripts/inject: the one catalogue)

#: kind -> (the figure it acts on, strengths from weak to strong), for the graded faults of
#: the catalogue. Strengths are in the units each fault documents: a factor, a fraction,
#: bytes, a share of rows or calls.
KINDS: dict[str, tuple[str, tuple[float, ...]]] = {
    kind: (fault.figure, fault.strengths) for kind, fault in CATALOGUE.items()
    if fault.figure is not None}
TIMED = ("keras_work", "tflite_work")
LINE = re.compile(r"^(REGRESSION|IMPROVEMENT|changed)\s+(\S+)\s+value\s+(\S+)\s+baseline\s+(\S+)")
MARKS = {"REGRESSION": "R", "IMPROVEMENT": "I", "changed": "c", "INCONCLUSIVE": "?"}
TIMED_LINE = re.compile(r"^\S+\s+(\S+_time_ratio)\s+value\s+\S+\s+baseline\s+\S+\s+x([\d.]+) ")


def env_for(kind: str | None, strength: float | None) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("INJECT", None)
    if kind is not None:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(INJECT_DIR), env.get("PYTHONPATH")]))
        env["INJECT"] = f"{kind}:{strength:g}"
    return env


def run(args: argparse.Namespace, env: dict[str, str], out: Path) -> None:
    cmd = [*PRUNEBENCH, "run", "--profile", args.profile, "--seeds", *map(str, args.seeds),
           "--experiments", *args.experiments, "--out", str(out)]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=ROOT, check=False)
    if done.returncode != 0:
        sys.exit(f"prunebench run failed under {env.get('INJECT', 'no injection')}: "
                 f"{(done.stderr.strip().splitlines() or ['?'])[-1]}")


def check(record: Path, tolerance: str, baseline: Path | None) -> dict:
    """Return the exit status and the flagged lines of judging ``record`` through the CLI."""
    cmd = [*PRUNEBENCH, "check", "--results", str(record), "--tolerance", tolerance]
    if baseline is not None:
        cmd += ["--baseline", str(baseline)]
    done = subprocess.run(cmd, env=env_for(None, None), capture_output=True, text=True,
                          cwd=ROOT, check=False)
    if done.returncode not in (0, 1):
        sys.exit(f"prunebench check failed: {done.stderr.strip()}")
    flagged = [m.groups() for m in map(LINE.match, done.stdout.splitlines()) if m]
    # The timing test's own effect size: run median / baseline median of each time figure.
    timed = {m.group(1): float(m.group(2)) for m in map(TIMED_LINE.match, done.stdout.splitlines())
             if m}
    return {"exit": done.returncode, "flagged": [[v, name] for v, name, _, _ in flagged],
            "time_ratios": timed}


def effect(record: Path, metric: str, baseline: Path | None) -> str:
    """Return how much worse the injection made ``metric`` at most, any experiment and seed.

    Relative to the same seed of the baseline (sparsity: in points); 'better' when no
    experiment got worse.
    """
    from prunebench import baseline as baselines
    from prunebench import compare
    from prunebench import record as records

    rec = records.load(record)
    # The baseline `prunebench check` judges against: the version's own or the newest older.
    path = baseline or ROOT / baselines.find(records.tf_minor(rec.environment))[0]
    section = baselines.load(path)["profiles"][rec.profile]["experiments"]
    better = {c.metric: c.better for c in compare.load_thresholds().paired}.get(metric, "lower")
    sign = 1.0 if better == "lower" else -1.0
    moves = []
    for name in rec.experiment_names():
        stored = section[name]["metrics"].get(metric)
        if stored is None:
            continue
        for seed, value in rec.seed_values(name, metric).items():
            base = float(stored["values"][str(seed)])
            moves.append(sign * (value - base) / (1.0 if "sparsity" in metric else abs(base)))
    worst = max(moves, default=0.0)
    if "sparsity" in metric:
        return f"{sign * worst:+.4f}"  # value - baseline: negative is less sparse
    return f"worse {100 * worst:+.2f}%" if worst > 0 else f"better {100 * min(moves):+.2f}%"


def ab(args: argparse.Namespace, kind: str | None, strength: float | None) -> dict:
    """Return the verdict of ``prunebench ab``: side B injected, or, without a kind, A/A."""
    cmd = [*PRUNEBENCH, "ab", "--profile", args.profile, "--seeds", str(args.seeds[0]),
           "--experiments", *args.experiments, "--rounds", str(args.rounds)]
    if kind is not None:
        cmd += ["--b-env", f"PYTHONPATH={INJECT_DIR}", "--b-env", f"INJECT={kind}:{strength:g}"]
    done = subprocess.run(cmd, env=env_for(None, None), capture_output=True, text=True, cwd=ROOT,
                          check=False)
    lines = [ln for ln in done.stdout.splitlines() if "_time_ratio" in ln]
    regressed = [ln.split()[1] for ln in lines if ln.startswith("REGRESSION")]
    ratios = [float(m.group(1)) for ln in lines if (m := re.search(r"B/A x([\d.]+)", ln))]
    return {"exit": done.returncode, "regressed": regressed, "max_b_over_a": max(ratios or [0]),
            "min_b_over_a": min(ratios or [0])}


def upgrade(args: argparse.Namespace, kind: str | None, strength: float | None, tmp: Path) -> dict:
    """Return the verdict of ``prunebench upgrade``: B injected through its own variables."""
    # Each verdict is kept beside --out (both sides' records, every line), else dropped with tmp.
    name = f"upgrade-{kind}-{strength}.json"
    out = tmp / name if args.out is None else args.out.resolve().with_name(f"{args.out.stem}-{name}")
    cmd = [*PRUNEBENCH, "upgrade", "--from", args.upgrade[0], "--to", args.upgrade[1],
           "--profile", args.profile, "--seeds", *map(str, args.seeds), "--experiments",
           *args.experiments, "--rounds", str(args.rounds if kind in TIMED or kind is None else 0),
           "--start", args.start, "--out", str(out)]
    if args.envs is not None:
        cmd += ["--envs", str(args.envs)]
    if kind is not None:
        cmd += ["--b-env", f"PYTHONPATH={INJECT_DIR}", "--b-env", f"INJECT={kind}:{strength:g}"]
    done = subprocess.run(cmd, env=env_for(None, None), capture_output=True, text=True, cwd=tmp,
                          check=False)
    if done.returncode not in (0, 1, 4):
        sys.exit(f"prunebench upgrade failed: {(done.stderr.strip().splitlines() or ['?'])[-1]}")
    verdict = json.loads(out.read_text())
    flagged = [[ln["verdict"], f"{ln['experiment']}.{ln['metric']}"] for ln in verdict["lines"]
               if ln["verdict"] in ("REGRESSION", "INCONCLUSIVE", "IMPROVEMENT", "changed")]
    metric = KINDS[kind][0] if kind else "mse"
    return {"exit": done.returncode, "flagged": flagged,
            "reproduces": {t: r["reproduces"] for t, r in verdict["reproduction"].items()},
            "effect": upgrade_effect(verdict, metric),
            # How each figure was judged (its floor line, e.g. "3x unpruned", left aside).
            "bars": {f"{ln['experiment']}.{ln['metric']}": ln["limit"] for ln in verdict["lines"]
                     if ln["metric"] in (metric, "loss") and "floor" not in ln["limit"]}}


def upgrade_effect(verdict: dict, metric: str) -> dict[str, str]:
    """Return per experiment the injection's largest move of ``metric``, B against A's same
    seed (sparsity in points, other figures in %); a classifier's loss stands in for MSE."""
    a, b = ({(r["experiment"], r["seed"]): r["metrics"] for r in
             verdict["sides"][side]["record"]["results"]} for side in ("A", "B"))
    moves: dict[str, list[float]] = {}
    for (name, seed), mb in b.items():
        ma = a.get((name, seed), {})
        figure = metric if metric in mb else ("loss" if metric == "mse" else None)
        if figure is None or figure not in ma:
            continue
        if "sparsity" in figure:
            moves.setdefault(f"{name}.{figure}", []).append(100 * (mb[figure] - ma[figure]))
        else:
            moves.setdefault(f"{name}.{figure}", []).append(100 * (mb[figure] / ma[figure] - 1))
    unit = {True: " points", False: "%"}
    return {name: f"{min(v):+.3g}..{max(v):+.3g}{unit['sparsity' in name]}"
            for name, v in moves.items()}


def marks(judged: dict) -> str:
    shown = [f"{MARKS[v]}:{name}" for v, name in judged["flagged"]]
    return f"exit {judged['exit']} {' '.join(shown) or '-'}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kinds", nargs="+", choices=sorted(KINDS), default=list(KINDS))
    parser.add_argument("--experiments", nargs="+", default=["canonical"])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0])
    parser.add_argument("--profile", default="quick")
    parser.add_argument("--baseline", type=Path, help="default: the installed TF's")
    parser.add_argument("--strengths", nargs="+", type=float,
                        help="these strengths for every kind chosen (default: each kind's own)")
    parser.add_argument("--clean", type=int, default=2, help="clean runs for false alarms")
    parser.add_argument("--ab", action="store_true", help="also A/B the timing kinds")
    parser.add_argument("--ab-only", action="store_true", help="only A/B the timing kinds")
    parser.add_argument("--rounds", type=int, default=8, help="A/B processes per side")
    parser.add_argument("--neighbour", action="store_true",
                        help="keep a numpy matmul loop busy on another core meanwhile")
    parser.add_argument("--upgrade", nargs=2, metavar=("FROM", "TO"),
                        help="judge with prunebench upgrade instead: side B (TO) injected "
                             "through --b-env, side A (FROM) clean; specs as upgrade takes them")
    parser.add_argument("--start", choices=("scratch", "shared"), default="scratch",
                        help="--upgrade: each side trains, or B starts from A's models")
    parser.add_argument("--envs", type=Path, help="--upgrade: where environments are built")
    parser.add_argument("--out", type=Path, help="write every row as JSON")
    args = parser.parse_args()
    neighbour = None
    if args.neighbour:
        loop = "import numpy as np\na = np.random.rand(1500, 1500)\nwhile True: a @ a"
        neighbour = subprocess.Popen([sys.executable, "-c", loop],
                                     env={**os.environ, "OPENBLAS_NUM_THREADS": "1"})
    rows = []
    try:
        with tempfile.TemporaryDirectory(prefix="prunebench-inject-") as tmp:
            plan = [(None, None)] * args.clean + [
                (kind, s) for kind in args.kinds for s in (args.strengths or KINDS[kind][1])]
            for number, (kind, strength) in enumerate(plan):
                label = "clean" if kind is None else f"{kind}:{strength:g}"
                row: dict = {"kind": kind or "clean", "strength": strength}
                if args.upgrade:
                    row["upgrade"] = upgrade(args, kind, strength, Path(tmp))
                    print(f"{label:<22} upgrade {args.upgrade[0]} -> {args.upgrade[1]}: "
                          f"{marks(row['upgrade'])} (seeds reproduce: "
                          f"{row['upgrade']['reproduces']})", flush=True)
                    for name, moved in row["upgrade"]["effect"].items():
                        print(f"{'':<22}   {name} B/A by seed {moved}; judged: "
                              f"{row['upgrade']['bars'].get(name, '-')}", flush=True)
                elif not args.ab_only:
                    record = Path(tmp) / f"{number}.json"
                    run(args, env_for(kind, strength), record)
                    metric = KINDS[kind][0] if kind else "mse"
                    row["effect"] = f"{metric} {effect(record, metric, args.baseline)}"
                    row["same"] = check(record, "same", args.baseline)
                    row["cross"] = check(record, "cross", args.baseline)
                    if kind in TIMED:  # what the test saw: medians of the pooled samples
                        ratios = {k: v for k, v in row["same"]["time_ratios"].items()
                                  if k.endswith(metric)}
                        row["effect"] = (f"{metric} x{min(ratios.values()):.2f}-"
                                         f"x{max(ratios.values()):.2f}") if ratios else row["effect"]
                    print(f"{label:<22} {row['effect']:<30} same: {marks(row['same'])} | "
                          f"cross: {marks(row['cross'])}", flush=True)
                if (args.ab or args.ab_only) and (kind in TIMED or kind is None):
                    row["ab"] = ab(args, kind, strength)
                    print(f"{label:<22} A/B B/A x{row['ab']['min_b_over_a']:.3f}-"
                          f"x{row['ab']['max_b_over_a']:.3f}: exit "
                          f"{row['ab']['exit']} {' '.join(row['ab']['regressed']) or '-'}",
                          flush=True)
                rows.append(row)
    finally:
        if neighbour is not None:
            neighbour.kill()
    summarise(rows)
    if args.out is not None:
        tmp_out = args.out.with_name(f".{args.out.name}.tmp")
        tmp_out.write_text(json.dumps(rows, indent=1))
        tmp_out.replace(args.out)
    return 0


def summarise(rows: list[dict]) -> None:
    """Print the smallest strength caught per kind and band, and the clean runs' false alarms."""
    for band in ("same", "cross", "ab", "upgrade"):
        for kind in dict.fromkeys(r["kind"] for r in rows if r["kind"] != "clean"):
            caught = [r for r in rows if r["kind"] == kind and band in r and r[band]["exit"] == 1]
            if any(band in r for r in rows if r["kind"] == kind):
                said = {"ab": "A/B", "upgrade": "upgrade"}.get(band, "")
                first = (f"{caught[0]['strength']:g} ({caught[0].get('effect', said)})"
                         if caught else "not caught")
                print(f"smallest caught, {band:<5} {kind:<12} {first}")
    clean = [r for r in rows if r["kind"] == "clean"]
    for band in ("same", "cross", "ab", "upgrade"):
        judged = [r for r in clean if band in r]
        if judged:
            alarms = sum(r[band]["exit"] != 0 for r in judged)
            print(f"false alarms, {band:<5} {alarms} in {len(judged)} clean runs")


if __name__ == "__main__":
    sys.exit(main())
