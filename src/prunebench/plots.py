"""The report's plots: figures of experiments pooled over seeds, drawn with matplotlib's object API.

MSE against achieved sparsity per experiment family (median, seed range as bars), MSE
against zipped size with the Pareto front (float HDF5 and TFLite int8), the size breakdown
and the inference times. Each ``plot_*`` writes one PNG.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure  # the object API: no pyplot, no display, no global state
from matplotlib.lines import Line2D

from prunebench import config, experiments
from prunebench.errors import UsageError
from prunebench.record import RunRecord

#: Curves are drawn per family; families not listed here get the next free style.
STYLES = {
    "whole constant": ("tab:blue", "o", "-"), "whole polynomial": ("tab:blue", "s", "--"),
    "whole random": ("tab:blue", "x", ":"), "whole 2:4": ("tab:blue", "D", ""),
    "whole pqat": ("tab:blue", "*", ""),
    "dense constant": ("tab:orange", "o", "-"), "dense polynomial": ("tab:orange", "s", "--"),
    "dense random": ("tab:orange", "x", ":"), "dense 2:4": ("tab:orange", "D", ""),
    "dense pqat": ("tab:orange", "*", ""),
}

@dataclass
class Experiment:
    """One experiment's per-seed figures, pooled over the records given."""

    name: str
    config: config.ExperimentConfig
    per_seed: list[dict[str, float]] = field(default_factory=list)

    @property
    def family(self) -> str:
        return experiments.family(self.config)

    def values(self, metric: str) -> np.ndarray:
        return np.array([m[metric] for m in self.per_seed if metric in m], dtype=float)

    def median(self, metric: str) -> float:
        found = self.values(metric)
        return float(np.median(found)) if found.size else float("nan")

    def span(self, metric: str) -> tuple[float, float]:
        found = self.values(metric)
        return (float(found.min()), float(found.max())) if found.size else (np.nan, np.nan)


def merge(records: Sequence[RunRecord]) -> RunRecord:
    """Return one record holding every (experiment, seed) of ``records``, the later winning."""
    results = {(r["experiment"], r["seed"]): r for rec in records for r in rec.results}
    return RunRecord(
        profile=records[0].profile,
        seeds=sorted({seed for _, seed in results}),
        experiments={k: v for rec in records for k, v in rec.experiments.items()},
        results=list(results.values()),
        environment=records[0].environment,
    )


def pool(records: Sequence[RunRecord]) -> list[Experiment]:
    """Return the experiments of ``records`` (one profile), seeds of the same one pooled."""
    profiles = sorted({rec.profile for rec in records})
    if len(profiles) != 1:
        raise UsageError(f"records from different profiles ({', '.join(profiles)}) do not "
                         "belong on one page")
    merged = merge(records)
    found = {name: Experiment(name, config.experiment_from_dict(info["config"]))
             for name, info in merged.experiments.items()}
    for result in merged.results:
        found[result["experiment"]].per_seed.append(result["metrics"])
    return sorted(found.values(), key=_reading_order)


def _reading_order(exp: Experiment) -> tuple[int, str, float]:
    """Unpruned first, then by family (whole before dense, as STYLES lists them), sparsity."""
    prune = exp.config.prune
    if prune is None:
        return (-1, "", 0.0)
    families = list(STYLES)
    rank = families.index(exp.family) if exp.family in families else len(families)
    return (rank, exp.family, prune.target_sparsity)


def _style(family: str, taken: dict[str, tuple[str, str, str]]) -> tuple[str, str, str]:
    if family not in taken:
        taken[family] = STYLES.get(family, (f"C{len(taken) % 10}", "^", "-"))
    return taken[family]


def _by_family(found: Iterable[Experiment]) -> dict[str, list[Experiment]]:
    families: dict[str, list[Experiment]] = {}
    for exp in found:
        if exp.config.prune is not None:
            families.setdefault(exp.family, []).append(exp)
    for members in families.values():
        members.sort(key=lambda e: e.median("sparsity_pruned"))
    return families


def _errorbars(members: Sequence[Experiment], metric: str) -> tuple[np.ndarray, np.ndarray]:
    medians = np.array([m.median(metric) for m in members])
    spans = np.array([m.span(metric) for m in members])
    return medians, np.vstack([medians - spans[:, 0], spans[:, 1] - medians])


def plot_mse_vs_sparsity(found: Sequence[Experiment], path: Path) -> Figure:
    """MSE against achieved sparsity of the pruned layers, one panel per scope."""
    families = _by_family(found)
    unpruned = next((e for e in found if e.config.prune is None), None)
    fig = Figure(figsize=(12, 5.6), layout="constrained")
    axes = fig.subplots(1, 2, sharey=True)
    taken: dict[str, tuple[str, str, str]] = {}
    for ax, scope in zip(axes, ("whole", "dense"), strict=True):
        for family, members in families.items():
            if not family.startswith(scope):
                continue
            colour, marker, line = _style(family, taken)
            x = np.array([m.median("sparsity_pruned") for m in members])
            y, err = _errorbars(members, "mse")
            ax.errorbar(x, y, yerr=err, color=colour, marker=marker, linestyle=line or "none",
                        capsize=3, label=family)
        if unpruned is not None:
            low, high = unpruned.span("mse")
            ax.axhline(unpruned.median("mse"), color="grey", linestyle="-.", label="unpruned")
            ax.axhspan(low, high, color="grey", alpha=0.15)
        ax.set_yscale("log")
        ax.set_xlabel("achieved sparsity of the pruned layers")
        ax.set_title({"whole": "whole model pruned", "dense": "hidden Dense layer pruned"}[scope])
        ax.grid(True, which="both", alpha=0.3)
        # Below the panel, never over its points.
        ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.14), ncols=3)
    axes[0].set_ylabel("test MSE (log; median, bars: seed min-max)")
    fig.savefig(path, dpi=110)
    return fig


def pareto_front(points: Sequence[tuple[float, float]]) -> list[tuple[float, float]]:
    """Return the points no other point beats on both size and MSE, by size."""
    front: list[tuple[float, float]] = []
    for size, mse in sorted(points):
        if not front or mse < front[-1][1]:
            front.append((size, mse))
    return front


def plot_pareto(found: Sequence[Experiment], path: Path) -> Figure:
    """MSE against zipped bytes: the float HDF5 file and the int8 TFLite flatbuffer."""
    fig = Figure(figsize=(13, 4.8), layout="constrained")
    axes = fig.subplots(1, 2, sharey=True)
    panels = (("keras_zip_bytes", "mse", "float model, HDF5 zipped"),
              ("tflite_int8_zip_bytes", "tflite_int8_mse", "TFLite int8, zipped"))
    taken: dict[str, tuple[str, str, str]] = {}
    for ax, (size_metric, mse_metric, title) in zip(axes, panels, strict=True):
        points = []
        for exp in found:
            size, mse = exp.median(size_metric), exp.median(mse_metric)
            if np.isnan(size) or np.isnan(mse):
                continue
            points.append((size, mse))
            if exp.config.prune is None:
                ax.scatter([size], [mse], color="black", marker="P", s=60, label="unpruned")
                continue
            colour, marker, _ = _style(exp.family, taken)
            low, high = exp.span(mse_metric)
            ax.errorbar([size], [mse], yerr=[[mse - low], [high - mse]], color=colour,
                        marker=marker, linestyle="none", capsize=2, alpha=0.8)
        front = pareto_front(points)
        if front:
            ax.step(*zip(*front, strict=True), where="post", color="green", alpha=0.6,
                    label="Pareto front")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("zipped size (bytes, log)")
        ax.set_title(title)
        ax.grid(True, which="both", alpha=0.3)
    handles = [*axes[0].get_legend_handles_labels()[0],
               *(Line2D([], [], color=c, marker=m, linestyle="none", label=f)
                 for f, (c, m, _) in taken.items())]
    # One legend outside the panels: the unpruned point sits in the upper right of both.
    fig.legend(handles=handles, fontsize=8, loc="outside right upper")
    axes[0].set_ylabel("test MSE (log; median, bars: seed min-max)")
    fig.savefig(path, dpi=110)
    return fig


def _bars(found: Sequence[Experiment], series: Sequence[tuple[str, str]], ylabel: str,
          path: Path) -> None:
    names = [e.name for e in found]
    width = 0.8 / len(series)
    fig = Figure(figsize=(max(10.0, 0.42 * len(names)), 5.2))
    ax = fig.subplots()
    x = np.arange(len(names))
    for i, (metric, label) in enumerate(series):
        ax.bar(x + i * width, [e.median(metric) for e in found], width=width, label=label)
    ax.set_xticks(x + width * (len(series) - 1) / 2, names, rotation=60, ha="right", fontsize=8)
    ax.set_xlim(-0.5, len(names))
    ax.set_ylabel(ylabel)
    ax.grid(True, axis="y", alpha=0.3)
    ax.legend(fontsize=8, ncols=len(series), loc="lower center", bbox_to_anchor=(0.5, 1.0),
              frameon=False)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def plot_sizes(found: Sequence[Experiment], path: Path) -> None:
    """Zipped bytes per experiment: wrapped, stripped, TFLite float, TFLite int8."""
    _bars(found, (("wrapped_zip_bytes", "HDF5 with pruning wrappers"),
                  ("keras_zip_bytes", "HDF5 stripped"),
                  ("tflite_zip_bytes", "TFLite float"),
                  ("tflite_int8_zip_bytes", "TFLite int8")),
          "zipped bytes (median over seeds)", path)


def plot_inference(found: Sequence[Experiment], path: Path) -> None:
    """Milliseconds per pass over the test set: Keras, TFLite float, TFLite int8."""
    _bars(found, (("keras_ms", "Keras (tf.function)"), ("tflite_ms", "TFLite float"),
                  ("tflite_int8_ms", "TFLite int8")),
          "ms per pass over the 3,300 test rows,\none thread (median over seeds)", path)


def plot_task_quality(found: Sequence[Experiment], path: Path, metric: str = "accuracy") -> Figure:
    """A zoo task's quality per experiment against its sparsity: median, bars seed min-max."""
    fig = Figure(figsize=(9, 5), layout="constrained")
    ax = fig.subplots()
    taken: dict[str, tuple[str, str, str]] = {}
    for exp in found:
        colour, marker, _ = _style(exp.family, taken)
        y, err = _errorbars([exp], metric)
        ax.errorbar([exp.median("sparsity_pruned")], y, yerr=err, color=colour, marker=marker,
                    linestyle="none", capsize=3, markersize=8, label=exp.name)
    ax.set_xlabel("achieved sparsity of the pruned layers (declared prunable weights)")
    ax.set_ylabel(f"test {metric} (median, bars: seed min-max)")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.12), ncols=3)
    fig.savefig(path, dpi=110)
    return fig


def plot_sparse_speed(found: Sequence[Experiment], path: Path) -> None:
    """Milliseconds per 64-row batch, dense and sparse flatbuffers, with and without XNNPACK."""
    sparse = [e for e in found if e.values("sparse_speedup").size]
    _bars(sparse, (("tflite_ms", "dense, XNNPACK (default)"),
                   ("tflite_sparse_ms", "sparse (EXPERIMENTAL_SPARSITY)"),
                   ("tflite_builtin_ms", "dense, built-in kernels"),
                   ("tflite_sparse_builtin_ms", "sparse, built-in kernels")),
          "ms per batch, one thread,\ninterleaved blocks (median over seeds)", path)
