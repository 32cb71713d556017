"""The operations family's checks: migrations (OB810, OB811), log sources (OB820, OB821) and incidents
(OB830, OB831)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from ...diagnostics import Code, Diagnostic, Severity, make
from ...durations import parse_date, parse_duration
from ...model import Handbook, as_mapping
from .records import Incident, LogSource, Migration

__all__ = ["check_incidents", "check_logs", "check_migrations"]

OB810 = Code("OB810", Severity.WARNING, "Migration without a way back",
         "A migration has no rollback file (`NNNN.name.rollback.sql` beside it), so `scripts/migrate.sh rollback` "
         "cannot undo it: a bad deploy that carries it cannot simply be rolled back.",
         failing="-- migrations/0004.add-order-note.sql\n"
                 "ALTER TABLE orders ADD COLUMN note TEXT;\n",
         passing="-- migrations/0004.add-order-note.sql\n"
                 "ALTER TABLE orders ADD COLUMN note TEXT;\n"
                 "-- migrations/0004.add-order-note.rollback.sql\n"
                 "ALTER TABLE orders DROP COLUMN note;\n")
OB811 = Code("OB811", Severity.ERROR, "Migration drops personal data without a data-protection note",
         "A migration drops a column or a table that a component lists among its `pii_fields`, and carries no "
         "`-- data-protection: ...` comment saying why the data may go (an erasure, the end of its retention). "
         "Personal data is deleted on purpose, and the reason is recorded.",
         failing="-- migrations/0005.drop-email.sql\n"
                 "ALTER TABLE customers DROP COLUMN email;\n"
                 "-- migrations/0005.drop-email.rollback.sql\n"
                 "ALTER TABLE customers ADD COLUMN email TEXT;\n",
         passing="-- migrations/0005.drop-email.sql\n"
                 "-- data-protection: emails are no longer collected (decision 2026-11)\n"
                 "ALTER TABLE customers DROP COLUMN email;\n"
                 "-- migrations/0005.drop-email.rollback.sql\n"
                 "ALTER TABLE customers ADD COLUMN email TEXT;\n")
OB820 = Code("OB820", Severity.WARNING, "Component without a log source",
         "A service, datastore, queue or frontend has no log source in `logs/`: nobody knows where its logs go "
         "or how long they stay. Checked once the handbook has log sources.",
         failing="# ops/logs/orders-db.yaml\n"
                 "component: orders-db\n"
                 "destination: Loki, tenant data\n"
                 "retention: 14d\n"
                 "contains_pii: false\n"
                 "# ops/components/orders-api.yaml\n"
                 "name: Orders API\n"
                 "kind: service\n"
                 "owner: team-data   # no log source names orders-api\n",
         passing="# ops/logs/orders-db.yaml\n"
                 "component: orders-db\n"
                 "destination: Loki, tenant data\n"
                 "retention: 14d\n"
                 "contains_pii: false\n"
                 "# ops/components/orders-api.yaml\n"
                 "name: Orders API\n"
                 "kind: service\n"
                 "owner: team-data\n"
                 "# ops/logs/orders-api.yaml\n"
                 "component: orders-api\n"
                 "destination: Loki, tenant data\n"
                 "retention: 14d\n")
OB821 = Code("OB821", Severity.ERROR, "Logs keep personal data too long, or do not say whether they hold it",
         "A log source that holds personal data keeps it longer than its component's `data.retention`, or the "
         "log source of a component classified `pii` does not declare `contains_pii`.",
         failing="# ops/logs/orders-db.yaml\n"
                 "component: orders-db\n"
                 "destination: Loki, tenant data\n"
                 "retention: 10y   # orders-db keeps personal data 5y\n"
                 "contains_pii: true\n",
         passing="# ops/logs/orders-db.yaml\n"
                 "component: orders-db\n"
                 "destination: Loki, tenant data\n"
                 "retention: 30d\n"
                 "contains_pii: true\n")
OB830 = Code("OB830", Severity.ERROR, "Incident resolved before it started",
         "An incident's `resolved` time is earlier than its `started` time, or one of them is not an ISO 8601 "
         "time.",
         failing="# ops/incidents/2026-10-03-orders-db-down.yaml\n"
                 "title: Orders database down\n"
                 "severity: high\n"
                 "started: 2026-10-03T14:02:00Z\n"
                 "resolved: 2026-10-03T13:40:00Z\n",
         passing="# ops/incidents/2026-10-03-orders-db-down.yaml\n"
                 "title: Orders database down\n"
                 "severity: high\n"
                 "started: 2026-10-03T14:02:00Z\n"
                 "resolved: 2026-10-03T15:40:00Z\n")
OB831 = Code("OB831", Severity.WARNING, "Open action item past due",
         "An incident's action item is not done and its `due` date is before today.",
         failing="# ops/incidents/2026-10-03-orders-db-down.yaml\n"
                 "title: Orders database down\n"
                 "severity: high\n"
                 "started: 2026-10-03T14:02:00Z\n"
                 "action_items:\n"
                 "  - {title: Alert on replication lag, owner: team-data, due: 2026-10-31, done: false}\n",
         passing="# ops/incidents/2026-10-03-orders-db-down.yaml\n"
                 "title: Orders database down\n"
                 "severity: high\n"
                 "started: 2026-10-03T14:02:00Z\n"
                 "action_items:\n"
                 "  - {title: Alert on replication lag, owner: team-data, due: 2026-10-31, done: true}\n",
         date_driven=True)


def check_migrations(handbook: Handbook) -> Iterator[Diagnostic]:
    """OB810 and OB811: every migration has a way back, and drops personal data only on purpose."""
    pii: set[str] = set()
    for component in handbook.all("component"):
        data = as_mapping(component.data.get("data"))
        fields = data.get("pii_fields")
        pii.update(str(f).lower() for f in (fields if isinstance(fields, list) else []))
    for migration in handbook.loaded_of(Migration):
        if not (handbook.root / migration.rollback_path).is_file():
            yield make(OB810, migration.path, 1, 1,
                       f"migration {migration.id} has no {Path(migration.rollback_path).name}")
        for change in migration.changes:
            hit = [d for d in change.drops if d.lower() in pii or (d.endswith(".*") and
                   any(f.startswith(d[:-1].lower()) for f in pii))]
            if hit and not migration.protection_note:
                yield make(OB811, migration.path, change.line, 1,
                           f"drops {', '.join(hit)}, which holds personal data, without a '-- data-protection:' note")


def check_incidents(handbook: Handbook) -> Iterator[Diagnostic]:
    """OB830 and OB831: incident times in order, action items not past due."""
    today = handbook.config.today_date
    for incident in handbook.loaded_of(Incident):
        started, resolved = incident.moment("started"), incident.moment("resolved")
        if started is None or ("resolved" in incident.data and resolved is None):
            key = "started" if started is None else "resolved"
            line, column = incident.position(key)
            yield make(OB830, incident.path, line, column, f"{key} is not an ISO 8601 time")
        elif resolved is not None and resolved < started:
            line, column = incident.position("resolved")
            yield make(OB830, incident.path, line, column, f"resolved at {resolved:%Y-%m-%d %H:%M}, before it started")
        items = incident.data.get("action_items")
        for index, item in enumerate(items if isinstance(items, list) else []):
            due = parse_date(item.get("due")) if isinstance(item, dict) else None
            if due is not None and not item.get("done") and due < today:
                line, column = incident.position("action_items", index)
                yield make(OB831, incident.path, line, column,
                           f"action item {item.get('title')!r} was due on {due}, {(today - due).days} days ago")


def check_logs(handbook: Handbook) -> Iterator[Diagnostic]:
    """OB820 and OB821: every component has a log source (once there are any), and logs keep personal
    data no longer than their component."""
    if "log" not in handbook.present:
        return
    sources: dict[str, list[LogSource]] = {}
    for source in handbook.records_of(LogSource):
        if isinstance(source.data.get("component"), str):
            sources.setdefault(source.data["component"], []).append(source)
    for component in handbook.all("component"):
        sort = component.data.get("kind")
        if sort != "external" and component.id not in sources:
            line, column = component.position()
            yield make(OB820, component.path, line, column, f"{component.id} has no log source in logs/")
        data = as_mapping(component.data.get("data"))
        limit = parse_duration(data.get("retention"))
        for source in sources.get(component.id, []):
            if data.get("classification") == "pii" and "contains_pii" not in source.data:
                line, column = source.position()
                yield make(OB821, source.path, line, column,
                           f"{component.id} holds personal data: its log source must declare contains_pii")
            kept = parse_duration(source.data.get("retention"))
            if source.data.get("contains_pii") is True and limit and kept and kept > limit:
                line, column = source.position("retention")
                yield make(OB821, source.path, line, column,
                           f"the logs keep personal data for {source.data['retention']}, longer than the "
                           f"{data.get('retention')} of {component.id}")
