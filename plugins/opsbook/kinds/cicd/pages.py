"""Pages of CI/CD: the overview of every workflow, a page per workflow with its job graph, environments."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ...commands import in_repository
from ...cron import cron_in_words
from ...model import Handbook
from ...render import Page, Renderer
from ...render.mermaid import label
from ...render.sections import section
from .environments import Environment
from .workflows import Trigger, Workflow


def describe_trigger(trigger: Trigger) -> str:
    if trigger.event == "schedule":
        return "schedule: " + "; ".join(f"{cron_in_words(c)} ({c})" for c in trigger.crons)
    parts = [trigger.event]
    for key, value in trigger.filters.items():
        values = value if isinstance(value, list) else [value]
        parts.append(f"{key} {', '.join(map(str, values))}")
    if trigger.inputs:
        parts.append("inputs " + ", ".join(trigger.inputs))
    return ": ".join(parts[:1]) + (" (" + "; ".join(parts[1:]) + ")" if len(parts) > 1 else "")


def job_graph(workflow: Workflow) -> str:
    """A Mermaid flowchart: triggers → jobs along `needs` → environments deployed."""
    lines = ["flowchart LR"]
    jobs = workflow.jobs
    ids = {job.key: f"j{index}" for index, job in enumerate(jobs)}
    for index, trigger in enumerate(workflow.triggers):
        lines.append(f"    t{index}([{label(trigger.event)}])")
    for job in jobs:
        lines.append(f"    {ids[job.key]}[{label(job.name)}]")
    environments: dict[str, str] = {}
    for job in jobs:
        if job.environment and job.environment not in environments:
            environments[job.environment] = f"e{len(environments)}"
            lines.append(f"    {environments[job.environment]}[({label(job.environment)})]")
    roots = [job for job in jobs if not [n for n in job.needs if n in ids]]
    for index, _ in enumerate(workflow.triggers):
        for job in roots:
            lines.append(f"    t{index} --> {ids[job.key]}")
    for job in jobs:
        for need in job.needs:
            if need in ids:
                lines.append(f"    {ids[need]} --> {ids[job.key]}")
        if job.environment:
            lines.append(f"    {ids[job.key]} -.->|deploys| {environments[job.environment]}")
    return "\n".join(lines)


def _scripts(handbook: Handbook, workflow: Workflow) -> list[tuple[str, bool]]:
    found: dict[str, bool] = {}
    for job in workflow.jobs:
        for _, path, folder in job.scripts():
            found.setdefault(path, folder is None or in_repository(handbook.root, path))  # path: from the root
    return sorted(found.items())


def workflow_pages(handbook: Handbook, renderer: Renderer) -> Iterator[Page]:
    workflows = handbook.records_of(Workflow)
    environments = {e.id: e for e in handbook.records_of(Environment)}
    for workflow in workflows:
        uri = renderer.uri_of(workflow)
        text = renderer.render("workflow.md.j2", uri, workflow=workflow, graph=job_graph(workflow),
                               describe_trigger=describe_trigger, scripts=_scripts(handbook, workflow),
                               environments=environments, repo_url=_blob_base(handbook))
        yield Page(uri, text, source=workflow.path, title=workflow.title)
    if workflows:
        uri = renderer.index_uri("workflow")
        yield Page(uri, "# Workflows\n\n" + cicd_index(handbook, renderer, uri), title="Workflows", in_nav=True)


@section("workflows", "Every workflow: its triggers, jobs and the environments it deploys to; and the environments.")
def cicd_index(handbook: Handbook, renderer: Renderer, uri: str) -> str:
    workflows = handbook.records_of(Workflow)
    environments = handbook.records_of(Environment)
    return renderer.render("cicd_index.md.j2", uri, workflows=workflows, describe_trigger=describe_trigger,
                           environments=environments)


@section("workflow-graphs", "The job graph of every workflow, as Mermaid diagrams.")
def workflow_graphs(handbook: Handbook, renderer: Renderer, uri: str) -> str:
    workflows = handbook.records_of(Workflow)
    return renderer.render("workflow_graphs.md.j2", uri, workflows=workflows, graph=job_graph)


def _blob_base(handbook: Handbook) -> str | None:
    """The address of the repository's files, when the site knows its repository (GitHub layout)."""
    url = handbook.config.repo_url
    if not url or not handbook.config.edit_uri or "/edit/" not in handbook.config.edit_uri:
        return None
    branch = handbook.config.edit_uri.split("/edit/", 1)[1].split("/", 1)[0]
    return f"{url.rstrip('/')}/blob/{branch}/"


def environment_pages(handbook: Handbook, renderer: Renderer) -> Iterator[Page]:
    environments = handbook.records_of(Environment)
    if not environments:
        return
    deployers, workflow_of = _deployment(handbook, environments)
    for environment in environments:
        uri = renderer.uri_of(environment)
        text = renderer.render("environment.md.j2", uri, environment=environment,
                               jobs=deployers[environment.id], workflow_of=workflow_of)
        yield Page(uri, text, source=environment.path, title=environment.title)
    uri = renderer.index_uri("environment")
    yield Page(uri, "# Environments\n\n" + environments_index(handbook, renderer, uri), title="Environments",
               in_nav=True)


@section("environments", "The environments: URL, approval, secret names and the workflow that deploys each.")
def environments_index(handbook: Handbook, renderer: Renderer, uri: str) -> str:
    environments = handbook.records_of(Environment)
    deployers, workflow_of = _deployment(handbook, environments)
    return renderer.render("environments_index.md.j2", uri, environments=environments, deployers=deployers,
                           workflow_of=workflow_of)


def _deployment(handbook: Handbook, environments: list[Environment]) -> tuple[dict[str, list[Any]], Any]:
    """The jobs that deploy to each environment, and a lookup of workflows by file path."""
    workflows = {w.path: w for w in handbook.records_of(Workflow)}
    deployers: dict[str, list[Any]] = {e.id: [] for e in environments}
    for workflow in workflows.values():
        for job in workflow.jobs:
            if job.environment in deployers:
                deployers[job.environment].append(job)
    return deployers, workflows.get
