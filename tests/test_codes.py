"""The diagnostic catalogue: every code's `failing` and `passing` examples executed, every code asserted by
some test, and the catalogue complete at import.

An example is run as the `Code` docstring (plugins/opsbook/diagnostics.py) states: its files, each
introduced by a line naming its path, are written into a copy of the base handbook in tests/codes/base
(a small, clean one: a team, a datastore with its backup, drill and restore runbook, an alert and the
Alertmanager configuration), and the handbook is analysed. The failing example must yield its code and
nothing else; the passing one must yield nothing at all.
"""

from __future__ import annotations

import ast
import json
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import opsbook
from opsbook import CODES, Code, Diagnostic, analyse
from opsbook.diagnostics import example_files as parse_examples

TESTS = Path(__file__).parent
BASE = TESTS / "codes" / "base"
PACKAGE = Path(opsbook.__file__).parent

#: A top-level key of a YAML mapping, the unit in which an example's file is merged into the base's.
KEY_LINE = re.compile(r"^(?![-#?:\s])(?P<quote>['\"]?)(?P<key>[^:#'\"]+)(?P=quote)\s*:(?:\s|$)")

#: Codes that no handbook file can produce, each with the test that asserts it instead (file::function).
EXCEPTIONS = {
    # A file over max_file_size: 5 MiB by default, and every file of a handbook is held to the one limit.
    "OB003": "test_loader.py::test_file_over_the_size_limit_is_not_read",
    # A symbolic link to a file outside the repository: a file system fact, not a file's text.
    "OB006": "test_hostile.py::test_a_source_folder_linked_outside_is_not_read",
    # A named pipe, a socket or a link that loops: file system facts, not a file's text.
    "OB008": "test_hostile.py::test_only_regular_files_are_opened",
    # Whether the shellcheck program is installed: a fact of the machine that runs opsbook.
    "OB043": "test_codes.py::test_ob043_when_shellcheck_is_missing",
    # Whether git tracks the results file: a fact of the repository, not of a file's text.
    "OB051": "test_forgery.py::test_a_committed_results_file_verifies_nothing_and_is_reported",
}


def example_files(code: str, text: str) -> list[tuple[str, str, str]]:
    """The files of an example: (path, encoding, text), in order; a path may come more than once."""
    try:
        return [(file.path, file.encoding, file.text) for file in parse_examples(text)]
    except ValueError as error:
        pytest.fail(f"{code}: {error}")


def _merge(base: str, example: str) -> str:
    """The base file without the top-level keys the example sets, then the example."""
    keys = {found["key"] for found in map(KEY_LINE.match, example.splitlines()) if found}
    kept: list[str] = []
    dropping = False
    for line in base.splitlines():
        found = KEY_LINE.match(line)
        if found:
            dropping = found["key"] in keys
        if not dropping:
            kept.append(line)
    return "\n".join([*kept, *example.splitlines()]) + "\n"


def _mergeable(path: Path, example: str) -> bool:
    first = next((line for line in example.splitlines() if line.strip() and not line.startswith("#")), "")
    return path.suffix in (".yaml", ".yml") and path.is_file() and KEY_LINE.match(first) is not None


def build(root: Path, code: str, text: str) -> Path:
    """A copy of the base handbook at `root`, with the example's files written into it."""
    shutil.copytree(BASE, root)
    for relpath, encoding, content in example_files(code, text):
        file = root / relpath
        file.parent.mkdir(parents=True, exist_ok=True)
        if _mergeable(file, content):
            content = _merge(file.read_text(encoding="utf-8"), content)
        file.write_bytes(content.encode(encoding))
    return root


def run(root: Path, code: str, text: str) -> list[Diagnostic]:
    return analyse(build(root, code, text)).diagnostics


def _shown(diagnostics: list[Diagnostic]) -> list[str]:
    return [f"{d.location()} {d.code} {d.severity}: {d.message}" for d in diagnostics]


EXECUTED = [code for code in CODES if code not in EXCEPTIONS]


def test_the_base_handbook_is_clean() -> None:
    assert _shown(analyse(BASE).diagnostics) == []


@pytest.mark.parametrize("code", EXECUTED)
def test_failing_example_yields_exactly_its_code(tmp_path: Path, code: str) -> None:
    entry = CODES[code]
    assert entry.failing, f"{code} has no failing example"
    diagnostics = run(tmp_path / "handbook", code, entry.failing)
    assert code in {d.code for d in diagnostics}, _shown(diagnostics)
    assert [d for d in diagnostics if d.code != code] == [], _shown(diagnostics)


@pytest.mark.parametrize("code", EXECUTED)
def test_passing_example_yields_nothing(tmp_path: Path, code: str) -> None:
    entry = CODES[code]
    assert entry.passing, f"{code} has no passing example"
    assert _shown(run(tmp_path / "handbook", code, entry.passing)) == []


def test_exceptions_have_no_runnable_examples_and_are_asserted_where_named() -> None:
    for code, where in EXCEPTIONS.items():
        assert code in CODES
        filename, function = where.split("::")
        source = (TESTS / filename).read_text(encoding="utf-8")
        node = next((n for n in ast.walk(ast.parse(source))
                     if isinstance(n, ast.FunctionDef) and n.name == function), None)
        assert node is not None, f"{code}: no test {where}"
        assert code in (ast.get_source_segment(source, node) or ""), f"{where} does not assert {code}"


def test_ob043_when_shellcheck_is_missing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from opsbook.kinds.runbooks import shellcheck

    monkeypatch.setattr(shellcheck, "shellcheck_binary", lambda: None)
    root = build(tmp_path / "handbook", "OB043", CODES["OB042"].failing)  # a handbook with a run step
    diagnostics = analyse(root).diagnostics
    assert [(d.code, d.path, str(d.severity)) for d in diagnostics] == [
        ("OB043", "runbooks/orders-db-restore.yaml", "info")]


def _asserting_tests() -> Iterator[Path]:
    yield from (file for file in TESTS.rglob("*") if file.is_file() and file.suffix in (".py", ".yaml", ".yml", ".md")
                and "__pycache__" not in file.parts)


def test_every_code_is_asserted_by_a_test() -> None:
    """A code is asserted when its failing example runs here, or when a test (or a test case file) names it."""
    asserted = set(EXECUTED)
    mine = Path(__file__).resolve()
    texts = [file.read_text(encoding="utf-8", errors="replace") for file in _asserting_tests()
             if file.resolve() != mine]
    asserted |= {code for code in CODES if any(re.search(rf"\b{code}\b", text) for text in texts)}
    asserted |= {code for code, where in EXCEPTIONS.items() if where.startswith("test_codes.py::")}
    assert sorted(set(CODES) - asserted) == [], "codes no test asserts"


CATALOGUE_SCRIPT = """
import importlib, json, pkgutil
import opsbook
from opsbook.diagnostics import Code
at_import = dict(opsbook.CODES)
missing, other, declared = [], [], set()
for info in pkgutil.walk_packages(opsbook.__path__, "opsbook."):
    if info.name.rsplit(".", 1)[-1] == "__main__":
        continue
    module = importlib.import_module(info.name)
    for name, value in vars(module).items():
        if isinstance(value, Code):
            declared.add(value.code)
            if value.code not in at_import:
                missing.append(f"{info.name}.{name} ({value.code})")
            elif at_import[value.code] is not value:
                other.append(f"{info.name}.{name} ({value.code})")
print(json.dumps({"codes": sorted(at_import), "declared": sorted(declared), "missing": sorted(set(missing)),
                  "other": sorted(set(other)), "changed": sorted(set(opsbook.CODES) ^ set(at_import))}))
"""


def test_the_catalogue_is_complete_at_import() -> None:
    """In a fresh interpreter, `import opsbook` alone gives every Code any module of the package declares."""
    result = subprocess.run([sys.executable, "-c", CATALOGUE_SCRIPT], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout.strip().splitlines()[-1])
    assert found["missing"] == [], "Code values the catalogue lacks"
    assert found["other"] == [], "Code values other than the catalogue's, under a catalogued code"
    assert found["changed"] == [], "importing the package's modules changed the catalogue"
    assert found["codes"] == sorted(CODES) == found["declared"], "every catalogued code is declared in a module"


def test_every_code_a_check_makes_is_catalogued() -> None:
    """Every code a `make(OBnnn, ...)` call yields, and every code named in a string, is in the catalogue."""
    sources = [file.read_text(encoding="utf-8") for file in PACKAGE.rglob("*.py")]
    made = {code for text in sources for code in re.findall(r"\bmake\(\s*(OB\d{3})\b", text)}
    named = {code for text in sources for code in re.findall(r"[\"'](OB\d{3})[\"']", text)}
    assert len(made) > 50, "the make(OBnnn, ...) calls of the package were not found"
    assert sorted(made - set(CODES)) == [], "codes yielded but not catalogued"
    assert sorted(named - set(CODES)) == [], "codes named in the package but not catalogued"
    assert all(isinstance(entry, Code) and entry.code == code for code, entry in CODES.items())
