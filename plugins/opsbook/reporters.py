"""Reporters: diagnostics as text with the source line and a caret, GitHub annotations, JSON, SARIF."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from urllib.parse import quote

from . import __version__
from .diagnostics import Diagnostic, Severity
from .registry import CODES

__all__ = ["FORMATS", "default_format", "format_diagnostics", "one_line"]

# Line breaks and other control characters (C0, DEL, C1), the Unicode line and paragraph separators,
# and the bidirectional controls that reorder what a terminal shows.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def one_line(text: str) -> str:
    """Text that stays on its line of a log and is read by nothing as a command.

    A newline shows as `\\n`, any other control character as `\\xNN` or `\\uNNNN`, so a value from a
    source (a title, a path) can never start a line of its own. GitHub's runner reads a line that starts,
    after spaces, with `::` as a workflow command (`::error file=...::`), and `##[` anywhere in a line as
    one of the older form: the first `:` of such a line and the `[` of `##[` are written as `\\x3a` and
    `\\x5b`.
    """
    value = _CONTROL.sub(lambda m: _NAMED.get(m.group(0)) or (f"\\x{ord(m.group(0)):02x}" if ord(m.group(0)) < 0x100
                                                              else f"\\u{ord(m.group(0)):04x}"), text)
    value = value.replace("##[", "##\\x5b")
    return re.sub(r"\A(\s*):(?=:)", r"\1\\x3a", value)


def _source_line(root: Path, diagnostic: Diagnostic, cache: dict[str, list[str]]) -> str | None:
    if diagnostic.line < 1:
        return None
    if diagnostic.path not in cache:
        try:
            file = root / diagnostic.path
            # Never show a line of a file outside the handbook (a link a pull request planted).
            if not file.resolve().is_relative_to(root.resolve()) or file.stat().st_size > 5 * 1024 * 1024:
                raise OSError
            cache[diagnostic.path] = file.read_text(encoding="utf-8", errors="replace").splitlines()
        except (OSError, ValueError):  # ValueError: a path no file can have (a NUL in it)
            cache[diagnostic.path] = []
    lines = cache[diagnostic.path]
    if diagnostic.line == len(lines) + 1:
        return ""  # the parser gave up at the end of the file
    return lines[diagnostic.line - 1] if diagnostic.line <= len(lines) else None


def text(diagnostics: Sequence[Diagnostic], root: Path) -> str:
    """`path:line:col: severity CODE message`, then the source line with a caret under the column."""
    cache: dict[str, list[str]] = {}
    out = []
    credentials = {(d.path, d.line) for d in diagnostics if d.code == "OB411"}
    for diagnostic in diagnostics:
        out.append(one_line(f"{diagnostic.location()}: {diagnostic.severity} {diagnostic.code} {diagnostic.message}"))
        # The line of a committed credential is not repeated into logs.
        line = None if (diagnostic.path, diagnostic.line) in credentials else _source_line(root, diagnostic, cache)
        if line is not None:
            shown = one_line(line.expandtabs(1)[:200])
            out.append(f"    {shown}")
            out.append("    " + " " * min(max(diagnostic.column - 1, 0), len(shown)) + "^")
        if diagnostic.hint:
            out.append(f"    hint: {one_line(diagnostic.hint)}")
    errors = sum(d.severity >= Severity.ERROR for d in diagnostics)
    warnings = sum(d.severity == Severity.WARNING for d in diagnostics)
    out.append(f"{errors} error{'s' * (errors != 1)}, {warnings} warning{'s' * (warnings != 1)}")
    return "\n".join(out)


def _escape_property(value: str) -> str:
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A").replace(":", "%3A").replace(",", "%2C")


def _escape_data(value: str) -> str:
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def github(diagnostics: Sequence[Diagnostic], root: Path) -> str:
    """GitHub Actions workflow commands, one annotation per diagnostic."""
    levels = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}
    out = []
    for d in diagnostics:
        message = d.message + (f" (hint: {d.hint})" if d.hint else "")
        out.append(f"::{levels[d.severity]} file={_escape_property(d.path)},line={d.line},col={d.column},"
                   f"title={_escape_property(d.code)}::{_escape_data(message)}")
    return "\n".join(out)


def as_json(diagnostics: Sequence[Diagnostic], root: Path) -> str:
    """A JSON list of objects with `path`, `line`, `column`, `severity`, `code`, `message` (and `hint`)."""
    return json.dumps([d.to_dict() for d in diagnostics], indent=2, ensure_ascii=False)


def sarif(diagnostics: Sequence[Diagnostic], root: Path) -> str:
    """SARIF 2.1.0, for code-scanning dashboards."""
    levels = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}
    used = sorted({d.code for d in diagnostics} | set(CODES))
    rules = [{
        "id": code,
        "name": CODES[code].title if code in CODES else code,
        "shortDescription": {"text": CODES[code].title if code in CODES else code},
        "fullDescription": {"text": CODES[code].explanation if code in CODES else code},
        "defaultConfiguration": {"level": levels[CODES[code].severity] if code in CODES else "error"},
    } for code in used]
    index = {code: i for i, code in enumerate(used)}
    results = [{
        "ruleId": d.code,
        "ruleIndex": index[d.code],
        "level": levels[d.severity],
        "message": {"text": d.message + (f" (hint: {d.hint})" if d.hint else "")},
        "locations": [{"physicalLocation": {
            "artifactLocation": {"uri": quote(d.path), "uriBaseId": "ROOT"},
            "region": {"startLine": max(d.line, 1), "startColumn": max(d.column, 1)},
        }}],
    } for d in diagnostics]
    log = {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "opsbook", "version": __version__, "rules": rules}},
            "originalUriBaseIds": {"ROOT": {"uri": root.resolve().as_uri() + "/"}},
            "results": results,
        }],
    }
    return json.dumps(log, indent=2, ensure_ascii=False)


FORMATS: dict[str, Callable[[Sequence[Diagnostic], Path], str]] = {
    "text": text, "github": github, "json": as_json, "sarif": sarif,
}


def default_format() -> str:
    """`github` under GitHub Actions, `text` elsewhere."""
    return "github" if os.environ.get("GITHUB_ACTIONS") == "true" else "text"


def format_diagnostics(diagnostics: Sequence[Diagnostic], root: Path, fmt: str | None = None) -> str:
    return FORMATS[fmt or default_format()](diagnostics, root)
