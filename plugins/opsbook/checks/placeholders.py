"""Placeholder text left in a source or a page: TODO, TBD, FIXME, lorem ipsum (OB070).

Code is left alone: fenced blocks and inline code spans of pages, since a guide may well show the
word it warns about.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from ..diagnostics import Code, Diagnostic, Severity, make
from ..model import Handbook
from ..render.markdown import lines_outside_fences

OB070 = Code("OB070", Severity.WARNING, "Placeholder text",
         "A source or a hand-written page still holds placeholder text: TODO, TBD, FIXME or lorem ipsum. A "
         "reader in an incident cannot act on a placeholder. Finish the sentence, or file the work elsewhere. "
         "Code blocks and inline code are not searched.",
         failing="# runbooks/orders-db-restore.yaml\n"
                 "summary: TODO describe when to use this\n",
         passing="# runbooks/orders-db-restore.yaml\n"
                 "summary: When the orders database is lost or corrupt.\n")

PLACEHOLDER = re.compile(r"\b(TODO|TBD|FIXME)\b|\blorem ipsum\b|\blorem\b", re.I)
_UPPER_ONLY = {"todo", "tbd", "fixme"}
_WORDS = ("todo", "tbd", "fixme", "lorem")


def _may_hold_placeholder(text: str) -> bool:
    """A quick test before the regex: substring searches of the lowered text are many times faster than
    a case-blind regex over a large file, and most files hold none of the words."""
    if not text.isascii():
        return True  # case folding beyond ASCII (FİXME) is the regex's to judge
    lowered = text.lower()
    return any(word in lowered for word in _WORDS)


def _matches(line: str) -> Iterator[re.Match[str]]:
    for found in PLACEHOLDER.finditer(line):
        word = found.group(0)
        if word.lower() in _UPPER_ONLY and word != word.upper():
            continue  # "todo" in prose is a word, "TODO" is a marker
        yield found


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
        if not _may_hold_placeholder(text) or not PLACEHOLDER.search(text):
            continue  # one pass over the whole text settles most files
        for number, line in enumerate(text.splitlines(), start=1):
            if line.lstrip().startswith("#"):
                continue  # YAML comments are notes for maintainers
            for found in _matches(line):
                yield make(OB070, document.path, number, found.start() + 1,
                           f"placeholder text {found.group(0)!r}")
    for relpath, text in handbook.docs_pages():
        for number, line in _prose_lines(text):
            for found in _matches(line):
                yield make(OB070, relpath, number, found.start() + 1, f"placeholder text {found.group(0)!r}")
