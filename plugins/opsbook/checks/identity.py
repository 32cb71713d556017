"""Identity checks: every record has a well-formed id, unique within its kind (OB020, OB022)."""

from __future__ import annotations

import re
from collections.abc import Iterator

from ..diagnostics import Code, Diagnostic, Severity, make
from ..model import Handbook

OB020 = Code("OB020", Severity.ERROR, "Duplicate id",
         "Two records of the same kind have the same id (from their `id:` field, or from their file names). "
         "Links and references would be ambiguous; the first file in path order keeps the id.",
         failing="# runbooks/restore-orders-db.yaml\n"
                 "id: orders-db-restore   # the id of runbooks/orders-db-restore.yaml\n"
                 "title: Restore the orders database\n"
                 "steps: [{name: Restore, manual: Restore the newest backup.}]\n",
         passing="# runbooks/restore-orders-db.yaml\n"
                 "id: restore-orders-db\n"
                 "title: Restore the orders database\n"
                 "steps: [{name: Restore, manual: Restore the newest backup.}]\n")
OB022 = Code("OB022", Severity.ERROR, "File name is not a valid id",
         "A record without an `id:` field takes its file name as id, and ids are lower-case words joined by "
         "hyphens (`[a-z0-9]+(-[a-z0-9]+)*`), so that they are the same in every URL and on every system. "
         "Rename the file, or give the record an `id:`.",
         failing="# runbooks/Restart API.yaml\n"
                 "title: Restart the API\n"
                 "steps: [{name: Restart, run: systemctl restart api}]\n",
         passing="# runbooks/restart-api.yaml\n"
                 "title: Restart the API\n"
                 "steps: [{name: Restart, run: systemctl restart api}]\n")

ID = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*\Z")  # \Z: `$` would also match before a final newline


def check_identity(handbook: Handbook) -> Iterator[Diagnostic]:
    """OB020 and OB022: ids are unique within a kind, and ids taken from file names are well formed."""
    for kind_name, records in handbook.loaded.items():
        if not handbook.kinds[kind_name].unique_ids:
            continue
        first: dict[str, object] = {}
        for record in records:
            if record.id_from_file and not ID.match(record.id):
                yield make(OB022, record.path, 1, 1,
                           f"the file name gives the id {record.id!r}, which is not lower-case words joined by "
                           "hyphens", hint="rename the file or add an id: field")
            if record.id in first:
                original = first[record.id]
                where = ("id",) if not record.id_from_file else ()
                line, column = record.position(*where)
                yield make(OB020, record.path, line, column,
                           f"{kind_name} id '{record.id}' is already used by {original}")
            else:
                first[record.id] = record.path
