"""``prunebench report``: one static HTML page and its PNG plots from results records.

Plots: MSE against achieved sparsity per experiment family (median, seed range as bars),
MSE against zipped size with the Pareto front (float HDF5 and TFLite int8), the size
breakdown and the inference times. Tables: every experiment's figures, the gate's
verdicts where a baseline exists, the environment. No scripts: nothing to go wrong in
a browser.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure  # the object API: no pyplot, no display, no global state
from matplotlib.lines import Line2D

from prunebench import baseline, compare, config, experiments, gate
from prunebench.errors import UsageError
from prunebench.metrics import UNITS
from prunebench.record import RunRecord, tf_minor, write_json_atomic

PAGE = "index.html"
#: Curves are drawn per family; families not listed here get the next free style.
STYLES = {
    "whole constant": ("tab:blue", "o", "-"), "whole polynomial": ("tab:blue", "s", "--"),
    "whole random": ("tab:blue", "x", ":"), "whole 2:4": ("tab:blue", "D", ""),
    "whole pqat": ("tab:blue", "*", ""),
    "dense constant": ("tab:orange", "o", "-"), "dense polynomial": ("tab:orange", "s", "--"),
    "dense random": ("tab:orange", "x", ":"), "dense 2:4": ("tab:orange", "D", ""),
    "dense pqat": ("tab:orange", "*", ""),
}
VERDICT_COLOURS = {"ok": "#d9f2d9", "improvement": "#d6e9ff", "regression": "#f8d0d0",
                   "no baseline": "#eeeeee"}


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


def plot_mse_vs_sparsity(found: Sequence[Experiment], path: Path) -> None:
    """MSE against achieved sparsity of the pruned layers, one panel per scope."""
    families = _by_family(found)
    unpruned = next((e for e in found if e.config.prune is None), None)
    fig = Figure(figsize=(12, 4.8))
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
        ax.legend(fontsize=8)
    axes[0].set_ylabel("test MSE (log; median, bars: seed min-max)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def pareto_front(points: Sequence[tuple[float, float]]) -> list[tuple[float, float]]:
    """Return the points no other point beats on both size and MSE, by size."""
    front: list[tuple[float, float]] = []
    for size, mse in sorted(points):
        if not front or mse < front[-1][1]:
            front.append((size, mse))
    return front


def plot_pareto(found: Sequence[Experiment], path: Path) -> None:
    """MSE against zipped bytes: the float HDF5 file and the int8 TFLite flatbuffer."""
    fig = Figure(figsize=(12, 4.8))
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
    handles = [Line2D([], [], color=c, marker=m, linestyle="none", label=f)
               for f, (c, m, _) in taken.items()]
    axes[1].legend(handles=handles, fontsize=8, loc="upper right")
    axes[0].legend(fontsize=8, loc="upper right")
    axes[0].set_ylabel("test MSE (log; median, bars: seed min-max)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


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


def verdicts(records: Sequence[RunRecord], baseline_path: Path | None,
             ) -> tuple[list[compare.Line], str]:
    """Return the gate's lines for experiments the baseline knows, and a note on where from."""
    minors = sorted({tf_minor(rec.environment) for rec in records})
    if len(minors) != 1:
        return [], f"records from TF {', '.join(minors)}: no single baseline to judge against"
    try:
        path, why = (baseline_path, "given") if baseline_path else baseline.find(minors[0])
        document = baseline.load(path)
        judged = gate.gate(merge(records), document, path, compare.load_thresholds(),
                           known_only=True, other_tf=why != "its own version's")
    except UsageError as exc:
        return [], f"not judged: {exc}"
    notes = "; ".join(judged.notes)
    return judged.lines, (f"judged against {path} ({why}), {judged.regime} band, with the "
                          f"packaged thresholds{'; ' + notes if notes else ''}")


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
    ("tflite_int8_ms", "int8 ms"),
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
                    verdict = checks[metric].verdict(previous, value, "cross").value.lower()
                mark = {"regression": " worse", "improvement": " better"}.get(verdict or "", "")
                colour = VERDICT_COLOURS.get(verdict or "", "#fff") if mark else "#fff"
                cells.append(f'<td style="background:{colour}">{_fmt(value, metric)}{mark}</td>')
                previous = None if np.isnan(value) else value
            if any(">-<" not in c for c in cells):
                rows.append(f"<tr><td>{html.escape(name)}</td><td>{html.escape(label)}</td>"
                            f"{''.join(cells)}</tr>")
    return (f"<table><tr><th>experiment</th><th>metric</th>{head}</tr>{''.join(rows)}</table>")


def _version_section(version: str, records: Sequence[RunRecord], found: Sequence[Experiment],
                     out_dir: Path, prefix: str, baseline_path: Path | None) -> str:
    plots = []
    for filename, title, plot, caption in PLOTS:
        plot(found, out_dir / f"{prefix}{filename}")
        plots.append(f"<h3>{html.escape(title)}</h3><p class='note'>{html.escape(caption)}"
                     f"</p><img src='{prefix}{filename}' alt='{html.escape(title)}'>")
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
    side_by_side = ("<h2>Versions side by side</h2><p class='note'>Medians over each version's "
                    "own seeds; worse/better: beyond the gate's cross-version band against the "
                    f"version to the left.</p>{_versions_table([(v, f) for v, _, f in groups])}"
                    if several else "")
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
