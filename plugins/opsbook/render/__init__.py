"""Rendering: the Handbook turned into Markdown pages (path → text), engine-neutral.

Templates are Jinja2 files shipped in the `templates/` folder of each package that makes pages (this
one, each kind family, `opsbook.health`); the renderer is handed the list. Every value a template prints is
escaped for Markdown and HTML unless it is `Markup` made by one of the helpers here (`link`, `code`,
`block`): the escaping is the default, so a template that forgets a filter is still safe.
"""

from __future__ import annotations

import functools
import posixpath
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import jinja2
from markupsafe import Markup

from ..diagnostics import Code, Diagnostic
from ..durations import duration_in_words, instant_in_words
from ..model import Handbook, Record
from .markdown import code_block, inline_code, md_block, md_inline, own_block, own_inline, severity_badge, web_link

if TYPE_CHECKING:
    from .sections import Section

__all__ = ["Page", "Renderer"]


@dataclass(frozen=True)
class Page:
    """A generated page.

    Attributes:
        uri: Its path in the site, such as `runbooks/orders-db-restore.md`.
        text: Its Markdown.
        source: The source file it was generated from (for the edit link), relative to the root.
        title: Its title, as plain text.
        in_nav: Whether it belongs in the navigation (indexes do; records are reached from them).
    """

    uri: str
    text: str
    source: str | None = None
    title: str = ""
    in_nav: bool = False


def _finalize(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, Markup):
        return value
    return md_inline(str(value))


@functools.lru_cache(maxsize=8)
def _environment(packages: tuple[str, ...]) -> jinja2.Environment:
    """The Jinja2 environment for templates in these packages' `templates/` folders, made once per process:
    it holds nothing of a handbook, and compiling the templates again for every build would cost most of
    a small handbook's rendering time."""
    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader([jinja2.PackageLoader(package, "templates") for package in packages]),
        autoescape=False,  # Markdown, not HTML: _finalize escapes for both
        finalize=_finalize,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    # Source data reaches templates as the user wrote it: `listed` and `mapped` give a list or a
    # mapping whatever the value was, so that a wrong type is a diagnostic, never a crash.
    env.filters.update(block=md_block, code=code_block, md=md_inline, own=own_block, own_inline=own_inline,
                       instant=instant_in_words, duration=duration_in_words,
                       listed=lambda v: [i for i in v if i is not None] if isinstance(v, list) else [],
                       mapped=lambda v: v if isinstance(v, dict) else {})
    env.globals.update(Markup=Markup, inline_code=inline_code, severity_badge=severity_badge, web_link=web_link)
    return env


class Renderer:
    """Renders templates for one handbook, and knows where each record's page is."""

    def __init__(self, handbook: Handbook, diagnostics: Iterable[Diagnostic] = (), *,
                 templates: Iterable[str] = (), paged_kinds: Collection[str] = (),
                 sections: Mapping[str, Section] | None = None, codes: Mapping[str, Code] | None = None) -> None:
        """A renderer for one handbook.

        Args:
            handbook: The model the pages show.
            diagnostics: The diagnostics of its analysis (shown on the code pages and the dashboard).
            templates: Packages whose `templates/` folders hold the templates, besides this one's.
            paged_kinds: The kinds whose records have pages of their own (links to others are text).
            sections: The sections hand-written pages may embed, by name.
            codes: The catalogue of diagnostic codes, by code.
        """
        self.handbook = handbook
        self.diagnostics = list(diagnostics)
        self.paged_kinds = frozenset(paged_kinds)
        self.sections: Mapping[str, Section] = sections if sections is not None else {}
        self.codes: Mapping[str, Code] = codes if codes is not None else {}
        self.env = _environment(("opsbook.render", *templates))

    def page_dir(self, kind: str) -> str:
        folder = self.handbook.kinds[kind].page_folder if kind in self.handbook.kinds else kind
        return self.handbook.config.page_dir(kind, folder)

    def has_pages(self, kind: str) -> bool:
        """Whether records of a kind get pages of their own (links to the others are plain text)."""
        return kind in self.paged_kinds

    def uri_of(self, record: Record) -> str:
        return f"{self.page_dir(record.kind)}/{record.slug}.md"

    def index_uri(self, kind: str) -> str:
        return f"{self.page_dir(kind)}/index.md"

    @staticmethod
    def href(from_uri: str, to_uri: str) -> str:
        """A relative link between two pages of the site, as MkDocs resolves them."""
        return posixpath.relpath(to_uri, posixpath.dirname(from_uri) or ".")

    def link(self, from_uri: str, record: Record, text: str | None = None) -> Markup:
        """A link to a record's page; plain text for kinds without pages (drills, recording rules)."""
        return self.page_link(from_uri, text if text is not None else record.title,
                              self.uri_of(record) if self.has_pages(record.kind) else None)

    @classmethod
    def page_link(cls, from_uri: str, text: str, to_uri: str | None) -> Markup:
        """A Markdown link to a page of the site, its text escaped; the text alone when there is no page."""
        label = md_inline(text)
        return Markup(f"[{label}]({cls.href(from_uri, to_uri)})") if to_uri is not None else label

    def link_id(self, from_uri: str, kind: str, record_id: str, text: str | None = None) -> Markup:
        """A link to a record by id, or the id as plain text when it names nothing."""
        record = self.handbook.get(kind, record_id)
        if record is None or not self.has_pages(kind):
            return Markup(md_inline(text or record_id))
        return self.link(from_uri, record, text or record_id)

    def render(self, template: str, uri: str, **context: Any) -> str:
        helpers = {
            "page_uri": uri,
            "handbook": self.handbook,
            "link": lambda record, text=None: self.link(uri, record, text),
            "link_id": lambda kind, record_id, text=None: self.link_id(uri, kind, record_id, text),
            "href": lambda to: self.href(uri, to),
        }
        return self.env.get_template(template).render(**helpers, **context)
