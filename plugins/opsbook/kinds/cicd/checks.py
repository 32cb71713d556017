"""CI/CD checks: workflows against the GitHub workflow schema, job graphs, scripts, environments,
secrets and permissions (OB401–OB410, OB412)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ...commands import in_repository, join_path
from ...diagnostics import Code, Diagnostic, Severity, make
from ...model import Handbook
from ...schema_validation import quick_validator, schema_error_diagnostics
from .environments import Environment
from .workflows import Job, Workflow

if TYPE_CHECKING:
    import jsonschema

OB401 = Code("OB401", Severity.ERROR, "Workflow does not match the GitHub workflow schema",
         "The workflow breaks the SchemaStore schema for GitHub Actions workflows (the copy vendored by "
         "`check-jsonschema`): an unknown key, a missing `runs-on`, a value of the wrong type. GitHub "
         "would refuse to run it.",
         failing="# .github/workflows/test.yml\n"
                 "on: pull_request\n"
                 "permissions: {contents: read}\n"
                 "jobs:\n"
                 "  test:\n"
                 "    steps: [{run: pytest}]   # no runs-on\n",
         passing="# .github/workflows/test.yml\n"
                 "on: pull_request\n"
                 "permissions: {contents: read}\n"
                 "jobs:\n"
                 "  test:\n"
                 "    runs-on: ubuntu-latest\n"
                 "    steps: [{run: pytest}]\n")
OB402 = Code("OB402", Severity.ERROR, "needs names a job that does not exist",
         "A job's `needs` names a job the workflow does not have, so GitHub refuses the workflow.",
         failing="# .github/workflows/test.yml\n"
                 "on: pull_request\n"
                 "permissions: {contents: read}\n"
                 "jobs:\n"
                 "  test: {runs-on: ubuntu-latest, steps: [{run: pytest}]}\n"
                 "  report:\n"
                 "    needs: [tests]   # the job is called test\n"
                 "    runs-on: ubuntu-latest\n"
                 "    steps: [{run: echo done}]\n",
         passing="# .github/workflows/test.yml\n"
                 "on: pull_request\n"
                 "permissions: {contents: read}\n"
                 "jobs:\n"
                 "  test: {runs-on: ubuntu-latest, steps: [{run: pytest}]}\n"
                 "  report:\n"
                 "    needs: [test]\n"
                 "    runs-on: ubuntu-latest\n"
                 "    steps: [{run: echo done}]\n")
OB403 = Code("OB403", Severity.ERROR, "Cycle in needs",
         "Jobs wait for each other in a circle through `needs`, so none of them can start.",
         failing="# .github/workflows/test.yml\n"
                 "on: pull_request\n"
                 "permissions: {contents: read}\n"
                 "jobs:\n"
                 "  lint: {needs: test, runs-on: ubuntu-latest, steps: [{run: ruff check}]}\n"
                 "  test: {needs: lint, runs-on: ubuntu-latest, steps: [{run: pytest}]}\n",
         passing="# .github/workflows/test.yml\n"
                 "on: pull_request\n"
                 "permissions: {contents: read}\n"
                 "jobs:\n"
                 "  lint: {runs-on: ubuntu-latest, steps: [{run: ruff check}]}\n"
                 "  test: {needs: lint, runs-on: ubuntu-latest, steps: [{run: pytest}]}\n")
OB404 = Code("OB404", Severity.ERROR, "Script invoked by a workflow is missing",
         "A `run:` step invokes a script of the repository (`scripts/deploy.sh`, `./tools/check.py`) that does "
         "not exist at that path, relative to the step's working directory.",
         failing="# .github/workflows/test.yml\n"
                 "on: pull_request\n"
                 "permissions: {contents: read}\n"
                 "jobs:\n"
                 "  test:\n"
                 "    runs-on: ubuntu-latest\n"
                 "    steps: [{run: scripts/test.sh}]   # the file is scripts/run-tests.sh\n",
         passing="# .github/workflows/test.yml\n"
                 "on: pull_request\n"
                 "permissions: {contents: read}\n"
                 "jobs:\n"
                 "  test:\n"
                 "    runs-on: ubuntu-latest\n"
                 "    steps: [{run: scripts/run-tests.sh}]\n"
                 "# scripts/run-tests.sh\n"
                 "#!/bin/sh\n")
OB405 = Code("OB405", Severity.ERROR, "Job deploys to an undeclared environment",
         "A job names an `environment` that the handbook does not declare in `environments/`. Checked once the "
         "handbook declares environments.",
         failing="# .github/workflows/test.yml\n"
                 "on: pull_request\n"
                 "permissions: {contents: read}\n"
                 "jobs:\n"
                 "  preview:\n"
                 "    runs-on: ubuntu-latest\n"
                 "    environment: prodution\n"
                 "    steps: [{run: echo preview}]\n",
         passing="# .github/workflows/test.yml\n"
                 "on: pull_request\n"
                 "permissions: {contents: read}\n"
                 "jobs:\n"
                 "  preview:\n"
                 "    runs-on: ubuntu-latest\n"
                 "    environment: production\n"
                 "    steps: [{run: echo preview}]\n")
OB406 = Code("OB406", Severity.ERROR, "Secret not declared by the job's environment",
         "A job that deploys to an environment uses a secret that the environment's record does not list in "
         "`secrets:`. Either the record is out of date, or the job reads a secret it should not have.",
         failing="# .github/workflows/deploy.yml\n"
                 "jobs:\n"
                 "  deploy:\n"
                 "    runs-on: ubuntu-latest\n"
                 "    environment: production\n"
                 "    steps:\n"
                 "      - run: echo \"deploying with ${#KEY} + ${#TOKEN} characters\"\n"
                 "        env: {KEY: \"${{ secrets.DEPLOY_KEY }}\", TOKEN: \"${{ secrets.CDN_TOKEN }}\"}\n",
         passing="# .github/workflows/deploy.yml\n"
                 "jobs:\n"
                 "  deploy:\n"
                 "    runs-on: ubuntu-latest\n"
                 "    environment: production\n"
                 "    steps:\n"
                 "      - run: echo \"deploying with ${#KEY} + ${#TOKEN} characters\"\n"
                 "        env: {KEY: \"${{ secrets.DEPLOY_KEY }}\", TOKEN: \"${{ secrets.CDN_TOKEN }}\"}\n"
                 "# ops/environments/production.yaml\n"
                 "secrets: [DEPLOY_KEY, CDN_TOKEN]\n")
OB407 = Code("OB407", Severity.WARNING, "Declared secret never used",
         "An environment declares a secret that no job deploying to it uses: a secret left behind is a "
         "secret nobody rotates.",
         failing="# ops/environments/production.yaml\n"
                 "secrets: [DEPLOY_KEY, OLD_DEPLOY_KEY]   # no job reads OLD_DEPLOY_KEY\n",
         passing="# ops/environments/production.yaml\n"
                 "secrets: [DEPLOY_KEY]\n")
OB408 = Code("OB408", Severity.ERROR, "Production deploy without approval or rollback runbook",
         "An environment named in `production_environments` (by default `production`, `prod`) does not require "
         "approval, or names no `rollback_runbook`. The severity is the `production_severity` option.",
         failing="# ops/environments/production.yaml\n"
                 "approval: none\n",
         passing="# ops/environments/production.yaml\n"
                 "approval: required\n"
                 "rollback_runbook: deploy-rollback\n")
OB409 = Code("OB409", Severity.WARNING, "Workflow without explicit permissions",
         "Neither the workflow nor every one of its jobs sets `permissions`, so the jobs' `GITHUB_TOKEN` gets "
         "the repository's default permissions, which may allow writing. Set the least each job needs.",
         failing="# .github/workflows/test.yml\n"
                 "on: pull_request\n"
                 "jobs:\n"
                 "  test: {runs-on: ubuntu-latest, steps: [{run: pytest}]}\n",
         passing="# .github/workflows/test.yml\n"
                 "on: pull_request\n"
                 "permissions:\n"
                 "  contents: read\n"
                 "jobs:\n"
                 "  test: {runs-on: ubuntu-latest, steps: [{run: pytest}]}\n")
OB410 = Code("OB410", Severity.ERROR, "pull_request_target checks out the pull request's head",
         "A workflow triggered by `pull_request_target` runs with the base repository's secrets and a write "
         "token; checking out the pull request's head (`ref: ${{ github.event.pull_request.head.sha }}`) runs "
         "code from the fork with them: the \"pwn request\".",
         failing="# .github/workflows/label.yml\n"
                 "on: pull_request_target\n"
                 "permissions: {pull-requests: write}\n"
                 "jobs:\n"
                 "  label:\n"
                 "    runs-on: ubuntu-latest\n"
                 "    steps:\n"
                 "      - uses: actions/checkout@v4\n"
                 "        with: {ref: \"${{ github.event.pull_request.head.sha }}\"}\n",
         passing="# .github/workflows/label.yml\n"
                 "on: pull_request_target\n"
                 "permissions: {pull-requests: write}\n"
                 "jobs:\n"
                 "  label:\n"
                 "    runs-on: ubuntu-latest\n"
                 "    steps:\n"
                 "      - uses: actions/checkout@v4   # the base branch: code already reviewed\n")
OB412 = Code("OB412", Severity.ERROR, "Environment's deploying workflow does not deploy it",
         "An environment's `deployed_by` names a workflow file that does not exist, or whose jobs never "
         "deploy to that environment.",
         failing="# ops/environments/production.yaml\n"
                 "deployed_by: .github/workflows/release.yml   # no such workflow: deploy.yml deploys it\n",
         passing="# ops/environments/production.yaml\n"
                 "deployed_by: .github/workflows/deploy.yml\n")

BUILTIN_SECRETS = {"GITHUB_TOKEN"}


@cache
def workflow_schema() -> dict[str, Any]:
    """The SchemaStore GitHub workflow schema that check-jsonschema vendors, through its public name: the
    one its documented `--builtin-schema vendor.github-workflows` option takes (the import costs about a
    tenth of a second, paid only by a handbook that has workflows)."""
    try:
        from check_jsonschema.builtin_schemas import get_builtin_schema  # type: ignore[import-untyped]
    except ImportError as error:
        raise RuntimeError("check-jsonschema is not installed: it provides the GitHub workflow schema") from error
    return get_builtin_schema("vendor.github-workflows")


@cache
def _quick_workflow_validator() -> Callable[[Any], bool]:
    return quick_validator(workflow_schema())


@cache
def _full_workflow_validator() -> jsonschema.protocols.Validator:
    import jsonschema

    schema = workflow_schema()
    return jsonschema.validators.validator_for(schema)(schema)


def _workflows(handbook: Handbook) -> list[Workflow]:
    return handbook.loaded_of(Workflow)


def check_schema(handbook: Handbook) -> Iterator[Diagnostic]:
    """OB401: every workflow is valid against the SchemaStore GitHub workflow schema."""
    workflows = _workflows(handbook)
    if not workflows:
        return
    quick = _quick_workflow_validator()
    for workflow in workflows:
        if quick(workflow.data):
            continue
        errors = sorted(_full_workflow_validator().iter_errors(workflow.data), key=lambda e: list(map(str, e.path)))
        for error in errors:
            yield from schema_error_diagnostics(error, workflow.document, code=OB401, unknown_code=OB401)


def check_jobs(handbook: Handbook) -> Iterator[Diagnostic]:
    """OB402 and OB403: `needs` names existing jobs, without cycles."""
    for workflow in _workflows(handbook):
        keys = {job.key for job in workflow.jobs}
        graph: dict[str, list[str]] = {}
        for job in workflow.jobs:
            raw = job.data.get("needs")
            for index, name in enumerate(job.needs):
                if name not in keys:
                    where = ("jobs", job.key, "needs") + ((index,) if isinstance(raw, list) else ())
                    line, column = workflow.position(*where)
                    yield make(OB402, workflow.path, line, column,
                               f"job {job.key} needs '{name}', which is not a job of this workflow")
            graph[job.key] = [name for name in job.needs if name in keys]
        for cycle in _cycles(graph):
            line, column = workflow.position("jobs", cycle[0], "needs")
            yield make(OB403, workflow.path, line, column,
                       "jobs wait for each other in a cycle: " + " → ".join([*cycle, cycle[0]]))


def _cycles(graph: dict[str, list[str]]) -> list[list[str]]:
    """Each cycle once, as found by a depth-first walk (white/grey/black)."""
    state: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in graph.get(node, []):
            if state.get(nxt) == 1:
                found.append(stack[stack.index(nxt):])
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for node in graph:
        if node not in state:
            visit(node)
    return found


def check_workflow_scripts(handbook: Handbook) -> Iterator[Diagnostic]:
    """OB404: scripts that `run:` steps invoke exist in the repository."""
    root = handbook.root
    for workflow in _workflows(handbook):
        for job in workflow.jobs:
            for index, invocation, folder in job.invocations():
                if folder is None:
                    continue  # a folder computed at run time cannot be checked
                script = join_path(folder, invocation.path)  # from the root
                if in_repository(root, script):
                    continue
                where = ("jobs", job.key, "steps", index, "run")
                line, column = workflow.document.position_of_text(where, str(job.steps[index].get("run")),
                                                                  invocation.written)
                yield make(OB404, workflow.path, line, column,
                           f"job {job.key} runs {script}, which does not exist in the repository")


def _environments(handbook: Handbook) -> dict[str, Environment]:
    return {e.id: e for e in handbook.records_of(Environment)}


def _secret_position(workflow: Workflow, job: Job, name: str) -> tuple[int, int]:
    node = workflow.document.node_at(("jobs", job.key))
    lines = workflow.document.text.splitlines()
    pattern = re.compile(rf"secrets\s*\.\s*{re.escape(name)}\b|secrets\s*\[\s*'{re.escape(name)}'")
    if node is not None:
        for number in range(node.start_mark.line, min(node.end_mark.line + 1, len(lines))):
            found = pattern.search(lines[number])
            if found:
                return (number + 1, found.start() + 1)
    return workflow.position("jobs", job.key)


def check_environments(handbook: Handbook) -> Iterator[Diagnostic]:
    """OB405–OB408 and OB412: jobs, environments and their secrets agree; production is protected."""
    if "environment" not in handbook.present:
        return
    environments = _environments(handbook)
    used: dict[str, set[str]] = {name: set() for name in environments}
    deployers: dict[str, set[str]] = {name: set() for name in environments}
    for workflow in _workflows(handbook):
        for job in workflow.jobs:
            name = job.environment
            if name is None or "${{" in name:
                continue
            if name not in environments:
                raw = job.data.get("environment")
                folder = handbook.config.sources.get("environment", ["ops/environments"])[0]
                line, column = workflow.position("jobs", job.key, "environment",
                                                 *(("name",) if isinstance(raw, dict) else ()))
                yield make(OB405, workflow.path, line, column,
                           f"job {job.key} deploys to environment '{name}', which the handbook does not declare",
                           hint=f"add {folder}/{name}.yaml")
                continue
            deployers[name].add(workflow.path)
            declared = set(environments[name].secrets)
            for secret in job.secrets:
                if secret in BUILTIN_SECRETS or secret.startswith("("):
                    continue
                used[name].add(secret)
                if secret not in declared:
                    line, column = _secret_position(workflow, job, secret)
                    yield make(OB406, workflow.path, line, column,
                               f"job {job.key} uses secret {secret}, which environment {name} does not declare")
    production = set(handbook.config.production_environments)
    severity = Severity.parse(handbook.config.production_severity)
    for name, environment in environments.items():
        for index, secret in enumerate(environment.secrets):
            if secret not in used[name]:
                line, column = environment.position("secrets", index)
                yield make(OB407, environment.path, line, column,
                           f"environment {name} declares secret {secret}, which no job deploying to it uses")
        if name in production:
            if environment.approval != "required":
                line, column = environment.position("approval")
                yield make(OB408, environment.path, line, column,
                           f"production environment {name} deploys without approval", severity=severity,
                           hint="approval: required")
            if not environment.data.get("rollback_runbook"):
                line, column = environment.position()
                yield make(OB408, environment.path, line, column,
                           f"production environment {name} names no rollback_runbook", severity=severity)
        deployed_by = environment.deployed_by
        if deployed_by:
            line, column = environment.position("deployed_by")
            if not (handbook.root / deployed_by).is_file():
                yield make(OB412, environment.path, line, column,
                           f"deployed_by names {deployed_by}, which does not exist")
            elif Path(deployed_by).as_posix() not in deployers[name]:
                yield make(OB412, environment.path, line, column,
                           f"{deployed_by} has no job that deploys to environment {name}")


def check_permissions(handbook: Handbook) -> Iterator[Diagnostic]:
    """OB409 and OB410: explicit token permissions; no pull_request_target checking out the fork's code."""
    for workflow in _workflows(handbook):
        if workflow.permissions is None and not all("permissions" in job.data for job in workflow.jobs):
            line, column = workflow.position("jobs", key=True)
            bare = [job.key for job in workflow.jobs if "permissions" not in job.data]
            yield make(OB409, workflow.path, line, column,
                       f"no permissions: for the workflow, nor for job{'s' if len(bare) > 1 else ''} {', '.join(bare)}",
                       hint="permissions: {contents: read}")
        if not any(trigger.event == "pull_request_target" for trigger in workflow.triggers):
            continue
        for job in workflow.jobs:
            for index, step in enumerate(job.steps):
                uses = step.get("uses")
                ref = (step.get("with") or {}).get("ref") if isinstance(step.get("with"), dict) else None
                if isinstance(uses, str) and uses.startswith("actions/checkout") and isinstance(ref, str) and re.search(
                        r"pull_request\.head|head_ref|refs/pull/|github\.event\.pull_request\.merge", ref):
                    line, column = workflow.position("jobs", job.key, "steps", index, "with", "ref")
                    yield make(OB410, workflow.path, line, column,
                               f"job {job.key} checks out the pull request's head under pull_request_target")


