"""The registry: the one module that lists the kind families, and what opsbook is made of as a result.

Everything here is complete once this module is imported, and nothing registers itself anywhere as a
side effect of an import: the families are listed below, and the catalogues are computed from them.
The core (loader, model, configuration, generic checks, rendering) receives these values as arguments
and never imports this module. A new kind in an existing family changes nothing here (its family's value
lists it); a new family is its import and its entry in `FAMILIES`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TypeVar

from .checks import GENERIC_CHECKS, GENERIC_CODES, sections_check
from .config import OB090
from .diagnostics import Code, Diagnostic, catalogue
from .health import health_section
from .kinds import Family
from .kinds.alerting import FAMILY as ALERTING
from .kinds.cicd import FAMILY as CICD
from .kinds.operations import FAMILY as OPERATIONS
from .kinds.recovery import FAMILY as RECOVERY
from .kinds.runbooks import FAMILY as RUNBOOKS
from .kinds.teams import FAMILY as TEAMS
from .loader import OB001, OB002, OB003, OB004, OB005, OB007, OB008
from .model import OB006, Check, Handbook, Kind
from .render import Renderer
from .render.code_pages import check_codes_section
from .render.config_reference import config_reference_section
from .render.schema_pages import schema_reference_section
from .render.sections import Section
from .schema_validation import OB010, OB011

__all__ = ["CHECKS", "CODES", "FAMILIES", "KINDS", "SECTIONS", "make_renderer"]

#: Every family, in the order their kinds are loaded and their pages made.
FAMILIES: tuple[Family, ...] = (RUNBOOKS, TEAMS, ALERTING, CICD, RECOVERY, OPERATIONS)


Named = TypeVar("Named", Kind, Section)


def _by_name(items: Iterable[Named], what: str) -> dict[str, Named]:
    found: dict[str, Named] = {}
    for item in items:
        if item.name in found:
            raise ValueError(f"{what} {item.name!r} declared twice")
        found[item.name] = item
    return found


#: Every kind by name.
KINDS: dict[str, Kind] = _by_name((kind for family in FAMILIES for kind in family.kinds), "kind")
#: Every section a hand-written page may embed, by name: the families', and the site-wide ones.
SECTIONS: dict[str, Section] = _by_name(
    (*(section for family in FAMILIES for section in family.sections), health_section, check_codes_section,
     schema_reference_section, config_reference_section), "section")
#: Every check, run in this order (the result is sorted, so the order only decides what runs first).
CHECKS: tuple[Check, ...] = (*GENERIC_CHECKS, sections_check(SECTIONS),
                             *(check for family in FAMILIES for check in family.checks))
#: The catalogue of diagnostic codes, complete at import: each code with its documentation.
CORE_CODES: tuple[Code, ...] = (OB001, OB002, OB003, OB004, OB005, OB006, OB007, OB008, OB010, OB011, OB090)
CODES: dict[str, Code] = catalogue((*CORE_CODES, *GENERIC_CODES,
                                    *(code for family in FAMILIES for code in family.codes)))


def make_renderer(handbook: Handbook, diagnostics: Iterable[Diagnostic] = ()) -> Renderer:
    """A renderer for the handbook with every family's templates, pages and sections."""
    return Renderer(handbook, diagnostics, templates=[family.templates for family in FAMILIES] + ["opsbook.health"],
                    paged_kinds={name for family in FAMILIES for name in family.pages},
                    sections=SECTIONS, codes=CODES)
