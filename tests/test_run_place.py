"""Honest verification (issue #17 item 7): a results file records where each run happened, and only a
run in CI is "verified in CI". A workstation run is a local run, shown as such or hidden (`local_results`);
a result that does not say where (a file from before) is from an unknown place, and not CI either."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from opsbook import analyse
from opsbook.cli import main
from opsbook.health.figures import compute_health
from opsbook.kinds.runbooks.place import RunPlace, detect_place, recorded_place
from opsbook.kinds.runbooks.records import Runbook
from opsbook.kinds.runbooks.results import load_results, write_results
from opsbook.kinds.runbooks.runner import RunOptions, run_runbook
from opsbook.kinds.runbooks.verification import Verification, coverage, verification_of

pytest_plugins = ["pytester"]

GITHUB = {"GITHUB_ACTIONS": "true", "GITHUB_SERVER_URL": "https://github.com", "GITHUB_REPOSITORY": "example/ops",
          "GITHUB_RUN_ID": "6029142531", "GITHUB_RUN_ATTEMPT": "2"}
GITHUB_URL = "https://github.com/example/ops/actions/runs/6029142531/attempts/2"
GITLAB = {"GITLAB_CI": "true", "CI": "true", "CI_JOB_URL": "https://gitlab.example.com/ops/handbook/-/jobs/42"}
#: What `opsbook test` sees on a workstation: no CI variable (those of the machine running the tests removed).
WORKSTATION: dict[str, str | None] = {"GITHUB_ACTIONS": None, "GITLAB_CI": None, "CI": None}

RUNBOOK = ("title: R\nsteps:\n  - {name: One, run: 'true'}\n  - {name: Two, run: 'echo two', expect: {stdout: two}}\n"
           "  - {name: Read, manual: Read the dashboard.}\n")


@pytest.mark.parametrize(("environ", "expected"), [
    (GITHUB, RunPlace("github-actions", GITHUB_URL)),
    ({**GITHUB, "GITHUB_RUN_ATTEMPT": ""}, RunPlace("github-actions", "https://github.com/example/ops/actions/runs/6029142531")),
    ({**GITHUB, "GITHUB_SERVER_URL": "https://ghe.example.com/"},
     RunPlace("github-actions", "https://ghe.example.com/example/ops/actions/runs/6029142531/attempts/2")),
    ({"GITHUB_ACTIONS": "true"}, RunPlace("github-actions")),  # no run to link to
    ({**GITHUB, "GITHUB_REPOSITORY": "example/ops\"><script>"}, RunPlace("github-actions")),
    ({**GITHUB, "GITHUB_SERVER_URL": "javascript:alert(1)//"}, RunPlace("github-actions")),
    ({**GITHUB, "GITHUB_RUN_ID": "1 2"}, RunPlace("github-actions")),
    ({**GITHUB, "GITHUB_RUN_ATTEMPT": "2; x"}, RunPlace("github-actions", "https://github.com/example/ops/actions/runs/6029142531")),
    (GITLAB, RunPlace("gitlab-ci", "https://gitlab.example.com/ops/handbook/-/jobs/42")),
    ({"GITLAB_CI": "true"}, RunPlace("gitlab-ci")),
    ({"GITLAB_CI": "true", "CI_JOB_URL": "javascript:alert(1)"}, RunPlace("gitlab-ci")),
    ({"GITLAB_CI": "true", "CI_JOB_URL": "https://gitlab.example.com/a b"}, RunPlace("gitlab-ci")),
    ({"GITLAB_CI": "true", "CI_JOB_URL": "https://gitlab.example.com/x)[y](z"}, RunPlace("gitlab-ci")),
    ({"GITLAB_CI": "true", "CI_JOB_URL": "https://gitlab.example.com/" + "x" * 3000}, RunPlace("gitlab-ci")),
    ({"CI": "true"}, RunPlace("ci")),
    ({"CI": "1"}, RunPlace("ci")),
    ({"CI": "TRUE", "BUILD_URL": "https://jenkins.example.com/job/1/"}, RunPlace("ci")),
    ({"CI": "false"}, RunPlace("workstation")),
    ({"CI": ""}, RunPlace("workstation")),
    ({"GITHUB_ACTIONS": "false"}, RunPlace("workstation")),
    ({}, RunPlace("workstation")),
    ({"HOSTNAME": "alices-laptop", "USER": "alice", "HOME": "/home/alice"}, RunPlace("workstation")),
], ids=["github", "github-no-attempt", "github-enterprise", "github-no-run", "github-bad-repository",
        "github-bad-server", "github-bad-run-id", "github-bad-attempt", "gitlab", "gitlab-no-url",
        "gitlab-script-url", "gitlab-space-url", "gitlab-markdown-url", "gitlab-long-url", "ci", "ci-1",
        "ci-upper", "ci-false", "ci-empty", "github-false", "nothing", "workstation"])
def test_where_a_run_happens(environ: dict[str, str], expected: RunPlace) -> None:
    found = detect_place(environ)
    assert found == expected
    assert found.in_ci == (expected.place != "workstation")
    assert "alice" not in json.dumps(found.to_dict())


def _runbook(root: Path, runbook_id: str = "r") -> Runbook:
    found = analyse(root).handbook.record_of(Runbook, runbook_id)
    assert found is not None
    return found


def _run(root: Path, environ: dict[str, str]) -> Path:
    """Run runbook `r` with this environment and write the results where the build reads them."""
    result = run_runbook(_runbook(root), RunOptions(root=root, environ={"PATH": os.environ["PATH"], **environ}))
    assert result.passed
    target = root / ".opsbook" / "results.json"
    write_results(target, [result])
    assert load_results(target).problem is None
    return target


def _verification(root: Path) -> Verification:
    analysis = analyse(root)
    assert [d.code for d in analysis.diagnostics] == []
    runbook = analysis.handbook.record_of(Runbook, "r")
    assert runbook is not None
    return verification_of(analysis.handbook, runbook)


def _index(root: Path) -> str:
    return next(p.text for p in analyse(root).pages() if p.uri == "runbooks/index.md")


def test_a_run_in_github_actions_is_verified_in_ci_with_its_url(make_handbook: Callable[..., Path]) -> None:
    root = make_handbook({"runbooks/r.yaml": RUNBOOK})
    written = json.loads(_run(root, GITHUB).read_text(encoding="utf-8"))
    assert written["runbooks"]["r"]["where"] == {"place": "github-actions", "run_url": GITHUB_URL}
    found = _verification(root)
    assert (found.in_ci, found.place, found.run_url) == (True, "GitHub Actions", GITHUB_URL)
    assert (found.verified, found.runnable, found.status, found.outcome, found.passed) == (2, 2, "passed", "passed", 2)
    assert found.steps[("steps", 0)]["status"] == "passed"
    analysis = analyse(root)
    assert coverage(analysis.handbook) == (2, 2)
    assert compute_health(analysis.handbook, analysis.diagnostics).verified_steps == 2
    assert "**2 of 2** runnable steps verified in CI (100%)" in _index(root)
    assert "| 3 | 2/2 |" in _index(root)


@pytest.mark.parametrize("option", ["show", "hide"])
def test_a_workstation_run_is_never_verified_in_ci(make_handbook: Callable[..., Path], option: str) -> None:
    root = make_handbook({"runbooks/r.yaml": RUNBOOK}, local_results=option)
    written = _run(root, {"HOSTNAME": "alices-laptop", "USER": "alice", "LOGNAME": "alice"})
    text = written.read_text(encoding="utf-8")
    assert json.loads(text)["runbooks"]["r"]["where"] == {"place": "workstation"}
    assert "alice" not in text  # neither the machine nor the person
    found = _verification(root)
    assert (found.verified, found.in_ci, found.run_url) == (0, False, None)
    analysis = analyse(root)
    assert coverage(analysis.handbook) == (0, 2)
    assert compute_health(analysis.handbook, analysis.diagnostics).verified_steps == 0
    index = _index(root)
    assert "**0 of 2** runnable steps verified in CI (0%)" in index
    if option == "show":  # as a local run, its outcomes kept
        assert (found.status, found.place, found.outcome, found.passed) == ("local run", "a workstation", "passed", 2)
        assert found.steps[("steps", 1)]["status"] == "passed" and found.started and found.commit is None
        assert "| 3 | 0/2 (local run, not in CI: 2 passed) |" in index
    else:  # as if there were no run
        assert (found.status, found.place, found.outcome, found.passed) == ("not run", "", "not run", 0)
        assert found.steps == {}
        assert found.started is None
        assert "| 3 | 0/2 (not run) |" in index


def test_a_failed_local_run_says_so_in_the_index(make_handbook: Callable[..., Path]) -> None:
    root = make_handbook({"runbooks/r.yaml": RUNBOOK.replace("run: 'true'", "run: 'false'")})
    result = run_runbook(_runbook(root), RunOptions(root=root, environ={"PATH": os.environ["PATH"]}))
    write_results(root / ".opsbook" / "results.json", [result])
    found = _verification(root)
    assert (found.status, found.outcome, found.verified, found.passed) == ("local run", "failed", 0, 0)
    assert "| 3 | 0/2 (local run, not in CI: 0 passed, failed) |" in _index(root)


@pytest.mark.parametrize("option", ["show", "hide"])
def test_an_old_results_file_without_the_place_is_not_ci(make_handbook: Callable[..., Path], option: str) -> None:
    root = make_handbook({"runbooks/r.yaml": RUNBOOK}, local_results=option)
    target = _run(root, GITHUB)
    data = json.loads(target.read_text(encoding="utf-8"))
    del data["runbooks"]["r"]["where"]  # as opsbook wrote it before it recorded the place
    target.write_text(json.dumps(data), encoding="utf-8")
    found = _verification(root)  # no diagnostic: the file is valid
    assert (found.verified, found.in_ci, found.run_url) == (0, False, None)
    assert coverage(analyse(root).handbook) == (0, 2)
    if option == "show":
        assert (found.status, found.place, found.passed) == ("local run", "an unknown place", 2)
    else:
        assert (found.status, found.place, found.steps) == ("not run", "", {})


@pytest.mark.parametrize(("environ", "place", "url"), [
    (GITLAB, "GitLab CI", "https://gitlab.example.com/ops/handbook/-/jobs/42"),
    ({"CI": "true"}, "CI", None),
])
def test_other_ci_services(make_handbook: Callable[..., Path], environ: dict[str, str], place: str,
                           url: str | None) -> None:
    root = make_handbook({"runbooks/r.yaml": RUNBOOK}, local_results="hide")
    _run(root, environ)
    found = _verification(root)
    assert (found.in_ci, found.place, found.run_url, found.verified, found.status) == (True, place, url, 2, "passed")


def test_opsbook_test_records_the_place_from_its_environment(make_handbook: Callable[..., Path]) -> None:
    root = make_handbook({"runbooks/r.yaml": RUNBOOK})
    results = root / ".opsbook" / "results.json"
    run = CliRunner().invoke(main, ["test", "--dir", str(root)], env={**WORKSTATION, **GITLAB})
    assert run.exit_code == 0, run.output
    assert json.loads(results.read_text())["runbooks"]["r"]["where"] == {
        "place": "gitlab-ci", "run_url": "https://gitlab.example.com/ops/handbook/-/jobs/42"}
    assert "not in CI" not in run.output
    run = CliRunner().invoke(main, ["test", "--dir", str(root)], env=WORKSTATION)
    assert run.exit_code == 0, run.output
    assert json.loads(results.read_text())["runbooks"]["r"]["where"] == {"place": "workstation"}
    assert "the results record a run on a workstation, not in CI" in run.output
    assert _verification(root).status == "local run"


def test_the_pytest_plugin_records_the_place_under_xdist(pytester: pytest.Pytester,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    pytester.makefile(".yml", opsbook="today: '2026-11-26'\nshellcheck: false\n")
    pytester.mkdir("runbooks")
    for name in ("a", "b"):
        (pytester.path / "runbooks" / f"{name}.yaml").write_text(RUNBOOK, encoding="utf-8")
    for name, value in GITHUB.items():
        monkeypatch.setenv(name, value)
    result = pytester.runpytest_subprocess("--runbooks", "-n", "2", "--runbook-results=results.json")
    result.assert_outcomes(passed=2)
    data = json.loads((pytester.path / "results.json").read_text(encoding="utf-8"))
    assert {name: entry["where"] for name, entry in data["runbooks"].items()} == {
        name: {"place": "github-actions", "run_url": GITHUB_URL} for name in ("a", "b")}


def _file(where: object) -> str:
    entry: dict[str, object] = {"runbook": "r", "mode": "ci", "steps": []}
    if where is not None:
        entry["where"] = where
    return json.dumps({"version": 1, "runbooks": {"r": entry}})


@pytest.mark.parametrize("where", [
    {"place": "github-actions", "run_url": "javascript:alert(1)"},
    {"place": "github-actions", "run_url": "https://x/\"><script>alert(1)</script>"},
    {"place": "unknown"},
    {"place": "Alice's laptop"},
    {"place": "ci", "host": "alices-laptop"},
    {"run_url": "https://github.com/"},
    "github-actions",
    {"place": ["ci"]},
], ids=["script-url", "markup-url", "unknown", "free-text", "extra-key", "no-place", "text", "list"])
def test_a_hostile_place_is_ob050_and_verifies_nothing(make_handbook: Callable[..., Path], where: object) -> None:
    root = make_handbook({"runbooks/r.yaml": RUNBOOK, ".opsbook/results.json": _file(where)})
    analysis = analyse(root)
    assert [d.code for d in analysis.diagnostics] == ["OB050"]
    runbook = analysis.handbook.record_of(Runbook, "r")
    assert runbook is not None
    found = verification_of(analysis.handbook, runbook)
    assert (found.status, found.in_ci, found.run_url, found.verified) == ("not run", False, None, 0)


def test_a_url_is_kept_only_for_a_ci_place() -> None:
    where = {"place": "workstation", "run_url": "https://x.example/"}
    assert recorded_place({"where": where}) == RunPlace("workstation")
    assert recorded_place({"where": {"place": "ci", "run_url": "https://x.example/1\n"}}) == RunPlace("ci")
    assert recorded_place({}) == recorded_place(None) == RunPlace("unknown")
    assert RunPlace("unknown").words == "an unknown place" and not RunPlace("unknown").in_ci


def test_local_results_must_be_show_or_hide(make_handbook: Callable[..., Path]) -> None:
    root = make_handbook({"runbooks/r.yaml": RUNBOOK}, local_results="sometimes")
    run = CliRunner().invoke(main, ["check", str(root)])
    assert run.exit_code == 1 and "OB090" in run.output and "local_results must be 'show' or 'hide'" in run.output
    assert "Traceback" not in run.output
