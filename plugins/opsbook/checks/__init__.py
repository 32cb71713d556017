"""The checks that work for any kind, and the pass that runs a list of checks.

Each check is a generator of diagnostics. The checks of the kind families are not imported here:
the registry hands `run_checks` the whole list.
"""

from __future__ import annotations

from collections.abc import Iterable

from ..diagnostics import Code, Diagnostic, codes_in, sort_key
from ..model import Check, Handbook
from . import freshness, identity, placeholders, record_schema, references, secrets, sections
from .freshness import check_freshness
from .identity import check_identity
from .placeholders import check_placeholders
from .record_schema import check_schemas
from .references import check_references
from .secrets import check_committed_secrets
from .sections import sections_check

__all__ = ["GENERIC_CHECKS", "GENERIC_CODES", "run_checks", "sections_check"]

#: The checks every handbook gets, whatever its kinds (the sections check is made with the sections).
GENERIC_CHECKS: tuple[Check, ...] = (check_schemas, check_identity, check_references, check_committed_secrets,
                                     check_freshness, check_placeholders)
GENERIC_CODES: tuple[Code, ...] = codes_in(record_schema, identity, references, secrets, freshness,
                                              placeholders, sections)


def run_checks(handbook: Handbook, checks: Iterable[Check], extra: Iterable[Diagnostic] = ()) -> list[Diagnostic]:
    """All diagnostics of a handbook, each once, sorted by file, line and column: its loading
    problems, `extra` (configuration problems), and what each check yields."""
    found: set[Diagnostic] = set(handbook.load_diagnostics)
    found.update(extra)
    for check in checks:
        found.update(check(handbook))
    return sorted(found, key=sort_key)
