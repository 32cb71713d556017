"""The configuration reference: every option of opsbook, made from the table of options (`OPTIONS`)."""

from __future__ import annotations

from markupsafe import Markup

from ..config import OPTIONS, Option
from ..model import Handbook
from . import Renderer
from .markdown import md_inline, own_inline
from .sections import section

__all__ = ["config_reference_section", "option_rows"]


def option_rows(options: tuple[Option, ...] = OPTIONS) -> list[dict[str, Markup]]:
    """One row per option: its name, type, default and what it sets, as the reference shows them."""
    # The name as bold text, not code: a table cell breaks code anywhere, and an option's name must read whole.
    return [{"name": Markup(f"**{md_inline(option.name)}**"), "type": own_inline(option.shown_type),
             "default": own_inline(option.reference_default()),
             "description": own_inline(option.description)}
            for option in options]


@section("configuration", "Every option of the opsbook configuration, with its type, default and what it sets.")
def config_reference_section(handbook: Handbook, renderer: Renderer, uri: str) -> str:
    return renderer.render("config_reference.md.j2", uri, rows=option_rows())
