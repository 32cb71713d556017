"""Disaster recovery and data protection: backup schedules proved against RPOs, retention, restores
verified or drilled, and personal data encrypted, bounded in time and erasable (OB600–OB613)."""

from __future__ import annotations

import datetime as _dt
import math
from collections.abc import Iterator

from ...commands import OB045, missing_scripts
from ...cron import CronError, parse_cron
from ...diagnostics import Code, Diagnostic, Severity, make
from ...durations import parse_date, parse_duration, shift_date
from ...model import Handbook
from ..runbooks.records import Runbook
from ..runbooks.verification import verification_of
from .records import Backup, Component, Drill

__all__ = ["check_backup_scripts", "check_backups", "check_personal_data", "check_restores", "hours", "last_drill",
           "last_verified"]

OB600 = Code("OB600", Severity.ERROR, "Invalid backup schedule",
         "A backup policy's `schedule` is not a cron expression: five fields (minute, hour, day of month, month, "
         "day of week), or a macro such as `@daily`.", failing="schedule: every night\n",
         passing="schedule: \"0 2 * * *\"\n")
OB601 = Code("OB601", Severity.ERROR, "Backup schedule leaves gaps longer than the RPO",
         "The longest time between two consecutive runs of the backup schedule, computed over a whole cycle of "
         "the cron expression (so weekends and short months count), is longer than the datastore's recovery "
         "point objective: a disaster at the wrong moment loses more data than the RPO allows. The message "
         "states the worst gap and the next time it falls after `today`.",
         failing="# orders-db: rpo: 24h\nschedule: \"0 2 * * 1-5\"   # 72 h from Friday to Monday\n",
         passing="schedule: \"0 2 * * *\"   # 24 h\n")
OB602 = Code("OB602", Severity.ERROR, "Backups are not kept long enough",
         "The policy keeps backups for less than `min_backup_retention` (7 days by default). Pruning deletes "
         "what is beyond `retention.count` or older than `retention.age`, whichever comes first, and with a "
         "count a backup lives only until that many more runs have come: 72 hourly backups are three days, "
         "whatever `age` says. The hint gives the count that would do.",
         failing="retention: {count: 3}   # with a daily schedule: 3 days\n", passing="retention: {count: 14}\n")
OB603 = Code("OB603", Severity.ERROR, "Recovery runbook neither verified in CI nor drilled",
         "A backup is only as good as its last restore. The policy's restore runbook, or the runbook that "
         "verifies its backups (`verify_runbook`), has not passed in CI, nor been drilled with a pass, within "
         "`drill_window` (180 days by default).",
         failing="restore_runbook: orders-db-restore   # last drilled a year ago, never run in CI\n",
         passing="restore_runbook: orders-db-restore   # drills/2026-10-orders-db-restore.yaml: pass\n")
OB604 = Code("OB604", Severity.WARNING, "Datastore with an RPO but no backup policy",
         "A datastore declares a recovery point objective, yet no backup policy backs it up.")
OB610 = Code("OB610", Severity.ERROR, "Personal data not encrypted",
         "A datastore classified `pii` does not declare `encryption.at_rest: true` and `encryption.in_transit: "
         "true`. The position is that of the value that is false, or of the missing key's mapping.",
         failing="data:\n  classification: pii\n  encryption: {at_rest: false, in_transit: true}\n",
         passing="data:\n  classification: pii\n  encryption: {at_rest: true, in_transit: true}\n")
OB611 = Code("OB611", Severity.ERROR, "Personal data without retention",
         "A datastore classified `pii` does not say how long it keeps the data (`data.retention`).")
OB612 = Code("OB612", Severity.ERROR, "Personal data without a deletion runbook",
         "A datastore classified `pii` names no `data.deletion_runbook`: nobody knows how to honour a person's "
         "request to erase their data.")
OB613 = Code("OB613", Severity.WARNING, "Drill dated in the future",
         "A drill record's date lies after today: a drill is recorded once it has happened.")


def hours(minutes: int) -> str:
    """`72 h`, `15 min` or `8 years`: a gap in the unit people compare RPOs in."""
    if minutes >= 2 * 365 * 1440:
        return f"{minutes / (365.25 * 1440):.1f} years ({minutes // 60:,} h)"
    if minutes % 60:
        return f"{minutes} min" if minutes < 60 else f"{minutes / 60:.2f} h"
    return f"{minutes // 60} h"


def _backups(handbook: Handbook) -> list[Backup]:
    return [b for b in handbook.loaded.get("backup", []) if isinstance(b, Backup)]


def check_backups(handbook: Handbook) -> Iterator[Diagnostic]:
    """OB600–OB602: valid schedules, no gap longer than the RPO, retention long enough."""
    minimum = parse_duration(handbook.config.min_backup_retention) or 0
    today = handbook.config.today_date
    for backup in _backups(handbook):
        schedule = backup.schedule
        if schedule is None:
            continue
        line, column = backup.position("schedule")
        try:
            parsed = parse_cron(schedule)
            gap, start, end = parsed.worst_gap(today)
        except CronError as error:
            yield make(OB600, backup.path, line, column, f"schedule {schedule!r}: {error}")
            continue
        if gap < 0:
            yield make(OB600, backup.path, line, column, f"schedule {schedule!r} never runs")
            continue
        datastore = handbook.get("component", str(backup.data.get("datastore")))
        rpo = parse_duration(datastore.rpo) if isinstance(datastore, Component) and datastore.rpo else None
        if rpo is not None and gap * 60 > rpo:
            when = (f", from {start:%a %Y-%m-%d} to {end:%a %Y-%m-%d}" if start and end
                    else " within a day" if gap < 1440 else "")
            yield make(OB601, backup.path, line, column,
                       f"the worst gap between two runs of {schedule!r} is {hours(gap)}{when}: more than the RPO "
                       f"of {datastore.id}, {hours(int(rpo // 60))}")
        retention = backup.retention
        age = parse_duration(retention.get("age"))
        count = retention.get("count") if isinstance(retention.get("count"), int) else None
        # Pruning deletes what is beyond the count or older than the age, whichever comes first; with a
        # count, a backup lives until `count` more runs have come: the least span of that many gaps.
        spanned = parsed.kept_for(count) * 60 if count else None
        if spanned is not None and spanned < minimum and (age is None or spanned <= age):
            line, column = backup.position("retention")
            beside = f", before retention.age {retention.get('age')} prunes them" if age is not None else ""
            needed = parsed.count_to_keep(math.ceil(minimum / 60))
            yield make(OB602, backup.path, line, column,
                       f"backups are kept for as little as {hours(spanned // 60)}: the newest {count} are kept"
                       f"{beside}; less than min_backup_retention, {handbook.config.min_backup_retention}",
                       hint=f"keep at least {needed} backups" if needed else None)
        elif age is not None and age < minimum:
            line, column = backup.position("retention")
            yield make(OB602, backup.path, line, column,
                       f"backups are kept for retention.age {retention.get('age')}: less than min_backup_retention, "
                       f"{handbook.config.min_backup_retention}")


def last_drill(handbook: Handbook, runbook_id: str) -> Drill | None:
    """The most recent drill of a runbook, of any outcome."""
    drills = [d for d in handbook.referrers_of_kind("runbook", runbook_id, "drill") if isinstance(d, Drill) and d.day]
    return max(drills, key=lambda d: d.day, default=None)


def last_verified(handbook: Handbook, runbook: Runbook) -> _dt.date | None:
    """The day the runbook last passed in CI (all its runnable steps verified)."""
    found = verification_of(handbook, runbook)
    if found.status != "passed" or not found.started:
        return None
    return parse_date(found.started[:10])


def check_restores(handbook: Handbook) -> Iterator[Diagnostic]:
    """OB603 and OB604: restores and backup verifications proved recently; datastores with an RPO have a
    backup policy."""
    today = handbook.config.today_date
    since = shift_date(today, -(parse_duration(handbook.config.drill_window) or 0))
    for backup in _backups(handbook):
        for field, what in (("restore_runbook", "restore"), ("verify_runbook", "verify")):
            if field not in backup.data:
                continue
            runbook = handbook.get("runbook", str(backup.data.get(field)))
            if not isinstance(runbook, Runbook):
                continue  # OB021 says the runbook is missing
            drills = [d for d in handbook.referrers_of_kind("runbook", runbook.id, "drill")
                      if isinstance(d, Drill) and d.day and d.outcome == "pass" and since <= d.day <= today]
            verified = last_verified(handbook, runbook)
            if not drills and not (verified and verified >= since):
                line, column = backup.position(field)
                yield make(OB603, backup.path, line, column,
                           f"{what} runbook {runbook.id} has neither passed in CI nor been drilled with a pass "
                           f"in the last {handbook.config.drill_window}",
                           hint="run opsbook test in CI and publish its results, or record a drill in drills/")
    backed_up = {str(b.data.get("datastore")) for b in _backups(handbook)}
    for component in handbook.all("component"):
        if isinstance(component, Component) and component.sort == "datastore" and component.rpo \
                and component.id not in backed_up and "backup" in handbook.present:
            line, column = component.position("rpo")
            yield make(OB604, component.path, line, column,
                       f"datastore {component.id} has an RPO of {component.rpo} but no backup policy")
    for drill in handbook.loaded.get("drill", []):
        if isinstance(drill, Drill) and drill.day and drill.day > today:
            line, column = drill.position("date")
            yield make(OB613, drill.path, line, column, f"the drill is dated {drill.day}, after today ({today})")


def check_personal_data(handbook: Handbook) -> Iterator[Diagnostic]:
    """OB610–OB612: personal data is encrypted at rest and in transit, kept for a stated time, erasable."""
    for component in handbook.loaded.get("component", []):
        if not isinstance(component, Component) or not component.holds_pii:
            continue
        data = component.data_protection
        encryption = data.get("encryption") if isinstance(data.get("encryption"), dict) else None
        for key, words in (("at_rest", "at rest"), ("in_transit", "in transit")):
            if encryption is None or key not in encryption:
                where = ("data", "encryption") if encryption is not None else ("data",)
                line, column = component.position(*where, key=True)
                yield make(OB610, component.path, line, column,
                           f"{component.id} holds personal data but does not declare encryption {words}",
                           hint=f"data.encryption.{key}: true")
            elif encryption[key] is not True:
                line, column = component.position("data", "encryption", key)
                yield make(OB610, component.path, line, column,
                           f"{component.id} holds personal data without encryption {words}")
        if not data.get("retention"):
            line, column = component.position("data", key=True)
            yield make(OB611, component.path, line, column,
                       f"{component.id} holds personal data but does not say how long it keeps it (data.retention)")
        if not data.get("deletion_runbook"):
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
            line, column = backup.document.position_of_text(where, command, script)
            yield make(OB045, backup.path, line, column,
                       f"backup {backup.id} is taken by {script}, which is not in the repository")
