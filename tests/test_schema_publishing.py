"""Schemas where editors find them (#18 item 7): the site serves every schema at
`<site_url>/schemas/<kind>.schema.json`, `opsbook schema --out` writes the same files into a repository, and
`opsbook new`'s editor header names one of them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urljoin

from click.testing import CliRunner

from opsbook.cli import main

ENV = {**os.environ, "NO_MKDOCS_2_WARNING": "1", "NO_COLOR": "1"}
SITE_URL = "https://handbook.example.org/ops/"
HEADER = "# yaml-language-server: $schema="


def _kinds(runner: CliRunner) -> list[str]:
    kinds = runner.invoke(main, ["schema"]).output.split()
    assert "runbook" in kinds and "team" in kinds
    return kinds


def _header(file: Path) -> str | None:
    first = file.read_text(encoding="utf-8").splitlines()[0]
    return first.removeprefix(HEADER) if first.startswith(HEADER) else None


def test_the_site_serves_every_schema_where_its_id_and_the_scaffold_header_name_it(
        fixture_handbook: Callable[[str], Path], tmp_path: Path) -> None:
    runner = CliRunner()
    root = fixture_handbook("minimal")
    config = root / "mkdocs.yml"
    config.write_text(config.read_text(encoding="utf-8") + f"site_url: {SITE_URL}\n", encoding="utf-8")
    ours = '{"title": "the handbook\'s own team schema"}\n'
    (root / "docs" / "schemas").mkdir()
    (root / "docs" / "schemas" / "team.schema.json").write_text(ours, encoding="utf-8")
    site = tmp_path / "built"
    result = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-d", str(site)], cwd=root,
                            env=ENV, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr

    for kind in _kinds(runner):
        served = site / "schemas" / f"{kind}.schema.json"
        assert served.is_file(), kind
        if kind == "team":  # the handbook's own file at that path is the one served
            assert served.read_text(encoding="utf-8") == ours
            continue
        printed = runner.invoke(main, ["schema", kind]).output
        assert served.read_text(encoding="utf-8") == printed
        url = urljoin(SITE_URL, f"schemas/{kind}.schema.json")
        assert urljoin(url, json.loads(printed)["$id"]) == url  # the `$id` names where it is served

    # With site_url and no local copy, the scaffold's header is the URL of a file the site serves.
    assert runner.invoke(main, ["new", "runbook", "disk-full", "--dir", str(root)]).exit_code == 0
    header = _header(root / "runbooks" / "disk-full.yaml")
    assert header == f"{SITE_URL}schemas/runbook.schema.json"
    assert (site / header.removeprefix(SITE_URL)).is_file()


def test_schema_out_writes_every_schema_and_never_overwrites_a_changed_file(tmp_path: Path) -> None:
    runner = CliRunner()
    kinds = _kinds(runner)
    folder = tmp_path / "repo" / "schemas"
    result = runner.invoke(main, ["schema", "--out", str(folder)])
    assert result.exit_code == 0, result.output
    assert sorted(path.name for path in folder.iterdir()) == sorted(f"{kind}.schema.json" for kind in kinds)
    for kind in kinds:
        file = folder / f"{kind}.schema.json"
        assert f"wrote {file}" in result.output
        assert file.read_text(encoding="utf-8") == runner.invoke(main, ["schema", kind]).output

    again = runner.invoke(main, ["schema", "--out", str(folder)])
    assert again.exit_code == 0 and "wrote" not in again.output and f"{len(kinds)} schema file(s)" in again.output

    changed = folder / "runbook.schema.json"
    changed.write_text('{"title": "edited by hand"}\n', encoding="utf-8")
    (folder / "team.schema.json").unlink()
    refused = runner.invoke(main, ["schema", "--out", str(folder)])
    assert refused.exit_code == 1 and str(changed) in refused.output and "--force" in refused.output
    assert refused.exception is None or isinstance(refused.exception, SystemExit)
    assert changed.read_text(encoding="utf-8") == '{"title": "edited by hand"}\n'
    assert not (folder / "team.schema.json").exists()  # nothing is written when one file is refused

    forced = runner.invoke(main, ["schema", "--out", str(folder), "--force"])
    assert forced.exit_code == 0, forced.output
    assert changed.read_text(encoding="utf-8") == runner.invoke(main, ["schema", "runbook"]).output
    assert (folder / "team.schema.json").is_file()
    assert sorted(line for line in forced.output.splitlines() if "wrote" in line) == sorted(
        [f"opsbook: wrote {changed}", f"opsbook: wrote {folder / 'team.schema.json'}"])


def test_schema_out_of_one_kind_and_misuse(tmp_path: Path) -> None:
    runner = CliRunner()
    one = tmp_path / "one"
    assert runner.invoke(main, ["schema", "runbook", "--out", str(one)]).exit_code == 0
    assert [path.name for path in one.iterdir()] == ["runbook.schema.json"]
    file = tmp_path / "a-file"
    file.write_text("x", encoding="utf-8")
    for args in (["schema", "--out", str(file)], ["schema", "--force"], ["schema", "nope", "--out", str(one)]):
        result = runner.invoke(main, args)
        assert result.exit_code == 2 and isinstance(result.exception, SystemExit), args
    (tmp_path / "dir" / "log.schema.json").mkdir(parents=True)  # a folder where a schema goes is never replaced
    result = runner.invoke(main, ["schema", "--out", str(tmp_path / "dir"), "--force"])
    assert result.exit_code == 1 and "is a folder" in result.output
    assert (tmp_path / "dir" / "log.schema.json").is_dir()


def test_the_scaffold_header_names_the_repository_copy_written_by_schema_out(
        make_handbook: Callable[..., Path]) -> None:
    runner = CliRunner()
    root = make_handbook({}, site_url=SITE_URL)
    assert runner.invoke(main, ["schema", "--out", str(root / "schemas")]).exit_code == 0
    assert runner.invoke(main, ["new", "runbook", "disk-full", "--dir", str(root)]).exit_code == 0
    runbook = root / "runbooks" / "disk-full.yaml"
    header = _header(runbook)
    assert header == "../schemas/runbook.schema.json"  # the local copy first: offline, this opsbook's version
    target = (runbook.parent / header).resolve()
    assert target.is_file() and target == (root / "schemas" / "runbook.schema.json").resolve()
    check = runner.invoke(main, ["check", "--format", "json", str(root)])
    # Valid, and the scaffold's placeholders reported (warnings) until they are replaced.
    assert check.exit_code == 0 and {d["code"] for d in json.loads(check.output)} <= {"OB070"}


def test_without_schemas_or_site_url_the_scaffold_has_no_header_that_cannot_resolve(
        make_handbook: Callable[..., Path]) -> None:
    runner = CliRunner()
    root = make_handbook({})
    result = runner.invoke(main, ["new", "runbook", "disk-full", "--dir", str(root)])
    assert result.exit_code == 0 and "opsbook schema --out schemas" in result.output
    runbook = root / "runbooks" / "disk-full.yaml"
    assert _header(runbook) is None and "yaml-language-server" not in runbook.read_text(encoding="utf-8")
    assert runbook.read_text(encoding="utf-8").startswith("title: ")
    check = runner.invoke(main, ["check", "--format", "json", str(root)])
    # Valid, and the scaffold's placeholders reported (warnings) until they are replaced.
    assert check.exit_code == 0 and {d["code"] for d in json.loads(check.output)} <= {"OB070"}
