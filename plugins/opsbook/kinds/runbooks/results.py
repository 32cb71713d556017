"""The runner's results file (JSON) and JUnit XML: written by `opsbook test` and the pytest plugin,
read back by the build to show on every runbook page which steps CI verified, when and at which commit."""

from __future__ import annotations

import datetime as _dt
import json
import os
import re
import tempfile
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .runner import RunbookResult

__all__ = ["Results", "load_results", "write_junit", "write_results"]

VERSION = 1
MAX_RESULTS_SIZE = 64 * 1024 * 1024


@dataclass
class Results:
    """Results by runbook id, as the build reads them."""

    runbooks: dict[str, dict[str, Any]] = field(default_factory=dict)
    problem: str | None = None

    def of(self, runbook_id: str) -> dict[str, Any] | None:
        return self.runbooks.get(runbook_id)

    def step(self, runbook_id: str, section: str, index: int) -> dict[str, Any] | None:
        found = self.of(runbook_id)
        for step in (found or {}).get("steps", []):
            if step.get("section") == section and step.get("index") == index:
                return step
        return None


def load_results(path: Path) -> Results:
    """Read a results file; a missing one is empty, an unreadable one says why."""
    if not path.is_file():
        return Results()
    try:
        if path.stat().st_size > MAX_RESULTS_SIZE:
            return Results(problem=f"{path.name} is larger than {MAX_RESULTS_SIZE:,} bytes")
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        return Results(problem=f"{path.name} could not be read: {error}")
    runbooks = data.get("runbooks") if isinstance(data, dict) else None
    if not isinstance(runbooks, dict):
        return Results(problem=f"{path.name} is not an opsbook results file")
    return Results({k: v for k, v in runbooks.items() if isinstance(v, dict)})


def write_results(path: Path, results: Iterable[RunbookResult | dict[str, Any]]) -> None:
    """Write results, keeping those of runbooks not run this time; the file is replaced atomically."""
    previous = load_results(path)
    merged = dict(previous.runbooks) if previous.problem is None else {}
    for result in results:
        data = result.to_dict() if isinstance(result, RunbookResult) else result
        merged[data["runbook"]] = data
    document = {
        "version": VERSION,
        "written": _dt.datetime.now(_dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z"),
        "runbooks": dict(sorted(merged.items())),
    }
    _atomic_write(path, json.dumps(document, indent=2, ensure_ascii=False) + "\n")


def _atomic_write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _xml(text: str) -> str:
    """Text that XML 1.0 can hold: control characters other than tab and newlines are dropped."""
    return _NOT_XML.sub("", text)


def write_junit(path: Path, results: Iterable[RunbookResult]) -> None:
    """JUnit XML: a test suite per runbook, a test case per step."""
    suites = ET.Element("testsuites", name="opsbook")
    for result in results:
        failures = sum(step.status in ("failed", "timeout") for step in result.steps)
        skipped = sum(step.status in ("skipped", "manual", "not-run") for step in result.steps)
        suite = ET.SubElement(suites, "testsuite", name=result.runbook, tests=str(len(result.steps)),
                              failures=str(failures), skipped=str(skipped), time=f"{result.duration:.3f}",
                              timestamp=result.started)
        for step in result.steps:
            case = ET.SubElement(suite, "testcase", classname=_xml(result.path), time=f"{step.duration:.3f}",
                                 name=_xml(f"{step.section}[{step.index + 1}] {step.name}"), file=_xml(result.path),
                                 line=str(step.line))
            if step.status in ("failed", "timeout"):
                failure = ET.SubElement(case, "failure", message=_xml("; ".join(step.problems) or step.status))
                failure.text = _xml(f"$ {step.command}\n{step.output_tail(40)}")
            elif step.status in ("skipped", "manual", "not-run"):
                ET.SubElement(case, "skipped", message=_xml(step.reason or step.status))
            if step.stdout:
                ET.SubElement(case, "system-out").text = _xml(step.stdout)
            if step.stderr:
                ET.SubElement(case, "system-err").text = _xml(step.stderr)
    tree = ET.ElementTree(suites)
    ET.indent(tree)
    path.parent.mkdir(parents=True, exist_ok=True)
    tree.write(path, encoding="utf-8", xml_declaration=True)
