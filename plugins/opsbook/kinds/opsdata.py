"""The operations data that remains: database migrations, log sources and incidents.

Migrations are the SQL files of a yoyo-migrations folder (`migrations/NNNN.name.sql`, and
`NNNN.name.rollback.sql` for the way back); opsbook reads what each statement changes, whether it can
be undone, and whether it locks or rewrites a table. Log sources and incidents are YAML records.
"""

from __future__ import annotations

import datetime as _dt
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from ..diagnostics import Diagnostic, Severity, make, register
from ..durations import parse_date, parse_duration
from ..loader import Document, Limits
from ..model import Handbook, Kind, Record, Ref

if TYPE_CHECKING:
    from ..render import Page, Renderer

__all__ = ["Incident", "LogSource", "Migration", "INCIDENT_KIND", "LOG_KIND", "MIGRATION_KIND"]

register("OB810", Severity.WARNING, "Migration without a way back",
         "A migration has no rollback file (`NNNN.name.rollback.sql` beside it), so `scripts/migrate.sh rollback` "
         "cannot undo it: a bad deploy that carries it cannot simply be rolled back.")
register("OB811", Severity.ERROR, "Migration drops personal data without a data-protection note",
         "A migration drops a column or a table that a component lists among its `pii_fields`, and carries no "
         "`-- data-protection: ...` comment saying why the data may go (an erasure, the end of its retention). "
         "Personal data is deleted on purpose, and the reason is recorded.",
         failing="ALTER TABLE customers DROP COLUMN email;\n",
         passing="-- data-protection: emails are no longer collected (decision 2026-11)\n"
                 "ALTER TABLE customers DROP COLUMN email;\n")
register("OB820", Severity.WARNING, "Component without a log source",
         "A service, datastore, queue or frontend has no log source in `logs/`: nobody knows where its logs go "
         "or how long they stay. Checked once the handbook has log sources.")
register("OB821", Severity.ERROR, "Logs keep personal data too long, or do not say whether they hold it",
         "A log source that holds personal data keeps it longer than its component's `data.retention`, or the "
         "log source of a component classified `pii` does not declare `contains_pii`.")
register("OB830", Severity.ERROR, "Incident resolved before it started",
         "An incident's `resolved` time is earlier than its `started` time, or one of them is not an ISO 8601 "
         "time.", failing="started: 2026-10-03T14:02:00Z\nresolved: 2026-10-03T13:40:00Z\n")
register("OB831", Severity.WARNING, "Open action item past due",
         "An incident's action item is not done and its `due` date is before today.",
         failing="action_items:\n  - {title: Add an alert, owner: team-data, due: 2026-01-10, done: false}\n")

_STATEMENT = re.compile(r"[^;]+;?", re.S)


def read_sql(file: Path, relpath: str, limits: Limits) -> tuple[list[Document], list[Diagnostic]]:
    """A migration file as a document: its SQL text, bounded like every source."""
    from ..loader import decode

    try:
        if file.stat().st_size > limits.max_file_size:
            return [], [make("OB003", relpath, 1, 1, f"the file is over the limit of {limits.max_file_size:,} bytes")]
        raw = file.read_bytes()
    except OSError as error:
        return [], [make("OB003", relpath, 1, 1, f"the file could not be read: {error.strerror or error}")]
    text, problem = decode(relpath, raw)
    if text is None:
        return [], [problem] if problem else []
    return [Document(relpath, {"sql": text}, None, text, 0)], []


@dataclass(frozen=True)
class Change:
    """One statement of a migration and what it does to the database."""

    line: int
    summary: str
    locks: str | None
    drops: tuple[str, ...]


def analyse_sql(text: str) -> list[Change]:
    """What each statement changes; which lock or rewrite a table; which columns and tables they drop."""
    changes = []
    # Comments and string literals blanked out (lengths kept, so lines stay where they are): a `;` in
    # either does not end a statement.
    masked = re.sub(r"--[^\n]*|'(?:[^']|'')*'", lambda m: m.group(0)[0] + " " * (len(m.group(0)) - 1)
                    if m.group(0).startswith("'") else " " * len(m.group(0)), text)
    text = masked
    for found in _STATEMENT.finditer(text):
        body = "\n".join(line for line in found.group(0).splitlines() if not line.strip().startswith("--"))
        statement = " ".join(body.split()).rstrip(";")
        if not statement:
            continue
        leading = text[: found.start()] + found.group(0)[: len(found.group(0)) - len(found.group(0).lstrip())]
        line = leading.count("\n") + 1
        upper = statement.upper()
        table = re.search(r"\b(?:TABLE|ON)\s+(?:IF\s+(?:NOT\s+)?EXISTS\s+)?([\w.\"]+)", statement, re.I)
        name = table.group(1).strip('"') if table else ""
        locks = None
        if upper.startswith("CREATE INDEX") or upper.startswith("CREATE UNIQUE INDEX"):
            locks = None if "CONCURRENTLY" in upper else f"locks writes to {name} while the index builds"
        elif re.search(r"ALTER\s+COLUMN\s+\S+\s+(SET\s+DATA\s+)?TYPE", upper):
            locks = f"rewrites {name}"
        elif "ADD COLUMN" in upper and re.search(r"DEFAULT\s+\w*\(", upper):
            locks = f"rewrites {name} (a volatile default)"
        elif upper.startswith("VACUUM FULL") or upper.startswith("CLUSTER"):
            locks = f"rewrites {name}"
        elif upper.startswith("ALTER TABLE") or upper.startswith("DROP TABLE"):
            locks = f"takes an exclusive lock on {name}, briefly"
        drops: list[str] = []
        for column in re.findall(r"DROP\s+COLUMN\s+(?:IF\s+EXISTS\s+)?([\w\"]+)", statement, re.I):
            drops.append(f"{name}.{column.strip(chr(34))}")
        if upper.startswith("DROP TABLE"):
            drops.append(f"{name}.*")
        changes.append(Change(line, statement[:160], locks, tuple(drops)))
    return changes


@dataclass
class Migration(Record):
    """A database migration."""

    kind: ClassVar[str] = "migration"

    @property
    def title(self) -> str:
        return self.id

    @property
    def sql(self) -> str:
        return str(self.data.get("sql", ""))

    @property
    def changes(self) -> list[Change]:
        return analyse_sql(self.sql)

    @property
    def rollback_path(self) -> str:
        return re.sub(r"\.sql$", ".rollback.sql", self.path)

    @property
    def protection_note(self) -> str | None:
        found = re.search(r"^\s*--\s*data-protection:\s*(.+)$", self.sql, re.M | re.I)
        return found.group(1).strip() if found else None


def migration_records(document: Document) -> Iterator[Record | Diagnostic]:
    if document.path.endswith(".rollback.sql"):
        return  # the way back of another migration, read with it
    yield Migration(Path(document.path).name.removesuffix(".sql"), document.data, document)


@dataclass
class LogSource(Record):
    """Where a component's logs go."""

    kind: ClassVar[str] = "log"

    @property
    def queries(self) -> list[dict[str, Any]]:
        value = self.data.get("queries")
        return [q for q in value if isinstance(q, dict)] if isinstance(value, list) else []


@dataclass
class Incident(Record):
    """A past incident."""

    kind: ClassVar[str] = "incident"

    def moment(self, key: str) -> _dt.datetime | None:
        try:
            return _dt.datetime.fromisoformat(str(self.data.get(key)).replace("Z", "+00:00"))
        except ValueError:
            return None

    @property
    def duration_hours(self) -> float | None:
        started, resolved = self.moment("started"), self.moment("resolved")
        return (resolved - started).total_seconds() / 3600 if started and resolved else None


def check_opsdata(handbook: Handbook) -> Iterator[Diagnostic]:
    """OB810, OB811, OB820, OB821, OB830 and OB831."""
    pii: set[str] = set()
    for component in handbook.all("component"):
        data = component.data.get("data") if isinstance(component.data.get("data"), dict) else {}
        fields = data.get("pii_fields") if isinstance(data.get("pii_fields"), list) else []
        pii.update(str(f).lower() for f in fields)
    for migration in handbook.loaded.get("migration", []):
        assert isinstance(migration, Migration)
        if not (handbook.root / migration.rollback_path).is_file():
            yield make("OB810", migration.path, 1, 1, f"migration {migration.id} has no {Path(migration.rollback_path).name}")
        for change in migration.changes:
            hit = [d for d in change.drops if d.lower() in pii or (d.endswith(".*") and
                   any(f.startswith(d[:-1].lower()) for f in pii))]
            if hit and not migration.protection_note:
                yield make("OB811", migration.path, change.line, 1,
                           f"drops {', '.join(hit)}, which holds personal data, without a '-- data-protection:' note")
    yield from _check_logs(handbook)
    today = handbook.config.today_date
    for incident in handbook.loaded.get("incident", []):
        assert isinstance(incident, Incident)
        started, resolved = incident.moment("started"), incident.moment("resolved")
        if started is None or ("resolved" in incident.data and resolved is None):
            key = "started" if started is None else "resolved"
            line, column = incident.position(key)
            yield make("OB830", incident.path, line, column, f"{key} is not an ISO 8601 time")
        elif resolved is not None and resolved < started:
            line, column = incident.position("resolved")
            yield make("OB830", incident.path, line, column, f"resolved at {resolved:%Y-%m-%d %H:%M}, before it started")
        items = incident.data.get("action_items")
        for index, item in enumerate(items if isinstance(items, list) else []):
            due = parse_date(item.get("due")) if isinstance(item, dict) else None
            if due is not None and not item.get("done") and due < today:
                line, column = incident.position("action_items", index)
                yield make("OB831", incident.path, line, column,
                           f"action item {item.get('title')!r} was due on {due}, {(today - due).days} days ago")


def _check_logs(handbook: Handbook) -> Iterator[Diagnostic]:
    if "log" not in handbook.present:
        return
    sources: dict[str, list[LogSource]] = {}
    for source in handbook.all("log"):
        if isinstance(source, LogSource) and isinstance(source.data.get("component"), str):
            sources.setdefault(source.data["component"], []).append(source)
    for component in handbook.all("component"):
        sort = component.data.get("kind")
        if sort != "external" and component.id not in sources:
            line, column = component.position()
            yield make("OB820", component.path, line, column, f"{component.id} has no log source in logs/")
        data = component.data.get("data") if isinstance(component.data.get("data"), dict) else {}
        limit = parse_duration(data.get("retention"))
        for source in sources.get(component.id, []):
            if data.get("classification") == "pii" and "contains_pii" not in source.data:
                line, column = source.position()
                yield make("OB821", source.path, line, column,
                           f"{component.id} holds personal data: its log source must declare contains_pii")
            kept = parse_duration(source.data.get("retention"))
            if source.data.get("contains_pii") is True and limit and kept and kept > limit:
                line, column = source.position("retention")
                yield make("OB821", source.path, line, column,
                           f"the logs keep personal data for {source.data['retention']}, longer than the "
                           f"{data.get('retention')} of {component.id}")


def _migration_pages(handbook: Any, renderer: Renderer) -> Iterator[Page]:
    from ..render.opsdata import migration_pages

    yield from migration_pages(handbook, renderer)


def _incident_pages(handbook: Any, renderer: Renderer) -> Iterator[Page]:
    from ..render.opsdata import incident_pages

    yield from incident_pages(handbook, renderer)


MIGRATION_KIND = Kind(name="migration", plural="operations/migrations", record_type=Migration,
                      folders=("migrations",), patterns=("*.sql",), records_from=migration_records,
                      reader=read_sql, checks=(check_opsdata,), pages=_migration_pages)
LOG_KIND = Kind(name="log", plural="operations/logs", record_type=LogSource, folders=("ops/logs", "logs"),
                schema="log", refs=(Ref("component", "component", label="Log sources"),))
INCIDENT_KIND = Kind(name="incident", plural="operations/incidents", record_type=Incident,
                     folders=("ops/incidents", "incidents"), schema="incident",
                     refs=(Ref("services", "component", many=True, label="Incidents"),
                           Ref("alerts", "alert", many=True, label="Incidents"),
                           Ref("runbooks", "runbook", many=True, label="Incidents")),
                     pages=_incident_pages)
