"""Kind families: each package here holds related kinds with their checks, pages, sections and templates.

A family declares what it contributes in one value, a `Family`, named `FAMILY` in its package's
`__init__.py`. Nothing here lists the families: `opsbook.registry` does, and it is the only module
that does. A family may import the families below it (see the import-linter contract in
`pyproject.toml`); nothing below the families imports one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from ..diagnostics import Code
from ..model import Check, Handbook, Kind
from ..render import Page, Renderer
from ..render.sections import Section

__all__ = ["Family", "PageMaker"]

PageMaker = Callable[[Handbook, Renderer], Iterable[Page]]
"""Makes the pages of one kind: a page per record (where the kind has them) and its index."""


@dataclass(frozen=True)
class Family:
    """What a family of kinds contributes to opsbook.

    Attributes:
        name: The family's name (its package's).
        kinds: The kinds it declares.
        checks: Its checks, including those that span its kinds; each a generator of diagnostics.
        pages: The page maker of each of its kinds that has pages, by kind name.
        sections: The generated sections it offers to hand-written pages.
        templates: The package whose `templates/` folder holds its Jinja2 templates.
        codes: The diagnostic codes its checks and loaders yield.
    """

    name: str
    kinds: tuple[Kind, ...]
    templates: str
    checks: tuple[Check, ...] = ()
    pages: dict[str, PageMaker] = field(default_factory=dict)
    sections: tuple[Section, ...] = ()
    codes: tuple[Code, ...] = ()
