"""``prunebench report`` of an upgrade's verdict record: each figure's two distributions.

One static page: the verdict, what differs between the sides, whether each task's seeds
reproduce, then a row per judged figure (the flagged first) with both sides' seeds drawn
on one axis — A's dots above, B's below, each side's median a bar — beside the verdict
and how it was judged. The drawings are inline SVG: no plotting library, no script.
"""

from __future__ import annotations

import html
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from prunebench import compare, html_tables, upgrade
from prunebench.errors import UsageError
from prunebench.record import RunRecord

PAGE = "index.html"
#: Drawing of one figure: width, height, margin (pixels).
WIDTH, HEIGHT, PAD = 280, 38, 8
COLOURS = {"A": "#5b7fb3", "B": "#c9722e"}
#: Flagged first: the order of the rows.
ORDER = ("REGRESSION", "INCONCLUSIVE", "changed", "IMPROVEMENT", "ok")
VERDICT_COLOURS = {"REGRESSION": html_tables.VERDICT_COLOURS["regression"],
                   "INCONCLUSIVE": "#fbe8b5", "changed": "#f1f1c8",
                   "IMPROVEMENT": html_tables.VERDICT_COLOURS["improvement"],
                   "ok": html_tables.VERDICT_COLOURS["ok"]}

CSS = """
body { font-family: system-ui, sans-serif; margin: 2em; color: #222; max-width: 1400px; }
table { border-collapse: collapse; font-size: 13px; margin: 0.5em 0 1.5em; }
th, td { border: 1px solid #ccc; padding: 3px 7px; text-align: left; vertical-align: middle; }
th { background: #f3f3f3; } td.num { text-align: right; }
.note { color: #555; font-size: 13px; }
"""


def is_upgrade(path: Path) -> bool:
    """Return whether ``path`` holds an upgrade's verdict record (not a results record)."""
    try:
        return bool(json.loads(Path(path).read_text()).get("schema") == upgrade.SCHEMA)
    except (OSError, UnicodeDecodeError, ValueError, AttributeError):
        return False


def strip(a: Sequence[float], b: Sequence[float]) -> str:
    """Return an SVG of both sides' values on one axis: A's dots above, B's below, a bar
    at each side's median; the axis runs from the smallest value to the largest."""
    values = [*a, *b]
    low, high = min(values), max(values)
    span = (high - low) or abs(high) or 1.0

    def x(value: float) -> float:
        return round(PAD + (value - low) / span * (WIDTH - 2 * PAD), 1)

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
             f'role="img"><line x1="{PAD}" y1="{HEIGHT / 2}" x2="{WIDTH - PAD}" '
             f'y2="{HEIGHT / 2}" stroke="#ddd"/>']
    for side, seeds, y in (("A", a, HEIGHT * 0.28), ("B", b, HEIGHT * 0.72)):
        ordered = sorted(seeds)
        middle = (ordered[(len(ordered) - 1) // 2] + ordered[len(ordered) // 2]) / 2
        parts.append(f'<line class="median-{side}" x1="{x(middle)}" y1="{y - 7:.1f}" '
                     f'x2="{x(middle)}" y2="{y + 7:.1f}" stroke="{COLOURS[side]}" '
                     'stroke-width="2"/>')
        parts += [f'<circle class="seed-{side}" cx="{x(v)}" cy="{y:.1f}" r="3" '
                  f'fill="{COLOURS[side]}" fill-opacity="0.6"/>' for v in seeds]
    return "".join(parts) + "</svg>"


def _values(record: RunRecord, line: Mapping[str, Any]) -> list[float]:
    return list(record.seed_values(line["experiment"], line["metric"]).values())


def _row(line: Mapping[str, Any], sides: Mapping[str, RunRecord]) -> str:
    a, b = (_values(sides[side], line) for side in ("A", "B"))
    # A line without A's figure (a floor: B against its own unpruned model) draws nothing.
    drawn = a and b and line["baseline"] is not None
    drawing = strip(a, b) if drawn else "<span class='note'>no values per seed</span>"
    seeds = f"{len(a)} / {len(b)}" if drawn else "-"
    colour = VERDICT_COLOURS.get(line["verdict"], "#fff")
    return (f"<tr><td style='background:{colour}'>{html.escape(line['verdict'])}</td>"
            f"<td>{html.escape(line['experiment'])}</td><td>{html.escape(line['metric'])}</td>"
            f"<td class='num'>{compare.figure(line['baseline'])}</td>"
            f"<td class='num'>{compare.figure(line['value'])}</td><td class='num'>{seeds}</td>"
            f"<td>{drawing}</td><td class='note'>{html.escape(line['limit'])}</td></tr>")


def page(payload: Mapping[str, Any]) -> str:
    """Return the HTML page of an upgrade's verdict record."""
    try:
        sides = {name: RunRecord(**payload["sides"][name]["record"]) for name in ("A", "B")}
        lines = sorted(payload["lines"], key=lambda ln: ORDER.index(ln["verdict"])
                       if ln["verdict"] in ORDER else len(ORDER))
        specs = {name: payload["sides"][name]["spec"] for name in ("A", "B")}
        seeds = payload.get("seeds", {})
        tasks = "".join(
            f"<tr><td>{html.escape(task)}</td><td>{'yes' if r['reproduces'] else 'no'}</td>"
            f"<td>{'/'.join(str(len(seeds.get(s, {}).get(task, []))) for s in 'AB')}</td>"
            f"<td class='note'>{html.escape(r['why'])}</td></tr>"
            for task, r in payload.get("reproduction", {}).items())
        rows = "".join(_row(line, sides) for line in lines)
        notes = "".join(f"<li>{html.escape(text)}</li>" for text in payload.get("notes", []))
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise UsageError(f"corrupt upgrade record: {exc!r}") from None
    counts = ", ".join(f"{n} {k}" for k, n in payload.get("summary", {}).items() if n)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>prunebench upgrade</title>
<style>{CSS}</style></head><body>
<h1>prunebench upgrade: {html.escape(str(payload.get('verdict')))}</h1>
<p>A: <code>{html.escape(specs['A'])}</code> &rarr; B: <code>{html.escape(specs['B'])}</code>;
{html.escape(counts)}.</p>
<p>B differs from A in: {html.escape('; '.join(payload.get('differences', [])) or 'nothing recorded')}</p>
<h2>Tasks</h2>
<table><tr><th>task</th><th>seeds reproduce</th><th>seeds A/B</th><th>evidence</th></tr>
{tasks}</table>
<h2>Every figure, B against A</h2>
<p class='note'>Each drawing: A's seeds (blue, above) and B's (orange, below) on one axis
from the smallest value to the largest, a bar at each side's median. Flagged lines
first.</p>
<table><tr><th>verdict</th><th>experiment</th><th>figure</th><th>A</th><th>B</th>
<th>seeds A / B</th><th>both sides' seeds</th><th>how judged</th></tr>
{rows}</table>
<h2>Notes</h2><ul>{notes}</ul>
</body></html>
"""


def write(paths: Sequence[Path], out_dir: Path, baseline: Path | None = None) -> Path:
    """Write the page of the one upgrade record in ``paths`` into ``out_dir``; return its
    path. Raises UsageError when other files or a baseline come with it."""
    path = next(p for p in paths if is_upgrade(p))
    if len(paths) != 1 or baseline is not None:
        raise UsageError(f"{path} is an upgrade's verdict: report it alone, without "
                         "--baseline (both sides are in it)")
    try:
        payload = json.loads(Path(path).read_text())
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise UsageError(f"cannot read {path}: {exc}") from None
    text = page(payload)
    target = out_dir / PAGE
    tmp = target.with_suffix(".html.tmp")
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        tmp.write_text(text)
        tmp.replace(target)
    except OSError as exc:
        raise UsageError(f"cannot write the report to {out_dir}: {exc.strerror or exc}") from None
    return target
