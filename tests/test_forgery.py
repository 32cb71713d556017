"""'Verified in CI' cannot be forged by a pull request (issue #15).

A runbook whose only command is `false` must never show 'passed': not through a results file a commit
brings (OB051), not through one a step of the run writes (the run writes a fresh file, and discards what
a step wrote to the configured one), not through a file that merely looks like one (the results schema,
OB050). A hostile results file is a diagnostic, never a traceback.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from opsbook import analyse
from opsbook.cli import main
from opsbook.kinds.runbooks.records import Runbook
from opsbook.kinds.runbooks.results import MAX_RESULTS_DEPTH, load_results
from opsbook.kinds.runbooks.verification import verification_of
from opsbook.schema_validation import load_schema

FORGED = """\
title: Does nothing that works
severity: low
steps:
  - name: Fail
    run: "false"
"""

#: A runbook whose step writes a results file that says `forged` passed.
WRITER = """\
title: Writes results
severity: low
steps:
  - name: Write
    run: mkdir -p .opsbook && cp forged.json .opsbook/results.json
"""


#: The environment of a GitHub Actions job: a run there is a run in CI (only such a run verifies).
CI_ENV = {"GITHUB_ACTIONS": "true", "GITHUB_SERVER_URL": "https://github.com", "GITHUB_REPOSITORY": "example/ops",
          "GITHUB_RUN_ID": "7", "GITHUB_RUN_ATTEMPT": "1"}


def _forged_results() -> dict:
    """A results file that claims all it can: `forged` passed, in CI mode, on GitHub Actions."""
    step = {"section": "steps", "index": 0, "name": "Fail", "status": "passed",
            "command_sha256": hashlib.sha256(b"false").hexdigest()}
    return {"version": 1, "runbooks": {"forged": {"runbook": "forged", "passed": True, "mode": "ci",
                                                  "where": {"place": "github-actions",
                                                            "run_url": "https://github.com/example/ops/actions/runs/7"},
                                                  "steps": [step]}}}


def _handbook(make_handbook: Callable[..., Path]) -> Path:
    return make_handbook({"runbooks/forged.yaml": FORGED, "runbooks/writer.yaml": WRITER,
                          "forged.json": json.dumps(_forged_results())})


def _status(root: Path, runbook_id: str = "forged") -> str:
    analysis = analyse(root)
    runbook = analysis.handbook.record_of(Runbook, runbook_id)
    assert runbook is not None
    return verification_of(analysis.handbook, runbook).status


def _git(root: Path, *args: str) -> None:
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args], cwd=root,
                   check=True, capture_output=True)


def test_the_forged_file_would_verify_when_ci_wrote_it(make_handbook: Callable[..., Path]) -> None:
    """The control: the same file, written where CI writes it and not committed, verifies the runbook."""
    root = _handbook(make_handbook)
    (root / ".opsbook").mkdir()
    (root / ".opsbook" / "results.json").write_text(json.dumps(_forged_results()), encoding="utf-8")
    assert _status(root) == "passed"


def test_a_committed_results_file_verifies_nothing_and_is_reported(make_handbook: Callable[..., Path]) -> None:
    """OB051: a results file that git tracks is ignored, and said to be."""
    root = _handbook(make_handbook)
    (root / ".opsbook").mkdir()
    (root / ".opsbook" / "results.json").write_text(json.dumps(_forged_results()), encoding="utf-8")
    _git(root, "init", "-q")
    _git(root, "add", "-A")
    _git(root, "commit", "-q", "-m", "forge")
    assert _status(root) == "not run"
    found = [(d.code, d.path, str(d.severity)) for d in analyse(root).diagnostics]
    assert found == [("OB051", ".opsbook/results.json", "warning")]
    result = CliRunner().invoke(main, ["check", str(root), "--strict"])
    assert result.exit_code == 1 and "OB051" in result.output


def test_a_committed_results_file_elsewhere_is_ignored_too(make_handbook: Callable[..., Path]) -> None:
    """The `results` option pointed at a committed file (a pull request can change the configuration)."""
    root = make_handbook({"runbooks/forged.yaml": FORGED, "ci/results.json": json.dumps(_forged_results())},
                         results="ci/results.json")
    _git(root, "init", "-q")
    _git(root, "add", "-A")
    _git(root, "commit", "-q", "-m", "forge")
    assert _status(root) == "not run"
    assert [d.code for d in analyse(root).diagnostics] == ["OB051"]


def test_a_step_that_writes_the_results_file_leaves_nothing(make_handbook: Callable[..., Path]) -> None:
    """A run of one runbook whose step writes a results file: the file holds that run, and only it."""
    root = _handbook(make_handbook)
    result = CliRunner().invoke(main, ["test", "writer", "--dir", str(root)], env=CI_ENV)
    assert result.exit_code == 0, result.output
    written = json.loads((root / ".opsbook" / "results.json").read_text(encoding="utf-8"))
    assert sorted(written["runbooks"]) == ["writer"]
    assert _status(root) == "not run"
    assert _status(root, "writer") == "passed"


def test_a_step_cannot_write_the_results_when_the_run_writes_elsewhere(make_handbook: Callable[..., Path]) -> None:
    """`opsbook test --results other.json`: what a step wrote to the configured file is discarded."""
    root = _handbook(make_handbook)
    result = CliRunner().invoke(main, ["test", "writer", "--dir", str(root),
                                       "--results", str(root / "elsewhere.json")])
    assert result.exit_code == 0, result.output
    assert "a step wrote .opsbook/results.json during the run; discarded" in result.output
    assert not (root / ".opsbook" / "results.json").exists()
    assert _status(root) == "not run"


def test_the_run_never_merges_what_the_file_held(make_handbook: Callable[..., Path]) -> None:
    """A results file left from before (by anyone) is replaced whole by the next run's results."""
    root = _handbook(make_handbook)
    (root / ".opsbook").mkdir()
    (root / ".opsbook" / "results.json").write_text(json.dumps(_forged_results()), encoding="utf-8")
    result = CliRunner().invoke(main, ["test", "writer", "--dir", str(root)])
    assert result.exit_code == 0, result.output
    assert _status(root) == "not run"


def test_the_pytest_plugin_discards_a_results_file_a_step_wrote(make_handbook: Callable[..., Path]) -> None:
    root = _handbook(make_handbook)
    (root / "runbooks" / "forged.yaml").unlink()  # only the writer: the session passes
    result = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "no:xdist",
                             "--runbooks", f"--handbook={root}", str(root / "runbooks")],
                            cwd=root, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "discarded" in result.stdout
    assert not (root / ".opsbook" / "results.json").exists()


def test_a_run_writes_a_file_valid_against_the_results_schema(make_handbook: Callable[..., Path]) -> None:
    import jsonschema

    root = _handbook(make_handbook)
    result = CliRunner().invoke(main, ["test", "--dir", str(root)], env=CI_ENV)
    assert result.exit_code == 1  # `forged` fails
    data = json.loads((root / ".opsbook" / "results.json").read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator(load_schema("results")).validate(data)
    assert load_results(root / ".opsbook" / "results.json").problem is None
    assert _status(root) == "failed"


HOSTILE = {
    "deep list": "[" * 100_000 + "]" * 100_000,
    "deep but parseable": '{"version": 1, "runbooks": {"x": {"steps": ' + "[" * 500 + "]" * 500 + "}}}",
    "step given as a number": '{"version": 1, "runbooks": {"forged": {"steps": [1]}}}',
    "runbook given as a list": '{"version": 1, "runbooks": {"forged": []}}',
    "index given as text": '{"version": 1, "runbooks": {"forged": {"steps": [{"section": "steps", '
                           '"index": "0", "name": "Fail", "status": "passed"}]}}}',
    "no version": '{"runbooks": {}}',
    "not an object": "[]",
    "not JSON": "not json",
    "not UTF-8": '{"version": 1, "runbooks": {"\xff": {}}}',
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_a_hostile_results_file_is_ob050_never_a_traceback(make_handbook: Callable[..., Path], name: str,
                                                          tmp_path: Path) -> None:
    root = _handbook(make_handbook)
    (root / ".opsbook").mkdir()
    text = HOSTILE[name]
    (root / ".opsbook" / "results.json").write_bytes(text.encode("latin-1") if name == "not UTF-8"
                                                     else text.encode("utf-8"))
    found = load_results(root / ".opsbook" / "results.json")
    assert found.problem is not None and found.runbooks == {}
    assert [d.code for d in analyse(root).diagnostics] == ["OB050"]
    for command in (["check", str(root)], ["build", str(root), "--out", str(tmp_path / "out")]):
        result = subprocess.run([sys.executable, "-m", "opsbook", *command], capture_output=True, text=True,
                                timeout=120)
        assert result.returncode == 0, result.stderr
        assert "OB050" in result.stdout + result.stderr and "Traceback" not in result.stderr
    assert _status(root) == "not run"


def test_the_deep_list_is_named_as_too_deep(tmp_path: Path) -> None:
    file = tmp_path / "results.json"
    file.write_text(HOSTILE["deep list"], encoding="utf-8")
    assert f"nested deeper than {MAX_RESULTS_DEPTH} levels" in (load_results(file).problem or "")
    file.write_text(HOSTILE["step given as a number"], encoding="utf-8")
    assert "runbooks.forged.steps[0]: 1 is not of type 'object'" in (load_results(file).problem or "")
