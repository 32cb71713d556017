"""Shared fixtures: sample handbooks copied to temporary folders, and golden files."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

TESTS = Path(__file__).parent
FIXTURES = TESTS / "fixtures"
REPO = TESTS.parent
TODAY = "2026-11-26"
# The reference handbook's review dates are real: pinned, the tests that build or check it do not start
# failing when a review falls due. Its own docs gate (the PR workflow) runs with the real date.
os.environ["OPSBOOK_TODAY"] = TODAY


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--update-goldens", action="store_true", default=False,
                     help="Rewrite the golden files under tests/golden from the current output.")


@pytest.fixture
def fixture_handbook(tmp_path: Path) -> Callable[[str], Path]:
    """Copy a sample handbook from tests/fixtures to a temporary folder and return its root."""

    def copy(name: str) -> Path:
        target = tmp_path / name
        shutil.copytree(FIXTURES / name, target)
        return target

    return copy


@pytest.fixture
def make_handbook(tmp_path: Path) -> Callable[..., Path]:
    """Write a handbook from a mapping of relative path → text, configured by `opsbook.yml`."""

    def make(files: dict[str, str | bytes], **options: object) -> Path:
        root = tmp_path / "handbook"
        root.mkdir(exist_ok=True)
        settings = {"today": TODAY, **options}
        (root / "opsbook.yml").write_text(json.dumps(settings), encoding="utf-8")  # JSON is YAML
        for relpath, content in files.items():
            file = root / relpath
            file.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, bytes):
                file.write_bytes(content)
            else:
                file.write_text(content, encoding="utf-8")
        return root

    return make


@pytest.fixture
def golden(request: pytest.FixtureRequest) -> Callable[[str, str], None]:
    """Compare text with tests/golden/NAME; `--update-goldens` rewrites the file instead."""
    update = request.config.getoption("--update-goldens")

    def check(name: str, text: str) -> None:
        file = TESTS / "golden" / name
        if update or not file.exists():
            if not update:
                pytest.fail(f"golden file {file} is missing; run pytest --update-goldens and review the diff")
            file.parent.mkdir(parents=True, exist_ok=True)
            file.write_text(text, encoding="utf-8")
        assert text == file.read_text(encoding="utf-8"), f"{name} differs from its golden file"

    return check
