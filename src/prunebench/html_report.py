"""``prunebench report``: one static HTML page and its PNG plots (``plots``) from results records.

Tables: every experiment's figures, the gate's verdicts where a baseline exists, the
environment; several TF versions side by side, each in its own section. No scripts:
nothing to go wrong in a browser.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from prunebench import baseline, compare, gate
from prunebench.errors import UsageError
from prunebench.metrics import UNITS
from prunebench.plots import (
    Experiment,
    merge,
    pareto_front,
    plot_inference,
    plot_mse_vs_sparsity,
    plot_pareto,
    plot_sizes,
    plot_sparse_speed,
    plot_task_quality,
    pool,
)
from prunebench.record import DEFAULT_TASK, RunRecord, tf_minor, write_json_atomic

__all__ = ["PLOTS", "VERDICT_COLOURS", "pareto_front", "write"]

PAGE = "index.html"
VERDICT_COLOURS = {"ok": "#d9f2d9", "improvement": "#d6e9ff", "regression": "#f8d0d0",
                   "no baseline": "#eeeeee"}


def verdicts(records: Sequence[RunRecord], baseline_path: Path | None,
             ) -> tuple[list[compare.Line], str]:
    """Return the gate's lines for experiments the baselines know, and a note on where from.

    Each task is judged against its own baseline (``baseline_path``, when given, for all).
    """
    from prunebench import tasks

    minors = sorted({tf_minor(rec.environment) for rec in records})
    if len(minors) != 1:
        return [], f"records from TF {', '.join(minors)}: no single baseline to judge against"
    merged = merge(records)
    lines: list[compare.Line] = []
    said = []
    for task in merged.tasks():
        part = merged.of_task(task)
        try:
            path, why = ((baseline_path, "given") if baseline_path else
                         baseline.find(minors[0], task=tasks.get(task)))
            document = baseline.load(path)
            judged = gate.gate(part, document, path, compare.load_thresholds(),
                               known_only=True, other_tf=why != baseline.OWN_VERSION)
        except UsageError as exc:
            said.append(f"{task} not judged: {exc}")
            continue
        lines.extend(judged.lines)
        notes = "; ".join(judged.notes)
        said.append(f"{task} judged against {path} ({why}), {judged.regime} band"
                    f"{'; ' + notes if notes else ''}")
    return lines, "; ".join(said) + "; with the packaged thresholds"


def _finite(value: float) -> float | None:
    return None if np.isnan(value) else value


def _fmt(value: float, metric: str) -> str:
    if np.isnan(value):
        return "-"
    if UNITS.get(metric) in ("bytes", "count"):
        return f"{value:,.0f}"
    return f"{value:.4g}"


TABLE_METRICS = (
    ("target_sparsity", "target"), ("sparsity_pruned", "sparsity"), ("mse", "MSE"),
    ("mse_vs_unpruned", "MSE / unpruned"), ("keras_zip_bytes", "HDF5 zip B"),
    ("tflite_int8_zip_bytes", "int8 zip B"), ("tflite_int8_sparsity", "int8 sparsity"),
    ("tflite_int8_mse", "int8 MSE"), ("keras_ms", "Keras ms"), ("tflite_ms", "TFLite ms"),
    ("tflite_int8_ms", "int8 ms"), ("accuracy", "accuracy"),
    ("accuracy_vs_unpruned", "accuracy / unpruned"), ("loss", "loss"),
    ("tflite_int8_accuracy", "int8 accuracy"), ("tflite_sparse_tensors", "sparse tensors"),
    ("tflite_densify_ops", "DENSIFY ops"), ("sparse_speedup", "sparse speed-up"),
)


def _figures_table(found: Sequence[Experiment]) -> str:
    head = "".join(f"<th>{html.escape(label)}</th>" for _, label in TABLE_METRICS)
    rows = []
    for exp in found:
        cells = []
        for metric, _ in TABLE_METRICS:
            med = exp.median(metric)
            low, high = exp.span(metric)
            tip = f"seeds: {_fmt(low, metric)} - {_fmt(high, metric)}"
            cells.append(f'<td title="{html.escape(tip)}">{_fmt(med, metric)}</td>')
        seeds = len(exp.per_seed)
        rows.append(f"<tr><td>{html.escape(exp.name)}</td><td>{html.escape(exp.family)}</td>"
                    f"<td>{seeds}</td>{''.join(cells)}</tr>")
    return (f"<table><tr><th>experiment</th><th>family</th><th>seeds</th>{head}</tr>"
            f"{''.join(rows)}</table>")


def _verdict_table(lines: Sequence[compare.Line], found: Sequence[Experiment]) -> str:
    judged = {line.experiment for line in lines}
    rows = [(line.verdict.value, line.experiment, line.metric, f"{line.value:.6g}",
             "-" if line.baseline is None else f"{line.baseline:.6g}", line.limit)
            for line in lines]
    rows += [("no baseline", exp.name, "-", "-", "-", "-") for exp in found
             if exp.name not in judged]
    body = "".join(
        f'<tr style="background:{VERDICT_COLOURS.get(row[0].lower(), "#fff")}">'
        + "".join(f"<td>{html.escape(cell)}</td>" for cell in row) + "</tr>"
        for row in rows)
    return ("<table><tr><th>verdict</th><th>experiment</th><th>metric</th><th>value</th>"
            f"<th>baseline median</th><th>limit</th></tr>{body}</table>")


def _environment_table(records: Sequence[RunRecord]) -> str:
    rows = []
    for rec in records:
        env = rec.environment
        packages = ", ".join(f"{k} {v}" for k, v in env.get("packages", {}).items() if v)
        rows.append("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in (
            rec.created, rec.profile, " ".join(map(str, rec.seeds)), env.get("python"),
            packages, env.get("keras"), f"{env.get('cpu')} ({env.get('cores')} cores)",
            env.get("git_sha") or "-")) + "</tr>")
    return ("<table><tr><th>created</th><th>profile</th><th>seeds</th><th>python</th>"
            "<th>packages</th><th>keras</th><th>cpu</th><th>git sha</th></tr>"
            f"{''.join(rows)}</table>")


CSS = """
body { font-family: system-ui, sans-serif; margin: 2em; color: #222; max-width: 1300px; }
table { border-collapse: collapse; font-size: 13px; margin: 0.5em 0 1.5em; }
th, td { border: 1px solid #ccc; padding: 3px 7px; text-align: right; }
th { background: #f3f3f3; } td:first-child, td:nth-child(2) { text-align: left; }
img { max-width: 100%; border: 1px solid #ddd; margin: 0.5em 0 1.5em; }
.note { color: #555; font-size: 13px; }
"""

PLOTS = (
    ("mse_vs_sparsity.png", "MSE against sparsity", plot_mse_vs_sparsity,
     "Median test MSE over seeds (bars: min to max) against the sparsity the pruned layers "
     "reached; the grey line and band are the unpruned model's median and range."),
    ("pareto.png", "MSE against zipped size", plot_pareto,
     "Each point an experiment (median over seeds); the green steps are the Pareto front: "
     "no other experiment is both smaller and more accurate."),
    ("sizes.png", "Size breakdown", plot_sizes,
     "Zipped bytes: saved with tfmot's wrappers, stripped, converted to TFLite, and int8 "
     "(post-training dynamic range; PQAT experiments: the quantization-aware model)."),
    ("inference.png", "Inference time", plot_inference,
     "One pass over the test set on one thread; on a dense CPU kernel zeros cost as much "
     "as any weight, so sparsity alone does not make inference faster."),
)


def by_version(records: Sequence[RunRecord]) -> list[tuple[str, list[RunRecord]]]:
    """Return the records grouped by their exact TF version, oldest first: never pooled across."""
    from prunebench.matrix import version_key

    profiles = sorted({rec.profile for rec in records})
    if len(profiles) != 1:
        raise UsageError(f"records from different profiles ({', '.join(profiles)}) do not "
                         "belong on one page")
    groups: dict[str, list[RunRecord]] = {}
    for rec in records:
        groups.setdefault(str(rec.environment.get("tf")), []).append(rec)
    return sorted(groups.items(), key=lambda item: version_key(item[1][0]))


def _only_seeds(rec: RunRecord, seeds: Sequence[int]) -> RunRecord:
    """Return ``rec`` with the results of ``seeds`` only."""
    kept = [r for r in rec.results if r["seed"] in seeds]
    return RunRecord(profile=rec.profile, seeds=[s for s in rec.seeds if s in seeds],
                     experiments=rec.experiments, results=kept, environment=rec.environment)


def _versions_table(groups: Sequence[tuple[str, list[Experiment]]]) -> str:
    """Return experiment x metric rows, a column per version, worse/better against the one before."""
    checks = {c.metric: c for c in compare.load_thresholds().paired}
    head = "".join(f"<th>TF {html.escape(version)}</th>" for version, _ in groups)
    names = list(dict.fromkeys(exp.name for _, found in groups for exp in found))
    rows = []
    for name in names:
        for metric, label in TABLE_METRICS:
            cells, previous = [], None
            for _, found in groups:
                exp = next((e for e in found if e.name == name), None)
                value = exp.median(metric) if exp is not None else float("nan")
                verdict = None
                if metric in checks and previous is not None and not np.isnan(value):
                    verdict = checks[metric].verdict(previous, value, "cross", name).value.lower()
                mark = {"regression": " worse", "improvement": " better"}.get(verdict or "", "")
                colour = VERDICT_COLOURS.get(verdict or "", "#fff") if mark else "#fff"
                cells.append(f'<td style="background:{colour}">{_fmt(value, metric)}{mark}</td>')
                previous = None if np.isnan(value) else value
            if any(">-<" not in c for c in cells):
                rows.append(f"<tr><td>{html.escape(name)}</td><td>{html.escape(label)}</td>"
                            f"{''.join(cells)}</tr>")
    return (f"<table><tr><th>experiment</th><th>metric</th>{head}</tr>{''.join(rows)}</table>")


def _figure(prefix: str, filename: str, title: str, caption: str) -> str:
    return (f"<h3>{html.escape(title)}</h3><p class='note'>{html.escape(caption)}"
            f"</p><img src='{prefix}{filename}' alt='{html.escape(title)}'>")


def _task_plots(found: Sequence[Experiment], out_dir: Path, prefix: str) -> list[str]:
    """Return the plots of a record's experiments, the seed's task's and each zoo task's."""
    by_task: dict[str, list[Experiment]] = {}
    for exp in found:
        by_task.setdefault(exp.config.task, []).append(exp)
    plots = []
    for task, members in by_task.items():
        if task == DEFAULT_TASK:
            for filename, title, plot, caption in PLOTS:
                plot(members, out_dir / f"{prefix}{filename}")
                plots.append(_figure(prefix, filename, title, caption))
            continue
        quality = "accuracy" if any(e.values("accuracy").size for e in members) else "mse"
        filename = f"{task}-{quality}.png"
        plot_task_quality(members, out_dir / f"{prefix}{filename}", quality)
        plots.append(_figure(prefix, filename, f"{task}: {quality} against sparsity",
                             f"Each experiment of task {task} (median over seeds, bars: min to "
                             "max); sparsity over the weights the task declares prunable."))
        if any(e.values("sparse_speedup").size for e in members):
            filename = f"{task}-sparse.png"
            plot_sparse_speed(members, out_dir / f"{prefix}{filename}")
            plots.append(_figure(prefix, filename, f"{task}: sparse inference",
                                 "The EXPERIMENTAL_SPARSITY flatbuffer against the dense one, "
                                 "timed in the same interleaved blocks, with the default XNNPACK "
                                 "delegate and on TFLite's built-in kernels only."))
    return plots


def _version_section(version: str, records: Sequence[RunRecord], found: Sequence[Experiment],
                     out_dir: Path, prefix: str, baseline_path: Path | None) -> str:
    plots = _task_plots(found, out_dir, prefix)
    lines, judged = verdicts(records, baseline_path)
    seeds = sorted({s for rec in records for s in rec.seeds})
    return f"""<h2>TF {html.escape(version)}</h2>
<p>{len(found)} experiments, seeds {html.escape(' '.join(map(str, seeds)))}, from
{len(records)} record(s); seeds are pooled within this version only.</p>
<h3>Figures</h3><p class="note">Medians over seeds; hover a cell for the seed range.</p>
{_figures_table(found)}
{''.join(plots)}
<h3>Gate</h3><p class="note">{html.escape(judged)}</p>
{_verdict_table(lines, found)}
<h3>Environment</h3>{_environment_table(records)}
"""


def write(records: Sequence[RunRecord], out_dir: Path, baseline_path: Path | None = None) -> Path:
    """Write index.html and its PNGs to ``out_dir``; return the page's path.

    Records of several TF versions get a side-by-side table and a section each: their
    seeds are never pooled across versions.
    """
    groups = [(version, recs, pool(recs)) for version, recs in by_version(records)]
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"cannot write the report to {out_dir}: {exc.strerror or exc}") from None
    several = len(groups) > 1
    sections = [_version_section(version, recs, found, out_dir,
                                 f"tf{version}-" if several else "", baseline_path)
                for version, recs, found in groups]
    side_by_side = ""
    if several:
        # Medians of different seed sets differ by the seeds alone: compare the shared ones.
        common = sorted(set.intersection(*({s for rec in recs for s in rec.seeds}
                                           for _, recs, _ in groups)))
        if not common:
            raise UsageError("the TF versions share no seed: their figures do not compare")
        shared = [(version, pool([_only_seeds(rec, common) for rec in recs]))
                  for version, recs, _ in groups]
        side_by_side = ("<h2>Versions side by side</h2><p class='note'>Medians over the seeds "
                        f"every version has ({html.escape(' '.join(map(str, common)))}); "
                        "worse/better: beyond the gate's cross-version band against the "
                        f"version to the left.</p>{_versions_table(shared)}")
    versions = ", ".join(f"TF {version}" for version, _, _ in groups)
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>prunebench report</title>
<style>{CSS}</style></head><body>
<h1>prunebench report</h1>
<p>Profile {html.escape(records[0].profile)}, {html.escape(versions)}, from {len(records)}
record(s).</p>
{side_by_side}
{''.join(sections)}
</body></html>
"""
    path = out_dir / PAGE
    tmp = path.with_suffix(".html.tmp")
    tmp.write_text(page)
    tmp.replace(path)
    write_json_atomic(out_dir / "summary.json", {version: {
        exp.name: {"family": exp.family, "seeds": len(exp.per_seed),
                   **{m: _finite(exp.median(m)) for m, _ in TABLE_METRICS}} for exp in found}
        for version, _, found in groups})
    return path
