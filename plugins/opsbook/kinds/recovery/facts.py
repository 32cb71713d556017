"""The recovery facts, each computed by one function that both the checks and the pages read.

- `backup_gap`: a backup policy's schedule parsed, its worst gap and the run days around it, the
  datastore's RPO and whether the gap meets it (OB600, OB601; the backup pages and the `backups`
  section), and how long its retention keeps backups (OB602).
- `restore_proof`: whether a restore or verify runbook is proven, by a CI pass or a passing drill,
  within `drill_window` as of `today`, when the next proof is due, and why not (OB603; the `dr-plan`
  section).
- `dr_runbooks`: the runbooks that backup policies name to restore or verify their backups (OB603
  judges each; the `dr-plan` section lists each).
- `personal_data`: whether a datastore's personal data is encrypted at rest and in transit, kept for a
  stated time and erasable (OB610–OB612; the component pages and the `personal-data` section).

A drill dated after `today` has not happened: it proves nothing (OB613 says so) and the plan does not
count it.
"""

from __future__ import annotations

import datetime as _dt
import math
from dataclasses import dataclass
from typing import Any

from ...cron import CronError, Schedule, parse_cron
from ...durations import parse_date, parse_duration, shift_date
from ...model import Handbook
from ..runbooks.records import Runbook
from ..runbooks.verification import verification_of
from .records import Backup, Component, Drill

__all__ = ["BackupGap", "DrRunbook", "PersonalData", "RestoreProof", "backup_gap", "dr_runbooks", "hours",
           "last_drill", "last_verified", "personal_data", "restore_proof"]


def hours(minutes: int) -> str:
    """`72 h`, `15 min` or `8 years`: a gap in the unit people compare RPOs in."""
    if minutes >= 2 * 365 * 1440:
        return f"{minutes / (365.25 * 1440):.1f} years ({minutes // 60:,} h)"
    if minutes % 60:
        return f"{minutes} min" if minutes < 60 else f"{minutes / 60:.2f} h"
    return f"{minutes // 60} h"


# --- Backup schedules against the RPO, and retention -------------------------------------------------


@dataclass(frozen=True)
class BackupGap:
    """What a backup policy's schedule and retention amount to, as of `today`."""

    backup: Backup
    datastore: Component | None
    #: The schedule parsed; None when the policy has none, or it is invalid (`error` says why).
    schedule: Schedule | None = None
    #: Why the schedule is not usable: not a cron expression, or one that never runs (OB600).
    error: str | None = None
    #: The longest time between two consecutive runs, in minutes (None without a usable schedule).
    gap: int | None = None
    #: The run days around the first such gap after `today` (None for a gap within a day, or past year 9999).
    gap_start: _dt.date | None = None
    gap_end: _dt.date | None = None
    #: The datastore's RPO, in seconds (None when it has none, or it is not a duration).
    rpo: float | None = None
    #: Retention: `retention.age` in seconds, `retention.count`, and the least time a backup lives when
    #: only the newest `count` are kept (seconds), against `min_backup_retention` (seconds).
    age: float | None = None
    count: int | None = None
    kept_by_count: float | None = None
    minimum: float = 0
    #: `count` when the count prunes backups sooner than `min_backup_retention`, `age` when the age does.
    retention_short: str | None = None
    #: The fewest backups to keep for `min_backup_retention` (when the count is short).
    count_needed: int | None = None

    @property
    def usable(self) -> bool:
        """The schedule is valid and runs."""
        return self.gap is not None

    @property
    def meets_rpo(self) -> bool | None:
        """Whether the worst gap is within the RPO; None when there is no RPO or no usable schedule."""
        if self.rpo is None or self.gap is None:
            return None
        return self.gap * 60 <= self.rpo

    @property
    def gap_words(self) -> str:
        """The worst gap as the pages state it."""
        if self.gap is not None:
            return hours(self.gap)
        if self.schedule is not None:
            return "never runs"
        return "invalid schedule" if self.error else "no schedule"

    def next_runs(self, after: _dt.datetime, count: int = 3) -> list[_dt.datetime]:
        """The next runs after the instant `after` (UTC, naive)."""
        if self.schedule is None:
            return []
        return self.schedule.next_runs(after, count)


def backup_gap(handbook: Handbook, backup: Backup) -> BackupGap:
    """The one computation of a policy's worst gap, its RPO and retention (cached per handbook)."""
    cache: dict[int, tuple[Backup, BackupGap]] = handbook.derived("recovery.backup_gap", lambda hb: {})
    cached = cache.get(id(backup))
    if cached is not None and cached[0] is backup:
        return cached[1]
    found = _backup_gap(handbook, backup)
    cache[id(backup)] = (backup, found)
    return found


def _backup_gap(handbook: Handbook, backup: Backup) -> BackupGap:
    datastore = handbook.record_of(Component, str(backup.data.get("datastore")))
    schedule = backup.schedule
    if schedule is None:
        return BackupGap(backup, datastore)
    try:
        parsed = parse_cron(schedule)
        gap, start, end = parsed.worst_gap(handbook.config.today_date)
    except CronError as error:
        return BackupGap(backup, datastore, error=f"schedule {schedule!r}: {error}")
    if gap < 0:
        return BackupGap(backup, datastore, parsed, error=f"schedule {schedule!r} never runs")
    rpo = parse_duration(datastore.rpo) if datastore is not None and datastore.rpo else None
    minimum = parse_duration(handbook.config.min_backup_retention) or 0
    retention = backup.retention
    age = parse_duration(retention.get("age"))
    count = retention.get("count") if isinstance(retention.get("count"), int) else None
    # Pruning deletes what is beyond the count or older than the age, whichever comes first; with a
    # count, a backup lives until `count` more runs have come: the least span of that many gaps.
    spanned = parsed.kept_for(count) * 60 if count else None
    short, needed = None, None
    if spanned is not None and spanned < minimum and (age is None or spanned <= age):
        short, needed = "count", parsed.count_to_keep(math.ceil(minimum / 60))
    elif age is not None and age < minimum:
        short = "age"
    return BackupGap(backup, datastore, parsed, None, gap, start, end, rpo, age, count, spanned, minimum, short,
                     needed)


# --- Restores and verifications proven by CI or drills -------------------------------------------------


@dataclass(frozen=True)
class DrRunbook:
    """A runbook a backup policy names to restore (`restore_runbook`) or verify (`verify_runbook`) it."""

    backup: Backup
    field: str  # restore_runbook or verify_runbook
    runbook: Runbook

    @property
    def what(self) -> str:
        return "restore" if self.field == "restore_runbook" else "verify"

    @property
    def role(self) -> str:
        return f"{self.what} {self.backup.data.get('datastore')}"


def dr_runbooks(handbook: Handbook) -> list[DrRunbook]:
    """Every (policy, field, runbook) whose runbook must be proven, in load order (a runbook that does not
    exist is left out: OB021 reports it)."""
    found = []
    for backup in handbook.loaded_of(Backup):
        for field in ("restore_runbook", "verify_runbook"):
            if field not in backup.data:
                continue
            runbook = handbook.record_of(Runbook, str(backup.data.get(field)))
            if runbook is not None:
                found.append(DrRunbook(backup, field, runbook))
    return found


def last_drill(handbook: Handbook, runbook_id: str) -> Drill | None:
    """The most recent drill of a runbook that has happened (dated on or before today), of any outcome."""
    today = handbook.config.today_date
    drills = [d for d in _drills(handbook, runbook_id) if d.day <= today]
    return max(drills, key=lambda d: d.day, default=None)


def _drills(handbook: Handbook, runbook_id: str) -> list[Drill]:
    return [d for d in handbook.referrers_of_kind("runbook", runbook_id, "drill") if isinstance(d, Drill) and d.day]


def last_verified(handbook: Handbook, runbook: Runbook) -> _dt.date | None:
    """The day the runbook last passed in CI (all its runnable steps verified)."""
    found = verification_of(handbook, runbook)
    if found.status != "passed" or not found.started:
        return None
    return parse_date(found.started[:10])


@dataclass(frozen=True)
class RestoreProof:
    """Whether a restore or verify runbook is proven within `drill_window`, as of `today`."""

    runbook: Runbook
    today: _dt.date
    window: str  # drill_window as configured
    since: _dt.date  # the first day of the window
    #: The most recent drill that has happened (on or before today), of any outcome.
    last_drill: Drill | None
    #: The most recent passing drill that has happened: the drill that counts.
    last_passing_drill: Drill | None
    #: Drills dated after today: they have not happened, and prove nothing (OB613).
    later_drills: tuple[Drill, ...]
    #: The day the runbook last passed in CI.
    last_verified: _dt.date | None

    @property
    def proved_on(self) -> _dt.date | None:
        """The latest proof: the later of the last passing drill and the last CI pass."""
        days = [day for day in (self.last_passing_drill.day if self.last_passing_drill else None,
                                self.last_verified) if day]
        return max(days, default=None)

    @property
    def proven(self) -> bool:
        """Passed in CI, or drilled with a pass, within the window (OB603 otherwise)."""
        return self.proved_on is not None and self.proved_on >= self.since

    @property
    def next_due(self) -> _dt.date | None:
        """The day the next proof is due: the latest proof plus the window (None when there is none), the
        last day on which that proof still counts. `since` is today less the window in whole days, rounded
        up, so the window is added in the same whole days: proven exactly when `next_due` is not before
        today."""
        window = parse_duration(self.window) or 0
        return shift_date(self.proved_on, math.ceil(window / 86400) * 86400) if self.proved_on else None

    @property
    def why_not(self) -> str | None:
        """Why the runbook is not proven (None when it is)."""
        if self.proven:
            return None
        return f"has neither passed in CI nor been drilled with a pass in the last {self.window}"


def restore_proof(handbook: Handbook, runbook: Runbook) -> RestoreProof:
    """The one computation of whether a restore or verify runbook is proven (cached per handbook)."""
    cache: dict[str, RestoreProof] = handbook.derived("recovery.restore_proof", lambda hb: {})
    cached = cache.get(runbook.id)
    if cached is not None and cached.runbook is runbook:
        return cached
    today = handbook.config.today_date
    window = handbook.config.drill_window
    since = shift_date(today, -(parse_duration(window) or 0))
    drills = sorted(_drills(handbook, runbook.id), key=lambda d: d.day)
    happened = [d for d in drills if d.day <= today]
    passing = [d for d in happened if d.outcome == "pass"]
    found = RestoreProof(runbook, today, window, since, happened[-1] if happened else None,
                         passing[-1] if passing else None, tuple(d for d in drills if d.day > today),
                         last_verified(handbook, runbook))
    cache[runbook.id] = found
    return found


# --- Personal data --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PersonalData:
    """How a datastore protects the personal data it holds."""

    component: Component
    #: The encryption mapping, when `data.encryption` is one.
    encryption: dict[str, Any] | None
    retention: Any
    deletion_runbook: Any

    def encrypted(self, key: str) -> bool:
        """Encryption `at_rest` or `in_transit` declared `true` (anything else is not encryption)."""
        return self.encryption is not None and self.encryption.get(key) is True

    @property
    def encrypted_at_rest(self) -> bool:
        return self.encrypted("at_rest")

    @property
    def encrypted_in_transit(self) -> bool:
        return self.encrypted("in_transit")


def personal_data(component: Component) -> PersonalData:
    """The one reading of a component's `data` protection that OB610–OB612 judge and the pages show."""
    data = component.data_protection
    encryption = data.get("encryption") if isinstance(data.get("encryption"), dict) else None
    return PersonalData(component, encryption, data.get("retention") or None, data.get("deletion_runbook") or None)
