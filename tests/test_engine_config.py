"""The configuration is found and read as the engines read it (`opsbook.engine_config`), held to the
engines themselves: for each layout below (mkdocs.yml alone, properdocs.yml alone, both, `INHERIT:` one
and two files deep with the plugin entry, `site_url` and `docs_dir` in the parent or the child, lists and
mappings in both, `!ENV`), what `opsbook check` reads (`docs_dir`, `site_url`, `repo_url`, `edit_uri` and
every option of the opsbook entry) is what `mkdocs.config.load_config` gives the plugin, in this process,
and what ProperDocs' `load_config` gives it, in an interpreter of its own (it redirects every `mkdocs`
import to itself); then the diagnostics of a chain the engines refuse, each at its file, line and column."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from opsbook.cli import main
from opsbook.config import OPTIONS, Config, find_root
from opsbook.engine_config import MAX_INHERIT
from opsbook.pipeline import load_config
from opsbook.registry import KINDS

MATERIAL = "theme:\n  name: material\n"

#: name → (files, environment). Folders named by `docs_dir` are made empty.
LAYOUTS: dict[str, tuple[dict[str, str], dict[str, str]]] = {
    "mkdocs.yml alone": ({
        "mkdocs.yml": "site_name: A\nsite_url: https://example.com/a\nrepo_url: https://github.com/acme/ops\n"
                      + MATERIAL + "plugins:\n  - search\n  - opsbook:\n      fail_on: warning\n"
                      "      paging_severities: [sev1]\n",
    }, {}),
    "mkdocs.yaml alone": ({
        "mkdocs.yaml": "site_name: A\nedit_uri: blob/trunk/docs\nrepo_url: https://bitbucket.org/acme/ops\n"
                       + MATERIAL + "plugins: [search, opsbook]\n",
    }, {}),
    "properdocs.yml alone": ({
        "properdocs.yml": "site_name: B\ndocs_dir: handbook\nrepo_url: https://gitlab.com/acme/ops\n"
                          "edit_uri: -/edit/main/handbook\n" + MATERIAL
                          + "plugins:\n  search: {}\n  opsbook:\n    sources:\n      runbook: [ops/runbooks]\n",
    }, {}),
    "properdocs.yml inheriting mkdocs.yml": ({
        "mkdocs.yml": "site_name: C\nsite_url: https://example.com/c/\n" + MATERIAL
                      + "plugins:\n  - search\n  - opsbook:\n      shellcheck: false\n",
        "properdocs.yml": "INHERIT: mkdocs.yml\ntheme:\n  features: [content.code.copy]\n",
    }, {}),
    "properdocs.yml and mkdocs.yml that differ": ({
        "mkdocs.yml": "site_name: D\nsite_url: https://mkdocs.example.com/\n" + MATERIAL
                      + "plugins:\n  - search\n  - opsbook:\n      fail_on: error\n",
        "properdocs.yml": "site_name: D\nsite_url: https://properdocs.example.com/\n" + MATERIAL
                          + "plugins:\n  - search\n  - opsbook:\n      fail_on: warning\n",
    }, {}),
    "properdocs.yaml and mkdocs.yml that differ": ({
        "mkdocs.yml": "site_name: D\ndocs_dir: docs\n" + MATERIAL + "plugins: [search, opsbook]\n",
        "properdocs.yaml": "site_name: D\ndocs_dir: pd-docs\n" + MATERIAL + "plugins: [search, opsbook]\n",
    }, {}),
    "INHERIT: the parent holds everything": ({
        "mkdocs.yml": "INHERIT: config/base.yml\nsite_name: E\n",
        "config/base.yml": "site_url: https://example.com/e\ndocs_dir: pages\nrepo_url: https://github.com/a/b\n"
                           + MATERIAL + "plugins:\n  - search\n  - opsbook:\n      results: out/results.json\n"
                           "      require_freshness: [runbook]\n",
    }, {}),
    "INHERIT: mappings merged, lists replaced": ({
        "mkdocs.yml": "INHERIT: base.yml\ndocs_dir: written\nplugins:\n  opsbook:\n    sources:\n"
                      "      team: [people]\n    paging_severities: [p1]\n",
        "base.yml": "site_name: F\nsite_url: https://example.com/f/\n" + MATERIAL
                    + "plugins:\n  search: {}\n  opsbook:\n    fail_on: warning\n    sources:\n"
                    "      runbook: [rb]\n    paging_severities: [a, b]\n    pages: {runbook: handbook/rb}\n",
    }, {}),
    "INHERIT: two files deep": ({
        "mkdocs.yml": "INHERIT: mid/mid.yml\nedit_uri: edit/trunk/site-docs/\n",
        "mid/mid.yml": "INHERIT: ../base/base.yml\nsite_name: G\n"
                       "plugins:\n  - search\n  - opsbook:\n      drill_window: 30d\n      allow_env: [HOME]\n",
        "base/base.yml": "site_url: https://example.com/g\nrepo_url: https://github.com/acme/g\n"
                         "docs_dir: site-docs\n" + MATERIAL
                         + "plugins:\n  - search\n  - opsbook:\n      fail_on: warning\n      max_depth: 10\n",
    }, {}),
    "INHERIT: lists in both, the child's bare entry wins": ({
        "mkdocs.yml": "INHERIT: base.yml\nplugins:\n  - search\n  - opsbook\n",
        "base.yml": "site_name: H\n" + MATERIAL
                    + "plugins:\n  - search\n  - opsbook:\n      fail_on: warning\n      allow_env: [A]\n",
    }, {}),
    "!ENV in settings, options and INHERIT": ({
        "mkdocs.yml": "INHERIT: !ENV [OPSBOOK_TEST_PARENT, base.yml]\n"
                      "site_url: !ENV [OPSBOOK_TEST_SITE_URL, 'https://fallback.example.com/']\n"
                      "docs_dir: !ENV [OPSBOOK_TEST_UNSET, docs]\n"
                      "plugins:\n  - search\n  - opsbook:\n      fail_on: !ENV OPSBOOK_TEST_FAIL_ON\n"
                      "      max_depth: !ENV [OPSBOOK_TEST_UNSET, OPSBOOK_TEST_DEPTH, 10]\n"
                      "      shellcheck: !ENV [OPSBOOK_TEST_SHELLCHECK, true]\n"
                      "      today: !ENV OPSBOOK_TEST_TODAY\n"
                      "      mermaid_js: !ENV [OPSBOOK_TEST_UNSET, null]\n",
        "other-base.yml": "site_name: I\n" + MATERIAL,
    }, {"OPSBOOK_TEST_PARENT": "other-base.yml", "OPSBOOK_TEST_SITE_URL": "https://env.example.com/i",
        "OPSBOOK_TEST_FAIL_ON": "warning", "OPSBOOK_TEST_DEPTH": "42", "OPSBOOK_TEST_SHELLCHECK": "false",
        "OPSBOOK_TEST_TODAY": "2026-11-02"}),
}


def _write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")
    for folder in ("docs", "handbook", "pages", "written", "site-docs", "pd-docs"):
        (root / folder).mkdir(exist_ok=True)
    return root


@pytest.fixture(scope="module")
def layouts(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("engine-layouts")
    return {name: _write(base / f"layout-{index}", files)
            for index, (name, (files, _)) in enumerate(LAYOUTS.items())}


def _view(root: Path, *, docs_dir: str, site_url: str | None, repo_url: str | None, edit_uri: str | None,
          options: dict[str, Any]) -> dict[str, Any]:
    """What a build runs with, as the plugin takes it from an engine's configuration (`on_config`): the
    options that are set, validated into a `Config`, its `site_url` else the engine's, and the settings."""
    config, problems = Config.from_mapping({k: v for k, v in options.items() if v is not None}, root, KINDS)
    assert problems == []
    view = {option.name: getattr(config, option.name) for option in OPTIONS}
    view["site_url"] = config.site_url or site_url
    view.update(docs_dir=Path(docs_dir).resolve(), repo_url=repo_url, edit_uri=edit_uri)
    return view


def _opsbook_view(root: Path) -> tuple[dict[str, Any], list[Any]]:
    config, problems = load_config(root)
    view = {option.name: getattr(config, option.name) for option in OPTIONS}
    view.update(docs_dir=(root / config.docs_dir).resolve(), repo_url=config.repo_url, edit_uri=config.edit_uri)
    return view, problems


def _mkdocs_view(root: Path) -> dict[str, Any]:
    from mkdocs.config import load_config as mkdocs_load_config

    config = mkdocs_load_config(None)  # as `mkdocs build` does: mkdocs.yml, else mkdocs.yaml, in the cwd
    return _view(root, docs_dir=config.docs_dir, site_url=config.site_url, repo_url=config.repo_url,
                 edit_uri=config.edit_uri, options=dict(config.plugins["opsbook"].config))


PROPERDOCS_SCRIPT = textwrap.dedent('''
    import json, os, sys
    import properdocs.replacement  # as the properdocs command does: every mkdocs.* import is properdocs.*
    from properdocs.config import load_config

    found = {}
    for name, (folder, env) in json.loads(sys.stdin.read()).items():
        saved = dict(os.environ)
        os.environ.update(env)
        os.chdir(folder)
        try:
            config = load_config(None)  # as `properdocs build` does
            found[name] = {"file": os.path.basename(config.config_file_path), "docs_dir": config.docs_dir,
                           "site_url": config.site_url, "repo_url": config.repo_url, "edit_uri": config.edit_uri,
                           "options": dict(config.plugins["opsbook"].config)}
        except BaseException as error:
            found[name] = {"error": repr(error)}
        finally:
            os.environ.clear()
            os.environ.update(saved)
    print(json.dumps(found, default=str))
''')


def _properdocs_python() -> str | None:
    """An interpreter with ProperDocs and opsbook: this one when ProperDocs is installed here (the test extra
    brings it), else OPSBOOK_TEST_PROPERDOCS_PYTHON."""
    if importlib.util.find_spec("properdocs") is not None:
        return sys.executable
    return os.environ.get("OPSBOOK_TEST_PROPERDOCS_PYTHON") or None


@pytest.fixture(scope="module")
def properdocs_read(layouts: dict[str, Path]) -> dict[str, Any]:
    python = _properdocs_python()
    if python is None:
        pytest.skip("ProperDocs is not installed here (pip install -e '.[test]' brings it) and "
                    "OPSBOOK_TEST_PROPERDOCS_PYTHON names no interpreter that has it")
    given = {name: [str(layouts[name]), env] for name, (_, env) in LAYOUTS.items()}
    env = {**os.environ, "DISABLE_MKDOCS_2_WARNING": "true"}
    result = subprocess.run([python, "-c", PROPERDOCS_SCRIPT], input=json.dumps(given), env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    found: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return found


def _both_files(name: str) -> bool:
    files = LAYOUTS[name][0]
    return any(f.startswith("properdocs.") for f in files) and any(f.startswith("mkdocs.") for f in files)


@pytest.mark.parametrize("name", [name for name in LAYOUTS if any(f.startswith("mkdocs.") for f in LAYOUTS[name][0])])
def test_opsbook_reads_what_mkdocs_reads(name: str, layouts: dict[str, Path], monkeypatch: pytest.MonkeyPatch
                                         ) -> None:
    root = layouts[name]
    for variable, value in LAYOUTS[name][1].items():
        monkeypatch.setenv(variable, value)
    monkeypatch.chdir(root)
    ours, problems = _opsbook_view(root)
    theirs = _mkdocs_view(root)
    if not _both_files(name):
        assert problems == []
        assert ours == theirs
        return
    # Both files: opsbook reads ProperDocs' (the test below holds it to ProperDocs); MkDocs reads mkdocs.yml,
    # and a warning says so exactly when the two would configure the build otherwise.
    differ = sorted(key for key in ours if ours[key] != theirs[key])
    if differ:
        assert [(p.code, str(p.severity), p.path) for p in problems] == [("OB090", "warning", "mkdocs.yml")]
        assert all(key in problems[0].message for key in differ), (differ, problems[0].message)
    else:
        assert problems == []


@pytest.mark.parametrize("name", list(LAYOUTS))
def test_opsbook_reads_what_properdocs_reads(name: str, layouts: dict[str, Path], properdocs_read: dict[str, Any],
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    root = layouts[name]
    for variable, value in LAYOUTS[name][1].items():
        monkeypatch.setenv(variable, value)
    read = properdocs_read[name]
    assert "error" not in read, read
    theirs = _view(root, docs_dir=read["docs_dir"], site_url=read["site_url"], repo_url=read["repo_url"],
                   edit_uri=read["edit_uri"], options=read["options"])
    ours, problems = _opsbook_view(root)
    assert ours == theirs
    assert [p for p in problems if str(p.severity) == "error"] == []
    # The file ProperDocs chose is the one opsbook finds first.
    assert read["file"] == next(f for f in ("properdocs.yml", "properdocs.yaml", "mkdocs.yml", "mkdocs.yaml")
                                if (root / f).is_file())


def test_the_layouts_differ_where_they_should(layouts: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    """The layouts exercise what they claim to: values from a parent, merged and replaced."""
    views = {name: _opsbook_view(root)[0] for name, root in layouts.items() if not LAYOUTS[name][1]}
    inherited = views["INHERIT: the parent holds everything"]
    assert inherited["site_url"] == "https://example.com/e/" and inherited["docs_dir"].name == "pages"
    assert inherited["edit_uri"] == "edit/master/docs/" and inherited["require_freshness"] == ["runbook"]
    merged = views["INHERIT: mappings merged, lists replaced"]
    assert merged["sources"] == {"runbook": ["rb"], "team": ["people"]} and merged["paging_severities"] == ["p1"]
    assert merged["fail_on"] == "warning" and merged["docs_dir"].name == "written"
    deep = views["INHERIT: two files deep"]
    assert deep["drill_window"] == "30d" and deep["fail_on"] == "error" and deep["max_depth"] == 100
    assert deep["docs_dir"] == (layouts["INHERIT: two files deep"] / "site-docs").resolve()
    assert views["INHERIT: lists in both, the child's bare entry wins"]["allow_env"] == []
    for variable, value in LAYOUTS["!ENV in settings, options and INHERIT"][1].items():
        monkeypatch.setenv(variable, value)
    env = _opsbook_view(layouts["!ENV in settings, options and INHERIT"])[0]
    assert (env["site_url"], env["fail_on"], env["max_depth"], env["shellcheck"], env["today"]) == \
        ("https://env.example.com/i/", "warning", 42, False, "2026-11-02")


# Chains the engines refuse: a diagnostic at the place, never a traceback.

def _problems(root: Path, files: dict[str, str]) -> list[tuple[str, int, int, str, str]]:
    _write(root, files)
    _, problems = load_config(root)
    return [(p.path, p.line, p.column, p.code, p.message) for p in problems]


def test_a_missing_parent_is_reported_at_the_inherit_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    found = _problems(tmp_path, {"mkdocs.yml": "site_name: x\nINHERIT: base/missing.yml\n"})
    assert [(path, line, column, code) for path, line, column, code, _ in found] == [("mkdocs.yml", 2, 10, "OB090")]
    assert "base/missing.yml" in found[0][4]
    from mkdocs.exceptions import ConfigurationError  # and MkDocs refuses it too
    monkeypatch.chdir(tmp_path)
    from mkdocs.config import load_config as mkdocs_load_config
    with pytest.raises(ConfigurationError, match="does not exist"):
        mkdocs_load_config(None)


def test_a_parent_is_found_from_its_child_s_folder(tmp_path: Path) -> None:
    found = _problems(tmp_path, {"mkdocs.yml": "INHERIT: a/child.yml\n", "a/child.yml": "INHERIT: base.yml\n",
                                 "base.yml": "site_name: x\n"})
    assert [(p, line, c) for p, line, c, *_ in found] == [("a/child.yml", 1, 10)]
    assert "(looked for a/base.yml)" in found[0][4]


def test_an_option_from_a_parent_is_reported_in_the_parent(tmp_path: Path) -> None:
    found = _problems(tmp_path, {
        "mkdocs.yml": "INHERIT: ../shared/base.yml\nsite_name: x\n",
        "../shared/base.yml": "plugins:\n  - search\n  - opsbook:\n      fail_on: sometimes\n",
    })
    assert [(p, line, c, code) for p, line, c, code, _ in found] == [("../shared/base.yml", 4, 7, "OB090")]


def test_a_loop_is_refused_within_bounds(tmp_path: Path) -> None:
    found = _problems(tmp_path, {"mkdocs.yml": "INHERIT: a.yml\n", "a.yml": "INHERIT: b.yml\n",
                                 "b.yml": "INHERIT: ./a.yml\n"})
    assert [(p, line, c) for p, line, c, *_ in found] == [("b.yml", 1, 10)]
    assert "mkdocs.yml → a.yml → b.yml → a.yml" in found[0][4]


def test_a_chain_is_followed_so_far_and_no_further(tmp_path: Path) -> None:
    files = {"mkdocs.yml": "INHERIT: p1.yml\n"}
    files |= {f"p{n}.yml": f"INHERIT: p{n + 1}.yml\n" for n in range(1, MAX_INHERIT - 1)}
    files[f"p{MAX_INHERIT - 1}.yml"] = "site_name: deep\nplugins: {opsbook: {fail_on: warning}}\n"
    assert _problems(tmp_path / "fits", files) == []
    assert load_config(tmp_path / "fits")[0].fail_on == "warning"
    files[f"p{MAX_INHERIT - 1}.yml"] = f"INHERIT: p{MAX_INHERIT}.yml\n"
    files[f"p{MAX_INHERIT}.yml"] = "site_name: too deep\n"
    found = _problems(tmp_path / "over", files)
    assert [(p, code) for p, _, _, code, _ in found] == [(f"p{MAX_INHERIT - 1}.yml", "OB090")]


@pytest.mark.parametrize(("files", "where", "words", "mkdocs_raises"), [
    ({"mkdocs.yml": "INHERIT: 5\n"}, ("mkdocs.yml", 1, 10), "must name a file", "TypeError"),
    ({"mkdocs.yml": "INHERIT: base.yml\n", "base.yml": "- a\n- b\n"}, ("base.yml", 1, 1), "mapping",
     "ConfigurationError"),
    ({"mkdocs.yml": "site_url: !ENV {a: b}\n"}, ("mkdocs.yml", 1, 11), "!ENV", "ConfigurationError"),
    ({"mkdocs.yml": "site_name: x\nplugins:\n  - opsbook:\n      results: !relative $config_dir/r.json\n"},
     ("mkdocs.yml", 4, 7), "!relative", "Abort"),
    ({"mkdocs.yml": "site_name: x\ndocs_dir: !relative $config_dir/docs\n"}, ("mkdocs.yml", 2, 1), "!relative",
     "Abort"),
    ({"mkdocs.yml": "site_name: x\nsite_url: example.com/x\n"}, ("mkdocs.yml", 2, 1), "not a URL", "Abort"),
    ({"mkdocs.yml": "site_name: x\ndocs_dir: [a]\n"}, ("mkdocs.yml", 2, 1), "must be text", "Abort"),
])
def test_what_the_engine_refuses_is_an_error_at_its_place(tmp_path: Path, files: dict[str, str],
                                                          where: tuple[str, int, int], words: str,
                                                          mkdocs_raises: str, monkeypatch: pytest.MonkeyPatch) -> None:
    found = _problems(tmp_path, files)
    assert [(p, line, c) for p, line, c, *_ in found] == [where], found
    assert words in found[0][4] and found[0][3] == "OB090"
    # MkDocs refuses each of them as well (a configuration error, or a crash of its own: `INHERIT: 5`).
    from mkdocs.config import load_config as mkdocs_load_config
    monkeypatch.chdir(tmp_path)
    with pytest.raises(Exception) as refused:  # its type is checked just below
        mkdocs_load_config(None)
    assert type(refused.value).__name__ == mkdocs_raises


def test_the_root_is_found_by_properdocs_yml(tmp_path: Path) -> None:
    (tmp_path / "properdocs.yml").write_text("site_name: x\n", encoding="utf-8")
    (tmp_path / "runbooks").mkdir()
    assert find_root(tmp_path / "runbooks") == tmp_path.resolve()


def test_check_reports_an_inherited_mistake_with_its_source_line(tmp_path: Path) -> None:
    _write(tmp_path, {"properdocs.yml": "INHERIT: base.yml\nsite_name: x\n",
                      "base.yml": "plugins:\n  opsbook:\n    fail_on: sometimes\n"})
    result = CliRunner().invoke(main, ["check", str(tmp_path)])
    assert result.exit_code == 1
    assert "base.yml:3:5: error OB090 fail_on must be 'error' or 'warning'" in result.output
    assert "    fail_on: sometimes" in result.output
