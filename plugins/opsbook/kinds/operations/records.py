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


# The tokens of PostgreSQL's scanner (src/backend/parser/scan.l) that decide where a statement ends, and
# what a statement's text is besides strings and comments; anything else is one character at a time.
_LETTER = "A-Za-z_\\x80-\\U0010ffff"  # PostgreSQL reads every byte of a non-ASCII character as a letter
_TOKEN = re.compile(rf"""
    (?P<space>[ \t\n\r\f\v]+)
  | (?P<line>--[^\n\r]*)
  | (?P<block>/\*)
  | (?P<escape>[eE]')
  | (?P<string>(?:[bBxXnN]|[uU]&)?')
  | (?P<quoted>(?:[uU]&)?")
  | (?P<dollar>\$(?:[{_LETTER}][{_LETTER}0-9]*)?\$)
  | (?P<word>[{_LETTER}][{_LETTER}0-9$]*)
  | (?P<other>\$[0-9]+|[0-9][0-9A-Za-z_.]*|.)
""", re.X | re.S)
_REST = {  # where a string or an identifier that opened ends: at its quote, or (unclosed) at the end
    "escape": re.compile(r"(?:[^'\\]+|\\.?|'')*(?:'|\Z)", re.S),
    "string": re.compile(r"(?:[^']+|'')*(?:'|\Z)"),
    "quoted": re.compile(r'(?:[^"]+|"")*(?:"|\Z)'),
}
_COMMENT_MARK = re.compile(r"/\*|\*/")
_ROUTINE = re.compile(r"create (?:or replace )?(?:function|procedure)\b")


def _statements(text: str) -> Iterator[tuple[int, str]]:
    """(line, statement) of each statement, split as PostgreSQL splits a script.

    sqlparse's lexer and splitter, which this used, disagree with PostgreSQL's parser (held to it through
    pglast in tests/test_sql_statements.py) on classes that a migration holds: a block comment nests
    (`/* a /* b */ still a comment; */`), which a regular expression cannot follow; a plain string
    keeps its backslashes (`'C:\\'` ends at its quote, standard_conforming_strings being on since
    PostgreSQL 9.1) while `E'…'` escapes them; `#` is an operator, not a comment; and `BEGIN ISOLATION
    LEVEL …;` is a statement, not a block waiting for END. So the split is a scanner that follows
    PostgreSQL's (scan.l): `--` and nested `/* */` comments, `'…'` with `''`, `E'…'` with backslash
    escapes, B'', X'', N'' and U&'' constants, `"…"` identifiers with `""`, `$tag$ … $tag$` bodies (a
    `$` inside an identifier opens none), and psql's rule for where a statement ends: a `;` outside
    parentheses and outside the BEGIN … END body of CREATE [OR REPLACE] FUNCTION|PROCEDURE (BEGIN ATOMIC,
    PostgreSQL 14). Unclosed comments, strings and bodies run to the end; nothing here raises.

    A comment is dropped, not merged into the statement after it; the line is that of the statement's
    first token that is not a comment. String constants and dollar-quoted bodies are blanked (their
    prefix and opening quote kept, `$tag$ $tag$` for a body), so what they hold is never read as a
    change; quoted identifiers are names and stay."""
    parts: list[str] = []
    first: int | None = None
    line, counted = 1, 0  # the line of the text at offset `counted`: lines are counted once, forward
    words: list[str] = []  # the statement's first words, lower-cased, to know a routine with a body
    parens = depth = 0
    position, size = 0, len(text)
    while position < size:
        match = _TOKEN.match(text, position)
        assert match is not None  # `other` takes any one character
        kind, end = match.lastgroup, match.end()
        value = match.group()
        if kind in ("space", "line"):
            parts.append(" ")
        elif kind == "block":
            level = 1
            for mark in _COMMENT_MARK.finditer(text, end):
                level += 1 if mark.group() == "/*" else -1
                if level == 0:
                    end = mark.end()
                    break
            else:
                end = size
            parts.append(" ")
        else:
            if first is None and not (kind == "other" and value == ";"):
                first = position
            if kind in _REST:
                rest = _REST[kind].match(text, end)
                assert rest is not None  # every pattern of _REST matches at the end of the text
                end = rest.end()
                parts.append(text[position:end] if kind == "quoted" else value + " ")
            elif kind == "dollar":
                close = text.find(value, end)
                end = size if close < 0 else close + len(value)
                parts.append(f"{value} {value}")
            elif kind == "word":
                if len(words) < 4:
                    words.append(value.lower())
                if parens == 0 and _ROUTINE.match(" ".join(words)):
                    lowered = value.lower()
                    if lowered == "begin" or (lowered == "case" and depth > 0):
                        depth += 1
                    elif lowered == "end" and depth > 0:
                        depth -= 1
                parts.append(value)
            elif value == ";" and parens == 0 and depth == 0:
                if first is not None:  # else a blank statement (`;;`), which PostgreSQL skips too
                    line, counted = line + text.count("\n", counted, first), first
                    yield line, " ".join("".join(parts).split())
                    first, words = None, []
                parts = []
            else:
                if value == "(":
                    parens += 1
                elif value == ")" and parens > 0:
                    parens -= 1
                parts.append(value)
        position = end
    if first is not None:
        yield line + text.count("\n", counted, first), " ".join("".join(parts).split())


_NAME = r'(?:"(?:[^"]|"")*"|[\w$]+)'  # a name, quoted ("order;items", "a""b") or not
_QUALIFIED = rf"{_NAME}(?:\s*\.\s*{_NAME})*"


def _unquote(name: str) -> str:
    """The parts of a qualified name, unquoted: `public."a;b"` is `public.a;b`, `"a""b"` is `a"b`."""
    return ".".join(part[1:-1].replace('""', '"') if part.startswith('"') else part
                    for part in re.findall(_NAME, name))


def analyse_sql(text: str) -> list[Change]:
    """What each statement changes; which lock or rewrite a table; which columns and tables they drop."""
    changes = []
    for line, statement in _statements(text):
        upper = statement.upper()
        table = re.search(rf"\b(?:TABLE|ON)\s+(?:IF\s+(?:NOT\s+)?EXISTS\s+)?({_QUALIFIED})", statement, re.I)
        name = _unquote(table.group(1)) if table else ""
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
        for column in re.findall(rf"DROP\s+COLUMN\s+(?:IF\s+EXISTS\s+)?({_NAME})", statement, re.I):
            drops.append(f"{name}.{_unquote(column)}")
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
