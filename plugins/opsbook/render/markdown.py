"""Escaping untrusted text for Markdown pages that become HTML.

Source files come from pull requests, so no text from them may become markup: not HTML, not a
Markdown link or image, not an attribute list (`{: onclick=...}`), not a heading or a list. Text is
written with HTML character references for every character that could start markup; Python-Markdown
and every other CommonMark engine show those as the characters themselves.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from markupsafe import Markup

__all__ = ["md_inline", "md_block", "code_block", "inline_code"]

_ENTITIES = {
    "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;",
    "\\": "&#92;", "`": "&#96;", "*": "&#42;", "_": "&#95;", "[": "&#91;", "]": "&#93;",
    "{": "&#123;", "}": "&#125;", "|": "&#124;", "!": "&#33;",
    "#": "&#35;", "~": "&#126;", "^": "&#94;", "$": "&#36;",
}
# Left as they are, because nothing they start is markup once `[`, `<` and `{` are escaped:
# parentheses (a link needs `](`), colons (`javascript:` is only dangerous inside a link or tag), `=`.
_SPECIAL = re.compile("[" + re.escape("".join(_ENTITIES)) + "]")
_LINE_START = re.compile(r"^(\s*)([-+](?=\s|$)|\d+[.)](?=\s|$)|\?\?\?|/{3}|={3}|[-=*_](?=[-=*_ \t]*$))")


def _escape(text: str) -> str:
    return _SPECIAL.sub(lambda match: _ENTITIES[match.group(0)], text)


def md_inline(text: object) -> Markup:
    """Text for one line of Markdown (a heading, a table cell, a list item): escaped, on one line."""
    if text is None:
        return Markup("")
    flat = re.sub(r"\s+", " ", str(text))
    return Markup(_guard_line_start(_escape(flat)))


def md_block(text: object) -> Markup:
    """Text of several lines and paragraphs, escaped, with no line able to start a block of markup."""
    if text is None:
        return Markup("")
    lines = []
    for line in str(text).strip().splitlines():
        line = line.strip()  # indentation would make a code block
        lines.append(_guard_line_start(_escape(line)))
    return Markup("\n".join(lines))


def _guard_line_start(line: str) -> str:
    # A list marker or numbered-list marker at the start of a line; escape its punctuation.
    return _LINE_START.sub(lambda m: m.group(1) + "".join(f"&#{ord(c)};" if not c.isdigit() else c
                                                           for c in m.group(2)), line)


def code_block(text: object, language: str = "", indent: int = 0) -> Markup:
    """A fenced code block holding `text` verbatim, its fence longer than any run of backticks in it."""
    body = "" if text is None else str(text).rstrip("\n")
    longest = max((len(run) for run in re.findall(r"`+", body)), default=0)
    fence = "`" * max(3, longest + 1)
    language = re.sub(r"[^A-Za-z0-9_+-]", "", language)
    pad = " " * indent
    lines = [f"{pad}{fence}{language}"] + [f"{pad}{line}" if line else "" for line in body.splitlines()]
    lines.append(f"{pad}{fence}")
    return Markup("\n".join(lines))


def inline_code(text: object) -> Markup:
    """An inline code span holding `text` verbatim (on one line), delimited by enough backticks."""
    body = " ".join(str(text).split()) if text is not None else ""
    longest = max((len(run) for run in re.findall(r"`+", body)), default=0)
    ticks = "`" * (longest + 1)
    pad = " " if body.startswith("`") or body.endswith("`") or longest else ""
    return Markup(f"{ticks}{pad}{body}{pad}{ticks}")


_FENCE = re.compile(r"\s*(`{3,}|~{3,})(.*)$")


def lines_outside_fences(markdown: str) -> Iterator[tuple[int, str]]:
    """(line number, line) of every line of Markdown outside fenced code blocks, fence lines left out."""
    fence: str | None = None
    for number, line in enumerate(markdown.splitlines(), start=1):
        opening = _FENCE.match(line)
        if opening:
            run, rest = opening.groups()
            if fence is None:
                fence = run
            elif run[0] == fence[0] and len(run) >= len(fence) and not rest.strip():
                fence = None  # a closing fence: the same character, at least as long, nothing after it
            continue
        if fence is None:
            yield number, line
