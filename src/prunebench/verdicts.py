"""Verdicts a CI system reads: JUnit XML (a test case per experiment and figure) and
Markdown (a job summary or a pull request comment)."""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from pathlib import Path

from prunebench.compare import Line, Verdict, figure
from prunebench.errors import UsageError

#: How each verdict reads in JUnit: a regression fails; an undecided figure fails too, as
#: an inconclusive one (it is not a pass); improvements and changes pass, said in the output.
FAILING = {Verdict.REGRESSION: "regression", Verdict.INCONCLUSIVE: "inconclusive"}


def junit(lines: Sequence[Line], suite: str, properties: Mapping[str, str] | None = None) -> str:
    """Return a JUnit XML document with one test case per line (experiment.figure)."""
    root = ET.Element("testsuites")
    failures = sum(line.verdict in FAILING for line in lines)
    element = ET.SubElement(root, "testsuite", name=suite, tests=str(len(lines)),
                            failures=str(failures), errors="0", skipped="0")
    if properties:
        props = ET.SubElement(element, "properties")
        for key, value in properties.items():
            ET.SubElement(props, "property", name=key, value=str(value))
    for line in lines:
        case = ET.SubElement(element, "testcase", classname=f"{suite}.{line.experiment}",
                             name=line.metric)
        said = (f"{line.verdict.value}: value {figure(line.value)}, reference "
                f"{figure(line.baseline)}; {line.limit}")
        if line.verdict in FAILING:
            failure = ET.SubElement(case, "failure", type=FAILING[line.verdict],
                                    message=f"{line.experiment}.{line.metric} {said}")
            failure.text = said
        else:
            ET.SubElement(case, "system-out").text = said
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


def write(path: Path, text: str) -> None:
    """Write ``text`` to ``path``, or raise UsageError in one line."""
    try:
        Path(path).write_text(text)
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from None


def _row(line: Line) -> str:
    return (f"| {line.verdict.value} | `{line.experiment}.{line.metric}` | "
            f"{figure(line.baseline)} | {figure(line.value)} | {line.limit} |")


def markdown_lines(lines: Sequence[Line], reference: str, judged: str) -> list[str]:
    """Return Markdown of the lines not ok, as a table, and every line behind a fold."""
    header = (f"| verdict | figure | {reference} | {judged} | how judged |\n"
              "|---|---|---|---|---|")
    flagged = [ln for ln in lines if ln.verdict is not Verdict.OK]
    parts = [header, *map(_row, flagged)] if flagged else ["Every figure ok."]
    return [*parts, "", f"<details><summary>all {len(lines)} checks</summary>", "", header,
            *map(_row, lines), "", "</details>", ""]


def publish_markdown(path: Path | None, text: str) -> None:
    """Write ``text`` to ``path`` (if given) and append it to ``$GITHUB_STEP_SUMMARY`` (if set)."""
    if path is not None:
        write(path, text)
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary:
        try:
            with open(summary, "a") as handle:
                handle.write(text)
        except OSError as exc:
            raise UsageError(f"cannot append to $GITHUB_STEP_SUMMARY {summary}: "
                             f"{exc.strerror or exc}") from None


#: The schema of ``check --json``'s document.
CHECK_SCHEMA = "prunebench.check-verdict/1"


def document(lines: Sequence[Line], verdict: str, properties: Mapping[str, object]
             ) -> dict[str, object]:
    """Return the verdict as a JSON-ready document: the verdict, its counts, every line."""
    counts = {v.value.lower(): sum(line.verdict is v for line in lines) for v in Verdict}
    return {"schema": CHECK_SCHEMA, "verdict": verdict, **properties, "counts": counts,
            "lines": [{"verdict": line.verdict.value, "experiment": line.experiment,
                       "figure": line.metric, "value": line.value, "reference": line.baseline,
                       "limit": line.limit} for line in lines]}
