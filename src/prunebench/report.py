"""Tables for people: experiments x metrics, median and spread over seeds."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rich.console import Group
from rich.table import Table
from rich.text import Text

from prunebench import compare, figures
from prunebench.record import RunRecord


@dataclass(frozen=True)
class Column:
    """One metric column: its key in the record, header, and number format."""

    metric: str
    header: str
    fmt: str


def column(metric: str, header: str | None = None) -> Column:
    """Return the column of a figure, labelled and formatted as the figure registry says
    (``header`` where one table names it otherwise)."""
    figure = figures.get(metric)
    return Column(metric, header or figure.label, figure.fmt)


#: The results table in two parts, each fitting a 120-column terminal with every cell whole:
#: what the model is (quality, sparsity), then what it costs (size, time, training).
_SPARSITY = (column("sparsity_pruned", "sparsity of pruned layers / target"),
             *map(column, ("sparsity_all", "nonzero_params")))
COLUMNS: tuple[Column, ...] = (*map(column, ("mse", "mse_vs_unpruned", "mae")), *_SPARSITY)
#: The quality columns of classification tasks (the digits zoo), in place of MSE's.
CLASSIFICATION_COLUMNS: tuple[Column, ...] = (
    *map(column, ("accuracy", "accuracy_vs_unpruned", "loss")), *_SPARSITY)
#: Block-sparse experiments: the EXPERIMENTAL_SPARSITY flatbuffer against the dense one,
#: timed in the same interleaved blocks.
SPARSE_COLUMNS: tuple[Column, ...] = (
    *map(column, ("tflite_sparse_tensors", "tflite_densify_ops", "tflite_sparse_bytes")),
    column("tflite_ms", "dense XNNPACK ms"),
    *map(column, ("tflite_sparse_ms", "sparse_speedup", "tflite_builtin_ms",
                  "sparse_speedup_builtin")),
)
COST_COLUMNS: tuple[Column, ...] = tuple(map(column, (
    "keras_zip_bytes", "tflite_zip_bytes", "tflite_int8_zip_bytes", "keras_ms", "tflite_ms",
    "keras_time_ratio", "epochs_run", "train_s")))


def _cell(stats: dict[str, float], fmt: str) -> str:
    """Return 'median' or 'median ±h%', h being half the range over seeds, relative."""
    median = format(stats["median"], fmt)
    if stats["n"] < 2 or stats["min"] == stats["max"]:
        return median
    return f"{median} ±{50 * stats['rel_range']:.0f}%"


def results_table(record: RunRecord) -> Group:
    """Return the results as tables, quality (per kind of task), cost, sparse inference.

    Each cell is the median ±half-range over seeds.
    """
    seeds = ", ".join(str(s) for s in record.seeds)
    env = record.environment
    aggregate = record.aggregate()
    regression = [n for n, m in aggregate.items() if "accuracy" not in m]
    classification = [n for n, m in aggregate.items() if "accuracy" in m]
    sparse = [n for n, m in aggregate.items() if "sparse_speedup" in m]
    title = f"prunebench {record.profile} profile, seeds {seeds}"
    tables = [metrics_table(record, columns, title=title if not i else None, names=names)
              for i, (columns, names) in enumerate(
                  (c, n) for c, n in ((COLUMNS, regression),
                                      (CLASSIFICATION_COLUMNS, classification)) if n)]
    if sparse:
        tables.append(metrics_table(record, SPARSE_COLUMNS, names=sparse))
    tables.append(metrics_table(record, COST_COLUMNS, caption=(
        f"TF {env.get('tf')} · {env.get('keras')} · "
        f"tfmot {env.get('packages', {}).get('tensorflow-model-optimization')} · "
        "median ±half-range over seeds")))
    refused = [Text(f"refused by tfmot, not run: {name}: {why}") for name, why
               in record.refused.items()]
    return Group(*tables, *refused)


def metrics_table(record: RunRecord, columns: Sequence[Column], title: str | None = None,
                  caption: str | None = None, names: Sequence[str] | None = None) -> Table:
    """Return a rich Table: one row per experiment (of ``names``, default all), median
    ±half-range over seeds per metric."""
    table = Table(title=title, caption=caption)
    table.add_column("experiment", style="bold", no_wrap=True)
    for column in columns:
        table.add_column(column.header, justify="right", overflow="fold")
    aggregate = record.aggregate()
    for name, metrics in aggregate.items():
        if names is not None and name not in names:
            continue
        nonzero = metrics.get("nonzero_params")
        cells = []
        for column in columns:
            if column.metric not in metrics:
                cells.append("-")
            elif column.metric == "nonzero_params" and nonzero:
                cells.append(f"{nonzero['median']:,.0f} / {metrics['params']['median']:,.0f}")
            elif column.metric == "sparsity_pruned":
                target = metrics["target_sparsity"]["median"]
                cells.append(f"{_cell(metrics[column.metric], column.fmt)} / {target:g}")
            else:
                cells.append(_cell(metrics[column.metric], column.fmt))
        table.add_row(name, *cells)
    return table


#: Metrics the TF-version matrix shows, in order.
MATRIX_METRICS = ("mse", "mse_vs_unpruned", "accuracy", "loss", "sparsity_pruned",
                  "keras_zip_bytes", "tflite_zip_bytes", "tflite_sparse_tensors",
                  "tflite_densify_ops", "sparse_speedup", "keras_time_ratio",
                  "tflite_time_ratio", "keras_ms", "train_s", "epochs_run")


def matrix_table(records: Sequence[RunRecord], thresholds: compare.Thresholds) -> Table:
    """Return experiment x metric rows, one column per TF version, changes flagged.

    A change of the median from one version to the next is flagged where the gate's
    cross-version band (time ratios: its margin) would call it a regression (red, 'worse')
    or an improvement (green, 'better').
    """
    ordered = list(records)  # in the caller's order: matrix.ordered() sorts by version
    profiles = {rec.profile for rec in ordered}
    checks = {c.metric: c for c in thresholds.paired}
    margins = {c.metric: c.margin for c in thresholds.timing}
    table = Table(title=f"prunebench across TensorFlow versions ({', '.join(sorted(profiles))} "
                        "profile, median over seeds)",
                  caption="worse/better: beyond the gate's cross-version band around the "
                          "previous version")
    table.add_column("experiment", style="bold", no_wrap=True)
    table.add_column("metric")
    for rec in ordered:
        env = rec.environment
        table.add_column(f"TF {env.get('tf')}\n{env.get('keras', '').split(' ')[0]}",
                         justify="right")
    aggregates = [rec.aggregate() for rec in ordered]
    names = list(dict.fromkeys(n for agg in aggregates for n in agg))
    for name in names:
        for metric in MATRIX_METRICS:
            cells, previous = [], None
            for agg in aggregates:
                stats = agg.get(name, {}).get(metric)
                if stats is None:
                    cells.append("-")
                    previous = None
                    continue
                text = f"{stats['median']:.4g}"
                verdict = None
                if previous is not None and metric in checks:
                    verdict = checks[metric].verdict(previous["median"], stats["median"], "cross",
                                                      name)
                elif previous is not None and metric in margins:
                    change = stats["median"] / previous["median"]
                    verdict = (compare.Verdict.REGRESSION if change > margins[metric] else
                               compare.Verdict.IMPROVEMENT if change < 1 / margins[metric] else None)
                if verdict is not None:
                    if verdict is compare.Verdict.REGRESSION:
                        text = f"[red]{text} worse[/red]"
                    elif verdict is compare.Verdict.IMPROVEMENT:
                        text = f"[green]{text} better[/green]"
                cells.append(text)
                previous = stats
            if any(c != "-" for c in cells):
                table.add_row(name, metric, *cells)
        table.add_section()
    return table
