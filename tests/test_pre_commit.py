"""The pre-commit hook (.pre-commit-hooks.yaml), run as a handbook's team runs it: `pre-commit try-repo` on a
clone of this repository at its HEAD commit (what pre-commit installs is the committed state), in a git
repository holding a small handbook. pre-commit builds its own virtual environment and pip-installs
opsbook and its dependencies into it, from the package registry (pip's cache makes a second run quick);
the test is skipped when git or the registry cannot be reached."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

# Packaging: a wheel or a hook repository installed from the package registry into a fresh environment
# (minutes, not seconds); `.ci/run` runs them after the README's test command (`pytest -m packaging`).
pytestmark = pytest.mark.packaging

TESTS = Path(__file__).parent
REPO = TESTS.parent
FIXTURE = TESTS / "fixtures" / "minimal"


def _git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True)


def test_try_repo_passes_a_valid_handbook_and_fails_on_a_broken_runbook(tmp_path: Path, package_registry: None) -> None:
    if shutil.which("git") is None:
        pytest.skip("git is not installed: pre-commit needs it")
    if not (REPO / ".git").exists():
        pytest.skip(f"{REPO} is not a git repository: try-repo installs the hook from a commit")
    pytest.importorskip("pre_commit", reason="pre-commit is not installed (the `test` extra brings it)")

    # The committed state only: a clone of HEAD (uncommitted edits in the work tree do not reach the hook).
    hook_repo = tmp_path / "opsbook"
    _git(tmp_path, "clone", "--quiet", "--no-hardlinks", str(REPO), str(hook_repo))
    assert (hook_repo / ".pre-commit-hooks.yaml").is_file(), ".pre-commit-hooks.yaml is not committed"

    handbook = tmp_path / "handbook"
    shutil.copytree(FIXTURE, handbook)
    _git(handbook, "init", "--quiet")
    _git(handbook, "add", "--all")

    env = {key: value for key, value in os.environ.items()
           if key not in {"VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "OPSBOOK_TODAY"}}
    env["PRE_COMMIT_HOME"] = str(tmp_path / "pre-commit-home")
    env["PRE_COMMIT_COLOR"] = "never"
    env.setdefault("GIT_AUTHOR_NAME", "opsbook tests")
    env.setdefault("GIT_AUTHOR_EMAIL", "tests@example.com")

    def try_repo() -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "pre_commit", "try-repo", str(hook_repo), "opsbook-check",
                               "--all-files", "--verbose"],
                              cwd=handbook, env=env, capture_output=True, text=True, timeout=1200)

    valid = try_repo()
    output = valid.stdout + valid.stderr
    assert valid.returncode == 0, output
    assert "opsbook check" in output and "Passed" in output, output
    assert "0 errors, 0 warnings" in output, output

    runbook = handbook / "runbooks" / "web-restart.yaml"
    runbook.write_text(runbook.read_text(encoding="utf-8").replace("title: Restart the web tier\n", ""),
                       encoding="utf-8")
    _git(handbook, "add", "--all")
    broken = try_repo()
    output = broken.stdout + broken.stderr
    assert broken.returncode == 1, output
    assert "Failed" in output, output
    assert "runbooks/web-restart.yaml:1:1: error OB010 the document is missing the required field title" in output, \
        output
