"""Tokens a table cell must not break: dates kept whole in the HTML of a page.

A browser may break a line after any hyphen, so a narrow column of a table shows `2026-11-|30`. Code
is kept whole by opsbook's stylesheet (`assets/opsbook.css`: no break inside a code span of a table);
a date is plain text, so `keep_dates_whole` wraps each date in a table cell in a
`<span class="opsbook-nowrap">`, which the stylesheet keeps on one line. It works on the HTML MkDocs made
of a page (after `sanitise_html`), reading it with the standard library's HTML parser to find the text of
each cell: nothing inside a tag, an attribute, a code span or a preformatted block is touched.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

__all__ = ["NOWRAP_CLASS", "keep_dates_whole"]

#: The class of a span that must not break across lines (`assets/opsbook.css`).
NOWRAP_CLASS = "opsbook-nowrap"
_DATE = re.compile(r"(?<![\w-])\d{4}-\d{2}-\d{2}(?: \d{2}:\d{2}(?::\d{2})?(?: UTC)?)?(?![\w-])")
_VERBATIM = frozenset({"code", "pre", "kbd", "script", "style", "svg"})


class _Cells(HTMLParser):
    """Finds the text of table cells outside code, as (start offset, end offset) in the page."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=False)
        self.line_starts = [0] + [match.end() for match in re.finditer("\n", text)]
        self.cells = 0
        self.code = 0
        self.spans: list[tuple[int, int]] = []

    def _offset(self) -> int:
        line, column = self.getpos()
        return self.line_starts[line - 1] + column

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("td", "th"):
            self.cells += 1
        elif tag in _VERBATIM:
            self.code += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th"):
            self.cells = max(self.cells - 1, 0)
        elif tag in _VERBATIM:
            self.code = max(self.code - 1, 0)

    def handle_data(self, data: str) -> None:
        if self.cells and not self.code:
            start = self._offset()
            self.spans.append((start, start + len(data)))


def keep_dates_whole(html: str) -> str:
    """The page with every date (`2026-11-30`, `2026-11-30 14:02 UTC`) in the text of a table cell wrapped
    in a span that does not break across lines."""
    if "<t" not in html or not _DATE.search(html):
        return html
    parser = _Cells(html)
    parser.feed(html)
    parser.close()
    out, position = [], 0
    for start, end in parser.spans:
        segment = html[start:end]
        if not _DATE.search(segment):
            continue
        out.append(html[position:start])
        out.append(_DATE.sub(lambda found: f'<span class="{NOWRAP_CLASS}">{found.group(0)}</span>', segment))
        position = end
    return "".join(out) + html[position:]
