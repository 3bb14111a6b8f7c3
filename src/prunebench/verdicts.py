"""Verdicts a CI system reads: JUnit XML, a test case per experiment and figure."""

from __future__ import annotations

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
