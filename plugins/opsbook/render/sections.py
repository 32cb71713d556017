"""Generated sections embedded in hand-written pages.

A hand-written Markdown page embeds a section with a line of its own:

    <!-- opsbook: alerts -->

The line is an HTML comment, so a page read anywhere else (on GitHub, in an editor) shows nothing
broken. The MkDocs plugin and `opsbook build --out` replace it with the section, its links relative
to the page; an unknown name is an error (OB060) for `opsbook check` and fails the build.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..diagnostics import Diagnostic, Severity, make, register
from .markdown import lines_outside_fences

if TYPE_CHECKING:
    from ..model import Handbook
    from . import Renderer

__all__ = ["SECTIONS", "Section", "expand_sections", "section", "check_sections"]

register("OB060", Severity.ERROR, "Unknown generated section",
         "A hand-written page embeds a generated section (`<!-- opsbook: NAME -->`) by a name opsbook does not "
         "know. The message lists the names there are; the guide's page on embedding describes each.",
         failing="<!-- opsbook: alert -->\n", passing="<!-- opsbook: alerts -->\n")

DIRECTIVE = re.compile(r"^[ ]{0,3}<!--\s*opsbook:\s*([A-Za-z0-9_-]+)\s*-->[ \t]*$", re.M)

SectionRenderer = Callable[["Handbook", "Renderer", str], str]


@dataclass(frozen=True)
class Section:
    name: str
    description: str
    render: SectionRenderer


SECTIONS: dict[str, Section] = {}


def section(name: str, description: str) -> Callable[[SectionRenderer], SectionRenderer]:
    """Declare a function `(handbook, renderer, page_uri) -> Markdown` as an embeddable section."""

    def declare(function: SectionRenderer) -> SectionRenderer:
        SECTIONS[name] = Section(name, description, function)
        return function

    return declare


def _load_all() -> None:
    # The page modules declare their sections when imported.
    from . import alerts, architecture, health, metrics, opsdata, runbooks, teams, workflows  # noqa: F401


def directives(markdown: str) -> Iterator[tuple[int, int, str]]:
    """(line, column, name) of every section directive, outside fenced code blocks."""
    for number, line in lines_outside_fences(markdown):
        found = DIRECTIVE.match(line)
        if found:
            yield number, line.index("<!--") + 1, found.group(1)


def expand_sections(handbook: Handbook, renderer: Renderer, page_uri: str, markdown: str,
                    path: str) -> tuple[str, list[Diagnostic]]:
    """The page with every directive replaced by its section; unknown names are diagnostics."""
    _load_all()
    lines = markdown.splitlines(keepends=True)
    problems: list[Diagnostic] = []
    for number, column, name in sorted(directives(markdown), reverse=True):
        known = SECTIONS.get(name)
        if known is None:
            problems.append(_unknown(path, number, column, name))
            continue
        body = known.render(handbook, renderer, page_uri)
        body = re.sub(r"\A# [^\n]*\n+", "", body)  # the section's own title: the page has one
        lines[number - 1] = body if body.endswith("\n") else body + "\n"
    return "".join(lines), sorted(problems, key=lambda d: (d.line, d.column))


def _unknown(path: str, line: int, column: int, name: str) -> Diagnostic:
    return make("OB060", path, line, column, f"no generated section is called '{name}' "
                                             f"(sections: {', '.join(sorted(SECTIONS))})")


def check_sections(handbook: Handbook) -> Iterator[Diagnostic]:
    """OB060: every section a hand-written page embeds exists."""
    _load_all()
    for relpath, text in handbook.docs_pages():
        for number, column, name in directives(text):
            if name not in SECTIONS:
                yield _unknown(relpath, number, column, name)
