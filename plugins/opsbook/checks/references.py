"""Reference checks: every field that names another record names one that exists (OB021)."""

from __future__ import annotations

import difflib
from collections.abc import Iterator

from ..diagnostics import Code, Diagnostic, Severity, make
from ..model import Handbook

OB021 = Code("OB021", Severity.ERROR, "Unknown reference",
         "A field names a record that does not exist: a related runbook, an owning team, a service. The "
         "position is that of the exact item. References to a kind are checked once the handbook has a "
         "source folder for that kind (so `owner:` is checked once `teams/` exists).",
         failing="# runbooks/orders-db-restore.yaml\n"
                 "owner: team-dta\n",
         passing="# runbooks/orders-db-restore.yaml\n"
                 "owner: team-data\n")


def check_references(handbook: Handbook) -> Iterator[Diagnostic]:
    """OB021: every declared reference resolves, at the position of the item that names it."""
    for reference in handbook.references:
        if reference.target is not None:
            continue
        kind = reference.ref.kind
        if kind not in handbook.kinds or kind not in handbook.present:
            continue  # the handbook does not keep this kind (yet): nothing to check against
        line, column = reference.source.position(*reference.field_path)
        known = list(handbook.records.get(kind, {}))
        close = difflib.get_close_matches(reference.target_id, known, n=1)
        yield make(OB021, reference.source.path, line, column,
                   f"{reference.field_name} names {kind} '{reference.target_id}', which does not exist",
                   hint=f"did you mean '{close[0]}'?" if close else None)
