"""Fuzzing with hypothesis: the loaders on arbitrary text and bytes, the whole check-and-render pipeline on
mutations of a valid handbook, and the hostile shapes of issue #15; zero unhandled exceptions.

The shapes: alert rules whose PromQL nests brackets, aggregations, unary minus and `1+1+…` chains around
and beyond the bound (over it: OB301, the parser never called; at or under it: parsed, no OB301); runbooks
with thousands of unknown keys (OB011, positions right, work linear in the keys); named pipes, sockets,
link loops and links to devices in source folders and docs/ (OB006/OB008, `analyse`, pages and `opsbook
build --out` end, a hang fails the test); long, multibyte, `/`, `..` and newline names (file names at most
100 bytes, nothing written outside the output folder); postmortems and other text made of Markdown link
forms and raw HTML (neither the page's Markdown rendered as MkDocs does, nor the sanitised HTML, holds a
`javascript:`/`vbscript:`/`data:` link, an event handler, a script or an image from another host); and
hostile results files (never a traceback; a bad one is OB050).

By default a small random budget: 300 cases in all (55 % text, 15 % bytes, 8 % pipeline, 6 % PromQL,
2 % keys, 4 % special files, 4 % names, 4 % Markdown, 2 % results), a few seconds, different on every run.
The seed in use is printed in pytest's header and summary; `pytest --hypothesis-seed=N` replays a run
exactly, and a failure also prints its `@reproduce_failure` blob.

The large run, at least 100,000 cases (weekly, in .github/workflows/fuzz.yml), also draws larger shapes
(up to 50,000 unknown keys, results nested 100,000 deep):

    OPSBOOK_FUZZ_EXAMPLES=100000 .venv/bin/python -m pytest tests/test_fuzz.py
"""

from __future__ import annotations

import copy
import json
import math
import os
import re
import shutil
import socket
import tempfile
import threading
from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path
from typing import TYPE_CHECKING, Any
from unittest import mock
from urllib.parse import urlsplit

import jsonschema
import markdown
import promql_parser
import pytest
import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, Phase, event, given, settings
from hypothesis import strategies as st

from opsbook import analyse
from opsbook.cli import main
from opsbook.config import Config
from opsbook.kinds.alerting.promql import MAX_NESTING, MAX_OPERATORS
from opsbook.loader import decode, load_yaml_text
from opsbook.render.sanitise import sanitise_html
from opsbook.schema_validation import load_schema

if TYPE_CHECKING:
    from conftest import LoaderWork

FUZZ_EXAMPLES = int(os.environ.get("OPSBOOK_FUZZ_EXAMPLES", "300"))
SHARES = {"text": 0.55, "bytes": 0.15, "pipeline": 0.08, "promql": 0.06, "keys": 0.02, "special": 0.04,
          "names": 0.04, "markdown": 0.04, "results": 0.02}
BUDGET = {name: max(1, math.ceil(round(FUZZ_EXAMPLES * share, 6))) for name, share in SHARES.items()}
COUNTS = dict.fromkeys(SHARES, 0)
#: The large run draws larger shapes; the default one stays a few seconds.
LARGE = FUZZ_EXAMPLES >= 10_000
#: A hang detector for what takes well under a second, not a speed target: a hang fails the test. The tests
#: that can hang do not shrink a failure (each attempt could wait this long again): the first case that
#: hangs is the one reported, with the seed.
HANG = 60
# Random, not derandomized: each run explores new cases. No example database: a failure is replayed from
# the seed (tests/conftest.py prints it) or from the `@reproduce_failure` blob printed with it.
FAST = dict(deadline=None, database=None, print_blob=True, suppress_health_check=list(HealthCheck))
NO_SHRINK = dict(FAST, phases=[Phase.explicit, Phase.reuse, Phase.generate])

YAMLISH = st.text(alphabet=st.sampled_from(list("ab:- \n\t[]{},'\"&*!|>%@`#?~0123456789.") + ["\x00", "é", "\ufeff"]),
                  max_size=120)


RecordProperty = Callable[[str, object], None]


def _fuzz(name: str, cases: Callable[[], None], record_property: RecordProperty) -> None:
    """Run one hypothesis test through its budget and check that the whole budget ran."""
    COUNTS[name] = 0
    cases()
    record_property("fuzz_cases", {name: COUNTS[name]})  # tests/conftest.py prints the counts in the summary
    assert COUNTS[name] >= BUDGET[name], f"{COUNTS[name]} {name} cases ran, of a budget of {BUDGET[name]}"


def test_loader_on_arbitrary_text(record_property: RecordProperty) -> None:
    _fuzz("text", _text_cases, record_property)


def test_loader_on_arbitrary_bytes(record_property: RecordProperty) -> None:
    _fuzz("bytes", _bytes_cases, record_property)


def test_pipeline_on_mutated_handbooks(record_property: RecordProperty) -> None:
    _fuzz("pipeline", _pipeline_cases, record_property)


def test_deep_promql_is_bounded_before_parsing(record_property: RecordProperty) -> None:
    _fuzz("promql", _promql_cases, record_property)


def test_many_unknown_keys(record_property: RecordProperty, loader_work: LoaderWork) -> None:
    _fuzz("keys", lambda: _keys_cases(loader_work), record_property)


def test_special_files_in_a_handbook(record_property: RecordProperty) -> None:
    _fuzz("special", _special_cases, record_property)


def test_long_names_make_short_file_names_inside_the_site(record_property: RecordProperty) -> None:
    _fuzz("names", _names_cases, record_property)


def test_markdown_link_forms_cannot_carry_script(record_property: RecordProperty) -> None:
    _fuzz("markdown", _markdown_cases, record_property)


def test_hostile_results_files(record_property: RecordProperty) -> None:
    _fuzz("results", _results_cases, record_property)


@settings(max_examples=BUDGET["text"], **FAST)
@given(st.one_of(YAMLISH, st.text(max_size=200)))
def _text_cases(text: str) -> None:
    COUNTS["text"] += 1
    documents, problems = load_yaml_text("f.yaml", text)
    for problem in problems:
        assert problem.line >= 1 and problem.column >= 1 and problem.code.startswith("OB")
    for document in documents:
        document.position(("a", 0, "b"))


@settings(max_examples=BUDGET["bytes"], **FAST)
@given(st.binary(max_size=300))
def _bytes_cases(raw: bytes) -> None:
    COUNTS["bytes"] += 1
    text, problem = decode("f.yaml", raw)
    if text is not None:
        load_yaml_text("f.yaml", text)
    else:
        assert problem is not None and problem.code == "OB002"


BASE = {
    "runbooks/r.yaml": {"title": "Restore", "summary": "When it breaks.", "owner": "team-a", "service": "db",
                        "severity": "high", "alerts": ["Down"], "related": ["r2"], "symptoms": ["slow"],
                        "last_reviewed": "2026-11-01", "review_every": "90d",
                        "inputs": {"X": {"description": "x", "default": "1", "ci": "2"}},
                        "steps": [{"name": "Do", "run": "echo $X", "expect": {"exit_code": 0, "timeout": "5s"}},
                                  {"name": "Say", "manual": "Tell people."}]},
    "runbooks/r2.yaml": {"title": "Other", "steps": [{"name": "A", "manual": "m"}]},
    "teams/team-a.yaml": {"name": "A", "receivers": ["pager"], "oncall": {"rotation": "weekly"}},
    "components/db.yaml": {"name": "DB", "kind": "datastore", "owner": "team-a", "rpo": "1h",
                           "depends_on": [{"component": "db", "protocol": "x"}],
                           "data": {"classification": "pii", "retention": "1y",
                                    "encryption": {"at_rest": True, "in_transit": True}, "deletion_runbook": "r"}},
    "backups/db.yaml": {"datastore": "db", "schedule": "0 * * * *", "retention": {"count": 200},
                        "restore_runbook": "r"},
    "ops/alerts/a.yml": {"groups": [{"name": "g", "rules": [
        {"alert": "Down", "expr": "up == 0", "for": "5m", "labels": {"severity": "critical", "team": "a"},
         "annotations": {"runbook_url": "runbooks/r/", "summary": "down"}},
        {"record": "job:up:sum", "expr": "sum(up)"}]}]},
    "ops/alertmanager.yml": {"route": {"receiver": "pager", "routes": [{"matchers": ['team="a"'], "receiver": "pager"}]},
                             "receivers": [{"name": "pager", "webhook_configs": [{"url": "http://127.0.0.1:9/"}]}]},
    ".github/workflows/w.yml": {"name": "W", "on": {"push": {"branches": ["main"]}}, "permissions": {},
                                "jobs": {"a": {"runs-on": "x", "steps": [{"run": "echo"}]},
                                         "b": {"needs": "a", "runs-on": "x", "environment": "prod",
                                               "steps": [{"run": "echo ${{ secrets.K }}"}]}}},
    "ops/environments/prod.yaml": {"url": "https://x.example", "approval": "required", "secrets": ["K"],
                                   "deployed_by": ".github/workflows/w.yml", "rollback_runbook": "r"},
}

VALUES = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-10**6, 10**6), st.floats(allow_nan=False, allow_infinity=False),
              st.text(max_size=40), st.sampled_from(["<script>x</script>", "{{ 7*7 }}", "../x", "r", "db", "team-a",
                                                     "0 2 * * 1-5", "90d", "2026-02-30", 'a="b', "]-->x[",
                                                     "`", "|", "\n- x", "Down", "critical"])),
    lambda children: st.one_of(st.lists(children, max_size=3), st.dictionaries(st.text(max_size=8), children,
                                                                               max_size=3)),
    max_leaves=6)


def _paths(value: object, prefix: tuple = ()) -> list[tuple]:
    found = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _paths(item, (*prefix, index))
    return found


def _set(document: object, path: tuple, value: object) -> object:
    if not path:
        return value
    parent = document
    for part in path[:-1]:
        parent = parent[part]  # type: ignore[index]
    parent[path[-1]] = value  # type: ignore[index]
    return document


@settings(max_examples=BUDGET["pipeline"], **FAST)
@given(st.data())
def _pipeline_cases(data: st.DataObject) -> None:
    COUNTS["pipeline"] += 1
    files = copy.deepcopy(BASE)
    for _ in range(data.draw(st.integers(1, 3))):
        name = data.draw(st.sampled_from(sorted(files)))
        path = data.draw(st.sampled_from(_paths(files[name])))
        files[name] = _set(files[name], path, data.draw(VALUES))
    as_json = data.draw(st.booleans())
    folder = Path(tempfile.mkdtemp(prefix="opsbook-fuzz-"))
    try:
        for name, content in files.items():
            target = folder / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(json.dumps(content) if as_json else yaml.safe_dump(content, allow_unicode=True),
                              encoding="utf-8")
        analysis = analyse(folder, Config(root=folder, today="2026-11-26", shellcheck=False))
        for diagnostic in analysis.diagnostics:
            assert diagnostic.line >= 0 and diagnostic.code.startswith("OB")
        pages = analysis.pages()
        assert pages and all(page.uri.endswith(".md") and ".." not in page.uri for page in pages)
    finally:
        shutil.rmtree(folder, ignore_errors=True)



# --- The hostile shapes of issue #15 ----------------------------------------------------------------------

SETTINGS = {"today": "2026-11-26", "shellcheck": False}


def _write(folder: Path, files: dict[str, object], as_json: bool = False) -> None:
    """Write sources (mappings as YAML or JSON, text as it is) and the settings into `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "opsbook.yml").write_text(json.dumps(SETTINGS), encoding="utf-8")
    for name, content in files.items():
        target = folder / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, (bytes, str)):
            target.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
        else:
            target.write_text(json.dumps(content) if as_json else yaml.safe_dump(content, allow_unicode=True),
                              encoding="utf-8")


def _analyse(folder: Path, **options: object) -> Any:
    return analyse(folder, Config(root=folder, today="2026-11-26", shellcheck=False, **options))


def _within(seconds: float, work: Callable[[], object], fifos: list[Path] = ()) -> object:  # type: ignore[assignment]
    """Run `work` in a thread of its own and return what it returns; a hang fails the test (after opening
    every named pipe for writing, which releases a reader waiting on one) instead of blocking the run."""
    outcome: dict[str, object] = {}

    def run() -> None:
        try:
            outcome["value"] = work()
        except BaseException as error:  # re-raised in the test's thread
            outcome["error"] = error

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    if thread.is_alive():
        for fifo in fifos:
            try:
                os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
            except OSError:
                pass
        pytest.fail(f"it did not end within {seconds} s: it hangs")
    if "error" in outcome:
        raise outcome["error"]  # type: ignore[misc]
    return outcome.get("value")


# Deep PromQL: layers around an innermost selector, each adding brackets or operators, counted here as the
# parser nests them (brackets in strings, comments and label matchers are not the expression's).
ATOMS = [("up", 0, 0), ('up{job="((a-b", path=~"(x|y)+-"}', 1, 0), ("rate(up[5m])", 2, 0), ("up # ((( + - *\n", 0, 0),
         ('label_replace(up, "a", "((($1", "b", "(.*)")', 1, 0)]
LAYERS = {"paren": ("(", ")", 1, 0), "sum": ("sum(", ")", 1, 0), "sumby": ("sum by (job) (", ")", 1, 0),
          "abs": ("abs(", ")", 1, 0), "compare": ("(", ") > 0", 1, 1), "minus": ("-", "", 0, 1),
          "chain": ("", "+1", 0, 1), "times": ("", " * 2", 0, 1)}


def _count(bound: int, over: bool) -> st.SearchStrategy[int]:
    """A count within the bound (often just at it), or over it (often just over)."""
    if over:
        return st.one_of(st.integers(bound + 1, 3 * bound), st.integers(bound + 1, bound + 2))
    return st.one_of(st.integers(0, bound), st.integers(bound - 2, bound))


@settings(max_examples=BUDGET["promql"], **FAST)
@given(st.data())
def _promql_cases(data: st.DataObject) -> None:
    COUNTS["promql"] += 1
    random = data.draw(st.randoms(use_true_random=False))
    deep, long = data.draw(st.sampled_from([(False, False), (True, False), (False, True), (True, True)]))
    atom, depth, count = data.draw(st.sampled_from(ATOMS))
    brackets = max(0, data.draw(_count(MAX_NESTING, deep)) - depth)  # the atom's own brackets count too
    operators = data.draw(_count(MAX_OPERATORS, long))
    layers = [random.choice(["paren", "sum", "sumby", "abs", "compare"]) for _ in range(brackets)]
    operator_layers = [random.choice(["minus", "chain", "times"]) for _ in range(operators)]
    compared = layers.count("compare")
    layers = layers + operator_layers[:max(0, operators - compared)]
    random.shuffle(layers)
    expr = atom
    for name in layers:
        before, after, deeper, more = LAYERS[name]
        expr = before + expr + after
        depth, count = depth + deeper, count + more
    assert (depth > MAX_NESTING, count > MAX_OPERATORS) == (deep, long), (depth, count)  # as drawn
    over = deep or long
    event("over the bound" if over else "within the bound")
    folder = Path(tempfile.mkdtemp(prefix="opsbook-fuzz-"))
    parsed: list[str] = []
    real_parse = promql_parser.parse

    def recording_parse(text: str) -> object:
        parsed.append(text)
        return real_parse(text)

    try:
        _write(folder, {"ops/alerts/a.yml": {"groups": [{"name": "g", "rules": [
            {"alert": "Deep", "expr": expr, "labels": {"severity": "warning"}}]}]}})
        with mock.patch.object(promql_parser, "parse", recording_parse):
            diagnostics = _analyse(folder).diagnostics
        invalid = [d for d in diagnostics if d.code == "OB301"]
        if over:
            assert expr not in parsed, f"an expression {depth} deep with {count} operators reached the parser"
            assert len(invalid) == 1 and "it was not parsed" in invalid[0].message, (depth, count, diagnostics)
        else:
            assert invalid == [], (depth, count, invalid)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


# Many keys: unknown fields by the thousand, at the top of a runbook or in a step.
MAX_KEYS = 50_000 if LARGE else 2_000
KEY_PREFIXES = st.text(alphabet=st.sampled_from(list("abcXYZ_é组😀 .:-")), min_size=1, max_size=12).filter(
    lambda prefix: not prefix.lower().startswith("x-"))


@settings(max_examples=BUDGET["keys"], **FAST)
@given(st.data())
def _keys_cases(work: LoaderWork, data: st.DataObject) -> None:
    COUNTS["keys"] += 1
    keys = data.draw(st.one_of(st.integers(0, 150), st.integers(0, MAX_KEYS)))
    prefix = data.draw(KEY_PREFIXES)
    in_step = data.draw(st.booleans())
    head = "title: R\nsteps:\n  - name: S\n    manual: m\n" if in_step else "title: R\nsteps: [{name: S, manual: m}]\n"
    indent = "    " if in_step else ""
    names = [f"{prefix}{index}" for index in range(keys)]
    text = head + "".join(f"{indent}{json.dumps(name, ensure_ascii=False)}: v\n" for name in names)
    first_line = head.count("\n") + 1
    folder = Path(tempfile.mkdtemp(prefix="opsbook-fuzz-"))
    try:
        _write(folder, {"runbooks/r.yaml": text})
        work.pairs_walked, work.builders, work.opened = 0, [], []
        diagnostics = [d for d in _analyse(folder).diagnostics if d.path == "runbooks/r.yaml"]
        assert all(d.code == "OB011" for d in diagnostics), diagnostics[:3]
        assert len(diagnostics) == min(keys, 100) + (keys > 100)
        for index, diagnostic in enumerate(diagnostics[:100]):
            assert (diagnostic.line, diagnostic.column) == (first_line + index, len(indent) + 1), diagnostic
            field = ("steps[0]." if in_step else "") + names[index]
            assert diagnostic.message.startswith(f"unknown field {field!r}"), diagnostic.message
        if keys > 100:
            assert f" and {keys - 101:,} more unknown fields" in diagnostics[-1].message
        assert work.pairs_walked <= 3 * keys + 50, f"{work.pairs_walked} pairs walked for {keys} keys"
    finally:
        shutil.rmtree(folder, ignore_errors=True)


# Special files: where the sources and docs are, entries that opening would hang on or loop through.
SPECIAL_PLACES = {"runbooks": ".yaml", "teams": ".yaml", "components": ".yml", "backups": ".yaml",
                  "ops/alerts": ".yml", "ops/environments": ".yaml", ".github/workflows": ".yml",
                  "migrations": ".sql", "docs": ".md", "docs/guide": ".png"}
SPECIAL_KINDS = ["fifo", "socket", "loop", "self", "zero", "null", "holds-itself"]
SHORT_NAMES = st.text(alphabet=st.sampled_from(list("abz09-_")), min_size=1, max_size=10)


def _make_special(file: Path, what: str) -> list[Path]:
    """Make the special entry; the paths that must be reported (links that loop: both links)."""
    file.parent.mkdir(parents=True, exist_ok=True)
    if what == "socket" and len(os.fsencode(file)) >= 100:  # AF_UNIX paths hold at most 107 bytes
        what = "fifo"
    if what == "fifo":
        os.mkfifo(file)
    elif what == "socket":
        with socket.socket(socket.AF_UNIX) as listening:
            listening.bind(str(file))
    elif what == "loop":
        file.symlink_to(file.name + "~" + file.suffix)
        file.with_name(file.name + "~" + file.suffix).symlink_to(file.name)
        return [file, file.with_name(file.name + "~" + file.suffix)]
    elif what == "self":
        file.symlink_to(file.name)
    elif what in ("zero", "null"):
        file.symlink_to(f"/dev/{what}")
    elif what == "holds-itself":
        file.symlink_to(".")
    return [file]


@settings(max_examples=BUDGET["special"], **NO_SHRINK)
@given(st.data())
def _special_cases(data: st.DataObject) -> None:
    COUNTS["special"] += 1
    top = Path(tempfile.mkdtemp(prefix="ob-"))
    folder = top / "h"
    try:
        _write(folder, {**BASE, "docs/index.md": "# Home\n"}, as_json=data.draw(st.booleans()))
        expected: dict[str, str] = {}
        fifos: list[Path] = []
        for _ in range(data.draw(st.integers(1, 3))):
            place = data.draw(st.sampled_from(sorted(SPECIAL_PLACES)))
            what = data.draw(st.sampled_from(SPECIAL_KINDS if place.startswith("docs") else SPECIAL_KINDS[:-1]))
            file = folder / place / (data.draw(SHORT_NAMES) + SPECIAL_PLACES[place])
            if os.path.lexists(file) or os.path.lexists(str(file) + "~" + file.suffix):
                continue
            for made in _make_special(file, what):
                relpath = made.relative_to(folder).as_posix()
                # A link to a device leads outside the repository (OB006) in a source folder; in docs/ it is
                # the device it reads (OB008).
                expected[relpath] = "OB006" if what in ("zero", "null") and not place.startswith("docs") else "OB008"
            fifos += [file] if stat_is_fifo(file) else []

        def check_and_build() -> tuple[Any, Any, Any]:
            analysis = _analyse(folder)
            pages = analysis.pages()
            built = CliRunner().invoke(main, ["build", str(folder), "--out", str(top / "out")])
            return analysis, pages, built

        analysis, pages, built = _within(HANG, check_and_build, fifos)  # type: ignore[misc]
        found = {(d.path, d.code) for d in analysis.diagnostics}
        for relpath, code in expected.items():
            assert (relpath, code) in found, (relpath, code, sorted(found))
        assert pages
        assert built.exit_code == 1 and isinstance(built.exception, SystemExit), (built.exception, built.output)
        assert "Traceback" not in built.output and not (top / "out").exists()
        assert all(relpath in built.output for relpath in expected), built.output
    finally:
        shutil.rmtree(top, ignore_errors=True)


def stat_is_fifo(file: Path) -> bool:
    try:
        return os.path.exists(file) and not os.path.islink(file) and os.stat(file).st_mode & 0o170000 == 0o010000
    except OSError:
        return False


# Long names: rule groups, alerts, receivers and ids of hundreds of characters, multibyte, with `/`, `..`,
# newlines; every page is written inside the output folder under a name of at most 100 bytes (and its
# `.md`).
NAME_UNITS = ["g", "é", "组", "😀", "/", "..", "../", "\n", " ", "a-", "-", ".", "%2e", "\\", "\x00", ":"]
LONG_NAMES = st.one_of(
    st.builds(lambda unit, count: unit * count, st.sampled_from(NAME_UNITS), st.integers(1, 400)),
    st.lists(st.sampled_from(NAME_UNITS), min_size=1, max_size=300).map("".join),
    st.text(min_size=1, max_size=300))
#: Ids: mostly valid ones (lower-case words joined by hyphens) of any length, so that most builds write pages.
VALID_IDS = st.one_of(
    st.builds(lambda unit, count: "-".join([unit] * count), st.sampled_from(["a", "b0", "zz9"]), st.integers(1, 150)),
    st.lists(st.from_regex(r"[a-z0-9]{1,12}", fullmatch=True), min_size=1, max_size=40).map("-".join),
    st.integers(50, 400).map(lambda length: "x" * length))
LONG_IDS = st.one_of(VALID_IDS, LONG_NAMES)


@settings(max_examples=BUDGET["names"], **NO_SHRINK)
@given(group=LONG_NAMES, alert=LONG_NAMES, receiver=LONG_NAMES, runbook_id=LONG_IDS, team=VALID_IDS)
def _names_cases(group: str, alert: str, receiver: str, runbook_id: str, team: str) -> None:
    COUNTS["names"] += 1
    top = Path(tempfile.mkdtemp(prefix="ob-"))
    folder, out = top / "handbook", top / "site" / "out"
    try:
        _write(folder, {
            "ops/alerts/a.yml": {"groups": [{"name": group, "rules": [
                {"alert": alert, "expr": "up == 0", "labels": {"severity": "warning"}}]}]},
            "ops/alertmanager.yml": {"route": {"receiver": receiver}, "receivers": [{"name": receiver}]},
            "runbooks/r.yaml": {"id": runbook_id, "title": "R", "steps": [{"name": "S", "manual": "m"}]},
            "teams/t.yaml": {"id": team, "name": "T"}})
        pages = _analyse(folder).pages()
        for page in pages:
            parts = page.uri.split("/")
            assert not page.uri.startswith("/") and ".." not in parts and "" not in parts, page.uri
            assert all(len(part.encode("utf-8")) <= 104 for part in parts), page.uri
        built = _within(HANG, lambda: CliRunner().invoke(main, ["build", str(folder), "--out", str(out)]))
        assert built.exception is None or isinstance(built.exception, SystemExit), built.exception  # type: ignore[attr-defined]
        assert "File name too long" not in built.output and "Traceback" not in built.output  # type: ignore[attr-defined]
        event(f"opsbook build exit code {built.exit_code}")  # type: ignore[attr-defined]
        if built.exit_code == 0:  # type: ignore[attr-defined]
            written = [file for file in out.rglob("*")]
            assert written and all(len(part.encode("utf-8")) <= 104 for file in written
                                   for part in file.relative_to(out).parts)
            for page in pages:
                assert (out / "docs" / page.uri).is_file(), page.uri
        # Nothing outside the output folder but the handbook itself.
        outside = [file for file in top.rglob("*") if file.is_file()
                   and folder not in file.parents and out not in file.parents]
        assert outside == [], outside
    finally:
        shutil.rmtree(top, ignore_errors=True)


# Markdown link forms: links, reference links and their definitions, images, autolinks and raw HTML, to
# dangerous schemes written every way a browser still reads them, and to other hosts.
IMAGE_HOST = "images.example"
OTHER_HOST = "tracker.example"
URLS = st.sampled_from([
    "javascript:alert(1)", "JaVaScRiPt:alert(1)", " javascript:alert(1)", "java\tscript:alert(1)",
    "java\nscript:alert(1)", "\x01javascript:alert(1)", "&#106;avascript:alert(1)", "&#x6A;avascript:alert(1)",
    "javascript&#58;alert(1)", "javascript&colon;alert(1)", "jav&#x09;ascript:alert(1)", "vbscript:msgbox(1)",
    "VBScript:msgbox(1)", "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
    "data:image/svg+xml,<svg onload=alert(1)>", "<javascript:alert(1)>", f"https://{OTHER_HOST}/p.gif",
    f"//{OTHER_HOST}/p.gif", f"/\\{OTHER_HOST}/p.gif", f"\\\\{OTHER_HOST}/p.gif", f"http://{OTHER_HOST}:80/p.gif",
    f"https://{IMAGE_HOST}/ok.png", f"https://{IMAGE_HOST}@{OTHER_HOST}/p.gif", "ok.png", "../x.png",
    "mailto:a@example.com", "#anchor", "javascript:alert(1) \"t\"", "javascript:alert(1)'t'"])
LABELS = st.sampled_from(["x", "", "a]b", "![i](x.png)", "<b>", "`c`", "[n]"])
REFS = st.sampled_from(["r", "R", "t 1", "^f"])
PIECES = st.one_of(
    st.builds("[{}]({})".format, LABELS, URLS), st.builds("[{}]( {} )".format, LABELS, URLS),
    st.builds("[{}](<{}>)".format, LABELS, URLS), st.builds("![{}]({})".format, LABELS, URLS),
    st.builds("![{}][{}]".format, LABELS, REFS), st.builds("[{}][{}]".format, LABELS, REFS),
    st.builds("[{}]".format, REFS), st.builds("\n[{}]: {}\n".format, REFS, URLS),
    st.builds("\n[{}]:\n  {}\n".format, REFS, URLS), st.builds("<{}>".format, URLS),
    st.builds('<a href="{}">a</a>'.format, URLS), st.builds("<img src='{}'>".format, URLS),
    st.builds('<img src=x {}="alert(1)">'.format, st.sampled_from(["onerror", "OnError", "onload", "on\nerror"])),
    st.builds('<{} onclick="alert(1)" style="background:url(//{})">t</{}>'.format,
              st.sampled_from(["div", "span", "details", "svg", "p"]), st.just(OTHER_HOST), st.just("div")),
    st.sampled_from(["<script>alert(1)</script>", "<SCRIPT SRC=//tracker.example/s.js></SCRIPT>",
                     "<iframe src=//tracker.example/f></iframe>", "<svg><script>alert(1)</script></svg>",
                     "{: onclick=\"alert(1)\" }", "{ onclick=alert(1) }", "<!-- x -->", "&lt;script&gt;",
                     "\n!!! note \"<img src=x onerror=alert(1)>\"\n    body\n", "\n```\n<script>\n```\n",
                     "\n| a | b |\n|---|:-:|\n| [x](javascript:alert(1)) | c |\n", "\n    <script>code</script>\n",
                     "<style>@import url(//tracker.example/s.css)</style>", "<object data=//tracker.example/o>",
                     "<a href=javascript:alert(1)>x</a>", "<a href='jav&#x09;ascript:alert(1)'>x</a>"]),
    st.text(alphabet=st.sampled_from(list("[]()<>!:&#;\"' \n\t\\`*_{}=/.ajvsx")), max_size=30))
MARKDOWN_TEXT = st.lists(st.tuples(PIECES, st.sampled_from(["", " ", "\n", "\n\n"])), min_size=1, max_size=8).map(
    lambda parts: "".join(piece + gap for piece, gap in parts))
#: The Markdown extensions of mkdocs.yml, and those a handbook's own configuration commonly adds.
EXTENSIONS = ["admonition", "tables", "toc", "pymdownx.highlight", "pymdownx.superfences", "attr_list",
              "md_in_html"]
MARKDOWN = markdown.Markdown(extensions=EXTENSIONS)


def _html(text: str) -> str:
    """The HTML MkDocs makes of Markdown (one converter, reset between texts, as MkDocs uses it)."""
    return MARKDOWN.reset().convert(text)
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "xlink:href", "data", "poster", "background", "srcset"}
DANGEROUS_TAGS = {"script", "iframe", "object", "embed", "style", "link", "meta", "base", "form", "frame"}


class _Elements(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, attrs))

    handle_startendtag = handle_starttag


def _unsafe(html_text: str, image_hosts: set[str]) -> list[str]:
    """What in the HTML could run script or load from another host, judged as a browser reads it."""
    parser = _Elements()
    parser.feed(html_text)
    parser.close()
    found = []
    if re.search(r"<\s*script", html_text, re.I):
        found.append("<script")
    for tag, attrs in parser.elements:
        if tag in DANGEROUS_TAGS:
            found.append(f"<{tag}>")
        for name, value in attrs:
            if name.startswith("on"):
                found.append(f"<{tag} {name}=>")
            if name == "style" and value and re.search(r"url|expression|import", value, re.I):
                found.append(f"<{tag} style={value!r}>")
            if name not in URL_ATTRIBUTES or value is None:
                continue
            # As the URL standard reads it: C0 controls and spaces at its ends dropped, tabs and newlines
            # anywhere, `\` read as `/`.
            bare = re.sub(r"[\t\n\r]", "", value.strip("".join(map(chr, range(0x21))))).replace("\\", "/")
            scheme = re.match(r"([A-Za-z][A-Za-z0-9+.-]*):", bare)
            if scheme and scheme.group(1).lower() not in ("http", "https", "mailto"):
                found.append(f"<{tag} {name}={value!r}>")
            if tag == "img" and name == "src":
                host = urlsplit(bare).hostname if scheme or bare.startswith("//") else None
                if bare.startswith("//") or (scheme and (host or "").lower() not in image_hosts):
                    found.append(f"<img src={value!r}>")
    return found


@settings(max_examples=BUDGET["markdown"], **FAST)
@given(postmortem=MARKDOWN_TEXT, event=MARKDOWN_TEXT, summary=MARKDOWN_TEXT)
def _markdown_cases(postmortem: str, event: str, summary: str) -> None:
    COUNTS["markdown"] += 1
    hosts = {IMAGE_HOST}
    folder = Path(tempfile.mkdtemp(prefix="opsbook-fuzz-"))
    try:
        _write(folder, {
            "ops/incidents/i.yaml": {"title": summary[:200] or "t", "severity": "high",
                                     "started": "2026-10-03T14:02:00Z", "resolved": "2026-10-03T14:43:00Z",
                                     "timeline": [{"at": "2026-10-03T14:05:00Z", "event": event}],
                                     "postmortem": postmortem},
            "runbooks/r.yaml": {"title": "R", "summary": summary, "steps": [{"name": "S", "manual": event}]}})
        pages = _analyse(folder, image_hosts=sorted(hosts)).pages()
        assert any(page.source == "ops/incidents/i.yaml" for page in pages)
        # The pages that show the fields: the incident's and the runbook's, and the indexes listing them (the
        # other pages of the handbook, reference pages among them, hold none of the texts).
        for page in [page for page in pages if page.source or re.search(r"incident|runbook", page.uri)]:
            # The page's Markdown, as MkDocs makes HTML of it: the Markdown layer (md_source, md_block) alone.
            rendered = _html(page.text)
            assert _unsafe(rendered, hosts) == [], (page.uri, _unsafe(rendered, hosts))
            # And what the plugin publishes: the same, sanitised.
            assert _unsafe(sanitise_html(rendered, hosts), hosts) == [], page.uri
        # The HTML layer alone, on the payloads as raw Markdown: what a dialect could let through.
        for text in (postmortem, event, summary):
            raw = _html(text)
            clean = sanitise_html(raw, hosts)
            assert _unsafe(clean, hosts) == [], (text, clean)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


# Hostile results files: deep nesting, wrong types at every level, huge and non-finite numbers, bytes that
# are no JSON; never a traceback, and a file that is no results file is OB050.
MAX_RESULTS_NESTING = 100_000 if LARGE else 5_000
VALID_RESULTS = {"version": 1, "written": "2026-11-26T02:19:27Z", "runbooks": {"r": {
    "runbook": "r", "path": "runbooks/r.yaml", "passed": True, "started": "2026-11-26T02:19:26Z",
    "commit": "64c9e04bc8006df8489b55da453020547f5f7088", "duration": 0.659, "mode": "ci",
    "steps": [{"runbook": "r", "section": "steps", "index": 0, "name": "Do", "status": "passed", "line": 4,
               "command": "echo 1", "command_sha256": "0" * 64, "duration": 0.067, "exit_code": 0,
               "reason": None, "expected": {"exit_code": 0}, "problems": []},
              {"section": "steps", "index": 1, "name": "Say", "status": "manual"}]}}}
HOSTILE_VALUES = st.one_of(
    VALUES, st.sampled_from([math.nan, math.inf, -math.inf, 10**30, -1, 1e308, -0.0, 2**63, "1", "", "ci"]),
    st.integers(1, 60).map(lambda depth: json.loads("[" * depth + "]" * depth)))


def _nested(depth: int, opening: str) -> str:
    closing = {"[": "]", '{"a":': "}"}[opening]
    return opening * depth + ("1" if opening != "[" else "") + closing * depth


RESULTS_BYTES = st.one_of(
    st.builds(_nested, st.integers(1, MAX_RESULTS_NESTING), st.sampled_from(["[", '{"a":'])).map(str.encode),
    st.builds(lambda depth: json.dumps({**VALID_RESULTS, "runbooks": json.loads(_nested(depth, '{"a":'))}),
              st.integers(1, 40)).map(str.encode),
    st.sampled_from([b"", b"NaN", b"1e999", b"9" * 5000, b"\xff\xfe{}", b'{"version": 1, "runbooks": {', b"null",
                     b'"runbooks"', b"[]", b"{}", json.dumps(VALID_RESULTS).encode()[:-7]]),
    st.binary(max_size=64),
    VALUES.map(lambda value: json.dumps(value).encode()))


@settings(max_examples=BUDGET["results"], **FAST)
@given(st.data())
def _results_cases(data: st.DataObject) -> None:
    COUNTS["results"] += 1
    if data.draw(st.booleans()):  # a results file with values changed at any level
        document = copy.deepcopy(VALID_RESULTS)
        for _ in range(data.draw(st.integers(0, 3))):
            path = data.draw(st.sampled_from(_paths(document)))
            document = _set(document, path, data.draw(HOSTILE_VALUES))
        raw = json.dumps(document, allow_nan=True).encode()
    else:
        raw = data.draw(RESULTS_BYTES)
    folder = Path(tempfile.mkdtemp(prefix="opsbook-fuzz-"))
    try:
        _write(folder, {"runbooks/r.yaml": {"title": "R", "steps": [
            {"name": "Do", "run": "echo 1", "expect": {"exit_code": 0}}, {"name": "Say", "manual": "m"}]},
            ".opsbook/results.json": raw})
        analysis = _analyse(folder)
        pages = analysis.pages()
        assert any(page.source == "runbooks/r.yaml" for page in pages)
        unreadable = [d for d in analysis.diagnostics if d.code == "OB050"]
        assert all("\n" not in d.message and "Traceback" not in d.message for d in unreadable)
        verdict = _results_verdict(raw)
        event(f"results file: {verdict}")
        if verdict == "bad":
            assert len(unreadable) == 1, (raw[:200], analysis.diagnostics)
        elif verdict == "good":
            assert unreadable == [], (raw[:200], unreadable)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _results_verdict(raw: bytes) -> str:
    """"good" or "bad" by the schema alone (jsonschema, not opsbook's validator); "either" for what JSON does
    not define (NaN, infinities), which opsbook may take or refuse."""
    try:
        data = json.loads(raw.decode("utf-8"))
    except (ValueError, RecursionError):
        return "bad"
    if re.search(rb"NaN|Infinity", raw):
        return "either"
    try:
        valid = jsonschema.Draft202012Validator(load_schema("results")).is_valid(data)
    except RecursionError:
        return "bad"
    return "good" if valid else "bad"
