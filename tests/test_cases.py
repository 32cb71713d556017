"""Example runbooks that parametrize themselves: tests/cases/positive must be clean, and each file in
tests/cases/negative must produce exactly the diagnostics its `# expect:` lines name, at those positions."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from opsbook import analyse
from opsbook.config import Config

CASES = Path(__file__).parent / "cases"
REPO = Path(__file__).parent.parent
POSITIVE = sorted((CASES / "positive").glob("*.yaml"))
NEGATIVE = sorted((CASES / "negative").glob("*.yaml"))
EXPECT = re.compile(r"^# expect: (OB\d{3})(?: (\d+):(\d+))?$", re.M)


def _analyse(tmp_path: Path, files: list[Path]):
    runbooks = tmp_path / "runbooks"
    runbooks.mkdir()
    for file in files:
        shutil.copy(file, runbooks / file.name)
    shutil.copytree(REPO / "scripts", tmp_path / "scripts")  # the scripts the cases' steps run
    return analyse(tmp_path, Config(root=tmp_path, today="2026-11-26"))


def test_positive_cases_are_clean(tmp_path: Path) -> None:
    assert POSITIVE, "no positive cases found"
    analysis = _analyse(tmp_path, POSITIVE)
    assert [d.location() + " " + d.code + " " + d.message for d in analysis.diagnostics] == []
    assert len(analysis.handbook.all("runbook")) == len(POSITIVE)


@pytest.mark.parametrize("case", NEGATIVE, ids=[case.stem for case in NEGATIVE])
def test_negative_case(tmp_path: Path, case: Path) -> None:
    expected = EXPECT.findall(case.read_text(encoding="utf-8", errors="replace"))
    assert expected, f"{case.name} has no '# expect: CODE line:col' line"
    analysis = _analyse(tmp_path, [*POSITIVE, case])
    found = [d for d in analysis.diagnostics]
    assert all(d.path == f"runbooks/{case.name}" for d in found), found
    want = [(code, int(line), int(column)) if line else (code,) for code, line, column in expected]
    got = [(d.code, d.line, d.column) if len(w) == 3 else (d.code,) for d, w in zip(found, want)]
    assert len(found) == len(want), [(d.code, d.line, d.column, d.message) for d in found]
    assert got == want, [(d.code, d.line, d.column, d.message) for d in found]
