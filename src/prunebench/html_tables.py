"""The HTML report's tables: figures per experiment, verdicts, environments, side by side.

Labels and formats come from the figure registry (``prunebench.figures``).
"""

from __future__ import annotations

import html
from collections.abc import Sequence

import numpy as np

from prunebench import compare, figures, gate
from prunebench.plots import Experiment
from prunebench.record import RunRecord

VERDICT_COLOURS = {"ok": "#d9f2d9", "improvement": "#d6e9ff", "regression": "#f8d0d0",
                   "no baseline": "#eeeeee"}

#: The figures the report's tables show, in order.
TABLE_METRICS = (
    "target_sparsity", "sparsity_pruned", "mse", "mse_vs_unpruned", "keras_zip_bytes",
    "tflite_int8_zip_bytes", "tflite_int8_sparsity", "tflite_int8_mse", "keras_ms", "tflite_ms",
    "tflite_int8_ms", "accuracy", "accuracy_vs_unpruned", "loss", "tflite_int8_accuracy",
    "tflite_sparse_tensors", "tflite_densify_ops", "sparse_speedup",
)


def fmt(value: float, metric: str) -> str:
    """Return a figure as the page shows it: '-' for none, counts and bytes whole."""
    if np.isnan(value):
        return "-"
    if figures.UNITS.get(metric) in ("bytes", "count"):
        return f"{value:,.0f}"
    return f"{value:.4g}"


def _label(metric: str) -> str:
    return html.escape(figures.get(metric).label)


def figures_table(found: Sequence[Experiment]) -> str:
    head = "".join(f"<th>{_label(metric)}</th>" for metric in TABLE_METRICS)
    rows = []
    for exp in found:
        cells = []
        for metric in TABLE_METRICS:
            med = exp.median(metric)
            low, high = exp.span(metric)
            tip = f"seeds: {fmt(low, metric)} - {fmt(high, metric)}"
            cells.append(f'<td title="{html.escape(tip)}">{fmt(med, metric)}</td>')
        seeds = len(exp.per_seed)
        rows.append(f"<tr><td>{html.escape(exp.name)}</td><td>{html.escape(exp.family)}</td>"
                    f"<td>{seeds}</td>{''.join(cells)}</tr>")
    return (f"<table><tr><th>experiment</th><th>family</th><th>seeds</th>{head}</tr>"
            f"{''.join(rows)}</table>")


def verdict_table(lines: Sequence[compare.Line], found: Sequence[Experiment]) -> str:
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


def environment_table(records: Sequence[RunRecord]) -> str:
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


def side_by_side_table(columns: Sequence[tuple[str, RunRecord, list[Experiment]]]) -> str:
    """Return experiment x metric rows, a column per group, worse/better against the one before.

    Against the column to its left, each figure is judged in the gate's band for the two
    environments: 'same' where TensorFlow, the packages and the CPU type agree (two runs
    of one stack: a regression injected into one shows), 'cross' otherwise.
    """
    checks = {c.metric: c for c in compare.load_thresholds().paired}
    head = "".join(f"<th>{html.escape(label)}</th>" for label, _, _ in columns)
    names = list(dict.fromkeys(exp.name for _, _, found in columns for exp in found))
    rows = []
    for name in names:
        for metric in TABLE_METRICS:
            cells: list[str] = []
            previous: tuple[float, RunRecord] | None = None
            for _, merged, found in columns:
                exp = next((e for e in found if e.name == name), None)
                value = exp.median(metric) if exp is not None else float("nan")
                verdict = None
                if metric in checks and previous is not None and not np.isnan(value):
                    before, left = previous
                    band = "cross" if gate.environment_differences(
                        merged.environment, left.environment) else "same"
                    verdict = checks[metric].verdict(before, value, band, name).value.lower()
                mark = {"regression": " worse", "improvement": " better"}.get(verdict or "", "")
                colour = VERDICT_COLOURS.get(verdict or "", "#fff") if mark else "#fff"
                cells.append(f'<td style="background:{colour}">{fmt(value, metric)}{mark}</td>')
                previous = None if np.isnan(value) else (value, merged)
            if any(">-<" not in c for c in cells):
                rows.append(f"<tr><td>{html.escape(name)}</td><td>{_label(metric)}</td>"
                            f"{''.join(cells)}</tr>")
    return (f"<table><tr><th>experiment</th><th>metric</th>{head}</tr>{''.join(rows)}</table>")
