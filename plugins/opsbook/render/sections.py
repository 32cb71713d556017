"""Generated sections embedded in hand-written pages.

A hand-written Markdown page embeds a section with a line of its own:

    <!-- opsbook: alerts -->

The line is an HTML comment, so a page read anywhere else (on GitHub, in an editor) shows nothing
broken. The MkDocs plugin and `opsbook build --out` replace it with the section, its links relative
to the page; an unknown name is an error (OB060) for `opsbook check` and fails the build.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..diagnostics import Code, Diagnostic, Severity, make
from .markdown import lines_outside_fences

if TYPE_CHECKING:
    from ..model import Handbook
    from . import Renderer

__all__ = ["Section", "DIRECTIVE", "OB060", "directives", "expand_sections", "section", "unknown_section"]

OB060 = Code("OB060", Severity.ERROR, "Unknown generated section",
             "A hand-written page embeds a generated section (`<!-- opsbook: NAME -->`) by a name opsbook does "
             "not know. The message lists the names there are; the guide's page on embedding describes each.",
         failing="<!-- docs/alerts.md -->\n"
                 "# Alerts\n"
                 "<!-- opsbook: alert -->\n",
         passing="<!-- docs/alerts.md -->\n"
                 "# Alerts\n"
                 "<!-- opsbook: alerts -->\n")

DIRECTIVE = re.compile(r"^[ ]{0,3}<!--\s*opsbook:\s*([A-Za-z0-9_-]+)\s*-->[ \t]*$", re.M)

SectionRenderer = Callable[["Handbook", "Renderer", str], str]


@dataclass(frozen=True)
class Section:
    """A generated section a hand-written page may embed: `render(handbook, renderer, page_uri)` gives
    its Markdown, links relative to the page. Calling the section renders it."""

    name: str
    description: str
    render: SectionRenderer

    def __call__(self, handbook: Handbook, renderer: Renderer, uri: str) -> str:
        return self.render(handbook, renderer, uri)


def section(name: str, description: str) -> Callable[[SectionRenderer], Section]:
    """Make a function `(handbook, renderer, page_uri) -> Markdown` a `Section` (registers nothing:
    a family lists its sections in its `Family` value)."""

    def declare(function: SectionRenderer) -> Section:
        return Section(name, description, function)

    return declare


def directives(markdown: str) -> Iterator[tuple[int, int, str]]:
    """(line, column, name) of every section directive, outside fenced code blocks."""
    for number, line in lines_outside_fences(markdown):
        found = DIRECTIVE.match(line)
        if found:
            yield number, line.index("<!--") + 1, found.group(1)


def expand_sections(handbook: Handbook, renderer: Renderer, page_uri: str, markdown: str,
                    path: str, wrap: Callable[[str], str] | None = None) -> tuple[str, list[Diagnostic]]:
    """The page with every directive replaced by its section (from `renderer.sections`), passed through
    `wrap` if given (the MkDocs plugin marks where each section is, to sanitise its HTML); unknown
    names are diagnostics."""
    sections = renderer.sections
    lines = markdown.splitlines(keepends=True)
    problems: list[Diagnostic] = []
    for number, column, name in sorted(directives(markdown), reverse=True):
        known = sections.get(name)
        if known is None:
            problems.append(unknown_section(path, number, column, name, sections))
            continue
        body = known.render(handbook, renderer, page_uri)
        body = re.sub(r"\A# [^\n]*\n+", "", body)  # the section's own title: the page has one
        if wrap is not None:
            body = wrap(body)
        lines[number - 1] = body if body.endswith("\n") else body + "\n"
    return "".join(lines), sorted(problems, key=lambda d: (d.line, d.column))


def unknown_section(path: str, line: int, column: int, name: str, sections: Mapping[str, Section] | Iterable[str]
                    ) -> Diagnostic:
    """OB060 for a directive naming no section."""
    return make(OB060, path, line, column, f"no generated section is called '{name}' "
                                           f"(sections: {', '.join(sorted(sections))})")
