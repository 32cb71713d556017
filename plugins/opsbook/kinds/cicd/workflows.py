"""GitHub Actions workflows, read as they are: triggers, jobs, needs, environments, secrets, scripts.

Every form GitHub accepts is read: `on` as a string, a list or a mapping; `environment` as a name or
a mapping; `needs` as a string or a list; reusable workflows (`uses` on a job). Secrets and
variables are found wherever a job writes `${{ secrets.X }}` or `${{ vars.X }}`, and scripts of
the repository wherever a `run:` invokes one.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from ...commands import Invocation, invocations, join_path, scripts_in
from ...loader import Document
from ...model import Kind, Record

__all__ = ["Job", "Trigger", "Workflow", "KIND", "scripts_in"]

_EXPRESSION = re.compile(r"\$\{\{(.*?)\}\}", re.S)
_SECRET = re.compile(r"\bsecrets\s*\.\s*([A-Za-z_][A-Za-z0-9_]*)|\bsecrets\s*\[\s*'([^']+)'\s*\]")
_VARIABLE = re.compile(r"\bvars\s*\.\s*([A-Za-z_][A-Za-z0-9_]*)|\bvars\s*\[\s*'([^']+)'\s*\]")


def _strings_in(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield str(key)
            yield from _strings_in(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings_in(item)


def _names(pattern: re.Pattern[str], value: Any) -> list[str]:
    found: list[str] = []
    for text in _strings_in(value):
        for expression in _EXPRESSION.findall(text):
            for match in pattern.finditer(expression):
                name = match.group(1) or match.group(2)
                if name not in found:
                    found.append(name)
    return found


@dataclass(frozen=True)
class Trigger:
    """One event a workflow runs on, with what GitHub lets it say about it."""

    event: str
    config: Any
    index: int

    @property
    def crons(self) -> list[str]:
        if self.event != "schedule" or not isinstance(self.config, list):
            return []
        return [str(item["cron"]) for item in self.config if isinstance(item, dict) and "cron" in item]

    @property
    def inputs(self) -> dict[str, Any]:
        if isinstance(self.config, dict) and isinstance(self.config.get("inputs"), dict):
            return self.config["inputs"]
        return {}

    @property
    def filters(self) -> dict[str, Any]:
        if not isinstance(self.config, dict):
            return {}
        return {k: v for k, v in self.config.items() if k in ("branches", "branches-ignore", "tags", "tags-ignore",
                                                              "paths", "paths-ignore", "types", "workflows")}


@dataclass
class Job:
    """A job of a workflow."""

    workflow: Workflow
    key: str
    data: dict[str, Any]

    @property
    def name(self) -> str:
        name = self.data.get("name")
        return name if isinstance(name, str) and name else self.key

    @property
    def needs(self) -> list[str]:
        value = self.data.get("needs")
        if isinstance(value, str):
            return [value]
        return [item for item in value if isinstance(item, str)] if isinstance(value, list) else []

    @property
    def environment(self) -> str | None:
        value = self.data.get("environment")
        if isinstance(value, dict):
            value = value.get("name")
        return value if isinstance(value, str) and value else None

    @property
    def environment_url(self) -> str | None:
        value = self.data.get("environment")
        return value.get("url") if isinstance(value, dict) and isinstance(value.get("url"), str) else None

    @property
    def runs_on(self) -> str:
        value = self.data.get("runs-on")
        if isinstance(value, list):
            return ", ".join(str(item) for item in value)
        if isinstance(value, dict):
            return ", ".join(f"{k}: {v}" for k, v in value.items())
        return "" if value is None else str(value)

    @property
    def uses(self) -> str | None:
        """The reusable workflow the job calls, if it is one."""
        value = self.data.get("uses")
        return value if isinstance(value, str) else None

    @property
    def condition(self) -> str | None:
        value = self.data.get("if")
        return None if value is None else str(value)

    @property
    def matrix(self) -> Any:
        strategy = self.data.get("strategy")
        return strategy.get("matrix") if isinstance(strategy, dict) else None

    @property
    def steps(self) -> list[dict[str, Any]]:
        value = self.data.get("steps")
        return [step for step in value if isinstance(step, dict)] if isinstance(value, list) else []

    @property
    def secrets(self) -> list[str]:
        found = _names(_SECRET, self.data)
        inherit = self.data.get("secrets")
        if inherit == "inherit":
            found.append("(all, inherited)")
        return found

    @property
    def variables(self) -> list[str]:
        return _names(_VARIABLE, self.data)

    def working_directory(self, step: dict[str, Any]) -> str | None:
        """The folder a step's `run` starts in, relative to the repository (None when computed at run time)."""
        defaults = self.data.get("defaults")
        run_defaults = defaults.get("run") if isinstance(defaults, dict) else None
        job_dir = run_defaults.get("working-directory") if isinstance(run_defaults, dict) else None
        folder = str(step.get("working-directory") or job_dir or ".")
        return None if "${{" in folder else folder

    def invocations(self) -> list[tuple[int, Invocation, str | None]]:
        """(step index, invocation, working directory) for every repository script the steps run, each
        invocation's path relative to the working directory (`commands.invocations`)."""
        found: list[tuple[int, Invocation, str | None]] = []
        for index, step in enumerate(self.steps):
            run = step.get("run")
            if isinstance(run, str):
                folder = self.working_directory(step)
                found.extend((index, invocation, folder) for invocation in invocations(run))
        return found

    def scripts(self) -> list[tuple[int, str, str | None]]:
        """(step index, script path, working directory) for every repository script the steps run: the
        path relative to the repository, or to the working directory when that is computed at run time
        (None)."""
        return [(index, invocation.path if folder is None else join_path(folder, invocation.path), folder)
                for index, invocation, folder in self.invocations()]


@dataclass
class Workflow(Record):
    """A GitHub Actions workflow file."""

    kind: ClassVar[str] = "workflow"

    @property
    def title(self) -> str:
        name = self.data.get("name")
        return name if isinstance(name, str) and name.strip() else Path(self.path).name

    @property
    def file(self) -> str:
        return Path(self.path).name

    @property
    def triggers(self) -> list[Trigger]:
        value = self.data.get("on")
        if isinstance(value, str):
            return [Trigger(value, None, 0)]
        if isinstance(value, list):
            return [Trigger(str(item), None, index) for index, item in enumerate(value)]
        if isinstance(value, dict):
            return [Trigger(str(event), config, index) for index, (event, config) in enumerate(value.items())]
        return []

    @property
    def jobs(self) -> list[Job]:
        value = self.data.get("jobs")
        if not isinstance(value, dict):
            return []
        return [Job(self, str(key), job) for key, job in value.items() if isinstance(job, dict)]

    def job(self, key: str) -> Job | None:
        return next((job for job in self.jobs if job.key == key), None)

    @property
    def permissions(self) -> Any:
        return self.data.get("permissions")

    @property
    def secrets(self) -> list[str]:
        found: list[str] = []
        for job in self.jobs:
            found.extend(name for name in job.secrets if name not in found)
        return found

    @property
    def environments(self) -> list[str]:
        """Environments the jobs deploy to, by name (names computed at run time are left out)."""
        found: list[str] = []
        for job in self.jobs:
            if job.environment and "${{" not in job.environment and job.environment not in found:
                found.append(job.environment)
        return found


def workflow_records(document: Document) -> Iterator[Record]:
    if document.index > 0 or document.data is None:
        return
    data = document.data if isinstance(document.data, dict) else {}
    stem = Path(document.path).name.rsplit(".", 1)[0]
    yield Workflow(re.sub(r"[^a-z0-9]+", "-", stem.lower()).strip("-") or "workflow", data, document)


KIND = Kind(
    name="workflow",
    page_folder="cicd/workflows",
    record_type=Workflow,
    folders=(".github/workflows",),
    records_from=workflow_records,
)
