"""Pull-request mode: `opsbook check --changed-since REF` fails on a date-driven finding (a review, drill or
action item due) only in a file changed since REF, and reports the others without failing; the full check
still fails on them. Every test makes a real git repository in tmp_path and runs the real command."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from opsbook.changes import ChangesError, changed_files, judge_changed, marker
from opsbook.diagnostics import Diagnostic, Severity
from opsbook.registry import CODES

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")

OPSBOOK = [sys.executable, "-m", "opsbook"]
TODAY = "2026-11-26"


def _runbook(title: str, reviewed: str) -> str:
    return (f"title: {title}\nowner: team-data\nlast_reviewed: {reviewed}\nreview_every: 90d\n"
            "steps:\n  - name: Say it\n    run: echo restarted\n")


FRESH, OVERDUE = "2026-11-01", "2026-01-05"  # due 2027-01-30, and 2026-04-05 (235 days before TODAY)


def _git(root: Path, *args: str) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "T", "GIT_AUTHOR_EMAIL": "t@example.com", "GIT_COMMITTER_NAME": "T",
           "GIT_COMMITTER_EMAIL": "t@example.com", "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}
    return subprocess.run(["git", *args], cwd=root, env=env, check=True, capture_output=True, text=True,
                          timeout=60).stdout


def _write(root: Path, files: dict[str, str]) -> None:
    for relpath, text in files.items():
        (root / relpath).parent.mkdir(parents=True, exist_ok=True)
        (root / relpath).write_text(text, encoding="utf-8")


def _repository(tmp_path: Path, subfolder: str = "") -> tuple[Path, Path]:
    """A repository whose `main` has a team and two runbooks, the queue runbook's review overdue, and a
    branch `fix` checked out; returns the repository and the handbook root (`subfolder` of it)."""
    repo = tmp_path / "repo"
    root = repo / subfolder if subfolder else repo
    root.mkdir(parents=True)
    _git(repo, "init", "-q", "-b", "main")
    _write(root, {
        "opsbook.yml": json.dumps({"today": TODAY}),
        "teams/team-data.yaml": "name: Data team\n",
        "runbooks/restart-api.yaml": _runbook("Restart the API", FRESH),
        "runbooks/drain-queue.yaml": _runbook("Drain the queue", OVERDUE),
    })
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "handbook")
    _git(repo, "checkout", "-q", "-b", "fix")
    return repo, root


def _commit(repo: Path, root: Path, files: dict[str, str]) -> None:
    _write(root, files)
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "change")


def _check(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("GITHUB_ACTIONS", "OPSBOOK_TODAY")}
    return subprocess.run([*OPSBOOK, "check", str(root), *args], capture_output=True, text=True, env=env,
                          timeout=300)


def _no_traceback(result: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in result.stdout + result.stderr, result.stderr


def test_the_reference_handbook_is_clean_before_the_date_is_moved(tmp_path: Path) -> None:
    """The fixture is what the other tests say: only the queue runbook's review is overdue."""
    _, root = _repository(tmp_path)
    result = _check(root, "--strict", "--format", "json")
    found = [(d["code"], d["path"], d["severity"]) for d in json.loads(result.stdout)]
    assert found == [("OB040", "runbooks/drain-queue.yaml", "warning")]
    assert result.returncode == 1


def test_a_pull_request_touching_one_runbook_passes_while_another_review_is_overdue(tmp_path: Path) -> None:
    repo, root = _repository(tmp_path)
    _commit(repo, root, {"runbooks/restart-api.yaml": _runbook("Restart the API service", FRESH)})

    result = _check(root, "--strict", "--changed-since", "main", "--format", "text")
    _no_traceback(result)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "runbooks/drain-queue.yaml:3:16: info OB040 review overdue" in result.stdout
    assert f"{marker('main')}" in result.stdout
    assert "0 errors, 0 warnings" in result.stdout
    assert "1 date-driven finding on files not changed since main" in result.stderr

    as_json = json.loads(_check(root, "--strict", "--changed-since", "main", "--format", "json").stdout)
    assert [(d["code"], d["path"], d["severity"]) for d in as_json] == [("OB040", "runbooks/drain-queue.yaml", "info")]
    assert as_json[0]["message"].endswith("(not changed since main: reported, not failing)")
    github = _check(root, "--strict", "--changed-since", "main", "--format", "github")
    assert github.returncode == 0
    assert github.stdout.startswith("::notice file=runbooks/drain-queue.yaml,line=3,col=16,title=OB040::")
    assert "not changed since main: reported, not failing" in github.stdout

    # The scheduled full check still fails on the overdue review.
    full = _check(root, "--strict")
    assert full.returncode == 1
    assert "runbooks/drain-queue.yaml:3:16: warning OB040 review overdue" in full.stdout
    assert "not changed since" not in full.stdout


def test_an_overdue_review_on_the_changed_runbook_fails(tmp_path: Path) -> None:
    repo, root = _repository(tmp_path)
    _commit(repo, root, {"runbooks/drain-queue.yaml": _runbook("Drain the orders queue", OVERDUE)})
    result = _check(root, "--strict", "--changed-since", "main")
    _no_traceback(result)
    assert result.returncode == 1
    assert "runbooks/drain-queue.yaml:3:16: warning OB040 review overdue" in result.stdout
    assert "not changed since" not in result.stdout + result.stderr


@pytest.mark.parametrize("how", ["modified", "staged", "untracked"])
def test_work_tree_changes_count_as_changed(tmp_path: Path, how: str) -> None:
    """What is not committed yet counts too: a run before the commit judges as the pull request will."""
    repo, root = _repository(tmp_path)
    path = "runbooks/drain-queue.yaml" if how != "untracked" else "runbooks/new-one.yaml"
    _write(root, {path: _runbook("Drain the orders queue", OVERDUE)})
    if how == "staged":
        _git(repo, "add", path)
    result = _check(root, "--strict", "--changed-since", "main", "--format", "json")
    found = {(d["path"], d["severity"]) for d in json.loads(result.stdout)}
    assert (path, "warning") in found
    assert result.returncode == 1


def test_only_date_driven_findings_are_excused(tmp_path: Path) -> None:
    """A finding that no date brought (a runbook with no steps) fails on an unchanged file as before."""
    repo, root = _repository(tmp_path)
    _git(repo, "checkout", "-q", "main")
    _commit(repo, root, {"runbooks/empty.yaml": "title: Nothing to do\nowner: team-data\n"
                                                "last_reviewed: 2026-11-01\nsteps: []\n"})
    _git(repo, "checkout", "-q", "-b", "other")
    _commit(repo, root, {"runbooks/restart-api.yaml": _runbook("Restart the API service", FRESH)})
    result = _check(root, "--changed-since", "main", "--format", "json")
    found = json.loads(result.stdout)
    errors = [d for d in found if d["severity"] == "error"]
    assert errors and all(d["path"] == "runbooks/empty.yaml" and "not changed since" not in d["message"]
                          for d in errors), found
    assert result.returncode == 1


def test_a_handbook_in_a_subfolder_of_the_repository(tmp_path: Path) -> None:
    """git's paths are the repository's; the diagnostics' are the handbook root's."""
    repo, root = _repository(tmp_path, "ops/handbook")
    _commit(repo, root, {"runbooks/restart-api.yaml": _runbook("Restart the API service", FRESH)})
    assert changed_files(root, "main") == {"runbooks/restart-api.yaml"}
    assert _check(root, "--strict", "--changed-since", "main").returncode == 0
    _commit(repo, root, {"runbooks/drain-queue.yaml": _runbook("Drain the orders queue", OVERDUE)})
    assert _check(root, "--strict", "--changed-since", "main").returncode == 1


def test_changes_since_the_branch_left_ref_not_those_made_on_ref_since(tmp_path: Path) -> None:
    """`REF...HEAD`: a runbook changed on main after the branch left it is not the pull request's change."""
    repo, root = _repository(tmp_path)
    _commit(repo, root, {"runbooks/restart-api.yaml": _runbook("Restart the API service", FRESH)})
    _git(repo, "checkout", "-q", "main")
    _commit(repo, root, {"runbooks/drain-queue.yaml": _runbook("Drain the orders queue", OVERDUE)})
    _git(repo, "checkout", "-q", "fix")
    assert changed_files(root, "main") == {"runbooks/restart-api.yaml"}
    assert _check(root, "--strict", "--changed-since", "main").returncode == 0


def test_an_unknown_ref_is_a_usage_error(tmp_path: Path) -> None:
    _, root = _repository(tmp_path)
    for ref in ("origin/no-such-branch", "--output=/tmp/x", ""):
        result = _check(root, "--strict", f"--changed-since={ref}")
        _no_traceback(result)
        assert result.returncode == 2, (ref, result.stderr)
        assert result.stderr.startswith(f"opsbook check: error: --changed-since {ref!r}"), result.stderr
        assert result.stdout == ""
    assert "git cannot resolve it to a commit" in _check(root, "--changed-since", "nope").stderr


def test_not_a_git_repository_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "plain"
    _write(root, {"opsbook.yml": json.dumps({"today": TODAY}), "runbooks/a.yaml": _runbook("A", OVERDUE)})
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))  # no repository above tmp_path counts
    result = _check(root, "--changed-since", "main")
    _no_traceback(result)
    assert result.returncode == 2
    assert result.stderr.startswith("opsbook check: error: --changed-since needs a git repository")
    assert "not a git repository" in result.stderr
    with pytest.raises(ChangesError, match="needs a git repository"):
        changed_files(root, "main")


def test_git_missing_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _, root = _repository(tmp_path)
    monkeypatch.setenv("PATH", str(tmp_path / "no-programs-here"))
    with pytest.raises(ChangesError, match="git is not installed"):
        changed_files(root, "main")


def test_the_date_driven_codes() -> None:
    """The codes a passing day alone can bring, declared on their `Code`s."""
    assert {code for code, entry in CODES.items() if entry.date_driven} == {"OB040", "OB603", "OB831"}


def test_judge_changed_keeps_order_and_every_other_diagnostic() -> None:
    overdue = Diagnostic("runbooks/a.yaml", 3, 16, Severity.WARNING, "OB040", "review overdue")
    drill = Diagnostic("ops/backups/db.yaml", 2, 1, Severity.ERROR, "OB603", "not drilled")
    other = Diagnostic("runbooks/a.yaml", 1, 1, Severity.ERROR, "OB021", "unknown team")
    changed = Diagnostic("runbooks/b.yaml", 3, 16, Severity.WARNING, "OB040", "review overdue")
    judged = judge_changed([overdue, drill, other, changed], {"runbooks/b.yaml"}, CODES, "origin/main")
    assert judged.excused == {overdue, drill}
    assert [(d.code, d.severity) for d in judged.diagnostics] == [
        ("OB040", Severity.INFO), ("OB603", Severity.INFO), ("OB021", Severity.ERROR), ("OB040", Severity.WARNING)]
    assert judged.diagnostics[1].message == "not drilled (not changed since origin/main: reported, not failing)"
    assert judged.diagnostics[2:] == [other, changed]


def test_mkdocs_build_strict_judges_as_the_check_does(tmp_path: Path) -> None:
    """`OPSBOOK_CHANGED_SINCE` puts the plugin in pull-request mode, so that `mkdocs build --strict` on the
    pull request passes where `opsbook check --changed-since` does, and fails without it."""
    repo, root = _repository(tmp_path)
    (root / "opsbook.yml").unlink()
    _write(root, {"mkdocs.yml": f"site_name: T\nplugins:\n  - opsbook:\n      today: '{TODAY}'\n",
                  "docs/index.md": "# Handbook\n"})
    _commit(repo, root, {})
    _git(repo, "checkout", "-q", "main")
    _git(repo, "merge", "-q", "--ff-only", "fix")
    _git(repo, "checkout", "-q", "fix")
    _commit(repo, root, {"runbooks/restart-api.yaml": _runbook("Restart the API service", FRESH)})

    def build(since: str | None) -> subprocess.CompletedProcess[str]:
        env = {k: v for k, v in os.environ.items() if k not in ("OPSBOOK_TODAY", "OPSBOOK_CHANGED_SINCE")}
        if since is not None:
            env["OPSBOOK_CHANGED_SINCE"] = since
        return subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-d", str(tmp_path / "site")],
                              cwd=root, capture_output=True, text=True, env=env, timeout=300)

    passed = build("main")
    assert passed.returncode == 0, passed.stderr
    assert "WARNING" not in passed.stderr and "OB040" in passed.stderr  # an information
    failed = build(None)
    assert failed.returncode == 1 and "OB040" in failed.stderr
    assert build("").returncode == 1  # empty: the full check
    wrong = build("no-such-ref")
    _no_traceback(wrong)
    assert wrong.returncode == 1 and "OPSBOOK_CHANGED_SINCE: --changed-since 'no-such-ref'" in wrong.stderr
    _commit(repo, root, {"runbooks/drain-queue.yaml": _runbook("Drain the orders queue", OVERDUE)})
    assert build("main").returncode == 1
