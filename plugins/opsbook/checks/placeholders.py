"""Placeholder text left in a source or a page: TODO, TBD, FIXME, lorem ipsum; and, in a source, the texts
`opsbook new runbook` writes for its author to replace (`scaffold.PLACEHOLDERS`, the one list of them) (OB070).

Code is left alone: fenced blocks and inline code spans of pages, since a guide may well show the
word it warns about. YAML comments are left alone too: they are notes for maintainers.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from ..diagnostics import Code, Diagnostic, Severity, make
from ..model import Handbook
from ..render.markdown import lines_outside_fences
from ..scaffold import COMMAND, PLACEHOLDERS, SUMMARY, Placeholder

OB070 = Code("OB070", Severity.WARNING, "Placeholder text",
         "A source or a hand-written page still holds placeholder text: TODO, TBD, FIXME or lorem ipsum; or a "
         "source still holds a text that `opsbook new runbook` writes for its author to replace: the summary "
         f"`{SUMMARY.text}` and the command `{COMMAND.text}`. A reader in an incident cannot act on a "
         "placeholder. Finish the sentence, write the real command, or file the work elsewhere. Code blocks "
         "and inline code of pages are not searched, nor YAML comments.",
         failing="# runbooks/orders-db-restore.yaml\n"
                 f"summary: {SUMMARY.text}\n"
                 "symptoms: [TODO describe what people see]\n",
         passing="# runbooks/orders-db-restore.yaml\n"
                 "summary: When the orders database is lost or corrupt.\n"
                 "symptoms: [connection refused on 5432]\n")

PLACEHOLDER = re.compile(r"\b(TODO|TBD|FIXME)\b|\blorem ipsum\b|\blorem\b", re.I)
_UPPER_ONLY = {"todo", "tbd", "fixme"}
_WORDS = ("todo", "tbd", "fixme", "lorem")


def _may_hold_placeholder(text: str) -> bool:
    """A quick test before the regex: substring searches of the lowered text are many times faster than
    a case-blind regex over a large file, and most files hold none of the words."""
    if not text.isascii():
        return True  # case folding beyond ASCII (FİXME) is the regex's to judge
    lowered = text.lower()
    return any(word in lowered for word in _WORDS) or any(placeholder.text in text for placeholder in PLACEHOLDERS)


def _matches(line: str) -> Iterator[re.Match[str]]:
    for found in PLACEHOLDER.finditer(line):
        word = found.group(0)
        if word.lower() in _UPPER_ONLY and word != word.upper():
            continue  # "todo" in prose is a word, "TODO" is a marker
        yield found


def _findings(line: str, scaffold: bool) -> Iterator[tuple[int, str, str | None]]:
    """Each placeholder of a line, with the scaffold's texts when `scaffold`: its column (0-based), the
    message, and the hint."""
    for found in _matches(line):
        yield found.start(), f"placeholder text {found.group(0)!r}", None
    if scaffold:
        for placeholder in PLACEHOLDERS:
            yield from _scaffold_text(line, placeholder)


def _scaffold_text(line: str, placeholder: Placeholder) -> Iterator[tuple[int, str, str | None]]:
    start = line.find(placeholder.text)
    while start != -1:
        yield (start, f"placeholder text {placeholder.text!r}, written by `opsbook new runbook` to be replaced",
               placeholder.instead)
        start = line.find(placeholder.text, start + len(placeholder.text))


def _prose_lines(text: str) -> Iterator[tuple[int, str]]:
    """Lines of Markdown outside fenced code, with inline code blanked (columns kept)."""
    for number, line in lines_outside_fences(text):
        yield number, re.sub(r"(`+)(.+?)\1", lambda m: " " * len(m.group(0)), line)


def check_placeholders(handbook: Handbook) -> Iterator[Diagnostic]:
    """OB070: no placeholder in any source the handbook reads, nor in its hand-written pages."""
    seen: set[str] = set()
    for document in handbook.documents:
        if document.path in seen:
            continue
        seen.add(document.path)
        text = document.text
        if not _may_hold_placeholder(text) or not (PLACEHOLDER.search(text)
                                                   or any(p.text in text for p in PLACEHOLDERS)):
            continue  # one pass over the whole text settles most files
        for number, line in enumerate(text.splitlines(), start=1):
            if line.lstrip().startswith("#"):
                continue  # YAML comments are notes for maintainers
            for column, message, hint in _findings(line, scaffold=True):
                yield make(OB070, document.path, number, column + 1, message, hint)
    # `opsbook new runbook` writes sources only; a page may well describe a field in the words of its
    # placeholder (the guide's `summary`: "When to use this runbook, in a sentence or two.").
    for relpath, text in handbook.docs_pages():
        for number, line in _prose_lines(text):
            for column, message, hint in _findings(line, scaffold=False):
                yield make(OB070, relpath, number, column + 1, message, hint)
