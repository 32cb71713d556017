"""Escaping untrusted text for Markdown pages that become HTML.

Source files come from pull requests, so no text from them may become markup: not HTML, not a
Markdown link or image, not an attribute list (`{: onclick=...}`), not a heading or a list. Text is
written with HTML character references for every character that could start markup; Python-Markdown
and every other CommonMark engine show those as the characters themselves.

A field that is Markdown by design (an incident's postmortem) goes through `md_source` instead: its
Markdown is kept, but nothing in it can become HTML, a link with a dangerous scheme or an image from
another host (see `render/sanitise.py` for the second layer, on the HTML).
"""

from __future__ import annotations

import html
import re
from collections.abc import Collection, Iterator

from markdown_it import MarkdownIt
from markupsafe import Markup

from .sanitise import loads_image, safe_link

__all__ = ["md_inline", "md_block", "md_source", "own_block", "own_inline", "code_block", "inline_code", "web_link",
           "severity_badge"]

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
    flat = re.sub(r"[^\S\u00a0]+", " ", str(text))  # a no-break space is kept: it was meant
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


def own_block(text: object) -> Markup:
    """Markdown written in opsbook itself (a code's explanation, a schema's descriptions, an option's
    text), never from a source: kept as Markdown, so that its code spans and emphasis render."""
    return Markup("" if text is None else str(text).strip())


def own_inline(text: object) -> Markup:
    """Markdown written in opsbook itself, for one line of a page: a table cell, a list item."""
    return Markup(" ".join(("" if text is None else str(text)).split()).replace("|", "\\|"))


def web_link(url: object, text: object = None) -> Markup:
    """A link to another site from a source (an alert's `runbook_url`): an HTML anchor when the address is
    `http` or `https`, else the address as inline code, never a link with another scheme."""
    address = "" if url is None else str(url).strip()
    scheme = address.split(":", 1)[0].lower() if ":" in address else ""
    if scheme not in ("http", "https") or not safe_link(address) or any(c in address for c in "\n\r\t <>\"'`"):
        return inline_code(address)
    label = _escape(" ".join(str(text if text is not None else address).split()))
    return Markup(f'<a href="{html.escape(address, quote=True)}">{label}</a>')


#: The severities a badge has a colour for (`assets/opsbook.css`): runbooks' and the usual alert ones.
BADGE_SEVERITIES = frozenset({"page", "critical", "high", "warning", "medium", "low", "info"})


def severity_badge(severity: object) -> Markup:
    """A severity as a badge coloured by how urgent it is (`assets/opsbook.css`), or as text when it is
    not one opsbook knows; `not set` when there is none."""
    if isinstance(severity, str) and severity in BADGE_SEVERITIES:
        return Markup(f'<span class="opsbook-severity opsbook-severity-{severity}">{severity}</span>')
    return md_inline(severity) if severity else Markup("not set")


def _guard_line_start(line: str) -> str:
    # A list marker or numbered-list marker at the start of a line; escape its punctuation.
    return _LINE_START.sub(lambda m: m.group(1) + "".join(f"&#{ord(c)};" if not c.isdigit() else c
                                                           for c in m.group(2)), line)


#: A reference definition's `]:` and its target (on the line, or alone on the next one), title included.
_DEFINITION = re.compile(r"\]:([ \t]*(?:\n[ \t]*)?)([^\n]*)")
#: Block syntax of Markdown extensions at the start of a line: admonitions, details, tabs, blocks.
_BLOCK_MARKER = re.compile(r"^(\s*)(!!!|\?\?\?|===|:::|///)", re.M)
_BLANK_LINE = re.compile(r"\n[ \t]*\n")


def md_source(text: object, image_hosts: Collection[str] = ()) -> Markup:
    """Markdown written in a source (a postmortem), kept as Markdown but unable to carry markup.

    HTML is escaped (`<`, `>`, `&`: raw tags, comments, entities and autolinks show as text), braces
    become entities (no attribute lists, no template syntax), and so do the block markers of
    extensions at the start of a line (`!!!`, `???`, `===`, `:::`, `///`). A link keeps its target
    only if it is relative or `http`, `https` or `mailto` (`safe_link`): an inline link to anything
    else points to `#`, and a reference definition to anything else is no longer one (its `:` an
    entity), so reference-style links cannot reach `javascript:` either. An image stays an image only
    when written inline with a target on the site or on a host of `image_hosts` (`loads_image`);
    any other image, reference-style ones included, becomes a link (its `!` an entity). Control
    characters other than tabs and newlines are dropped.
    """
    value = re.sub(r"[\x00-\x08\x0b-\x1f\x7f]", "", "" if text is None else str(text))
    value = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    value = value.replace("{", "&#123;").replace("}", "&#125;")
    value = _DEFINITION.sub(lambda m: m.group(0) if safe_link(html.unescape(m.group(2)))
                            else "]&#58;" + m.group(1) + m.group(2), value)
    value = _images(value, image_hosts)
    value = _links(value)
    value = _BLOCK_MARKER.sub(lambda m: m.group(1) + "".join(f"&#{ord(c)};" for c in m.group(2)), value)
    return Markup("\n".join(value.splitlines()))


def _closing(text: str, start: int, opening: str = "(", closing: str = ")") -> int:
    """The index of the `closing` that balances text from `start`, or -1 (none before a blank line)."""
    depth, index = 0, start
    while index < len(text):
        char = text[index]
        if char == "\\":
            index += 2
            continue
        if char == opening:
            depth += 1
        elif char == closing:
            if depth == 0:
                return index
            depth -= 1
        elif char == "\n" and _BLANK_LINE.match(text, index):
            return -1
        index += 1
    return -1


def _image_loads(target: str, hosts: Collection[str]) -> bool:
    """Whether the inside of `![alt](...)` is an image that may load: its address, then at most a title."""
    parts = html.unescape(target).split(None, 1)
    return bool(parts) and loads_image(parts[0], hosts) and (len(parts) == 1 or parts[1][:1] in "\"'(")


def _images(text: str, hosts: Collection[str]) -> str:
    out, position = [], 0
    for match in re.finditer(r"!\[", text):
        if match.start() < position:
            continue
        close = _closing(text, match.end(), "[", "]")
        if close >= 0 and text.startswith("(", close + 1):
            end = _closing(text, close + 2)
            if end >= 0 and _image_loads(text[close + 2:end], hosts):
                continue
        out.append(text[position:match.start()] + "&#33;")
        position = match.start() + 1
    return "".join(out) + text[position:]


def _links(text: str) -> str:
    out, position = [], 0
    for match in re.finditer(r"\]\(", text):
        if match.start() < position:
            continue
        end = _closing(text, match.end())
        blank = _BLANK_LINE.search(text, match.end())
        target = text[match.end():end] if end >= 0 else text[match.end():blank.start() if blank else len(text)]
        if safe_link(html.unescape(target)):
            continue
        if end >= 0:
            out.append(text[position:match.start()] + "](#)")
            position = end + 1
        else:
            out.append(text[position:match.start()] + "]&#40;")
            position = match.end()
    return "".join(out) + text[position:]


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


_COMMONMARK = MarkdownIt("commonmark")
_CODE_TOKENS = frozenset({"fence", "code_block"})


def code_lines(markdown: str) -> set[int]:
    """The line numbers (from 1, as `str.splitlines` counts them) that CommonMark reads as code: fenced
    blocks with their fence lines (an unclosed fence runs to the end of the page) and indented code
    blocks, at top level or inside lists and block quotes."""
    lines = markdown.splitlines()
    # markdown-it breaks lines at newlines only; joined this way its line numbers are those of splitlines.
    tokens = _COMMONMARK.parse("".join(line + "\n" for line in lines))
    inside: set[int] = set()
    for token in tokens:
        if token.type in _CODE_TOKENS and token.map:
            start, end = token.map
            inside.update(range(start + 1, end + 1))
    return inside


def lines_outside_fences(markdown: str) -> Iterator[tuple[int, str]]:
    """(line number, line) of every line of Markdown outside code blocks (fenced, fence lines left out,
    or indented), as a CommonMark parser (markdown-it-py) reads the page."""
    inside = code_lines(markdown)
    for number, line in enumerate(markdown.splitlines(), start=1):
        if number not in inside:
            yield number, line
