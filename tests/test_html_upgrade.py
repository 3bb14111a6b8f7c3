"""The page of an upgrade's verdict: every judged figure with both sides' seeds drawn."""

from __future__ import annotations

import json
import re
from dataclasses import asdict
from xml.etree import ElementTree

from prunebench import html_upgrade, judge, upgrade
from test_cli import assert_one_line_usage_error, prunebench
from test_judge import NAMES, THRESHOLDS, side


def _payload(a, b):
    found = judge.judge(a, b, THRESHOLDS)
    return {"schema": upgrade.SCHEMA, "verdict": "WORSE", "differences": ["tf-keras 2.21.0 (A 2.20.0)"],
            "sides": {"A": {"spec": "2.20", "record": asdict(a)},
                      "B": {"spec": "2.21", "record": asdict(b)}},
            "reproduction": {t: {"reproduces": r, "why": w}
                             for t, (r, w) in found.reproduction.items()},
            "lines": [{**vars(ln), "verdict": ln.verdict.value} for ln in found.lines],
            "notes": found.notes, "summary": judge.summary(found),
            "seeds": {"A": {"t": list(a.seeds)}, "B": {"t": list(b.seeds)}}}


def _rows(text):
    """Return (verdict, experiment, figure, A's dots, B's dots) of every figure's row."""
    found = []
    for row in re.findall(r"<tr><td style='background:[^']*'>(.*?)</tr>", text, re.S):
        cells = re.findall(r"<td[^>]*>(.*?)</td>", "<td>" + row, re.S)
        svg = re.search(r"<svg.*?</svg>", row, re.S)
        dots = {"A": [], "B": []}
        if svg:
            for node in ElementTree.fromstring(svg.group(0)).iter("{http://www.w3.org/2000/svg}circle"):
                dots[node.get("class")[-1]].append(float(node.get("cx")))
        found.append((cells[0], cells[1], cells[2], dots["A"], dots["B"]))
    return found


def test_each_figure_is_drawn_with_both_sides_seeds_and_the_flagged_come_first(tmp_path):
    # Training differs on every seed (over the seeds); B's pruned loss 1.5x A's on 8 seeds.
    base = [0.40, 0.42, 0.44, 0.46, 0.48, 0.50, 0.52, 0.54]
    a = side({NAMES[0]: base, NAMES[1]: base})
    b = side({NAMES[0]: base[::-1], NAMES[1]: [v * 1.5 for v in base]}, zip_bytes=1001.0)
    path = tmp_path / "up.json"
    path.write_text(json.dumps(_payload(a, b)))
    page = html_upgrade.write([path], tmp_path / "page")
    rows = _rows(page.read_text())
    assert rows[0][:3] == ("REGRESSION", NAMES[1], "loss")
    # the worse side's dots sit to the right of A's on the axis: B's smallest beyond A's
    # median, and every row draws each side's 8 seeds
    a_dots, b_dots = rows[0][3], rows[0][4]
    assert len(a_dots) == len(b_dots) == 8
    assert min(b_dots) > sorted(a_dots)[4]
    assert all(len(r[3]) == len(r[4]) == 8 for r in rows)
    verdicts = [r[0] for r in rows]
    assert verdicts.index("ok") > max(i for i, v in enumerate(verdicts) if v != "ok")


def test_an_upgrade_record_is_reported_alone_and_a_corrupt_one_is_one_line(tmp_path):
    a = side({NAMES[0]: [0.5, 0.6], NAMES[1]: [0.4, 0.5]})
    path = tmp_path / "up.json"
    path.write_text(json.dumps(_payload(a, a)))
    done = prunebench("report", str(path), str(path), "--out", str(tmp_path / "o"))
    assert_one_line_usage_error(done, "report it alone")
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps({"schema": upgrade.SCHEMA, "lines": []}))
    done = prunebench("report", str(broken), "--out", str(tmp_path / "o"))
    assert_one_line_usage_error(done, "corrupt upgrade record")
    assert not (tmp_path / "o" / "index.html").exists()
    done = prunebench("report", str(path), "--out", str(tmp_path / "o"))
    assert done.returncode == 0 and (tmp_path / "o" / "index.html").is_file()
