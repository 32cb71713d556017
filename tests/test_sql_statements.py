"""How opsbook splits a migration into statements, held to PostgreSQL's own parser (#16, item 7).

`pglast` binds libpg_query, which is PostgreSQL's scanner and grammar compiled as a library. opsbook
reads a migration with that scanner's tokens (`_tokens`, a chunk at a time) and psql's rule for where a
statement ends (`_statements`); here the statements are taken from PostgreSQL's *parser* (each
statement's location and length), which knows the grammar, not psql's rule. For every script below,
`_statements` (what the lock and drop analysis and OB810/OB811 read) and PostgreSQL must agree on:

- the number of statements (an empty statement, `;;`, is none for either);
- each statement's line: that of its first token that is not a comment, taken from PostgreSQL's
  statement location and its scanner's tokens;
- each statement's text as opsbook normalises it: comments dropped, string constants and dollar-quoted
  bodies blanked (their prefix and opening quote kept, `$tag$ $tag$` for a body), whitespace collapsed.
  The expected text is built from PostgreSQL's tokens, never from opsbook's.

The scripts are the project's migrations, every SQL fixture under tests/, and seeded generated scripts
made of what migrations hold: CREATE TABLE/INDEX [CONCURRENTLY], ALTER TABLE ADD/DROP/ALTER COLUMN, DROP
TABLE/INDEX, UPDATE/DELETE, COMMENT ON, transactions (BEGIN, BEGIN ISOLATION LEVEL, COMMIT, END),
functions with `$$`/`$tag$` bodies holding `;`, comments and strings, SQL-standard `BEGIN ATOMIC` bodies,
DO blocks, strings with `;`, `''` and backslashes (standard-conforming: `'C:\\'` ends at its quote),
E'' strings with `\\'` and `\\\\`, U&'' and B'' constants, quoted identifiers with `;` and `""`, `--`
and `/* */` comments between and inside statements (nested `/* /* */ */`, as PostgreSQL nests them, and
comments holding quotes and `$$`), blank statements and a last statement with no `;`. Every generated
script must parse: a generator that wrote invalid SQL would test nothing. The same scripts read in
chunks of a few characters must give the same statements, and so must random token soup; text the
scanner refuses, and hostile input the size of the file limit, give one change and no traceback.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path

import pglast  # a runtime dependency of opsbook: PostgreSQL's scanner and parser (libpg_query)
import pytest
from pglast import parser as pg

from opsbook.kinds.operations import records
from opsbook.kinds.operations.records import Change, _statements, analyse_sql

REPO = Path(__file__).resolve().parent.parent
SCRIPTS = 1500
COMMENTS = {"SQL_COMMENT", "C_COMMENT"}
CONSTANTS = {"SCONST", "USCONST", "BCONST", "XCONST"}


def postgresql_statements(text: str) -> list[tuple[int, str]]:
    """(line, normalised text) of each statement, as PostgreSQL's parser and scanner see the script."""
    tokens = pg.scan(text)
    found = []
    for raw in pg.parse_sql(text):
        start = raw.stmt_location or 0
        end = start + raw.stmt_len if raw.stmt_len else len(text)
        inside = [token for token in tokens if start <= token.start < end]
        code = [t for t in inside if t.name not in COMMENTS]
        assert code, f"PostgreSQL gave a statement with no token at {start}: {text!r}"
        parts: list[str] = []
        previous = None
        for token in inside:
            if previous is not None and previous.end + 1 < token.start:
                parts.append(" ")  # only whitespace lies between two of the scanner's tokens
            value = text[token.start:token.end + 1]
            if token.name in COMMENTS:
                parts.append(" ")
            elif token.name in CONSTANTS and value.startswith("$"):
                tag = value[: value.index("$", 1) + 1]
                parts.append(f"{tag} {tag}")
            elif token.name in CONSTANTS:
                parts.append(value[: value.index("'") + 1] + " ")
            else:
                parts.append(value)
            previous = token
        body = " ".join("".join(parts).split()).rstrip(";").strip()
        found.append((text.count("\n", 0, code[0].start) + 1, body))
    return found


def opsbook_statements(text: str) -> list[tuple[int, str]]:
    return list(_statements(text))


# --- the generator ------------------------------------------------------------------------------------

TABLES = ["orders", "customers", "public.invoices", '"order;items"', '"Line ""Items"""', "audit_log"]
COLUMNS = ["status", "note", "customer_id", '"weird;col"', "marketing_consent", "amount"]
STRINGS = ["'placed'", "'a;b'", "'it''s; fine'", "''", "'C:\\'", "'--not a comment'", "'/* not; */'",
           "'$$;$$'", "E'it\\'s; DROP COLUMN y'", "E'C:\\\\'", "E'\\\\'", "e'tab\\there;'", "U&'d\\0061t;a'",
           "'line one;\nline two'", "'é;ü'"]


def gap(rng: random.Random) -> str:
    """What separates two tokens of a statement: a space, a newline, or a comment."""
    roll = rng.random()
    if roll < 0.75:
        return " "
    if roll < 0.85:
        return "\n  "
    return " " + comment(rng, inline=True) + " "


def comment(rng: random.Random, inline: bool = False) -> str:
    choices = ["/* a; b */", "/* it's; $$ */", "/* /* nested; */ still; a comment */",
               "/* deep /* er /* still */ ; */ ; */", "/**/", "/* multi;\n line */", "/*;*/"]
    if not inline:
        choices += ["-- note; with a semicolon\n", "-- it's $$ /* not open\n", "--\n",
                    "-- data-protection: kept 30 days\n"]
    else:
        choices += ["-- inline; comment\n"]
    return rng.choice(choices)


def join(rng: random.Random, *words: str) -> str:
    return "".join(word + (gap(rng) if i < len(words) - 1 else "") for i, word in enumerate(words))


def body(rng: random.Random, tag: str) -> str:
    """A PL/pgSQL body holding `;`, comments, strings and another dollar quote than its own."""
    inner = "$q$" if tag != "$q$" else "$$"
    lines = ["BEGIN", "  NEW.at := now(); -- stamp it; then return",
             f"  RAISE NOTICE 'it''s; {rng.randint(0, 9)}';", "  /* a; block /* nested */ comment */",
             f"  PERFORM {inner}a; b{inner}; -- it's; not the end", "  IF NEW.x IS NULL THEN NEW.x := 'a;b'; END IF;",
             "  RETURN NEW;", "END;"]
    keep = [lines[0]] + [line for line in lines[1:-2] if rng.random() < 0.7] + lines[-2:]
    return "\n".join(keep)


def statement(rng: random.Random) -> str:
    table, column, value = rng.choice(TABLES), rng.choice(COLUMNS), rng.choice(STRINGS)
    index = rng.choice(["orders_customer_idx", '"idx;1"', "i2"])
    kind = rng.randrange(19)
    if kind == 0:
        return join(rng, "CREATE", "TABLE", *rng.choice([[], ["IF", "NOT", "EXISTS"]]), table,
                    f"(id bigint PRIMARY KEY, {column} text DEFAULT {value})")
    if kind == 1:
        return join(rng, "CREATE", *rng.choice([[], ["UNIQUE"]]), "INDEX",
                    *rng.choice([[], ["CONCURRENTLY"]]), index, "ON", table, f"({column})")
    if kind == 2:
        return join(rng, "ALTER", "TABLE", table, "ADD", "COLUMN", column, "text",
                    *rng.choice([[], ["NOT", "NULL", "DEFAULT", value], ["DEFAULT", "now()"]]))
    if kind == 3:
        return join(rng, "ALTER", "TABLE", table, "DROP", "COLUMN", *rng.choice([[], ["IF", "EXISTS"]]), column)
    if kind == 4:
        return join(rng, "ALTER", "TABLE", table, "ALTER", "COLUMN", column, "TYPE", "bigint")
    if kind == 5:
        return join(rng, "DROP", "TABLE", *rng.choice([[], ["IF", "EXISTS"]]), table)
    if kind == 6:
        return join(rng, "UPDATE", table, "SET", column, "=", value, "WHERE", "id", "=", str(rng.randint(1, 99)))
    if kind == 7:
        return join(rng, "DELETE", "FROM", table, "WHERE", column, "=", value)
    if kind == 8:
        tag = rng.choice(["$$", "$fn$", "$body$", "$_x1$"])
        return join(rng, "CREATE", *rng.choice([[], ["OR", "REPLACE"]]), "FUNCTION", "touch()", "RETURNS",
                    "trigger", "AS", f"{tag}\n{body(rng, tag)}\n{tag}", "LANGUAGE", "plpgsql")
    if kind == 9:
        tag = rng.choice(["$$", "$do$"])
        return join(rng, "DO", f"{tag} {body(rng, tag).replace('NEW.', 'v')} {tag}".replace(
            "BEGIN", "DECLARE vat timestamptz; vx text; BEGIN", 1).replace("RETURN NEW;", "RETURN;"))
    if kind == 10:
        return join(rng, "CREATE", "FUNCTION", "one()", "RETURNS", "int", "LANGUAGE", "sql", "BEGIN", "ATOMIC",
                    "SELECT", "1;", "SELECT", "2;", "END")
    if kind == 11:
        return rng.choice(["BEGIN", "BEGIN ISOLATION LEVEL SERIALIZABLE", "BEGIN TRANSACTION", "START TRANSACTION",
                           "BEGIN READ WRITE", "COMMIT", "END", "ROLLBACK", "COMMIT WORK"])
    if kind == 12:
        return join(rng, "COMMENT", "ON", "TABLE", table, "IS", value)
    if kind == 13:
        return join(rng, "UPDATE", table, "SET", column, "=", "CASE", "WHEN", "id", ">", "1", "THEN", value,
                    "ELSE", "'x;y'", "END")
    if kind == 14:
        return join(rng, "UPDATE", table, "SET", "flags", "=", "flags", "#", "1", "WHERE", column, "=", value)
    if kind == 15:
        return join(rng, "DROP", "INDEX", *rng.choice([[], ["CONCURRENTLY"]]), *rng.choice([[], ["IF", "EXISTS"]]),
                    index)
    if kind == 16:
        return join(rng, "INSERT", "INTO", table, f"({column})", "VALUES", f"({value})", ",", "(B'101')")
    if kind == 17:
        return join(rng, "SELECT", f"{rng.choice(['$$a;b$$', '$x$ $ $x$', '$a$$a$'])}", "AS", '"a;b"')
    return join(rng, "ALTER", "TABLE", table, "RENAME", "COLUMN", column, "TO", '"new;name"')


def script(rng: random.Random) -> str:
    """Statements, each ended by `;` but maybe the last, with blank statements and comments between."""
    out = [comment(rng) if rng.random() < 0.3 else ""]
    count = rng.randint(1, 8)
    for i in range(count):
        out.append(statement(rng))
        if i < count - 1 or rng.random() < 0.8:
            out.append(rng.choice([";", ";", ";", " ;", ";;", "; ;", ";\n;"]))
        elif rng.random() < 0.5:
            out.append(rng.choice(["\n-- last; no semicolon\n", " /* end; */", "\n"]))
        out.append(rng.choice(["\n", "\n\n", " ", "\n" + comment(rng), " " + comment(rng, inline=True) + "\n"]))
    return "".join(out)


def generated() -> list[str]:
    return [script(random.Random(seed)) for seed in range(SCRIPTS)]


def sql_files() -> list[Path]:
    return sorted((REPO / "migrations").glob("*.sql")) + sorted((REPO / "tests").rglob("*.sql"))


# --- the tests ----------------------------------------------------------------------------------------


def _disagreements(texts: list[tuple[str, str]], report: Callable[[str], None]) -> list[str]:
    problems, statements = [], 0
    for name, text in texts:
        expected = postgresql_statements(text)
        statements += len(expected)
        got = opsbook_statements(text)
        if got != expected:
            problems.append(f"{name}:\n{text}\n  PostgreSQL: {expected}\n  opsbook:    {got}")
    report(f"{len(texts)} scripts, {statements} statements, {len(problems)} disagreements")
    return problems


def test_the_repository_migrations_split_as_postgresql_splits_them() -> None:
    files = sql_files()
    assert len(files) >= 6, files  # the project's own migrations, and any SQL fixture under tests/
    texts = [(str(path.relative_to(REPO)), path.read_text(encoding="utf-8")) for path in files]
    problems = _disagreements(texts, lambda line: print(f"\nSQL files (migrations/, tests/): {line}"))
    assert not problems, "\n\n".join(problems[:5])


def test_generated_scripts_split_as_postgresql_splits_them() -> None:
    texts = generated()
    for i, text in enumerate(texts):  # the generator writes valid PostgreSQL, or it tests nothing
        try:
            pg.parse_sql(text)
        except pglast.parser.ParseError as error:
            raise AssertionError(f"seed {i} is not valid PostgreSQL ({error}):\n{text}") from None
    problems = _disagreements([(f"seed {i}", text) for i, text in enumerate(texts)],
                              lambda line: print(f"\ngenerated: {line}"))
    assert not problems, f"{len(problems)} of {len(texts)} scripts:\n\n" + "\n\n".join(problems[:5])


def test_the_generator_reaches_every_class() -> None:
    """The classes the differential is about are in the generated scripts, often enough to matter."""
    texts = generated()
    needles = {"nested comment": "/* /* nested", "deeper nesting": "/* deep /*", "dollar body": "AS $$\n",
               "tagged body": "$fn$", "E string with \\'": "E'it\\'s", "E string ending \\\\": "E'C:\\\\'",
               "backslash before the quote": "'C:\\'", "doubled quote": "'it''s",
               "quoted identifier ;": '"order;items"',
               "blank statement": ";;", "BEGIN ATOMIC": "BEGIN ATOMIC", "transaction": "BEGIN ISOLATION",
               "XOR operator": "flags # 1", "CONCURRENTLY": "CONCURRENTLY", "DO block": "DO $do$"}
    counts = {name: sum(needle in text for text in texts) for name, needle in needles.items()}
    last = sum(not text.rstrip().endswith(";") and not text.rstrip().endswith("*/") and "--" not in
               text.rstrip().rsplit("\n", 1)[-1] for text in texts)
    print("\n" + ", ".join(f"{name}: {count}" for name, count in counts.items()) + f", no final ';': {last}")
    assert all(count >= 20 for count in counts.values()), counts
    assert last >= 20


@pytest.mark.parametrize("text", [
    "", ";;;", "/* only a comment; */\n-- and another\n", "/* unclosed; comment", "SELECT 'unclosed; string",
    "CREATE FUNCTION f() AS $$ unclosed; body", "SELECT \"unclosed; name", "/* /* */ still open",
    "SELECT E'\\", "\x00;\ufeff;", "SELECT 1; \\copy t from x;", "$$", "$a$ $b$", "/*" * 500 + "*/" * 100,
])
def test_bad_input_is_never_a_traceback(text: str) -> None:
    changes = analyse_sql(text)
    assert all(change.line >= 1 for change in changes)


def test_a_lock_note_survives_what_misled_the_split() -> None:
    """The statements that sqlparse (which opsbook used before) merged or cut keep their lock and drop notes."""
    text = ("/* widen the column; /* nested */ it was too short; */\nALTER TABLE orders ADD COLUMN note text;\n"
            "UPDATE files SET path = 'C:\\';\nALTER TABLE orders DROP COLUMN status;\n"
            "BEGIN ISOLATION LEVEL SERIALIZABLE;\nCREATE INDEX i ON orders (customer_id);\nCOMMIT;\n")
    changes = analyse_sql(text)
    assert [(c.line, c.summary.split()[0], c.locks, c.drops) for c in changes] == [
        (2, "ALTER", "takes an exclusive lock on orders, briefly", ()),
        (3, "UPDATE", None, ()),
        (4, "ALTER", "takes an exclusive lock on orders, briefly", ("orders.status",)),
        (5, "BEGIN", None, ()),
        (6, "CREATE", "locks writes to orders while the index builds", ()),
        (7, "COMMIT", None, ()),
    ]


def test_quoted_names_are_read_whole() -> None:
    """A quoted identifier is a name, not a string: kept, and read whole by the lock and drop notes."""
    changes = analyse_sql('ALTER TABLE public."order;items" DROP COLUMN "a ""b"";c";\nDROP TABLE "Old;Orders";\n')
    assert [(c.line, c.locks, c.drops) for c in changes] == [
        (1, "takes an exclusive lock on public.order;items, briefly", ('public.order;items.a "b";c',)),
        (2, "takes an exclusive lock on Old;Orders, briefly", ("Old;Orders.*",)),
    ]
    assert changes[0].summary == 'ALTER TABLE public."order;items" DROP COLUMN "a ""b"";c"'


@pytest.mark.parametrize("chunk", [1, 7, 61])
def test_a_chunked_scan_splits_as_one_scan(chunk: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """The scanner is given a chunk at a time: a cut anywhere (inside an operator, a number, a string
    that a later quote continues over `--` comments) gives the statements of one scan of the whole."""
    texts = generated()[:500] + [p.read_text(encoding="utf-8") for p in sql_files()] + [
        "SELECT 'a'\n-- c\n--d\n\n'b'\n 'c' , x;\nSELECT 1 <+-!2, 2 <+- 2, 3--4\n+5, 1+/*x*/-2, a@-b, 1e5, 1_000;",
        "SELECT U&'a'\n'b', B'1'\n'0', X'f'\n  -- y\n'e', E'a'\n\t-- x\r\n'b', 'a'\n/* c */ 'b';"]
    whole = [list(_statements(text)) for text in texts]
    monkeypatch.setattr(records, "_CHUNK", chunk)
    differ = [text for text, expected in zip(texts, whole, strict=True) if list(_statements(text)) != expected]
    print(f"\nchunks of {chunk}: {len(texts)} scripts, {len(differ)} differ from one scan")
    assert not differ, differ[:3]


def test_random_token_soup_splits_the_same_in_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Invalid SQL too: whatever PostgreSQL's scanner makes of it in one scan, it makes in chunks."""
    vocabulary = ["'a'", "'", "\n", " ", "--c", "--", "/*", "*/", "$$", "$a$", "E'\\'", "\\", "+", "-", "<", "!", "*",
                  "/", "1", "1.", "e", ".", ":", "::", ";", "(", ")", '"', "x", "U&'", "B'", "é", "\t", "\r", "$1",
                  "'b'", "\n'c'", "begin", "end", "create function", "#", "%"]

    def read(text: str) -> object:
        try:
            return list(_statements(text))
        except records._Unreadable as error:
            return error.location, error.reason

    differ = 0
    for seed in range(2000):
        rng = random.Random(seed)
        text = "".join(rng.choice(vocabulary) for _ in range(rng.randint(1, 40)))
        monkeypatch.setattr(records, "_CHUNK", 1 << 16)
        expected = read(text)
        for chunk in (1, 3, 9):
            monkeypatch.setattr(records, "_CHUNK", chunk)
            differ += read(text) != expected
    assert differ == 0


@pytest.mark.parametrize(("text", "line", "reason"), [
    ("SELECT 1;\nUPDATE t SET a = 'x;\n", 2, "unterminated quoted string"),
    ("ALTER TABLE t ADD COLUMN a text;\n\n/* a /* nested */ comment; never closed\n", 3, "unterminated /* comment"),
    ("CREATE FUNCTION f() RETURNS int AS $fn$ SELECT 1;\n", 1, "unterminated dollar-quoted string"),
    ('SELECT 1;\nSELECT 2;\nDROP TABLE "orders;\n', 3, "unterminated quoted identifier"),
    ("é;\nSELECT 12abc;", 2, "trailing junk after numeric literal"),
    ("SELECT 1;\nSELECT 2\x00;", 2, "a NUL character"),
])
def test_what_the_scanner_refuses_is_one_change_at_its_line(text: str, line: int, reason: str) -> None:
    assert analyse_sql(text) == [Change(line, f"(the SQL could not be read past line {line}: {reason})", None, ())]


@pytest.mark.parametrize("text", [
    ";" * (1 << 19), "a;" * (1 << 16), "(" * (1 << 19), "--\n" * (1 << 17),
    "SELECT 'a'\n" + "--\n" * (1 << 17) + "'b';", "SELECT $$" + "x;" * (1 << 19) + "$$;", "'" + "x" * (1 << 19),
    "SELECT 1 " + ("+" * 64 + " 1, 1") * (1 << 13) + ";",
])
def test_hostile_input_is_scanned_a_chunk_at_a_time(text: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The scanner's tokens of a whole file are never held at once: 5 MB of `;` would be 5 million
    tuples, some 1.4 GB. Each scan holds at most a chunk's worth (64 Ki characters, so as many tokens)."""
    calls, counts = [0], [0]
    scan = records._scan

    def counted(piece: str) -> list[pg.Token]:
        calls[0] += 1
        tokens = scan(piece)
        counts.append(len(tokens))
        return tokens

    monkeypatch.setattr(records, "_scan", counted)
    changes = analyse_sql(text)
    assert all(change.line >= 1 for change in changes)
    assert calls[0] > 1
    assert max(counts) <= records._CHUNK, max(counts)


@pytest.mark.parametrize("text", ["/*" * (1 << 20), "SELECT 1 " + "+" * (5 << 20), ("+" * 200 + "\n") * 30000])
def test_runs_of_operator_characters_that_make_the_scanner_quadratic_are_refused(text: str) -> None:
    """PostgreSQL's scanner matches a run of operator characters whole and gives back all but a part,
    so `+++…` or `/*/*…` takes time quadratic in the run: past a budget, the file is refused at once."""
    import time

    began = time.monotonic()
    changes = analyse_sql(text)
    assert time.monotonic() - began < 30
    assert len(changes) == 1 and "runs of operator characters" in changes[0].summary, changes[:1]
