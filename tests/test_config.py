"""The configuration declared once: the table of options (`opsbook.config.OPTIONS`) against the three
things made from it, the `Config` dataclass (and the validation of `opsbook.yml`), the MkDocs plugin's
configuration class and the configuration reference, through real files and the public entry points."""

from __future__ import annotations

import ast
import dataclasses
import datetime
import html
import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

import opsbook
from opsbook.cli import main
from opsbook.config import OPTIONS, Config
from opsbook.mkdocs_plugin import OpsbookConfig

NAMES = [option.name for option in OPTIONS]
#: Fields of `Config` that are not options (set from MkDocs' own settings, or by the loader).
NOT_OPTIONS = {"root", "repo_url", "edit_uri", "docs_dir"}

#: A valid value, other than the default, of every option: a new option must get one here.
VALID: dict[str, Any] = {
    "sources": {"runbook": ["ops/runbooks"], "team": "ops/teams"},
    "pages": {"runbook": "handbook/runbooks", "checks": "reference/codes/"},
    "rule_dialects": {"ops/alerts": "thanos", "alerts/*.loki.yml": "loki"},
    "results": "out/results.json",
    "local_results": "hide",
    "today": "2026-11-20",
    "fail_on": "warning",
    "max_file_size": 1_000_000,
    "max_depth": 50,
    "max_nodes": 100_000,
    "paging_severities": ["sev1", "sev2"],
    "paging_integrations": ["pagerduty", "webhook"],
    "allow_env": ["HTTPS_PROXY"],
    "production_environments": ["live"],
    "production_severity": "warning",
    "min_backup_retention": "14d",
    "drill_window": "90d",
    "mermaid_js": "vendor/mermaid.min.js",
    "require_freshness": ["pages", "runbook"],
    "default_timeout": "30s",
    "shellcheck": False,
    "site_url": "https://handbook.example.com/ops/",
    "image_hosts": ["grafana.example.com"],
}
#: What `Config` keeps of a valid value, where it is not the value itself.
KEPT = {"sources": {"runbook": ["ops/runbooks"], "team": ["ops/teams"]}}


def _wrong(option: opsbook.config.Option) -> list[Any]:
    """Values of a type the option does not take: a number with a fraction for every option, a
    boolean for one that takes a number or text, and a list or a mapping for one that takes neither."""
    wrong: list[Any] = [3.5]
    if bool not in option.types:
        wrong.append(True)
    wrong.append({"a": 1} if list in option.types else ["a"])
    return wrong


WRONG = [(option.name, value) for option in OPTIONS for value in _wrong(option)]


def _opsbook_yml(root: Path, options: dict[str, Any]) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "opsbook.yml").write_text(yaml.safe_dump(options, sort_keys=False), encoding="utf-8")
    return root


def _mkdocs_yml(root: Path, options: dict[str, Any]) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    entry = textwrap.indent(yaml.safe_dump(options, sort_keys=False), " " * 6)
    (root / "mkdocs.yml").write_text("site_name: Config test\nplugins:\n  - search\n  - opsbook:\n" + entry,
                                     encoding="utf-8")
    (root / "docs").mkdir(exist_ok=True)
    (root / "docs" / "index.md").write_text("# Home\n", encoding="utf-8")
    return root


def _check(root: Path) -> list[dict[str, Any]]:
    result = CliRunner().invoke(main, ["check", "--format", "json", str(root)])
    problems: list[dict[str, Any]] = json.loads(result.output)
    assert result.exit_code == (1 if any(p["severity"] == "error" for p in problems) else 0), result.output
    return problems


def _reference_rows(markdown: str) -> dict[str, list[str]]:
    """The rows of the generated option table, by option name: [type, default, description]."""
    rows = {}
    for line in markdown.splitlines():
        found = re.match(r"^\| \*\*(.+?)\*\* \| (.*) \|$", line)
        if found:
            rows[html.unescape(found.group(1))] = [cell.strip() for cell in found.group(2).split(" | ")]
    return rows


# The three consumers list exactly the options of the table, in its order, with its defaults.

def test_the_table_names_each_option_once() -> None:
    assert len(set(NAMES)) == len(NAMES) and NAMES
    assert all(option.description and option.shown_type for option in OPTIONS)
    assert set(VALID) == set(NAMES), "every option needs a valid example in VALID"


def test_config_fields_are_the_options_with_their_defaults(tmp_path: Path) -> None:
    assert Config.options() == NAMES
    fields = [f.name for f in dataclasses.fields(Config)]
    assert [name for name in fields if name not in NOT_OPTIONS] == NAMES
    config = Config(root=tmp_path)
    for option in OPTIONS:
        assert getattr(config, option.name) == option.default, option.name
    # A list or a mapping default is never shared between two configurations.
    Config(root=tmp_path).paging_severities.append("x")
    assert Config(root=tmp_path).paging_severities == ["critical", "page"]


def test_an_empty_configuration_file_gives_the_defaults(tmp_path: Path) -> None:
    _opsbook_yml(tmp_path, {})
    config, problems = opsbook.load_config(tmp_path)
    assert problems == []
    assert {name: getattr(config, name) for name in NAMES} == {o.name: o.default for o in OPTIONS}


def test_type_checkers_see_every_option() -> None:
    """`Config` declares the options' static types for type checkers, under TYPE_CHECKING: the same names."""
    tree = ast.parse(Path(opsbook.config.__file__).read_text(encoding="utf-8"))
    (config,) = [node for node in tree.body if isinstance(node, ast.ClassDef) and node.name == "Config"]
    (block,) = [node for node in config.body if isinstance(node, ast.If)]
    declared = [node.target.id for node in block.body
                if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name)]
    assert declared == NAMES


def test_mkdocs_config_is_the_options_with_their_defaults() -> None:
    assert [name for name, _ in OpsbookConfig._schema] == NAMES
    config = OpsbookConfig()
    config.load_dict({})
    errors, warnings = config.validate()
    assert errors == [] and warnings == []
    for option in OPTIONS:
        assert config[option.name] == option.default, option.name


def test_the_reference_lists_every_option_with_its_default(tmp_path: Path) -> None:
    root = _opsbook_yml(tmp_path / "handbook", {"today": "2026-11-26"})
    (root / "docs").mkdir()
    (root / "docs" / "configuration.md").write_text("# Configuration\n\n<!-- opsbook: configuration -->\n",
                                                    encoding="utf-8")
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["build", str(root), "--out", str(out)])
    assert result.exit_code == 0, result.output
    rows = _reference_rows((out / "docs" / "configuration.md").read_text(encoding="utf-8"))
    assert list(rows) == NAMES
    for option in OPTIONS:
        shown_type, default, description = rows[option.name]
        assert shown_type and description, option.name
        if option.shown_default is None:  # the default itself, as YAML: it reads back as the default
            assert default.startswith("`") and default.endswith("`"), option.name
            assert yaml.safe_load(default.strip("`")) == option.default, option.name
        else:
            assert default == option.shown_default
        if option.choices:
            assert all(f"`{choice}`" in shown_type for choice in option.choices)


def test_the_reference_section_is_listed() -> None:
    assert "configuration" in opsbook.registry.SECTIONS


# A wrong type is OB090 through either file; MkDocs refuses it too.

@pytest.mark.parametrize(("name", "value"), WRONG, ids=[f"{n}-{type(v).__name__}" for n, v in WRONG])
def test_a_wrong_type_is_ob090_in_opsbook_yml(tmp_path: Path, name: str, value: Any) -> None:
    root = _opsbook_yml(tmp_path, {name: value})
    problems = [p for p in _check(root) if p["code"] == "OB090"]
    assert [(p["path"], p["line"], p["column"], p["message"]) for p in problems] == [
        ("opsbook.yml", 1, 1, f"option '{name}' has the wrong type ({type(value).__name__})")]
    config, _ = opsbook.load_config(root)
    assert getattr(config, name) == Config(root=root).__dict__[name]  # the default is kept


@pytest.mark.parametrize(("name", "value"), WRONG, ids=[f"{n}-{type(v).__name__}" for n, v in WRONG])
def test_a_wrong_type_is_ob090_in_mkdocs_yml(tmp_path: Path, name: str, value: Any) -> None:
    root = _mkdocs_yml(tmp_path, {name: value})
    analysis = opsbook.analyse(root)
    problems = [d for d in analysis.diagnostics if d.code == "OB090"]
    assert [(d.path, d.line, d.column, d.message) for d in problems] == [
        ("mkdocs.yml", 5, 7, f"option '{name}' has the wrong type ({type(value).__name__})")]
    assert any(d.code == "OB090" for d in analysis.failures())


@pytest.mark.parametrize(("name", "value"), WRONG, ids=[f"{n}-{type(v).__name__}" for n, v in WRONG])
def test_a_wrong_type_is_refused_by_mkdocs_or_then_by_opsbook(name: str, value: Any) -> None:
    """MkDocs' validation refuses what it can see (an `int` option takes `True` there, as `isinstance`
    does); what passes it is refused by the core, which the plugin's `on_config` calls."""
    config = OpsbookConfig()
    config.load_dict({name: value})
    errors, _ = config.validate()
    if not errors:
        assert isinstance(value, bool)
        _, problems = Config.from_mapping({name: value}, Path("."), opsbook.KINDS)
        assert [p.message for p in problems] == [f"option '{name}' has the wrong type (bool)"]


# A valid value of every option is accepted, and kept.

def _kept(config: Config) -> dict[str, Any]:
    return {name: getattr(config, name) for name in NAMES}


def test_a_valid_value_of_each_option_in_opsbook_yml(tmp_path: Path) -> None:
    root = _opsbook_yml(tmp_path, VALID)
    config, problems = opsbook.load_config(root)
    assert problems == []
    assert _kept(config) == {**VALID, **KEPT}
    assert [p for p in _check(root) if p["code"] == "OB090"] == []


def test_a_valid_value_of_each_option_in_mkdocs_yml(tmp_path: Path) -> None:
    root = _mkdocs_yml(tmp_path, VALID)
    config, problems = opsbook.load_config(root)
    assert problems == []
    assert _kept(config) == {**VALID, **KEPT}
    assert not [d for d in opsbook.analyse(root).diagnostics if d.code == "OB090"]
    plugin = OpsbookConfig()
    plugin.load_dict(VALID)
    errors, warnings = plugin.validate()
    assert errors == [] and warnings == []


def test_an_unquoted_date_is_accepted_in_both_files(tmp_path: Path) -> None:
    for name, write in (("opsbook", _opsbook_yml), ("mkdocs", _mkdocs_yml)):
        root = write(tmp_path / name, {"today": datetime.date(2026, 11, 20)})
        assert "today: 2026-11-20\n" in next(root.glob("*.yml")).read_text(encoding="utf-8")
        config, problems = opsbook.load_config(root)
        assert problems == [] and config.today == "2026-11-20"


def test_mkdocs_builds_with_a_valid_value_of_each_option(tmp_path: Path) -> None:
    """The whole path through MkDocs: its validation of the plugin entry, then the plugin's `on_config`."""
    options = {**VALID, "sources": {"runbook": ["ops/runbooks"]}, "pages": {}, "today": "2026-11-26",
               "require_freshness": ["runbook"], "shellcheck": False}
    root = _mkdocs_yml(tmp_path / "handbook", options)
    (root / "vendor").mkdir()
    (root / "vendor" / "mermaid.min.js").write_text("/* mermaid */\n", encoding="utf-8")
    result = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict"], cwd=root, capture_output=True,
                            text=True, timeout=300, env={**os.environ, "NO_MKDOCS_2_WARNING": "1"})
    assert result.returncode == 0, result.stderr
    assert (root / "site" / "assets" / "javascripts" / "mermaid.min.js").is_file()
