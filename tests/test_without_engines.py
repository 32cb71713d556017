"""The core runs with no site engine: in a fresh interpreter where importing MkDocs, ProperDocs, PyMdown
Extensions or Material fails (a `sys.meta_path` finder refuses them before any other finder is asked, as
if they were not installed), every module of opsbook but the MkDocs plugin imports, and the commands
(check, build --out, test, route, schema, new, metrics, lint) run on a fixture handbook. The finder also
records every attempt, so a module that tries an engine inside `try:` is caught too."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
FIXTURE = TESTS / "fixtures" / "minimal"
BLOCKED = ("mkdocs", "properdocs", "pymdownx", "material")

SCRIPT = textwrap.dedent('''
    import importlib, importlib.abc, json, pkgutil, sys
    from pathlib import Path

    BLOCKED = set(sys.argv[1].split(","))
    attempts = []

    class NoEngines(importlib.abc.MetaPathFinder):
        def find_spec(self, fullname, path, target=None):
            if fullname.split(".")[0] in BLOCKED:
                attempts.append(fullname)
                raise ModuleNotFoundError(f"No module named {fullname!r} (refused by the test)", name=fullname)
            return None

    sys.meta_path.insert(0, NoEngines())

    import opsbook
    from click.testing import CliRunner
    from opsbook.cli import main

    modules = sorted(info.name for info in pkgutil.walk_packages(opsbook.__path__, "opsbook."))
    for name in modules:
        if name not in ("opsbook.mkdocs_plugin", "opsbook.__main__"):  # __main__ runs the command
            importlib.import_module(name)

    handbook, scratch = Path(sys.argv[2]), Path(sys.argv[3])
    (scratch / "alertmanager.yml").write_text(
        "route: {receiver: web}\\nreceivers: [{name: web}]\\n", encoding="utf-8")
    commands = {
        "check": ["check", str(handbook)],
        "build --out": ["build", str(handbook), "--out", str(scratch / "out")],
        "test": ["test", "--dir", str(handbook), "--results", str(scratch / "results.json")],
        "route": ["route", "--dir", str(handbook), "--config", str(scratch / "alertmanager.yml"), "alertname=Down"],
        "schema": ["schema", "runbook"],
        "new runbook": ["new", "runbook", "disk-full", "--dir", str(handbook)],
        "metrics": ["metrics", str(handbook)],
        "lint": ["lint", str(handbook), "--skip-if-missing"],
    }
    runs = {}
    for what, args in commands.items():
        result = CliRunner().invoke(main, args)
        error = None if result.exception is None or isinstance(result.exception, SystemExit) else repr(result.exception)
        runs[what] = {"status": result.exit_code, "output": result.output[-200_000:], "error": error}

    try:
        importlib.import_module("opsbook.mkdocs_plugin")
        plugin = "imported"
    except ModuleNotFoundError as refused:
        plugin = refused.name
    engines = sorted(name for name in sys.modules if name.split(".")[0] in BLOCKED)
    print(json.dumps({"modules": modules, "runs": runs, "plugin": plugin, "engines": engines,
                      "attempts": attempts}))
''')


@pytest.fixture(scope="module")
def without_engines(tmp_path_factory: pytest.TempPathFactory) -> dict:
    base = tmp_path_factory.mktemp("without-engines")
    handbook, scratch = base / "handbook", base / "scratch"
    shutil.copytree(FIXTURE, handbook)
    scratch.mkdir()
    env = {key: value for key, value in os.environ.items() if key not in {"PYTHONPATH", "GITHUB_ACTIONS"}}
    result = subprocess.run([sys.executable, "-c", SCRIPT, ",".join(BLOCKED), str(handbook), str(scratch)],
                            cwd=base, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    report: dict = json.loads(result.stdout.strip().splitlines()[-1])
    report["handbook"], report["scratch"] = str(handbook), str(scratch)
    return report


def test_the_engines_were_really_refused(without_engines: dict) -> None:
    # The plugin module needs MkDocs: importing it must fail on the first engine it imports.
    assert without_engines["plugin"] in {"mkdocs", "mkdocs.config"}
    assert without_engines["engines"] == []


def test_every_module_but_the_plugin_imports_and_none_tries_an_engine(without_engines: dict) -> None:
    modules = without_engines["modules"]
    assert "opsbook.cli" in modules and "opsbook.config" in modules and "opsbook.mkdocs_plugin" in modules
    # Only the one deliberate import of the plugin module, at the end, asked for an engine.
    assert without_engines["attempts"] == ["mkdocs"]


@pytest.mark.parametrize("command", ["check", "build --out", "test", "route", "schema", "new runbook", "metrics",
                                     "lint"])
def test_each_command_runs(without_engines: dict, command: str) -> None:
    run = without_engines["runs"][command]
    assert run["error"] is None, run
    assert run["status"] == 0, run


def test_the_commands_did_their_work(without_engines: dict) -> None:
    runs, scratch, handbook = without_engines["runs"], Path(without_engines["scratch"]), \
        Path(without_engines["handbook"])
    assert "0 errors" in runs["check"]["output"]
    written = [path.relative_to(scratch / "out").as_posix() for path in (scratch / "out").rglob("*.md")]
    assert any(path.endswith("runbooks/web-restart.md") for path in written), written
    assert json.loads((scratch / "results.json").read_text(encoding="utf-8"))
    assert runs["route"]["output"].strip() == "web"
    assert json.loads(runs["schema"]["output"])["$schema"].startswith("https://json-schema.org/")
    assert (handbook / "runbooks" / "disk-full.yaml").is_file()
    assert "opsbook_" in runs["metrics"]["output"]
