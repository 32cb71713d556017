"""The operations data that remains: database migrations, log sources and incidents.

Migrations are the SQL files of a yoyo-migrations folder (`migrations/NNNN.name.sql`, and
`NNNN.name.rollback.sql` for the way back); opsbook reads what each statement changes, whether it can
be undone, and whether it locks or rewrites a table. The SQL is split into statements by PostgreSQL's
own lexer, through pglast (libpg_query), and psql's rule for where a statement ends. Log sources and
incidents are YAML records.
"""

from __future__ import annotations

import datetime as _dt
import functools
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from pglast import parser as _pg

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


# PostgreSQL's own lexer reads the text: pglast binds libpg_query, which is PostgreSQL's scanner (scan.l)
# and grammar compiled as a library. Token names are the grammar's; what is left here is psql's rule for
# where a statement ends.
_COMMENTS = frozenset({"SQL_COMMENT", "C_COMMENT"})
_CONSTANTS = frozenset({"SCONST", "USCONST", "BCONST", "XCONST"})  # '…', E'…', $$…$$, U&'…', B'…', X'…'
_SEMICOLON, _OPEN, _CLOSE = "ASCII_59", "ASCII_40", "ASCII_41"
_ROUTINE = re.compile(r"create (?:or replace )?(?:function|procedure)\b")
_CHUNK = 1 << 16  # characters given to the scanner at a time: 5 MB of `;` is never 5 million tuples at once
_OPERATOR = frozenset("~!@#^&|`?+-*/%<>=")  # scan.l's op_chars
# PostgreSQL's scanner takes time quadratic in the length of a run of operator characters (it matches the
# run whole, then gives back all but a part: `+++…`, `/*/*…`); runs up to 64 cost nothing, longer ones
# are allowed this much of length squared in all, about a second, and a file past it is refused.
_OPERATOR_RUN = re.compile(r"[~!@#^&|`?+\-*/%<>=]{65,}")
_RUN_BUDGET = 1 << 28
# What continues a string constant after its closing quote (scan.l's quotecontinue, less the quote).
_CONTINUE = re.compile(r"(?:[ \t\f]|--[^\n\r]*+)*+[\n\r](?:[ \t\n\r\f\v]|--[^\n\r]*+[\n\r])*+")


class _Unreadable(Exception):
    """PostgreSQL's scanner refused the text: an unterminated string, comment, quoted name or body,
    trailing junk after a number, a NUL. `location` is a character offset, None when not known."""

    def __init__(self, location: int | None, reason: str) -> None:
        super().__init__(location, reason)
        self.location, self.reason = location, reason


def _scan(text: str) -> list[_pg.Token]:
    """PostgreSQL's tokens of `text`: `start` and `end` (inclusive) are character offsets, pglast
    converting libpg_query's UTF-8 byte offsets; comments are tokens, whitespace is none."""
    try:
        return _pg.scan(text)
    except _pg.ParseError as error:
        message = str(error.args[0]) if error.args else "refused by PostgreSQL's scanner"
        location = error.args[1] if len(error.args) > 1 and isinstance(error.args[1], int) else None
        raise _Unreadable(location, message.split(" at or near ", 1)[0]) from None
    except UnicodeEncodeError as error:  # a lone surrogate: no UTF-8 to give the scanner
        raise _Unreadable(error.start, "a character that UTF-8 cannot encode") from None


def _cut(piece: str, tokens: list[_pg.Token]) -> int:
    """The latest token of a chunk's that the chunk's end cannot have changed, nor the tokens before it,
    so that scanning may start again there; 0 for none.

    PostgreSQL's scanner is built never to back up: it ends a token on the character after it, or after
    a run of operator characters, which it reads whole and then splits. So the cut is before a token
    that another token follows in the chunk, only whitespace away from the one before and not inside a
    run of operator characters. (After a string constant the scanner looks over whitespace and `--`
    comments for a quote that continues it; `_tokens` keeps that in mind across a cut.)"""
    for i in range(len(tokens) - 2, 0, -1):
        before, token = tokens[i - 1], tokens[i]
        if before.end + 1 == token.start:
            if not (piece[before.end] in _OPERATOR and piece[token.start] in _OPERATOR):
                return i
        elif piece[before.end + 1:token.start].isspace():
            return i
    return 0


def _tokens(text: str) -> Iterator[tuple[int, int, str, str]]:
    """(start, end, name, keyword kind) of each of PostgreSQL's tokens of `text`, `end` exclusive;
    comments are tokens (SQL_COMMENT, C_COMMENT).

    The scanner is given a chunk at a time (`_CHUNK` characters, twice as many when `_cut` finds no
    token to start again at, or none before a string the chunk's end left open), so that memory follows
    the chunk, not a hostile file's token count; the error of the chunk that reaches the end of the text
    is the text's. When a cut falls between a quoted string and a quote that continues it (only
    whitespace and `--` comments with a newline between them), the quote is given as a comment: it is
    part of the string, as one chunk would have read it. A NUL, which PostgreSQL refuses and the C
    scanner would silently stop at, and runs of operator characters past `_RUN_BUDGET` are refused."""
    stop = text.find("\x00")
    end = len(text) if stop < 0 else stop
    spent = 0
    for run in _OPERATOR_RUN.finditer(text, 0, end):
        spent += (run.end() - run.start()) ** 2
        if spent > _RUN_BUDGET:
            yield from _tokens(text[:run.start()])
            raise _Unreadable(run.start(), "runs of operator characters too long for PostgreSQL's scanner")
    if stop >= 0:
        yield from _tokens(text[:stop])
        raise _Unreadable(stop, "a NUL character")
    base, size = 0, _CHUNK
    quoted_end = -1  # where the last token that is not a `--` comment ended, if it is a quoted string
    pending = False  # and a cut fell after it, before anything but `--` comments: it may go on
    while base < len(text):
        final = base + size >= len(text)
        piece = text[base:base + size]
        try:
            tokens = _scan(piece)
        except _Unreadable as error:
            if final:
                raise _Unreadable(None if error.location is None else base + error.location, error.reason) from None
            tokens = []  # maybe only the cut left it open: scan up to where it failed, and cut before
            if error.location:
                try:
                    tokens = _scan(piece[:error.location])
                except _Unreadable:
                    pass
        if not final:
            cut = _cut(piece, tokens)
            if not cut:
                size *= 2
                continue
            after, tokens = tokens[cut], tokens[:cut]
        code = False  # whether a token but a `--` comment came in this chunk
        for token in tokens:
            start, name = base + token.start, token.name
            if name != "SQL_COMMENT":
                code = True
                quoted = name in _CONSTANTS and piece[token.start] != "$"
                if pending and quoted and piece[token.start] == "'" and _CONTINUE.fullmatch(text, quoted_end, start):
                    name = "C_COMMENT"  # the string before goes on: it is blank, as the string is
                quoted_end, pending = (base + token.end + 1 if quoted else -1), False
            yield start, base + token.end + 1, name, token.kind
        if final:
            return
        if code:  # else only `--` comments came since: what was pending still is
            pending = quoted_end >= 0 and after.name == "SQL_COMMENT"  # else this chunk saw the string end
        base, size = base + after.start, _CHUNK


def _statements(text: str) -> Iterator[tuple[int, str]]:
    """(line, statement) of each statement, split as PostgreSQL splits a script.

    The tokens are PostgreSQL's own (`_tokens`, pglast's `scan`): `--` and nested `/* */` comments,
    `'…'` with `''` (backslashes kept, standard_conforming_strings being on since PostgreSQL 9.1),
    `E'…'` with backslash escapes, B'', X'', N'' and U&'' constants, `"…"` names, `$tag$ … $tag$`
    bodies, `#` an operator. Where a statement ends is psql's rule: a `;` outside parentheses and outside
    the BEGIN … END body of CREATE [OR REPLACE] FUNCTION|PROCEDURE (BEGIN ATOMIC, PostgreSQL 14).
    tests/test_sql_statements.py holds the split to PostgreSQL's parser. Text the scanner refuses (an
    unterminated string, comment or body) raises `_Unreadable`, after the statements before it.

    A comment is dropped, not merged into the statement after it; the line is that of the statement's
    first token that is not a comment. String constants and dollar-quoted bodies are blanked (their
    prefix and opening quote kept, `$tag$ $tag$` for a body), so what they hold is never read as a
    change; quoted identifiers are names and stay."""
    parts: list[str] = []
    first: int | None = None
    line, counted = 1, 0  # the line of the text at offset `counted`: lines are counted once, forward
    words: list[str] = []  # the statement's first words, lower-cased, to know a routine with a body
    parens = depth = 0
    previous = 0  # where the token before ended
    for start, end, name, kind in _tokens(text):
        if start > previous:
            parts.append(" ")  # whitespace, or a comment if the scanner did not give it as a token
        previous = end
        if name in _COMMENTS:
            parts.append(" ")
            continue
        if name == _SEMICOLON and parens == 0 and depth == 0:
            if first is not None:  # else a blank statement (`;;`), which PostgreSQL skips too
                line, counted = line + text.count("\n", counted, first), first
                yield line, " ".join("".join(parts).split())
                first, words = None, []
            parts = []
            continue
        if first is None and name != _SEMICOLON:
            first = start
        value = text[start:end]
        if name in _CONSTANTS:
            if value.startswith("$"):
                tag = value[: value.index("$", 1) + 1]
                parts.append(f"{tag} {tag}")
            else:
                parts.append(value[: value.index("'") + 1] + " ")
            continue
        parts.append(value)
        if len(parts) > 4096:  # a statement of millions of tokens holds its text, not a string for each
            parts = ["".join(parts)]
        if name == _OPEN:
            parens += 1
        elif name == _CLOSE and parens > 0:
            parens -= 1
        elif ((kind != "NO_KEYWORD" or (name == "IDENT" and value[0] != '"'))
              and not (name == "NCHAR" and len(value) == 1)):
            # a word as psql counts them: a keyword or an unquoted name (not the N of N'…')
            if len(words) < 4:
                words.append(value.lower())
            if parens == 0 and _ROUTINE.match(" ".join(words)):
                lowered = value.lower()
                if lowered == "begin" or (lowered == "case" and depth > 0):
                    depth += 1
                elif lowered == "end" and depth > 0:
                    depth -= 1
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
    try:
        statements = list(_statements(text))
    except _Unreadable as error:  # PostgreSQL would refuse the file too; say where, never a traceback
        line = text.count("\n", 0, error.location) + 1 if error.location is not None else 1
        return [Change(line, f"(the SQL could not be read past line {line}: {error.reason})"[:160], None, ())]
    for line, statement in statements:
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

    @functools.cached_property
    def changes(self) -> list[Change]:
        """What each statement changes, analysed once per record (the checks and the page both read it)."""
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
