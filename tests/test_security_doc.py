"""docs/SECURITY.md is kept true by tests: every guarantee it states names the tests that exercise it
(`tests/FILE.py::TEST`, written as inline code so that the site builds under --strict), and this module
holds the page to that: every test named exists, every section of guarantees names at least one, every
check code it names is catalogued. The few claims no other test exercised are tested here."""

from __future__ import annotations

import ast
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

import opsbook
from opsbook import analyse
from opsbook.kinds.runbooks.records import Runbook
from opsbook.kinds.runbooks.runner import RunOptions, run_runbook

REPO = Path(__file__).resolve().parents[1]
PAGE = REPO / "docs" / "SECURITY.md"
WORKFLOWS = REPO / ".github" / "workflows"

#: `tests/test_x.py::test_name`, or `tests/test_x.py::test_name[param-id]` for one case of a parametrized test.
REFERENCE = re.compile(r"`(tests/[\w/]+\.py)::(test_\w+)(?:\[[^\]`]*\])?`")
THREATS = "## Threats, and what opsbook does about each"
CI_SECTION = "## CI on outsiders' pull requests"


def _text() -> str:
    return PAGE.read_text(encoding="utf-8")


def _without_code_blocks(text: str) -> str:
    return re.sub(r"^```.*?^```", "", text, flags=re.S | re.M)


def _chapter(text: str, heading: str) -> str:
    """The text under a `## ` heading, its `### ` sections included, up to the next `## `."""
    lines = _without_code_blocks(text).splitlines()
    start = lines.index(heading)
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines))
    return "\n".join(lines[start:end])


def _sections(chapter: str) -> dict[str, str]:
    """`### ` heading → its text, in one chapter."""
    parts = re.split(r"^(### .*)$", chapter, flags=re.M)
    return {parts[i].strip(): parts[i + 1] for i in range(1, len(parts), 2)}


def _references(text: str) -> list[tuple[str, str]]:
    return [(m.group(1), m.group(2)) for m in REFERENCE.finditer(text)]


def _defined_tests(file: Path) -> set[str]:
    tree = ast.parse(file.read_text(encoding="utf-8"))
    return {node.name for node in ast.walk(tree)
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name.startswith("test_")}


def test_the_page_keeps_its_front_matter_and_structure() -> None:
    text = _text()
    front = yaml.safe_load(text.split("---\n", 2)[1])
    assert front["owner"] and front["review_every"] and front["last_reviewed"]
    headings = [line for line in _without_code_blocks(text).splitlines() if line.startswith("## ")]
    assert headings == ["## Threat model", CI_SECTION, "## Assets", THREATS, "## Recommendations for operators",
                        "## Known gaps in the code"], headings


def test_every_test_the_page_names_exists() -> None:
    references = _references(_text())
    assert len(references) > 50, references
    missing = []
    cache: dict[str, set[str]] = {}
    for path, name in references:
        file = REPO / path
        if not file.is_file():
            missing.append(f"{path} (no such file)")
            continue
        if name not in cache.setdefault(path, _defined_tests(file)):
            missing.append(f"{path}::{name}")
    assert not missing, missing


def test_no_test_is_named_outside_inline_code() -> None:
    """A reference the check above cannot see (a link, a typo in the form) would be an unchecked claim."""
    text = _without_code_blocks(_text())
    loose = [m.group(0) for m in re.finditer(r"tests/[\w/]+\.py::test_\w+", text)]
    assert len(loose) == len(_references(text)), loose


def test_every_section_of_guarantees_names_a_test() -> None:
    text = _text()
    sections = _sections(_chapter(text, THREATS))
    assert len(sections) >= 10, list(sections)
    ci = _chapter(text, CI_SECTION)
    sections[CI_SECTION] = ci
    sections.update(_sections(ci))
    untested = [heading for heading, body in sections.items() if not _references(body)]
    assert not untested, untested


def test_every_code_the_page_names_is_catalogued() -> None:
    codes = set(re.findall(r"\bOB\d{3}\b", _text()))
    assert codes, "the page names no check code"
    assert codes <= set(opsbook.CODES), sorted(codes - set(opsbook.CODES))


def _workflows() -> dict[str, dict[str, Any]]:
    found = {}
    for file in sorted(WORKFLOWS.glob("*.y*ml")):
        data = yaml.safe_load(file.read_text(encoding="utf-8"))
        data["on"] = data.get("on", data.pop(True, None))  # YAML 1.1 reads the key `on` as true
        found[file.name] = data
    assert found
    return found


def _events(workflow: dict[str, Any]) -> set[str]:
    on = workflow["on"]
    return {on} if isinstance(on, str) else set(on)


def _grants_write(permissions: object) -> bool:
    if isinstance(permissions, str):
        return permissions != "read-all"
    return isinstance(permissions, dict) and any(value == "write" for value in permissions.values())


def test_workflows_on_pull_requests_read_only_on_github_hosted_runners() -> None:
    """The page: every workflow gives its token `contents: read`, and what runs on a pull request runs on
    GitHub-hosted runners (discarded after the job), no job asking for more."""
    workflows = _workflows()
    for name, workflow in workflows.items():
        assert workflow.get("permissions") == {"contents": "read"}, name
        for key, job in workflow["jobs"].items():
            assert not _grants_write(job.get("permissions")), (name, key)
    on_pull_requests = {name: w for name, w in workflows.items() if "pull_request" in _events(w)}
    assert set(on_pull_requests) == {"pr-validation.yml", "security-scan.yml"}, sorted(on_pull_requests)
    for name, workflow in on_pull_requests.items():
        for key, job in workflow["jobs"].items():
            runs_on = job["runs-on"]
            assert isinstance(runs_on, str) and runs_on.startswith("ubuntu-"), (name, key, runs_on)
            assert job.get("environment") in (None, "dev"), (name, key)


def test_deploy_workflows_never_run_on_pull_requests() -> None:
    """A job on a self-hosted runner or in an environment other than `dev` runs only in a workflow that no
    pull request starts."""
    for name, workflow in _workflows().items():
        privileged = [key for key, job in workflow["jobs"].items()
                      if "self-hosted" in (job["runs-on"] if isinstance(job["runs-on"], list) else [job["runs-on"]])
                      or job.get("environment") not in (None, "dev")]
        if privileged:
            assert not _events(workflow) & {"pull_request", "pull_request_target", "workflow_run"}, (name, privileged)


def test_inputs_are_never_spliced_into_the_shell_text(make_handbook: Callable[..., Path], tmp_path: Path) -> None:
    """A runbook input reaches the step as an environment variable: shell syntax in its value stays text."""
    marker = tmp_path / "spliced"
    value = f"$(touch {marker}); `touch {marker}`"
    root = make_handbook({"runbooks/r.yaml": "title: R\ninputs: {TARGET: {default: x, ci: x}}\nsteps:\n"
                                             "  - {name: Echo, run: 'printf \"%s\\n\" \"$TARGET\"'}\n"})
    runbook = analyse(root).handbook.get("runbook", "r")
    assert isinstance(runbook, Runbook)
    result = run_runbook(runbook, RunOptions(root=root, inputs={"TARGET": value}))
    assert result.passed, result
    assert result.steps[0].stdout.strip() == value
    assert not marker.exists()


@pytest.mark.parametrize("guide", ["docs/guide/cli.md", "docs/guide/executable-runbooks.md",
                                   "docs/guide/configuration.md", "docs/SECURITY.md"])
def test_no_page_describes_the_old_process_group_runner(guide: str) -> None:
    """The runner ends what a step started below its launcher, not by its process group (except on macOS)."""
    text = (REPO / guide).read_text(encoding="utf-8")
    assert "in a process group of its own" not in text
    assert "whole process group is killed" not in text
