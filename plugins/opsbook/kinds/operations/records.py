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
from typing import ClassVar

from sqlparse import tokens as T
from sqlparse.engine import FilterStack
from sqlparse.exceptions import SQLParseError

from ...diagnostics import Diagnostic, make
from ...durations import parse_instant
from ...loader import OB003, Document, Limits, decode
from ...model import Kind, MappingListField, Record, Ref

__all__ = ["Incident", "LogSource", "Migration", "INCIDENT_KIND", "LOG_KIND", "MIGRATION_KIND"]

def read_sql(file: Path, relpath: str, limits: Limits) -> tuple[list[Document], list[Diagnostic]]:
    """A migration file as a document: its SQL text, bounded like every source."""
    try:
        if file.stat().st_size > limits.max_file_size:
            return [], [make(OB003, relpath, 1, 1, f"the file is over the limit of {limits.max_file_size:,} bytes")]
        raw = file.read_bytes()
    except OSError as error:
        return [], [make(OB003, relpath, 1, 1, f"the file could not be read: {error.strerror or error}")]
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


def _statements(text: str) -> Iterator[tuple[int, str]]:
    """(line, statement) of each statement, split by sqlparse's lexer: a `;` in a comment, a string
    (`'…'`, `E'…'`) or a dollar-quoted body (`$$ … $$`, `$fn$ … $fn$`) does not end a statement, and a
    comment (`--` or `/* … */`) is dropped, not merged into the statement after it. The line is that of
    the statement's first token that is not a comment. Strings and dollar-quoted bodies are blanked, so
    what they hold is never read as a change."""
    offset = 0
    for statement in FilterStack().run(text):
        parts: list[str] = []
        first: int | None = None
        for token in statement.flatten():
            value = token.value
            if token.ttype in T.Comment:
                parts.append(" ")
            elif token.ttype in T.String:
                parts.append(value[0] + " " * (len(value) - 1))
            elif token.ttype is T.Literal and value.startswith("$"):
                tag = value[: value.index("$", 1) + 1]
                parts.append(f"{tag} {tag}")
            else:
                parts.append(value)
            if first is None and not token.is_whitespace and token.ttype not in T.Comment:
                first = offset
            offset += len(value)
        body = " ".join("".join(parts).split()).rstrip(";").strip()
        if body and first is not None:
            yield text.count("\n", 0, first) + 1, body


def analyse_sql(text: str) -> list[Change]:
    """What each statement changes; which lock or rewrite a table; which columns and tables they drop."""
    changes = []
    try:
        statements = list(_statements(text))
    except SQLParseError as error:
        return [Change(1, f"(the SQL could not be split into statements: {error})", None, ())]
    for line, statement in statements:
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

    queries = MappingListField()


@dataclass
class Incident(Record):
    """A past incident."""

    kind: ClassVar[str] = "incident"

    def moment(self, key: str) -> _dt.datetime | None:
        """The instant of `started` or `resolved`, in UTC, or None when it is not one."""
        return parse_instant(self.data.get(key))

    @property
    def duration_hours(self) -> float | None:
        started, resolved = self.moment("started"), self.moment("resolved")
        return (resolved - started).total_seconds() / 3600 if started and resolved else None


MIGRATION_KIND = Kind(name="migration", page_folder="operations/migrations", record_type=Migration,
                      folders=("migrations",), patterns=("*.sql",), records_from=migration_records,
                      reader=read_sql)
LOG_KIND = Kind(name="log", page_folder="operations/logs", record_type=LogSource, folders=("ops/logs", "logs"),
                schema="log", refs=(Ref("component", "component", label="Log sources"),))
INCIDENT_KIND = Kind(name="incident", page_folder="operations/incidents", record_type=Incident,
                     folders=("ops/incidents", "incidents"), schema="incident",
                     refs=(Ref("services", "component", many=True, label="Incidents"),
                           Ref("alerts", "alert", many=True, label="Incidents"),
                           Ref("runbooks", "runbook", many=True, label="Incidents")),)
