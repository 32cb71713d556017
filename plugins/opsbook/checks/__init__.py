"""Every check of a handbook, run in one pass: loading problems, schemas, identity, references, and
the checks each kind declares. Each check is a generator of diagnostics."""

from __future__ import annotations

from collections.abc import Iterable

from ..diagnostics import Diagnostic, sort_key
from ..model import Handbook
from .freshness import check_freshness
from .identity import check_identity
from .placeholders import check_placeholders
from .references import check_references
from .schema import check_schemas
from .scripts import check_scripts
from ..render.sections import check_sections
from .secrets import check_committed_secrets

__all__ = ["GENERIC_CHECKS", "run_checks"]

GENERIC_CHECKS = (check_schemas, check_identity, check_references, check_committed_secrets, check_sections,
                  check_freshness, check_placeholders, check_scripts)


def run_checks(handbook: Handbook, extra: Iterable[Diagnostic] = ()) -> list[Diagnostic]:
    """All diagnostics of a handbook, each once, sorted by file, line and column."""
    found: set[Diagnostic] = set(handbook.load_diagnostics)
    found.update(extra)
    for check in GENERIC_CHECKS:
        found.update(check(handbook))
    for kind in handbook.kinds.values():
        for kind_check in kind.checks:
            found.update(kind_check(handbook))
    return sorted(found, key=sort_key)
