"""The `opsbook` command, through click's runner."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from click.testing import CliRunner

from opsbook.cli import main
from opsbook.loader import Limits

if TYPE_CHECKING:
    from conftest import LoaderWork

BROKEN = "title: Restore\nrelated:\n  - restore\n  - restor-db\nsteps:\n  - {name: Go, run: 'true'}\n"


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def test_check_clean_handbook_exits_0(runner: CliRunner, fixture_handbook: Callable[[str], Path]) -> None:
    root = fixture_handbook("minimal")
    result = runner.invoke(main, ["check", str(root)], env={"GITHUB_ACTIONS": ""})
    assert result.exit_code == 0, result.output
    assert result.output.strip().endswith("0 errors, 0 warnings")


def test_check_without_a_handbook_is_an_error(runner: CliRunner, tmp_path: Path,
                                              make_handbook: Callable[..., Path]) -> None:
    # No configuration file and no source: `0 errors` would pass a gate that checked nothing.
    (tmp_path / "empty" / "docs").mkdir(parents=True)
    result = runner.invoke(main, ["check", "--format", "json", str(tmp_path / "empty")])
    assert result.exit_code == 1
    assert "error: no handbook in" in result.output and "nothing was checked" in result.output
    # A new handbook, a configuration and docs but no source yet: checked (its configuration), said
    # plainly in text, and it builds.
    root = make_handbook({"docs/index.md": "# Handbook\n"})
    result = runner.invoke(main, ["check", "--format", "text", str(root)])
    assert result.exit_code == 0
    assert "no handbook sources found: opsbook.yml is there" in result.output
    assert runner.invoke(main, ["build", str(root), "--out", str(tmp_path / "out")]).exit_code == 0
    (root / "runbooks").mkdir()
    (root / "runbooks" / "restore.yaml").write_text("title: Restore\nsteps:\n  - {name: Go, run: 'true'}\n")
    result = runner.invoke(main, ["check", "--format", "text", str(root)])
    assert result.exit_code == 0 and "no handbook" not in result.output


def test_check_json_names_the_missing_related_item(runner: CliRunner, make_handbook: Callable[..., Path]) -> None:
    root = make_handbook({"runbooks/restore.yaml": BROKEN})
    result = runner.invoke(main, ["check", "--format", "json", str(root)])
    assert result.exit_code == 1
    assert json.loads(result.output) == [{
        "path": "runbooks/restore.yaml", "line": 4, "column": 5, "severity": "error", "code": "OB021",
        "message": "related[1] names runbook 'restor-db', which does not exist",
        "hint": "did you mean 'restore'?",
    }]


def test_text_format_shows_the_line_and_a_caret(runner: CliRunner, make_handbook: Callable[..., Path]) -> None:
    root = make_handbook({"runbooks/restore.yaml": BROKEN})
    result = runner.invoke(main, ["check", "--format", "text", str(root)])
    lines = result.output.splitlines()
    assert lines[0] == ("runbooks/restore.yaml:4:5: error OB021 related[1] names runbook 'restor-db', "
                        "which does not exist")
    assert lines[1] == "      - restor-db"
    assert lines[2] == "        ^"
    assert lines[-1] == "1 error, 0 warnings"


def test_github_format_is_chosen_under_github_actions(runner: CliRunner, make_handbook: Callable[..., Path]) -> None:
    root = make_handbook({"runbooks/restore.yaml": BROKEN})
    result = runner.invoke(main, ["check", str(root)], env={"GITHUB_ACTIONS": "true"})
    assert result.output.startswith("::error file=runbooks/restore.yaml,line=4,col=5,title=OB021::related[1]")


def test_sarif_format(runner: CliRunner, make_handbook: Callable[..., Path]) -> None:
    root = make_handbook({"runbooks/restore.yaml": BROKEN})
    result = runner.invoke(main, ["check", "--format", "sarif", str(root)])
    log = json.loads(result.output)
    assert log["version"] == "2.1.0"
    (run,) = log["runs"]
    (finding,) = run["results"]
    assert finding["ruleId"] == "OB021" and finding["level"] == "error"
    region = finding["locations"][0]["physicalLocation"]["region"]
    assert region == {"startLine": 4, "startColumn": 5}
    rules = run["tool"]["driver"]["rules"]
    assert rules[finding["ruleIndex"]]["id"] == "OB021"


def test_warnings_fail_only_with_strict(runner: CliRunner, make_handbook: Callable[..., Path]) -> None:
    overdue = "title: T\nlast_reviewed: 2020-01-01\nreview_every: 90d\nsteps: [{name: S, run: 'true'}]\n"
    root = make_handbook({"runbooks/old.yaml": overdue})
    assert runner.invoke(main, ["check", str(root)]).exit_code == 0
    assert runner.invoke(main, ["check", "--strict", str(root)]).exit_code == 1


def test_fail_on_warning_in_the_configuration(runner: CliRunner, make_handbook: Callable[..., Path]) -> None:
    overdue = "title: T\nlast_reviewed: 2020-01-01\nreview_every: 90d\nsteps: [{name: S, run: 'true'}]\n"
    root = make_handbook({"runbooks/old.yaml": overdue}, fail_on="warning")
    assert runner.invoke(main, ["check", str(root)]).exit_code == 1


def test_usage_errors_exit_2(runner: CliRunner, tmp_path: Path) -> None:
    assert runner.invoke(main, ["check", "--format", "xml", str(tmp_path)]).exit_code == 2
    assert runner.invoke(main, ["check", str(tmp_path / "missing")]).exit_code == 2
    assert runner.invoke(main, ["schema", "nope"]).exit_code == 2
    assert runner.invoke(main, ["frobnicate"]).exit_code == 2


def test_bad_configuration_is_a_diagnostic(runner: CliRunner, make_handbook: Callable[..., Path]) -> None:
    root = make_handbook({}, runbook_dirs="x")
    result = runner.invoke(main, ["check", "--format", "json", str(root)])
    assert result.exit_code == 1
    (problem,) = json.loads(result.output)
    assert problem["code"] == "OB090" and problem["path"] == "opsbook.yml" and "runbook_dirs" in problem["message"]


def test_configuration_in_mkdocs_yml_is_read(runner: CliRunner, tmp_path: Path) -> None:
    (tmp_path / "mkdocs.yml").write_text(
        "site_name: x\nplugins:\n  - search\n  - opsbook:\n      sources: {runbook: [ops/runbooks]}\n"
        "      fail_on: warnings\n", encoding="utf-8")
    (tmp_path / "ops" / "runbooks").mkdir(parents=True)
    (tmp_path / "ops" / "runbooks" / "a.yaml").write_text("title: A\n", encoding="utf-8")
    result = runner.invoke(main, ["check", "--format", "json", str(tmp_path)])
    found = {(d["code"], d["path"], d["line"]) for d in json.loads(result.output)}
    assert found == {("OB090", "mkdocs.yml", 6), ("OB010", "ops/runbooks/a.yaml", 1)}


def test_build_writes_the_generated_tree(runner: CliRunner, fixture_handbook: Callable[[str], Path],
                                         tmp_path: Path) -> None:
    root = fixture_handbook("minimal")
    out = tmp_path / "out"
    result = runner.invoke(main, ["build", str(root), "--out", str(out)])
    assert result.exit_code == 0, result.output
    written = sorted(p.relative_to(out / "docs").as_posix() for p in (out / "docs").rglob("*.md"))
    assert "runbooks/cache-flush.md" in written and "runbooks/index.md" in written
    assert "reference/checks/OB021.md" in written and "reference/schemas/runbook.md" in written
    assert not list(tmp_path.glob(".out.*")), "staging folders must not be left behind"


def test_failed_build_leaves_the_last_good_tree(runner: CliRunner, make_handbook: Callable[..., Path],
                                                tmp_path: Path) -> None:
    root = make_handbook({"runbooks/ok.yaml": "title: OK\nsteps: [{name: S, run: 'true'}]\n"})
    out = tmp_path / "out"
    assert runner.invoke(main, ["build", str(root), "--out", str(out)]).exit_code == 0
    before = (out / "docs" / "runbooks" / "ok.md").read_text(encoding="utf-8")
    (root / "runbooks" / "bad.yaml").write_text("title: [\n", encoding="utf-8")
    result = runner.invoke(main, ["build", str(root), "--out", str(out)])
    assert result.exit_code == 1
    assert (out / "docs" / "runbooks" / "ok.md").read_text(encoding="utf-8") == before
    assert not (out / "docs" / "runbooks" / "bad.md").exists()


def test_schema_lists_and_prints(runner: CliRunner) -> None:
    assert "runbook" in runner.invoke(main, ["schema"]).output.split()
    printed = json.loads(runner.invoke(main, ["schema", "runbook"]).output)
    assert printed["title"] == "opsbook runbook"


def test_new_runbook_is_valid_and_never_overwrites(runner: CliRunner, make_handbook: Callable[..., Path]) -> None:
    root = make_handbook({"schemas/runbook.schema.json": "{}"})
    result = runner.invoke(main, ["new", "runbook", "cache-flush", "--dir", str(root), "--title", 'Flush "it"'])
    assert result.exit_code == 0, result.output
    file = root / "runbooks" / "cache-flush.yaml"
    text = file.read_text(encoding="utf-8")
    assert text.startswith("# yaml-language-server: $schema=../schemas/runbook.schema.json\n")
    check = runner.invoke(main, ["check", "--format", "json", str(root)])
    # Valid; only its placeholders are reported, until replaced (tests/test_init.py, where each one is).
    assert check.exit_code == 0 and {d["code"] for d in json.loads(check.output)} == {"OB070"}
    again = runner.invoke(main, ["new", "runbook", "cache-flush", "--dir", str(root)])
    assert again.exit_code == 2 and file.read_text(encoding="utf-8") == text
    assert runner.invoke(main, ["new", "runbook", "Bad_Id", "--dir", str(root)]).exit_code == 2


def test_hostile_files_are_answered_in_bounded_work_without_traceback(
        runner: CliRunner, make_handbook: Callable[..., Path], loader_work: LoaderWork) -> None:
    """The 10 MB file is not opened and the alias bomb builds no more than `max_nodes` values. (How long
    the check takes is a target of the benchmark: benchmarks/hostile.py.)"""
    bomb = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    bomb += [f"a{i}: &a{i} [{','.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 20)]
    root = make_handbook({
        "runbooks/huge.yaml": "title: x\nsummary: " + "y" * (10 * 1000 * 1000) + "\n",
        "runbooks/bomb.yaml": "\n".join(bomb) + "\n",
        "runbooks/latin1.yaml": "title: caf\xe9\n".encode("latin-1"),
        "runbooks/xss.yaml": "title: <script>alert(1)</script>\nsteps: [{name: S, run: 'true'}]\n",
    })
    result = runner.invoke(main, ["check", "--format", "json", str(root)])
    assert result.exception is None or isinstance(result.exception, SystemExit)
    codes = {(d["path"], d["code"]) for d in json.loads(result.output)}
    assert codes == {("runbooks/huge.yaml", "OB003"), ("runbooks/bomb.yaml", "OB005"),
                     ("runbooks/latin1.yaml", "OB002")}
    assert root / "runbooks" / "huge.yaml" not in loader_work.opened
    assert 0 < loader_work.most_values_built <= Limits().max_nodes + 1


def test_build_never_replaces_a_folder_it_did_not_write(runner: CliRunner, make_handbook: Callable[..., Path]) -> None:
    root = make_handbook({"runbooks/ok.yaml": "title: OK\nsteps: [{name: S, run: 'true'}]\n"})
    result = runner.invoke(main, ["build", str(root), "--out", str(root / "runbooks")])
    assert result.exit_code == 2 and "did not write" in result.output
    assert (root / "runbooks" / "ok.yaml").is_file()
    out = root.parent / "site-md"
    assert runner.invoke(main, ["build", str(root), "--out", str(out)]).exit_code == 0
    assert runner.invoke(main, ["build", str(root), "--out", str(out)]).exit_code == 0  # its own output: replaced


def test_source_lines_of_files_outside_the_root_are_never_printed(runner: CliRunner, tmp_path: Path,
                                                                   make_handbook: Callable[..., Path]) -> None:
    secret = tmp_path / "outside.yaml"
    secret.write_text("top-secret-value\n", encoding="utf-8")
    root = make_handbook({"runbooks/ok.yaml": "title: OK\nsteps: [{name: S, run: 'true'}]\n"})
    (root / "runbooks" / "link.yaml").symlink_to(secret)
    result = runner.invoke(main, ["check", "--format", "text", str(root)])
    assert "OB006" in result.output and "top-secret-value" not in result.output


def test_new_runbook_without_local_schemas_uses_the_site_url(runner: CliRunner,
                                                             make_handbook: Callable[..., Path]) -> None:
    """The schema the published site serves (tests/test_schema_publishing.py builds one and finds it there)."""
    root = make_handbook({}, site_url="https://handbook.example.org")
    assert runner.invoke(main, ["new", "runbook", "x", "--dir", str(root)]).exit_code == 0
    first = (root / "runbooks" / "x.yaml").read_text(encoding="utf-8").splitlines()[0]
    assert first == "# yaml-language-server: $schema=https://handbook.example.org/schemas/runbook.schema.json"


def test_opsbook_today_in_the_environment_pins_the_date(runner: CliRunner, make_handbook: Callable[..., Path],
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    runbook = "title: T\nlast_reviewed: 2026-11-01\nreview_every: 90d\nsteps: [{name: S, manual: m}]\n"
    root = make_handbook({"runbooks/t.yaml": runbook}, today=None)
    monkeypatch.setenv("OPSBOOK_TODAY", "2026-12-01")
    assert json.loads(runner.invoke(main, ["check", "--format", "json", str(root)]).output) == []
    monkeypatch.setenv("OPSBOOK_TODAY", "2027-03-01")
    (overdue,) = json.loads(runner.invoke(main, ["check", "--format", "json", str(root)]).output)
    assert overdue["code"] == "OB040" and overdue["line"] == 2
    monkeypatch.setenv("OPSBOOK_TODAY", "the first of March")
    result = runner.invoke(main, ["check", "--format", "json", str(root)])
    assert result.exit_code == 1
    assert any(p["code"] == "OB090" and "OPSBOOK_TODAY must be a date" in p["message"]
               for p in json.loads(result.output))
    pinned = make_handbook({"runbooks/t.yaml": runbook}, today="2026-11-02")  # the option wins
    assert json.loads(runner.invoke(main, ["check", "--format", "json", str(pinned)]).output) == []


@pytest.mark.parametrize(("options", "message"), [
    ({"sources": {"runbooks": ["rb"]}}, "unknown kind 'runbooks'"),
    ({"pages": {"runbook": 3}}, "pages must map names to folders"),
    ({"fail_on": "sometimes"}, "fail_on must be"),
    ({"today": "yesterday"}, "today must be a date"),
])
def test_configuration_values_are_checked(runner: CliRunner, make_handbook: Callable[..., Path],
                                          options: dict, message: str) -> None:
    root = make_handbook({}, **options)
    result = runner.invoke(main, ["check", "--format", "json", str(root)])
    assert result.exit_code == 1
    (problem,) = json.loads(result.output)
    assert problem["code"] == "OB090" and message in problem["message"]
