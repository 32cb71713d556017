"""Every section a hand-written page embeds exists (OB060, declared with the directive in `render.sections`)."""

from __future__ import annotations

from collections.abc import Collection, Iterator

from ..diagnostics import Diagnostic
from ..model import Check, Handbook
from ..render.sections import OB060, directives, unknown_section

__all__ = ["OB060", "sections_check"]


def sections_check(names: Collection[str]) -> Check:
    """The check that every directive of every hand-written page names one of `names`."""

    def check_sections(handbook: Handbook) -> Iterator[Diagnostic]:
        """OB060: every section a hand-written page embeds exists."""
        for relpath, text in handbook.docs_pages():
            for number, column, name in directives(text):
                if name not in names:
                    yield unknown_section(relpath, number, column, name, names)

    return check_sections
