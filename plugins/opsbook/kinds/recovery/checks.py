"""Disaster recovery and data protection: backup schedules proved against RPOs, retention, restores
verified or drilled, and personal data encrypted, bounded in time and erasable (OB600–OB613)."""

from __future__ import annotations

from collections.abc import Iterator

from ...commands import OB045, missing_scripts
from ...diagnostics import Code, Diagnostic, Severity, make
from ...model import Handbook
from .facts import backup_gap, dr_runbooks, hours, last_drill, last_verified, personal_data, restore_proof
from .records import Backup, Component, Drill

__all__ = ["check_backup_scripts", "check_backups", "check_personal_data", "check_restores", "hours", "last_drill",
           "last_verified"]

OB600 = Code("OB600", Severity.ERROR, "Invalid backup schedule",
         "A backup policy's `schedule` is not a cron expression: five fields (minute, hour, day of month, month, "
         "day of week), or a macro such as `@daily`.",
         failing="# ops/backups/orders-db.yaml\n"
                 "schedule: every night\n",
         passing="# ops/backups/orders-db.yaml\n"
                 "schedule: \"0 2 * * *\"\n")
OB601 = Code("OB601", Severity.ERROR, "Backup schedule leaves gaps longer than the RPO",
         "The longest time between two consecutive runs of the backup schedule, computed over a whole cycle of "
         "the cron expression (so weekends and short months count), is longer than the datastore's recovery "
         "point objective: a disaster at the wrong moment loses more data than the RPO allows. The message "
         "states the worst gap and the next time it falls after `today`.",
         failing="# ops/backups/orders-db.yaml\n"
                 "schedule: \"0 2 * * 1-5\"   # 72 h from Friday to Monday; the RPO of orders-db is 24h\n",
         passing="# ops/backups/orders-db.yaml\n"
                 "schedule: \"0 2 * * *\"   # 24 h\n")
OB602 = Code("OB602", Severity.ERROR, "Backups are not kept long enough",
         "The policy keeps backups for less than `min_backup_retention` (7 days by default). Pruning deletes "
         "what is beyond `retention.count` or older than `retention.age`, whichever comes first, and with a "
         "count a backup lives only until that many more runs have come: 72 hourly backups are three days, "
         "whatever `age` says. The hint gives the count that would do.",
         failing="# ops/backups/orders-db.yaml\n"
                 "retention: {count: 3}   # with a daily schedule: 3 days\n",
         passing="# ops/backups/orders-db.yaml\n"
                 "retention: {count: 14}\n")
OB603 = Code("OB603", Severity.ERROR, "Recovery runbook neither verified in CI nor drilled",
         "A backup is only as good as its last restore. The policy's restore runbook, or the runbook that "
         "verifies its backups (`verify_runbook`), has not passed in CI, nor been drilled with a pass, within "
         "`drill_window` (180 days by default).",
         failing="# ops/drills/2026-10-orders-db-restore.yaml\n"
                 "date: 2025-10-14   # the last drill of the restore runbook, over 180 days ago; CI never ran it\n",
         passing="# ops/drills/2026-10-orders-db-restore.yaml\n"
                 "date: 2026-10-14\n",
         date_driven=True)
OB604 = Code("OB604", Severity.WARNING, "Datastore with an RPO but no backup policy",
         "A datastore declares a recovery point objective, yet no backup policy backs it up.",
         failing="# ops/components/orders-queue.yaml\n"
                 "name: Orders queue\n"
                 "kind: datastore\n"
                 "owner: team-data\n"
                 "rpo: 1h   # and no backup policy names orders-queue\n",
         passing="# ops/components/orders-queue.yaml\n"
                 "name: Orders queue\n"
                 "kind: datastore\n"
                 "owner: team-data\n"
                 "rpo: 1h\n"
                 "# ops/backups/orders-queue.yaml\n"
                 "datastore: orders-queue\n"
                 "schedule: \"*/30 * * * *\"\n"
                 "retention: {age: 7d}\n"
                 "restore_runbook: orders-db-restore\n")
OB610 = Code("OB610", Severity.ERROR, "Personal data not encrypted",
         "A datastore classified `pii` does not declare `encryption.at_rest: true` and `encryption.in_transit: "
         "true`. The position is that of the value that is false, or of the missing key's mapping.",
         failing="# ops/components/orders-db.yaml\n"
                 "data:\n"
                 "  classification: pii\n"
                 "  pii_fields: [customers.email]\n"
                 "  encryption: {at_rest: false, in_transit: true}\n"
                 "  retention: 5y\n"
                 "  deletion_runbook: customer-erasure\n",
         passing="# ops/components/orders-db.yaml\n"
                 "data:\n"
                 "  classification: pii\n"
                 "  pii_fields: [customers.email]\n"
                 "  encryption: {at_rest: true, in_transit: true}\n"
                 "  retention: 5y\n"
                 "  deletion_runbook: customer-erasure\n")
OB611 = Code("OB611", Severity.ERROR, "Personal data without retention",
         "A datastore classified `pii` does not say how long it keeps the data (`data.retention`).",
         failing="# ops/components/orders-db.yaml\n"
                 "data:\n"
                 "  classification: pii\n"
                 "  pii_fields: [customers.email]\n"
                 "  encryption: {at_rest: true, in_transit: true}\n"
                 "  deletion_runbook: customer-erasure\n",
         passing="# ops/components/orders-db.yaml\n"
                 "data:\n"
                 "  classification: pii\n"
                 "  pii_fields: [customers.email]\n"
                 "  encryption: {at_rest: true, in_transit: true}\n"
                 "  deletion_runbook: customer-erasure\n"
                 "  retention: 5y\n")
OB612 = Code("OB612", Severity.ERROR, "Personal data without a deletion runbook",
         "A datastore classified `pii` names no `data.deletion_runbook`: nobody knows how to honour a person's "
         "request to erase their data.",
         failing="# ops/components/orders-db.yaml\n"
                 "data:\n"
                 "  classification: pii\n"
                 "  pii_fields: [customers.email]\n"
                 "  encryption: {at_rest: true, in_transit: true}\n"
                 "  retention: 5y\n",
         passing="# ops/components/orders-db.yaml\n"
                 "data:\n"
                 "  classification: pii\n"
                 "  pii_fields: [customers.email]\n"
                 "  encryption: {at_rest: true, in_transit: true}\n"
                 "  retention: 5y\n"
                 "  deletion_runbook: customer-erasure\n")
OB613 = Code("OB613", Severity.WARNING, "Drill dated in the future",
         "A drill record's date lies after today: a drill is recorded once it has happened.",
         failing="# ops/drills/2026-12-orders-db-restore.yaml\n"
                 "runbook: orders-db-restore\n"
                 "date: 2026-12-14   # today is 2026-11-26\n"
                 "outcome: pass\n",
         passing="# ops/drills/2026-11-orders-db-restore.yaml\n"
                 "runbook: orders-db-restore\n"
                 "date: 2026-11-14\n"
                 "outcome: pass\n")


def check_backups(handbook: Handbook) -> Iterator[Diagnostic]:
    """OB600–OB602: valid schedules, no gap longer than the RPO, retention long enough (the facts are
    `backup_gap`'s, which the backup pages state)."""
    for backup in handbook.loaded_of(Backup):
        found = backup_gap(handbook, backup)
        if found.error is not None:
            line, column = backup.position("schedule")
            yield make(OB600, backup.path, line, column, found.error)
            continue
        if not found.usable or found.gap is None:
            continue  # no schedule: the schema says so
        schedule, gap, start, end = backup.schedule, found.gap, found.gap_start, found.gap_end
        if found.meets_rpo is False and found.datastore is not None and found.rpo is not None:
            line, column = backup.position("schedule")
            when = (f", from {start:%a %Y-%m-%d} to {end:%a %Y-%m-%d}" if start and end
                    else " within a day" if gap < 1440 else "")
            yield make(OB601, backup.path, line, column,
                       f"the worst gap between two runs of {schedule!r} is {hours(gap)}{when}: more than the RPO "
                       f"of {found.datastore.id}, {hours(int(found.rpo // 60))}")
        retention = backup.retention
        if found.retention_short == "count" and found.kept_by_count is not None:
            line, column = backup.position("retention")
            beside = (f", before retention.age {retention.get('age')} prunes them" if found.age is not None
                      else "")
            yield make(OB602, backup.path, line, column,
                       f"backups are kept for as little as {hours(int(found.kept_by_count // 60))}: the newest "
                       f"{found.count} are kept{beside}; less than min_backup_retention, "
                       f"{handbook.config.min_backup_retention}",
                       hint=f"keep at least {found.count_needed} backups" if found.count_needed else None)
        elif found.retention_short == "age":
            line, column = backup.position("retention")
            yield make(OB602, backup.path, line, column,
                       f"backups are kept for retention.age {retention.get('age')}: less than min_backup_retention, "
                       f"{handbook.config.min_backup_retention}")


def check_restores(handbook: Handbook) -> Iterator[Diagnostic]:
    """OB603 and OB604: restores and backup verifications proved recently (the facts are
    `restore_proof`'s, which the DR plan states); datastores with an RPO have a backup policy."""
    today = handbook.config.today_date
    for named in dr_runbooks(handbook):
        proof = restore_proof(handbook, named.runbook)
        if not proof.proven:
            line, column = named.backup.position(named.field)
            yield make(OB603, named.backup.path, line, column,
                       f"{named.what} runbook {named.runbook.id} {proof.why_not}",
                       hint="run opsbook test in CI and publish its results, or record a drill in drills/")
    backed_up = {str(b.data.get("datastore")) for b in handbook.loaded_of(Backup)}
    for component in handbook.records_of(Component):
        if component.sort == "datastore" and component.rpo \
                and component.id not in backed_up and "backup" in handbook.present:
            line, column = component.position("rpo")
            yield make(OB604, component.path, line, column,
                       f"datastore {component.id} has an RPO of {component.rpo} but no backup policy")
    for drill in handbook.loaded_of(Drill):
        if drill.day and drill.day > today:
            line, column = drill.position("date")
            yield make(OB613, drill.path, line, column, f"the drill is dated {drill.day}, after today ({today})")


def check_personal_data(handbook: Handbook) -> Iterator[Diagnostic]:
    """OB610–OB612: personal data is encrypted at rest and in transit, kept for a stated time, erasable."""
    for component in handbook.loaded_of(Component):
        if not component.holds_pii:
            continue
        found = personal_data(component)
        for key, words in (("at_rest", "at rest"), ("in_transit", "in transit")):
            if found.encryption is None or key not in found.encryption:
                where = ("data", "encryption") if found.encryption is not None else ("data",)
                line, column = component.position(*where, key=True)
                yield make(OB610, component.path, line, column,
                           f"{component.id} holds personal data but does not declare encryption {words}",
                           hint=f"data.encryption.{key}: true")
            elif not found.encrypted(key):
                line, column = component.position("data", "encryption", key)
                yield make(OB610, component.path, line, column,
                           f"{component.id} holds personal data without encryption {words}")
        if not found.retention:
            line, column = component.position("data", key=True)
            yield make(OB611, component.path, line, column,
                       f"{component.id} holds personal data but does not say how long it keeps it (data.retention)")
        if not found.deletion_runbook:
            line, column = component.position("data", key=True)
            yield make(OB612, component.path, line, column,
                       f"{component.id} holds personal data but names no data.deletion_runbook")


def check_backup_scripts(handbook: Handbook) -> Iterator[Diagnostic]:
    """OB045: the script that takes a backup is in the repository."""
    known: dict[str, bool] = {}
    for backup in handbook.loaded_of(Backup):
        command = backup.data.get("script")
        if not isinstance(command, str):
            continue
        for script in missing_scripts(handbook.root, command, known):
            where = (*backup._prefix(), "script")
            line, column = backup.document.position_of_text(where, command, script.written)
            yield make(OB045, backup.path, line, column,
                       f"backup {backup.id} is taken by {script.path}, which is not in the repository")
