"""Committed secrets: no credential written in any source the handbook reads, nor in its scripts (OB411)."""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterator
from pathlib import Path

from ..diagnostics import Code, Diagnostic, Severity, make
from ..loader import not_regular
from ..model import Handbook

OB411 = Code("OB411", Severity.ERROR, "Secret value committed to a source file",
         "Something that looks like a credential is written in a source file: a cloud access key, a private "
         "key, a token, a webhook URL, a password in a URL or in a `password:` field. Remove it, rotate it, "
         "and reference it from a secret store instead. The message shows only its first characters.",
         failing="# runbooks/orders-db-restore.yaml\n"
                 "inputs:\n"
                 "  DATABASE_URL:\n"
                 "    description: The orders database\n"
                 "    default: postgresql://orders:hunter2hunter2@db/orders\n",
         passing="# runbooks/orders-db-restore.yaml\n"
                 "inputs:\n"
                 "  DATABASE_URL:\n"
                 "    description: The orders database\n"
                 "    default: postgresql://orders@db/orders   # the password from PGPASSFILE\n")
_TOKENS = [
    ("an AWS access key", re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b")),
    ("a private key", re.compile(r"-----BEGIN (?:RSA |EC |DSA |OPENSSH |PGP |ENCRYPTED )?PRIVATE KEY-----")),
    ("a GitHub token", re.compile(r"\bgh[pousr]_[A-Za-z0-9]{36,}\b|\bgithub_pat_[A-Za-z0-9_]{50,}\b")),
    ("a Slack token", re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}\b")),
    ("a Slack webhook URL", re.compile(r"https://hooks\.slack\.com/services/T[A-Za-z0-9]+/B[A-Za-z0-9]+/[A-Za-z0-9]{16,}")),
    ("a Stripe key", re.compile(r"\b[rs]k_live_[A-Za-z0-9]{16,}\b")),
    ("a Google API key", re.compile(r"\bAIza[0-9A-Za-z_-]{35}\b")),
    ("a password in a URL", re.compile(r"\b[a-z][a-z0-9+.-]*://[^\s:/@'\"]+:([^\s@/'\"$<>{}*]{6,})@")),
]
_FIELD = re.compile(r"^\s*-?\s*[\"']?([A-Za-z0-9_-]*(?:password|passwd|secret|token|api_key|apikey|private_key|"
                    r"access_key|secret_key))[\"']?\s*:\s*[\"']?([^\s\"'#]{8,})", re.I)
_PLACEHOLDER = re.compile(r"^(?:\$|<|\{|\[|&|\*|!|\*+$|x+$|changeme$|example|/|\.\.?/|~|none$|null$|true$|false$)",
                          re.I)
MAX_SCAN = 2 * 1024 * 1024


_LITERALS = {
    "an AWS access key": ("AKIA", "ASIA"),
    "a private key": ("PRIVATE KEY",),
    "a GitHub token": ("ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"),
    "a Slack token": ("xox",),
    "a Slack webhook URL": ("hooks.slack.com",),
    "a Stripe key": ("_live_",),
    "a Google API key": ("AIza",),
    "a password in a URL": ("://",),
}
_FIELD_WORDS = ("password", "passwd", "secret", "token", "key")
_KEY_PREFIXES = ("api_", "api", "private_", "access_", "secret_")
_AFTER_FIELD = re.compile(r"[\"']?\s*:")
_FIELD_HINT = re.compile(r"(?:password|passwd|secret|token|api_?key|private_key|access_key|secret_key)[\"']?\s*:", re.I)


def _field_hints(text: str) -> list[int]:
    """Offsets of `password:`, `api_key:`… in any case (the names `_FIELD` reads), in order.

    `str.find` over the lowered text, then a match right after each word: a case-blind regex with an
    alternation at its head tries every offset of the text and cost ten times as much. Text beyond
    ASCII goes to that regex all the same, whose case folding (`İ`, `ı`, `ſ`) `str.lower` does not share.
    """
    if not text.isascii():  # case folding beyond ASCII (İ, ı, ſ) is the regex's: it decides
        return [found.start() for found in _FIELD_HINT.finditer(text)]
    lowered = text.lower()
    found: list[int] = []
    for word in _FIELD_WORDS:
        at = lowered.find(word)
        while at >= 0:
            end = at + len(word)
            if (word != "key" or lowered.endswith(_KEY_PREFIXES, 0, at)) and _AFTER_FIELD.match(lowered, end):
                found.append(at)
            at = lowered.find(word, end)
    return sorted(found)


def _scan_text(path: str, text: str) -> Iterator[Diagnostic]:
    """Scan the whole text at once (minified JSON puts a file on one line), then map offsets to lines."""
    starts: list[int] = []

    def where(offset: int) -> tuple[int, int]:
        if not starts:  # most files have no candidate at all: lines are counted only when needed
            starts.extend([0, *(newline.end() for newline in re.finditer("\n", text))])
        line = bisect_right(starts, offset)
        return line, offset - starts[line - 1] + 1

    reported: set[int] = set()
    for what, pattern in _TOKENS:
        if not any(literal in text for literal in _LITERALS[what]):
            continue  # each pattern needs one of these literals: a substring test spares the regex
        for found in pattern.finditer(text):
            value = found.group(1) if found.groups() else found.group(0)
            if what == "a password in a URL" and _PLACEHOLDER.match(value):
                continue
            line, column = where(found.start())
            reported.add(line)
            yield make(OB411, path, line, column, f"this looks like {what} ({value[:2]}…) written in the file")
    seen: set[int] = set()
    for hint in _field_hints(text):
        line, _ = where(hint)
        if line in reported or line in seen:
            continue
        seen.add(line)
        end = starts[line] - 1 if line < len(starts) else len(text)  # `where` filled `starts`
        content = text[starts[line - 1]:end]
        field = _FIELD.match(content)
        if field and not field.group(1).lower().endswith(("_file", "_path", "_name", "_env")):
            value = field.group(2)
            if not _PLACEHOLDER.match(value) and not value.startswith("${{") and len(set(value)) > 3:
                yield make(OB411, path, line, content.index(value) + 1,
                           f"{field.group(1)} holds a literal value ({value[:2]}…); reference a secret instead")


def check_committed_secrets(handbook: Handbook) -> Iterator[Diagnostic]:
    """OB411: no credential written in any source the handbook reads (those it could not parse too),
    nor in its scripts."""
    seen: set[str] = set()
    for document in handbook.documents:
        if document.path not in seen and document.index == 0:
            seen.add(document.path)
            yield from _scan_text(document.path, document.text)
    for relpath, file in handbook.unparsed:  # a syntax error does not hide a committed key
        if relpath not in seen:
            seen.add(relpath)
            text = _read_bounded(file)
            if text is not None:
                yield from _scan_text(relpath, text)
    scripts = handbook.root / "scripts"
    if scripts.is_dir():
        for file in sorted(scripts.rglob("*")):
            if file.is_file() and not file.is_symlink():
                text = _read_bounded(file)
                if text is not None:
                    yield from _scan_text(file.relative_to(handbook.root).as_posix(), text)


def _read_bounded(file: Path) -> str | None:
    """A file's text up to MAX_SCAN bytes; bytes that are not UTF-8 read as U+FFFD (lines are kept)."""
    if not_regular(file) is not None:
        return None  # a named pipe would wait for a writer forever
    try:
        if file.stat().st_size > MAX_SCAN:
            return None
        return file.read_bytes().decode("utf-8-sig", errors="replace")
    except OSError:
        return None


