"""CI/CD: the workflow corpus, the project's own pipelines, the checks OB401–OB412 and their pages."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from opsbook import analyse
from opsbook.kinds.cicd.workflows import Workflow, scripts_in

REPO = Path(__file__).parent.parent
CORPUS = REPO.parent / "shared" / "corpus" / "workflows"


def _corpus_files() -> list[Path]:
    return sorted(p for p in CORPUS.rglob("*.y*ml")) if CORPUS.is_dir() else []


def _direct_counts(file: Path) -> tuple[int, int]:
    data = yaml.safe_load(file.read_text(encoding="utf-8")) or {}
    on = data.get("on", data.get(True))  # PyYAML reads the key `on` as true
    triggers = 1 if isinstance(on, str) else len(on or [])
    return len(data.get("jobs") or {}), triggers


@pytest.mark.skipif(not CORPUS.is_dir(), reason="../shared/corpus/workflows is not here")
def test_corpus_counts_equal_a_direct_count(tmp_path: Path) -> None:
    files = _corpus_files()
    folder = tmp_path / ".github" / "workflows"
    folder.mkdir(parents=True)
    for file in files:
        shutil.copy(file, folder / f"{file.parent.name}-{file.name}")
    analysis = analyse(tmp_path)
    workflows = {Path(w.path).name: w for w in analysis.handbook.loaded["workflow"] if isinstance(w, Workflow)}
    assert len(workflows) == len(files)
    mismatches = []
    for file in files:
        workflow = workflows[f"{file.parent.name}-{file.name}"]
        ours = (len(workflow.jobs), len(workflow.triggers))
        if ours != _direct_counts(file):
            mismatches.append((file.name, ours, _direct_counts(file)))
    print(f"workflow corpus: {len(files)} files, {sum(len(w.jobs) for w in workflows.values())} jobs, "
          f"{len(mismatches)} count mismatches")
    assert mismatches == []
    assert not [d for d in analysis.diagnostics if d.code in ("OB001", "OB401")], "the corpus is valid"
    assert len(analysis.pages()) > len(files)  # every workflow gets its page, without a traceback


def test_the_projects_workflows_pass_opsbook_and_the_schema() -> None:
    analysis = analyse(REPO)
    mine = [d for d in analysis.diagnostics if d.path.startswith((".github/", "ops/environments/"))]
    assert mine == []
    files = sorted((REPO / ".github" / "workflows").glob("*.yml"))
    assert {f.name for f in files} >= {"pr-validation.yml", "deploy-staging.yml", "deploy-production.yml",
                                       "security-scan.yml"}
    oracle = subprocess.run([sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.github-workflows",
                             *map(str, files)], capture_output=True, text=True, timeout=120)
    assert oracle.returncode == 0, oracle.stdout + oracle.stderr


@pytest.mark.parametrize(("command", "expected"), [
    ("scripts/deploy.sh --target x site.tar.gz", ["scripts/deploy.sh"]),
    ("./tools/check.py && bash ci/build.sh", ["tools/check.py", "ci/build.sh"]),
    ("python3 -m pip install . && python tools/gen.py --out x", ["tools/gen.py"]),
    ("echo scripts/notrun.sh; cat README.md", []),
    ("VAR=1 scripts/a.sh | tee log", ["scripts/a.sh"]),
    ("run \\\n  :crates/**", []),
    ("$HOME/bin/x.sh; /usr/bin/y.sh; ${{ github.workspace }}/z.sh", []),
    (".venv/bin/pip install x", []),
])
def test_scripts_invoked(command: str, expected: list[str]) -> None:
    assert scripts_in(command) == expected


WORKFLOW = """\
name: Deploy
on:
  push: {branches: [main]}
  schedule: [{cron: "0 2 * * 1-5"}]
permissions: {contents: read}
jobs:
  test:
    runs-on: ubuntu-latest
    steps: [{run: scripts/test.sh}]
  deploy:
    needs: [test, tset]
    runs-on: ubuntu-latest
    environment: {name: production, url: https://example.com}
    steps:
      - run: scripts/deploy.sh
        env: {KEY: "${{ secrets.DEPLOY_KEY }}", OTHER: "${{ secrets.UNDECLARED }}"}
"""
PRODUCTION = ("url: https://example.com\napproval: required\nsecrets: [DEPLOY_KEY, FORGOTTEN]\n"
              "deployed_by: .github/workflows/deploy.yml\nrollback_runbook: rollback\n")
RUNBOOK = "title: Roll back\nsteps: [{name: Switch, run: scripts/rollback.sh}]\n"


def _found(root: Path) -> list[tuple[str, str, int, int]]:
    return [(d.code, d.path, d.line, d.column) for d in analyse(root).diagnostics if d.code != "OB042"]


def test_workflow_checks(make_handbook: Callable[..., Path]) -> None:
    root = make_handbook({".github/workflows/deploy.yml": WORKFLOW, "environments/production.yaml": PRODUCTION,
                          "runbooks/rollback.yaml": RUNBOOK, "scripts/deploy.sh": "#!/bin/sh\n",
                          "scripts/rollback.sh": "#!/bin/sh\n"})
    assert _found(root) == [
        ("OB404", ".github/workflows/deploy.yml", 9, 19),   # scripts/test.sh is missing
        ("OB402", ".github/workflows/deploy.yml", 11, 19),  # needs tset
        ("OB406", ".github/workflows/deploy.yml", 16, 61),  # secrets.UNDECLARED
        ("OB407", "environments/production.yaml", 3, 23),   # FORGOTTEN is never used
    ]


def test_cycles_permissions_and_pull_request_target(make_handbook: Callable[..., Path]) -> None:
    root = make_handbook({".github/workflows/w.yml": """\
on: pull_request_target
jobs:
  a: {runs-on: x, needs: b, steps: [{run: echo}]}
  b:
    runs-on: x
    needs: a
    steps:
      - uses: actions/checkout@v4
        with: {ref: "${{ github.event.pull_request.head.sha }}"}
"""})
    assert _found(root) == [("OB409", ".github/workflows/w.yml", 2, 1), ("OB403", ".github/workflows/w.yml", 3, 26),
                            ("OB410", ".github/workflows/w.yml", 9, 21)]


def test_schema_errors_have_positions(make_handbook: Callable[..., Path]) -> None:
    root = make_handbook({".github/workflows/w.yml": "on: push\npermissions: {}\njobs:\n  a:\n    steps: [{run: echo}]\n"
                                                     "    timeout: 5\n"})
    found = [(d.code, d.line, d.column, d.message) for d in analyse(root).diagnostics]
    assert found == [("OB401", 4, 3, "jobs.a is missing the required field runs-on")]


def test_environment_rules(make_handbook: Callable[..., Path]) -> None:
    root = make_handbook({
        ".github/workflows/w.yml": "on: push\npermissions: {}\njobs:\n  d:\n    runs-on: x\n    environment: prodution\n"
                                   "    steps: [{run: echo}]\n",
        "environments/production.yaml": "url: https://x.example\napproval: none\ndeployed_by: .github/workflows/w.yml\n",
    })
    found = _found(root)
    assert ("OB405", ".github/workflows/w.yml", 6, 18) in found
    assert ("OB408", "environments/production.yaml", 2, 11) in found  # no approval
    assert ("OB408", "environments/production.yaml", 1, 1) in found   # no rollback runbook
    assert ("OB412", "environments/production.yaml", 3, 14) in found  # w.yml never deploys production
    relaxed = make_handbook({"environments/production.yaml": "url: https://x.example\napproval: none\n"
                                                             "deployed_by: x.yml\n"}, production_severity="warning")
    severities = {d.code: str(d.severity) for d in analyse(relaxed).diagnostics}
    assert severities["OB408"] == "warning"


@pytest.mark.parametrize(("line", "found"), [
    ("aws_key: AKIAABCDEFGHIJKLMNOP", True),
    ("token: ghp_" + "a1B2" * 9, True),
    ("webhook: https://hooks.slack.com/services/T0000AAAA/B0000BBBB/abcdefghijklmnopqrstuvwx", True),
    ("url: postgresql://orders:hunter2hunter2@db/orders", True),
    ("password: Sup3rS3cretValue", True),
    ("-----BEGIN RSA PRIVATE KEY-----", True),
    ("url: postgresql://orders@db/orders", False),
    ("password: ${{ secrets.DB_PASSWORD }}", False),
    ("password_file: /run/secrets/db", False),
    ("api_url_file: /etc/alertmanager/slack", False),
    ("url: postgresql://u:${PASSWORD}@db/x", False),
    ("token: xxxxxxxxxxxx", False),
    ("API_KEY: Zx9Qw8Er7Ty6", True),
    ("Password : Zx9Qw8Er7Ty6", True),
    ('"client_secret": "Zx9Qw8Er7Ty6"', True),
    ("apikey: Zx9Qw8Er7Ty6", True),
    ("monkey: Zx9Qw8Er7Ty6", False),
    ("keyboard_layout: Zx9Qw8Er7Ty6", False),
])
def test_committed_secrets(make_handbook: Callable[..., Path], line: str, found: bool) -> None:
    root = make_handbook({"runbooks/r.yaml": f"title: R\nx-note:\n  {line}\nsteps: [{{name: S, manual: m}}]\n"})
    codes = [(d.code, d.line) for d in analyse(root).diagnostics if d.code == "OB411"]
    assert codes == ([("OB411", 3)] if found else [])
    if found:
        message = next(d.message for d in analyse(root).diagnostics if d.code == "OB411")
        assert line.split(":", 1)[-1].strip()[8:] not in message  # the value is not repeated


def test_a_source_that_does_not_parse_is_still_scanned_for_secrets(make_handbook: Callable[..., Path]) -> None:
    root = make_handbook({"runbooks/r.yaml": "title: R\nenv:\n  password: Sup3rS3cretValue\nsteps: [oops\n",
                          "runbooks/s.yaml": b"title: \xff\nkey: AKIAABCDEFGHIJKLMNOP\n"})
    found = {(d.code, d.path, d.line) for d in analyse(root).diagnostics}
    assert any(code == "OB001" and path == "runbooks/r.yaml" for code, path, _ in found)
    assert ("OB411", "runbooks/r.yaml", 3) in found
    assert ("OB002", "runbooks/s.yaml", 1) in found and ("OB411", "runbooks/s.yaml", 2) in found


def test_secret_field_hints_are_those_of_a_case_blind_regex() -> None:
    """`_field_hints` (str.find over the lowered text) finds the lines the plain regex finds."""
    import random
    import re

    from opsbook.checks.secrets import _field_hints

    regex = re.compile(r"(?:password|passwd|secret|token|api_?key|private_key|access_key|secret_key)[\"']?\s*:", re.I)
    pieces = ["password", "PassWD", "secret", "TOKEN", "key", "api_", "Api", "private_", "ACCESS_", "monkey",
              ":", " ", "'", '"', "\n", "x", "_", "é", "tokens", "\t", "apİ_", "paſſword", "ı", "SECRET"]
    rng = random.Random(411)
    for _ in range(3000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randrange(1, 12)))
        lines = {text.count("\n", 0, found.start()) for found in regex.finditer(text)}
        assert {text.count("\n", 0, at) for at in _field_hints(text)} >= lines, repr(text)


def test_workflow_pages(make_handbook: Callable[..., Path]) -> None:
    hostile = WORKFLOW.replace("  test:\n", '  test:\n    name: "x\\"]-->evil[\\"<img src=x onerror=alert(1)>"\n')
    root = make_handbook({".github/workflows/deploy.yml": hostile, "environments/production.yaml": PRODUCTION,
                          "runbooks/rollback.yaml": RUNBOOK})
    pages = {p.uri: p.text for p in analyse(root).pages()}
    page = pages["cicd/workflows/deploy.md"]
    assert "schedule: At 02:00 AM, Monday through Friday (0 2 &#42; &#42; 1-5)" in page
    graph = page.split("```mermaid\n", 1)[1].split("```", 1)[0]
    assert "evil[" not in graph and "<img" not in graph and "#34;" in graph
    assert "j1 -.->|deploys| e0" in graph and "j0 --> j1" in graph
    assert "[production](../environments/production.md)" in pages["cicd/workflows/index.md"]
    environment = pages["cicd/environments/production.md"]
    assert "`DEPLOY_KEY`" in environment and "`FORGOTTEN`" in environment and "[rollback](../../runbooks/rollback.md)" in environment


def test_the_projects_workflows_bound_their_time_and_give_outsiders_code_no_credentials() -> None:
    """Every job of the project's own pipelines sets `timeout-minutes` (a hung step must not hold a runner for
    GitHub's six hours); a workflow that runs on pull requests runs on `pull_request` (outsiders' code, no
    secrets), never `pull_request_target`, names no secret but GITHUB_TOKEN, and checks out without leaving
    the token in `.git/config` for the runbook steps it runs to read."""
    analysis = analyse(REPO)
    workflows = analysis.handbook.records_of(Workflow)
    assert len(workflows) >= 5
    for workflow in workflows:
        for job in workflow.jobs:
            assert isinstance(job.data.get("timeout-minutes"), int), f"{workflow.file}: job {job.key} has no timeout"
        events = {trigger.event for trigger in workflow.triggers}
        assert "pull_request_target" not in events, workflow.file
        if "pull_request" not in events:
            continue
        assert set(workflow.secrets) <= {"GITHUB_TOKEN"}, (workflow.file, workflow.secrets)
        for job in workflow.jobs:
            for step in job.steps:
                if str(step.get("uses", "")).startswith("actions/checkout@"):
                    assert (step.get("with") or {}).get("persist-credentials") is False, (workflow.file, job.key)
