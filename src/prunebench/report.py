"""Tables for people: experiments x metrics, median and spread over seeds."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rich.table import Table

from prunebench.record import RunRecord


@dataclass(frozen=True)
class Column:
    """One metric column: its key in the record, header, and number format."""

    metric: str
    header: str
    fmt: str


COLUMNS: tuple[Column, ...] = (
    Column("mse", "test MSE", ".4f"),
    Column("mse_vs_unpruned", "MSE vs unpruned", ".2f"),
    Column("mae", "test MAE", ".4f"),
    Column("sparsity_pruned", "sparsity of pruned layers / target", ".4f"),
    Column("sparsity_all", "sparsity all weights", ".4f"),
    Column("nonzero_params", "non-zero / params", ",.0f"),
    Column("keras_zip_bytes", "HDF5 zip bytes", ",.0f"),
    Column("tflite_zip_bytes", "TFLite zip bytes", ",.0f"),
    Column("keras_ms", "Keras ms", ".3f"),
    Column("tflite_ms", "TFLite ms", ".3f"),
    Column("keras_time_ratio", "Keras / ref", ".2f"),
    Column("epochs_run", "epochs", ".0f"),
    Column("train_s", "train s", ".1f"),
)


def _cell(stats: dict[str, float], fmt: str) -> str:
    """Return 'median' or 'median ±h%', h being half the range over seeds, relative."""
    median = format(stats["median"], fmt)
    if stats["n"] < 2 or stats["min"] == stats["max"]:
        return median
    return f"{median} ±{50 * stats['rel_range']:.0f}%"


def results_table(record: RunRecord, columns: Sequence[Column] = COLUMNS) -> Table:
    """Return a rich Table: one row per experiment, median [min, max] over seeds per metric."""
    seeds = ", ".join(str(s) for s in record.seeds)
    env = record.environment
    table = Table(
        title=f"prunebench {record.profile} profile, seeds {seeds}",
        caption=f"TF {env.get('tf')} · {env.get('keras')} · "
                f"tfmot {env.get('packages', {}).get('tensorflow-model-optimization')} · "
                "median ±half-range over seeds",
    )
    table.add_column("experiment", style="bold")
    for column in columns:
        table.add_column(column.header, justify="right")
    aggregate = record.aggregate()
    for name, metrics in aggregate.items():
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


def markdown_table(record: RunRecord, metrics: Sequence[str]) -> str:
    """Return a Markdown table of per-seed values of ``metrics``, one row per experiment."""
    header = "| experiment | " + " | ".join(metrics) + " |"
    lines = [header, "|" + "---|" * (len(metrics) + 1)]
    for name in record.experiment_names():
        cells = [", ".join(f"{v:.4g}" for v in record.values(name, m)) for m in metrics]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)
