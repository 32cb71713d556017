"""The runner's results file (JSON) and JUnit XML: written by `opsbook test` and the pytest plugin,
read back by the build to show on every runbook page which steps CI verified, when and at which commit.

A results file is written fresh for each run: it holds what that run produced and nothing else (it
never reads back or merges what is there, which a step or a commit may have left). It is read back
bounded (`MAX_RESULTS_SIZE`, `MAX_RESULTS_DEPTH`) and validated against `schemas/results.schema.json`;
a file that fails is a `problem` (OB050), and a results file that git tracks is `committed` (OB051):
either way it verifies nothing.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import re
import shutil
import subprocess
import tempfile
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from ...schema_validation import load_schema, quick_validator
from .runner import RunbookResult

__all__ = ["Results", "ResultsGuard", "committed", "load_results", "write_junit", "write_results"]

VERSION = 1
MAX_RESULTS_SIZE = 64 * 1024 * 1024
#: The deepest nesting a results file may have: the schema's own is 6 (file, runbooks, runbook, steps,
#: step, expected); anything deeper is refused before validation, which would otherwise recurse into it.
MAX_RESULTS_DEPTH = 16


@dataclass
class Results:
    """Results by runbook id, as the build reads them; empty when the file is missing, unreadable
    (`problem`) or tracked by git (`committed`)."""

    runbooks: dict[str, dict[str, Any]] = field(default_factory=dict)
    problem: str | None = None
    committed: bool = False

    def of(self, runbook_id: str) -> dict[str, Any] | None:
        return self.runbooks.get(runbook_id)

    def step(self, runbook_id: str, section: str, index: int) -> dict[str, Any] | None:
        found = self.of(runbook_id)
        for step in (found or {}).get("steps", []):
            if step.get("section") == section and step.get("index") == index:
                return step
        return None


def load_results(path: Path) -> Results:
    """Read a results file; a missing one is empty, one that is unreadable, too large, too deep or
    not valid against the results schema says why (and holds nothing). Never raises."""
    try:
        if not path.is_file():
            return Results()
        if path.stat().st_size > MAX_RESULTS_SIZE:
            return Results(problem=f"{path.name} is larger than {MAX_RESULTS_SIZE:,} bytes")
        data = json.loads(path.read_bytes().decode("utf-8"))
    except RecursionError:
        return Results(problem=f"{path.name} is nested deeper than {MAX_RESULTS_DEPTH} levels")
    except (OSError, ValueError) as error:
        return Results(problem=f"{path.name} could not be read: {error}")
    problem = _invalid(data)
    if problem is not None:
        return Results(problem=f"{path.name} is not an opsbook results file: {problem}")
    return Results(dict(data["runbooks"]))


def _depth(data: Any) -> int:
    """How deeply the data nests lists and mappings, walked without recursion."""
    deepest = 0
    stack = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, (dict, list)):
            deepest = max(deepest, depth)
            if deepest > MAX_RESULTS_DEPTH:
                return deepest
            stack.extend((item, depth + 1) for item in (value.values() if isinstance(value, dict) else value))
    return deepest


@cache
def _quick() -> Callable[[Any], bool]:
    return quick_validator(load_schema("results"))


def _invalid(data: Any) -> str | None:
    """Why the data is not a results file (the first error of the schema's), or None."""
    if _depth(data) > MAX_RESULTS_DEPTH:
        return f"nested deeper than {MAX_RESULTS_DEPTH} levels"
    if _quick()(data):
        return None
    import jsonschema  # only for a file the quick validator rejects, to say why

    error = jsonschema.exceptions.best_match(jsonschema.Draft202012Validator(load_schema("results")).iter_errors(data))
    if error is None:
        return None
    where = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in error.absolute_path)
    message = error.message if len(error.message) <= 200 else error.message[:200] + "…"
    return f"{where.lstrip('.') or 'the file'}: {message}"


def committed(root: Path, path: Path) -> bool:
    """Whether git tracks the results file in the repository of the handbook root: a results file is
    written by the run, in the job that builds the site, and one that arrives in a commit is not
    evidence of anything. False outside a git checkout, or without git."""
    try:
        result = subprocess.run(["git", "-c", "core.fsmonitor=false", "ls-files", "--error-unmatch", "--",
                                 str(path)], cwd=root, capture_output=True, timeout=10, check=False)
    except (OSError, subprocess.SubprocessError):
        return False
    return result.returncode == 0


def write_results(path: Path, results: Iterable[RunbookResult | dict[str, Any]]) -> None:
    """Write the results of this run, and only them: whatever the file held before (an earlier run,
    a commit, a step of this run) is replaced whole, atomically."""
    fresh: dict[str, dict[str, Any]] = {}
    for result in results:
        data = result.to_dict() if isinstance(result, RunbookResult) else result
        fresh[data["runbook"]] = data
    document = {
        "version": VERSION,
        "written": _dt.datetime.now(_dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z"),
        "runbooks": dict(sorted(fresh.items())),
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


class ResultsGuard:
    """Keeps the steps of a run from leaving a results file behind: the state of the file at `path`
    (the configured `results`) is noted before the run, and `discard` removes the file when it changed
    during the run and the run is not about to write it itself."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.before = self._state()

    def _state(self) -> tuple[int, int, int, int] | None:
        try:
            found = os.lstat(self.path)
        except OSError:
            return None
        return found.st_dev, found.st_ino, found.st_size, found.st_mtime_ns

    def discard(self) -> bool:
        """Remove the file if it changed since the guard was made; whether it did."""
        if self._state() == self.before:
            return False
        try:
            if self.path.is_dir() and not self.path.is_symlink():
                shutil.rmtree(self.path, ignore_errors=True)
            else:
                self.path.unlink(missing_ok=True)
        except OSError:
            pass
        return True


#: Characters XML 1.0 cannot hold (control characters other than tab and newlines, lone surrogates, U+FFFE
#: and U+FFFF): a step's output is untrusted, and one such byte would make the whole report unreadable.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
#: Characters of each stream of a step kept in the JUnit XML (the end); the runner keeps 256 KiB a stream.
JUNIT_MAX_OUTPUT = 64 * 1024
#: How each status that is not a failure is a JUnit `skipped`, and the message when there is no reason.
_SKIPPED = {"skipped": "skipped in CI", "manual": "a manual step, for people: not run",
            "not-run": "not run"}


def _xml(text: str) -> str:
    """Text that XML 1.0 can hold: a character it cannot is written as its escape (`\\x1b`), visibly."""
    return _NOT_XML.sub(lambda found: ascii(found.group())[1:-1], text)


def _bounded(text: str, limit: int = JUNIT_MAX_OUTPUT) -> str:
    """The end of the text, at most `limit` characters, with a line saying how much was left out."""
    if len(text) <= limit:
        return text
    return f"[... {len(text) - limit} characters dropped ...]\n" + text[-limit:]


def write_junit(path: Path, results: Iterable[RunbookResult]) -> None:
    """JUnit XML valid against the common JUnit schema (Jenkins' `junit-10.xsd`, which GitLab, Jenkins
    and most report viewers read): a test suite per runbook, a test case per step. A failed or timed-out
    step is a `failure` whose message starts with the step's `path:line:col`; skipped, manual and not-run
    steps are `skipped`, their status as `type`; output is escaped and bounded (`JUNIT_MAX_OUTPUT`)."""
    suites = ET.Element("testsuites", name="opsbook")
    tests = failed = 0
    seconds = 0.0
    for result in results:
        failures = sum(not step.ok for step in result.steps)
        skipped = sum(step.status in _SKIPPED for step in result.steps)
        tests, failed, seconds = tests + len(result.steps), failed + failures, seconds + max(result.duration, 0)
        suite = ET.SubElement(suites, "testsuite", name=_xml(result.runbook), tests=str(len(result.steps)),
                              failures=str(failures), errors="0", skipped=str(skipped),
                              time=f"{max(result.duration, 0):.3f}", timestamp=_xml(result.started),
                              file=_xml(result.path))
        properties = ET.SubElement(suite, "properties")
        for name, value in (("path", result.path), ("commit", result.commit), ("mode", "ci" if result.ci else "local")):
            if value is not None:
                ET.SubElement(properties, "property", name=name, value=_xml(value))
        for step in result.steps:
            case = ET.SubElement(suite, "testcase", name=_xml(f"{step.section}[{step.index + 1}] {step.name}"),
                                 classname=_xml(result.runbook), time=f"{max(step.duration, 0):.3f}")
            if not step.ok:
                message = f"{result.location(step)}: " + ("; ".join(step.problems) or step.status)
                failure = ET.SubElement(case, "failure", type=step.status, message=_xml(message))
                failure.text = _xml(f"{result.location(step)}: {step.section}[{step.index + 1}] {step.name}\n"
                                    f"$ {step.command}\n{step.output_tail(40)}")
            elif step.status in _SKIPPED:
                ET.SubElement(case, "skipped", type=step.status, message=_xml(step.reason or _SKIPPED[step.status]))
            if step.stdout:
                ET.SubElement(case, "system-out").text = _xml(_bounded(step.stdout))
            if step.stderr:
                ET.SubElement(case, "system-err").text = _xml(_bounded(step.stderr))
    suites.attrib.update(tests=str(tests), failures=str(failed), errors="0", time=f"{seconds:.3f}")
    tree = ET.ElementTree(suites)
    ET.indent(tree)
    path.parent.mkdir(parents=True, exist_ok=True)
    tree.write(path, encoding="utf-8", xml_declaration=True)
