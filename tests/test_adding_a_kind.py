"""The guide's walkthrough, docs/guide/adding-a-kind.md, works as written.

Every code block the page introduces with a line `File `PATH`:` is written to PATH in a copy of the
package; the blocks introduced with `Edit `PATH`:` are applied to the registry and to the import-linter
contract, after checking that they differ from the real files only by the new family. Then
`opsbook check` and `opsbook build` run on a small handbook holding a certificate, with the copy first
on `PYTHONPATH`.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

REPO = Path(__file__).parent.parent
PAGE = REPO / "docs" / "guide" / "adding-a-kind.md"
PACKAGE = REPO / "plugins" / "opsbook"
TODAY = "2026-11-30"

_BLOCK = re.compile(r"^(File|Edit) `([^`]+)`:\n\n(`{3,})[a-z]*\n(.*?)^\3$", re.M | re.S)


def _blocks() -> list[tuple[str, str, str]]:
    """(File or Edit, path, text) of every marked block of the page, in order."""
    return [(m.group(1), m.group(2), m.group(4)) for m in _BLOCK.finditer(PAGE.read_text(encoding="utf-8"))]


def _edit(path: str) -> str:
    found = [text for action, where, text in _blocks() if action == "Edit" and where == path]
    assert len(found) == 1, f"the page should edit {path} once"
    return found[0]


def _files() -> dict[str, str]:
    return {path: text for action, path, text in _blocks() if action == "File"}


def _with_registry_lines(registry: str, edit: str) -> str:
    """The registry with the page's import line put among the family imports (in sorted order), and its
    FAMILIES line in place of the real one, which it must extend by the new family only."""
    lines = [line for line in edit.splitlines() if line.strip()]
    imports = [line for line in lines if line.startswith("from .kinds.")]
    families = [line for line in lines if line.startswith("FAMILIES")]
    assert len(imports) == 1 and len(families) == 1 and len(lines) == 2, edit
    new_name = imports[0].rsplit(" as ", 1)[1]
    text = registry.splitlines()
    real = [i for i, line in enumerate(text) if line.startswith("FAMILIES")]
    assert len(real) == 1, "registry.py should have one FAMILIES line"
    assert families[0] == text[real[0]].rstrip()[:-1] + f", {new_name})", (
        "the page's FAMILIES line should be the registry's, with the new family added at the end")
    text[real[0]] = families[0]
    family_imports = [i for i, line in enumerate(text) if line.startswith("from .kinds.") and " import FAMILY" in line]
    after = [i for i in family_imports if text[i] > imports[0]]
    text.insert(after[0] if after else family_imports[-1] + 1, imports[0])
    return "\n".join(text) + "\n"


def _families_contract(pyproject: dict) -> dict:
    contracts = pyproject["tool"]["importlinter"]["contracts"]
    found = [c for c in contracts if c.get("containers") == ["opsbook.kinds"]]
    assert len(found) == 1, "pyproject.toml should have one contract over opsbook.kinds"
    return found[0]


@pytest.fixture(scope="module")
def copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the package (and pyproject.toml) with the walkthrough applied."""
    root = tmp_path_factory.mktemp("adding-a-kind")
    target = root / "plugins" / "opsbook"
    shutil.copytree(PACKAGE, target, ignore=shutil.ignore_patterns("__pycache__"))
    for path, text in _files().items():
        if path.startswith("plugins/opsbook/"):
            file = root / path
            assert not file.exists() or path.startswith("plugins/opsbook/kinds/certificates/"), (
                f"the walkthrough should only add files, not replace {path}")
            file.parent.mkdir(parents=True, exist_ok=True)
            file.write_text(text, encoding="utf-8")
    registry = target / "registry.py"
    registry.write_text(_with_registry_lines(registry.read_text(encoding="utf-8"),
                                             _edit("plugins/opsbook/registry.py")), encoding="utf-8")

    # The page's family contract is the real one with the new family named in one layer.
    pyproject_text = (REPO / "pyproject.toml").read_text(encoding="utf-8")
    real = _families_contract(tomllib.loads(pyproject_text))
    shown = tomllib.loads(_edit("pyproject.toml"))["tool"]["importlinter"]["contracts"][0]
    assert {k: v for k, v in shown.items() if k != "layers"} == {k: v for k, v in real.items() if k != "layers"}
    without = [" | ".join(p for p in layer.split(" | ") if p != "certificates") for layer in shown["layers"]]
    assert without == real["layers"], "the page's layers should be the real ones plus certificates"
    changed = [(old, new) for old, new in zip(real["layers"], shown["layers"]) if old != new]
    assert len(changed) == 1
    old, new = changed[0]
    assert pyproject_text.count(f'"{old}",') == 1
    (root / "pyproject.toml").write_text(pyproject_text.replace(f'"{old}",', f'"{new}",'), encoding="utf-8")
    return root


def _run(copy: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(copy / "plugins"), "OPSBOOK_TODAY": TODAY}
    env.pop("GITHUB_ACTIONS", None)  # the text format, whatever runs the tests
    return subprocess.run([sys.executable, "-m", *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=120)


def _handbook(tmp_path: Path, expires: str | None = None) -> Path:
    """A handbook holding the page's certificate (its `expires` changed when given)."""
    root = tmp_path / "handbook"
    record = _files()["ops/certificates/orders-api-tls.yaml"]
    if expires is not None:
        record, count = re.subn(r"^expires: .*$", f"expires: {expires}", record, flags=re.M)
        assert count == 1
    (root / "ops" / "certificates").mkdir(parents=True)
    (root / "ops" / "certificates" / "orders-api-tls.yaml").write_text(record, encoding="utf-8")
    (root / "opsbook.yml").write_text(f"today: {TODAY}\n", encoding="utf-8")
    return root


def test_the_page_marks_every_file_of_the_family() -> None:
    files = _files()
    assert {"plugins/opsbook/kinds/certificates/__init__.py", "plugins/opsbook/kinds/certificates/records.py",
            "plugins/opsbook/kinds/certificates/checks.py", "plugins/opsbook/kinds/certificates/pages.py",
            "plugins/opsbook/schemas/certificate.schema.json", "ops/certificates/orders-api-tls.yaml"} <= set(files)
    assert not (PACKAGE / "kinds" / "certificates").exists(), "the walkthrough's kind is not part of opsbook"


def test_a_certificate_due_for_renewal_fails_the_check(copy: Path, tmp_path: Path) -> None:
    result = _run(copy, _handbook(tmp_path), "opsbook", "check", ".")
    assert result.returncode == 1, result.stdout + result.stderr
    shown = re.findall(r"^ops/certificates/\S+: error OB850 .*$", PAGE.read_text(encoding="utf-8"), re.M)
    assert shown, "the page should show the OB850 line opsbook check prints"
    assert shown[0] in result.stdout.splitlines(), result.stdout
    assert [line for line in result.stdout.splitlines() if re.match(r"\S+:\d+:\d+: ", line)] == shown


def test_a_renewed_certificate_passes_and_gets_its_pages(copy: Path, tmp_path: Path) -> None:
    root = _handbook(tmp_path, expires="2027-03-01")
    result = _run(copy, root, "opsbook", "check", ".")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "OB850" not in result.stdout
    out = tmp_path / "site-md"
    built = _run(copy, root, "opsbook", "build", "--out", str(out), ".")
    assert built.returncode == 0, built.stdout + built.stderr
    page = (out / "docs" / "operations" / "certificates" / "orders-api-tls.md").read_text(encoding="utf-8")
    assert page.startswith('---\ntitle: "Certificate Orders API"\n---\n# Orders API\n')
    assert "| Expires | 2027-03-01 |" in page and "| Renew by | 2027-01-30 |" in page
    index = (out / "docs" / "operations" / "certificates" / "index.md").read_text(encoding="utf-8")
    assert "[Orders API](orders-api-tls.md)" in index
    assert (out / "docs" / "reference" / "checks" / "OB850.md").is_file()
    assert (out / "docs" / "reference" / "schemas" / "certificate.md").is_file()


@pytest.fixture(scope="module")
def examples(copy: Path) -> dict[str, list[list[str]]]:
    """The files of the new code's failing and passing examples, as the copy's catalogue holds them and
    `diagnostics.example_files` reads them (as tests/test_codes.py does for opsbook's own codes)."""
    script = ("import json; from opsbook.registry import CODES; from opsbook.diagnostics import example_files; "
              "c = CODES['OB850']; print(json.dumps({which: [[f.path, f.text] for f in example_files(text)] "
              "for which, text in (('failing', c.failing), ('passing', c.passing))}))")
    codes = subprocess.run([sys.executable, "-c", script], env={**os.environ, "PYTHONPATH": str(copy / "plugins")},
                           capture_output=True, text=True, timeout=60, check=True)
    return json.loads(codes.stdout)


@pytest.mark.parametrize("which", ["failing", "passing"])
def test_the_codes_examples_are_true(copy: Path, examples: dict[str, list[list[str]]], tmp_path: Path,
                                     which: str) -> None:
    """The new code's failing example yields it and nothing else; its passing example yields nothing."""
    root = tmp_path / "handbook"
    assert examples[which], f"OB850 has no {which} example"
    for path, text in examples[which]:
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text, encoding="utf-8")
    (root / "opsbook.yml").write_text(f"today: {TODAY}\n", encoding="utf-8")
    result = _run(copy, root, "opsbook", "check", "--format", "json", ".")
    found = [d["code"] for d in json.loads(result.stdout)]
    assert found == (["OB850"] if which == "failing" else []), result.stdout


def test_the_family_keeps_the_import_contracts(copy: Path) -> None:
    lint = Path(sys.executable).with_name("lint-imports")
    if not lint.exists():
        pytest.skip("lint-imports is not installed beside this Python")
    env = {**os.environ, "PYTHONPATH": str(copy / "plugins")}
    result = subprocess.run([str(lint)], cwd=copy, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "0 broken" in result.stdout
