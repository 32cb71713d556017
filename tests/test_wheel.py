"""The wheel a user installs: `python -m build --wheel` from the project's sources, its file list (every
template, schema, stylesheet and script the package reads at run time, and py.typed), then installed (not
editable) into a fresh virtual environment with its dependencies from the package registry, where
`opsbook check`, `opsbook build --out` and `mkdocs build --strict` run on the fixture handbook (the wheel
alone installs no site engine; `opsbook[mkdocs]` adds MkDocs before the build). One wheel
and one virtual environment for the session; skipped when the registry cannot be reached."""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest

# Packaging: a wheel or a hook repository installed from the package registry into a fresh environment
# (minutes, not seconds); `.ci/run` runs them after the README's test command (`pytest -m packaging`).
pytestmark = pytest.mark.packaging

TESTS = Path(__file__).parent
REPO = TESTS.parent
PACKAGE = REPO / "plugins" / "opsbook"
FIXTURE = TESTS / "fixtures" / "minimal"


def _run(args: list[str | Path], cwd: Path, timeout: int = 900) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items()
           if key not in {"VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "OPSBOOK_TODAY"}}
    env["NO_MKDOCS_2_WARNING"] = "1"
    return subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=timeout)


@dataclass(frozen=True)
class Installed:
    wheel: Path
    bin: Path  # the fresh virtual environment's scripts folder


def _build_and_install(root: Path) -> Installed:
    # What the wheel is built from, copied so that the build leaves nothing (build/, *.egg-info) in the tree.
    source = root / "source"
    shutil.rmtree(source, ignore_errors=True)
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(REPO / name, source / name)
    shutil.copytree(REPO / "plugins", source / "plugins",
                    ignore=shutil.ignore_patterns("__pycache__", "*.egg-info", "*.pyc"))
    built = _run([sys.executable, "-m", "build", "--wheel", "--outdir", root / "dist", source], cwd=root)
    assert built.returncode == 0, built.stdout + built.stderr
    wheels = sorted((root / "dist").glob("opsbook-*.whl"))
    assert len(wheels) == 1, wheels

    venv = root / "venv"
    made = _run([sys.executable, "-m", "venv", "--clear", venv], cwd=root)
    assert made.returncode == 0, made.stdout + made.stderr
    bin_dir = venv / ("Scripts" if os.name == "nt" else "bin")
    pip = _run([bin_dir / "python", "-m", "pip", "install", "--quiet", wheels[0]], cwd=root, timeout=1500)
    assert pip.returncode == 0, pip.stdout + pip.stderr
    # The core installs no site engine (#18 item 4); the engine comes with an extra, `opsbook[mkdocs]`.
    for engine in ("mkdocs", "properdocs", "material", "pymdownx"):
        found = _run([bin_dir / "python", "-c", f"import importlib.util; print(importlib.util.find_spec('{engine}'))"],
                     cwd=root)
        assert found.stdout.strip() == "None", f"the wheel alone installed {engine}"
    pip = _run([bin_dir / "python", "-m", "pip", "install", "--quiet", f"opsbook[mkdocs] @ {wheels[0].as_uri()}"],
               cwd=root, timeout=1500)
    assert pip.returncode == 0, pip.stdout + pip.stderr
    return Installed(wheels[0], bin_dir)


@pytest.fixture(scope="session")
def installed(tmp_path_factory: pytest.TempPathFactory, package_registry: None) -> Installed:
    """Built and installed once per test run: under pytest-xdist the workers share one folder (the parent of
    their own temporary folders), the first one builds under a lock and the others reuse its result."""
    pytest.importorskip("build", reason="the `build` package is not installed (the `test` extra brings it)")
    base = tmp_path_factory.getbasetemp()
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    root = shared / "opsbook-wheel"
    root.mkdir(exist_ok=True)
    with open(root / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        done = root / "installed"
        if done.exists():
            wheel, bin_dir = done.read_text(encoding="utf-8").splitlines()
            return Installed(Path(wheel), Path(bin_dir))
        result = _build_and_install(root)
        done.write_text(f"{result.wheel}\n{result.bin}\n", encoding="utf-8")
        return result


def _expected_data_files() -> set[str]:
    """The package's non-Python files that it reads at run time, as paths inside the wheel."""
    files: set[Path] = {PACKAGE / "py.typed"}
    files |= set(PACKAGE.rglob("*.j2"))
    files |= {p for p in PACKAGE.rglob("*.json") if "__pycache__" not in p.parts}
    files |= set((PACKAGE / "assets").glob("*.css")) | set((PACKAGE / "assets").glob("*.js"))
    return {p.relative_to(PACKAGE.parent).as_posix() for p in files}


def test_the_wheel_holds_every_template_schema_asset_and_module(installed: Installed) -> None:
    names = set(zipfile.ZipFile(installed.wheel).namelist())
    expected = _expected_data_files()
    assert any(n.endswith(".j2") for n in expected) and any(n.startswith("opsbook/schemas/") for n in expected)
    assert any(n.startswith("opsbook/assets/") and n.endswith(".css") for n in expected)
    assert any(n.startswith("opsbook/assets/") and n.endswith(".js") for n in expected)
    modules = {p.relative_to(PACKAGE.parent).as_posix() for p in PACKAGE.rglob("*.py")}
    assert sorted((expected | modules) - names) == []
    # The entry points a user relies on: the command, the MkDocs plugin and the pytest plugin.
    entry_points = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
    text = zipfile.ZipFile(installed.wheel).read(entry_points).decode()
    for line in ("opsbook = opsbook.cli:main", "opsbook = opsbook.mkdocs_plugin:OpsbookPlugin",
                 "opsbook = opsbook.pytest_plugin"):
        assert line in text, text


def test_the_installed_wheel_is_what_runs(installed: Installed, tmp_path: Path) -> None:
    where = _run([installed.bin / "python", "-c", "import opsbook; print(opsbook.__file__)"], cwd=tmp_path)
    assert where.returncode == 0, where.stderr
    path = Path(where.stdout.strip())
    assert "site-packages" in path.parts and REPO not in path.parents, path


def test_check_and_builds_run_from_the_installed_wheel(installed: Installed, tmp_path: Path) -> None:
    handbook = tmp_path / "handbook"
    shutil.copytree(FIXTURE, handbook)

    check = _run([installed.bin / "opsbook", "check"], cwd=handbook)
    assert check.returncode == 0, check.stdout + check.stderr
    assert "0 errors, 0 warnings" in check.stdout + check.stderr

    out = tmp_path / "generated"
    build = _run([installed.bin / "opsbook", "build", "--out", out], cwd=handbook)
    assert build.returncode == 0, build.stdout + build.stderr
    assert (out / "runbooks" / "web-restart.md").is_file() or any(out.rglob("web-restart*.md")), \
        sorted(p.relative_to(out).as_posix() for p in out.rglob("*"))

    site = _run([installed.bin / "mkdocs", "build", "--strict", "--site-dir", tmp_path / "site"], cwd=handbook)
    assert site.returncode == 0, site.stdout + site.stderr
    page = next((tmp_path / "site").rglob("web-restart/index.html"))
    assert "Restart the web tier" in page.read_text(encoding="utf-8")
    assert list((tmp_path / "site").rglob("*.css")), "the plugin's stylesheets are not in the site"


def test_the_github_workflow_schema_is_found_in_a_plain_install(installed: Installed, tmp_path: Path) -> None:
    """OB401 reads the schema through check-jsonschema as installed from the registry, not a source tree."""
    handbook = tmp_path / "handbook"
    shutil.copytree(FIXTURE, handbook)
    workflows = handbook / ".github" / "workflows"
    workflows.mkdir(parents=True)
    (workflows / "test.yml").write_text("on: pull_request\npermissions: {contents: read}\n"
                                        "jobs:\n  test:\n    steps: [{run: pytest}]\n", encoding="utf-8")
    check = _run([installed.bin / "opsbook", "check"], cwd=handbook)
    output = check.stdout + check.stderr
    assert check.returncode == 1, output
    assert ".github/workflows/test.yml:" in output and "OB401" in output, output
