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

from prunebench import baseline, compare, gate, grouping, html_tables, tasks
from prunebench.errors import UsageError
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
from prunebench.record import RunRecord, tf_minor, write_json_atomic

__all__ = ["PLOTS", "VERDICT_COLOURS", "pareto_front", "write"]

VERDICT_COLOURS = html_tables.VERDICT_COLOURS

PAGE = "index.html"



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


def labelled(records: Sequence[RunRecord], files: Sequence[str] | None = None,
             ) -> list[tuple[str, grouping.Group]]:
    """Return the records' environment groups, oldest TF first, each with its label.

    One TF version in several environments (another tfmot, host, commit or PYTHONPATH)
    gives several groups, labelled 'TF 2.21.0 (a)', 'TF 2.21.0 (b)': never pooled.
    """
    profiles = sorted({rec.profile for rec in records})
    if len(profiles) != 1:
        raise UsageError(f"records from different profiles ({', '.join(profiles)}) do not "
                         "belong on one page")
    names = list(files) if files is not None else [f"record {n + 1}" for n in range(len(records))]
    groups = grouping.group(records, names)
    per_tf: dict[str, int] = {}
    for each in groups:
        per_tf[each.tf] = per_tf.get(each.tf, 0) + 1
    labels, seen = [], dict.fromkeys(per_tf, 0)
    for each in groups:
        suffix = f" ({chr(ord('a') + seen[each.tf])})" if per_tf[each.tf] > 1 else ""
        seen[each.tf] += 1
        labels.append((f"TF {each.tf}{suffix}", each))
    return labels


def _only_seeds(rec: RunRecord, seeds: Sequence[int]) -> RunRecord:
    """Return ``rec`` with the results of ``seeds`` only."""
    kept = [r for r in rec.results if r["seed"] in seeds]
    return RunRecord(profile=rec.profile, seeds=[s for s in rec.seeds if s in seeds],
                     experiments=rec.experiments, results=kept, environment=rec.environment)


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
        if tasks.is_seed(task):  # its sweeps, controls and PQAT: the seed's figures
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


def _group_section(label: str, each: grouping.Group, differences: Sequence[str],
                   found: Sequence[Experiment], out_dir: Path, prefix: str,
                   baseline_path: Path | None) -> str:
    plots = _task_plots(found, out_dir, prefix)
    lines, judged = verdicts(each.records, baseline_path)
    seeds = sorted({s for rec in each.records for s in rec.seeds})
    differs = (f"<p><b>This environment differs from the others in:</b> "
               f"{html.escape('; '.join(differences))}</p>" if differences else "")
    return f"""<h2>{html.escape(label)}</h2>
{differs}
<p>{len(found)} experiments, seeds {html.escape(' '.join(map(str, seeds)))}, from
{len(each.records)} record(s) ({html.escape(', '.join(each.files))}); seeds are pooled
within this environment only, each seed from one record.</p>
<h3>Figures</h3><p class="note">Medians over seeds; hover a cell for the seed range.</p>
{html_tables.figures_table(found)}
{''.join(plots)}
<h3>Gate</h3><p class="note">{html.escape(judged)}</p>
{html_tables.verdict_table(lines, found)}
<h3>Environment</h3>{html_tables.environment_table(each.records)}
"""


def write(records: Sequence[RunRecord], out_dir: Path, baseline_path: Path | None = None,
          files: Sequence[str] | None = None) -> Path:
    """Write index.html and its PNGs to ``out_dir``; return the page's path.

    Records are grouped by environment (``grouping``), ``files`` naming them; several
    groups get a side-by-side table and a section each, with what tells them apart at the
    top: their seeds are never pooled across groups.
    """
    labelled_groups = labelled(records, files)
    groups = [(label, each, pool(list(each.records))) for label, each in labelled_groups]
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"cannot write the report to {out_dir}: {exc.strerror or exc}") from None
    several = len(groups) > 1
    everyone = [each for _, each, _ in groups]
    sections = [_group_section(label, each, each.differences(everyone), found, out_dir,
                               f"{_slug(label)}-" if several else "", baseline_path)
                for label, each, found in groups]
    side_by_side = ""
    if several:
        # Medians of different seed sets differ by the seeds alone: compare the shared ones.
        common = sorted(set.intersection(*({s for rec in each.records for s in rec.seeds}
                                           for _, each, _ in groups)))
        if not common:
            raise UsageError("the environments share no seed: their figures do not compare")
        shared = []
        for label, each, _ in groups:
            kept = [_only_seeds(rec, common) for rec in each.records]
            shared.append((label, merge(kept), pool(kept)))
        side_by_side = ("<h2>Environments side by side</h2><p class='note'>Medians over the "
                        f"seeds every environment has ({html.escape(' '.join(map(str, common)))}); "
                        "worse/better: beyond the gate's band (same where TensorFlow, the "
                        "packages and the CPU type agree, cross otherwise) against the "
                        f"column to the left.</p>{html_tables.side_by_side_table(shared)}")
    titles = ", ".join(label for label, _, _ in groups)
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>prunebench report</title>
<style>{CSS}</style></head><body>
<h1>prunebench report</h1>
<p>Profile {html.escape(records[0].profile)}, {html.escape(titles)}, from {len(records)}
record(s).</p>
{side_by_side}
{''.join(sections)}
</body></html>
"""
    path = out_dir / PAGE
    tmp = path.with_suffix(".html.tmp")
    tmp.write_text(page)
    tmp.replace(path)
    write_json_atomic(out_dir / "summary.json", {label.removeprefix("TF "): {
        exp.name: {"family": exp.family, "seeds": len(exp.per_seed),
                   **{m: _finite(exp.median(m)) for m in html_tables.TABLE_METRICS}} for exp in found}
        for label, _, found in groups})
    return path


def _slug(label: str) -> str:
    """Return a file-name prefix of a group's label: 'TF 2.21.0 (b)' -> 'tf2.21.0-b'."""
    return "".join(c for c in label.lower().replace(" (", "-") if c.isalnum() or c in ".-")
