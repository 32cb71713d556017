"""Which contexts and functions each key of a workflow may use, and the check that holds expressions to it
(OB413, OB414).

GitHub evaluates an expression with only some contexts at hand, depending on the key it is written
under: a job's `if:` is decided before the job has a runner, so `runner`, `env`, `secrets` and
`hashFiles()` (which reads the runner's checkout) are not there. A workflow that uses one where it is
not available fails to start. `AVAILABILITY` is GitHub's table ("Contexts reference → Context
availability"), as data: for each workflow key, the contexts and the special functions it may use.
It follows the table of the documentation as actionlint's generator reads it (actionlint's
`availability.go`), written again here as our own data.

`availability_key(path)` names the row of the table a value belongs to, from its path in the workflow
(`("jobs", "docs", "steps", 0, "with", "path")` is `jobs.<job_id>.steps.with`). A key the table does
not list (`name`, `on.push.branches`, a step's `uses`) may name any context but `jobs`, and call no
special function: GitHub lists the special functions only where it allows them.

`check_expressions` reads every string of every workflow with `expressions.template_expressions`
(`if:` conditions with `condition_expressions`), and reports each context or function that is not
available under its key or does not exist (OB413), and each expression that cannot be read (OB414),
at the line and column of the name, or of where reading stopped, when the value's text maps one to
one onto the file (plain one-line values, `|` blocks, quoted one-line values without escapes), else at
the start of the value.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import yaml

from ...diagnostics import Code, Diagnostic, Severity, make
from ...loader import Document
from ...model import Handbook
from .expressions import Expression, condition_expressions, template_expressions
from .workflows import Workflow

__all__ = ["AVAILABILITY", "CONDITIONS", "CONTEXTS", "FUNCTIONS", "OB413", "OB414", "SPECIAL_FUNCTIONS",
           "UNLISTED", "Availability", "availability_key", "check_expressions"]

OB413 = Code("OB413", Severity.ERROR, "Expression names a context or function not available here",
         "GitHub evaluates each key of a workflow with only some contexts and functions at hand (its "
         "\"Context availability\" table): a job's `if:` runs before the job has a runner, so it cannot use "
         "`runner`, `env`, `secrets`, `steps` or `hashFiles()`; `success()`, `failure()`, `always()` and "
         "`cancelled()` belong to `if:` conditions. An expression that names a context or calls a function "
         "where it is not available, or one that does not exist, makes the workflow fail to start.",
         failing="# .github/workflows/test.yml\n"
                 "on: pull_request\n"
                 "permissions: {contents: read}\n"
                 "jobs:\n"
                 "  docs:\n"
                 "    if: hashFiles('mkdocs.yml') != ''   # hashFiles() is only for steps\n"
                 "    runs-on: ubuntu-latest\n"
                 "    steps: [{run: mkdocs build --strict}]\n",
         passing="# .github/workflows/test.yml\n"
                 "on: pull_request\n"
                 "permissions: {contents: read}\n"
                 "jobs:\n"
                 "  docs:\n"
                 "    runs-on: ubuntu-latest\n"
                 "    steps:\n"
                 "      - run: mkdocs build --strict\n"
                 "        if: hashFiles('mkdocs.yml') != ''\n")
OB414 = Code("OB414", Severity.ERROR, "Expression cannot be read",
         "A `${{ ... }}` expression, or an `if:` condition, does not follow GitHub's expression syntax: an "
         "unclosed string or `${{`, an operator with nothing after it, two values with no operator between "
         "them. Strings are in single quotes (`'main'`, with `''` for a quote). GitHub refuses the workflow.",
         failing="# .github/workflows/test.yml\n"
                 "on: [push, pull_request]\n"
                 "permissions: {contents: read}\n"
                 "jobs:\n"
                 "  release:\n"
                 "    if: github.event_name == \"push\"   # strings take single quotes\n"
                 "    runs-on: ubuntu-latest\n"
                 "    steps: [{run: make release}]\n",
         passing="# .github/workflows/test.yml\n"
                 "on: [push, pull_request]\n"
                 "permissions: {contents: read}\n"
                 "jobs:\n"
                 "  release:\n"
                 "    if: github.event_name == 'push'\n"
                 "    runs-on: ubuntu-latest\n"
                 "    steps: [{run: make release}]\n")

#: Every context of GitHub's expression language.
CONTEXTS = frozenset({"github", "env", "vars", "job", "jobs", "steps", "runner", "secrets", "strategy", "matrix",
                      "needs", "inputs"})
#: The functions available only where the table says so.
SPECIAL_FUNCTIONS = frozenset({"hashfiles", "success", "always", "cancelled", "failure"})
#: Every function, by its name in lower case (GitHub reads function names without regard to case).
FUNCTIONS = frozenset({"contains", "startswith", "endswith", "format", "join", "tojson", "fromjson", "case"}) \
    | SPECIAL_FUNCTIONS

Availability = tuple[frozenset[str], frozenset[str]]


def _row(contexts: str, functions: str = "") -> Availability:
    return frozenset(contexts.split()), frozenset(functions.lower().split())


_STEP = _row("github needs strategy matrix job runner env vars secrets steps inputs", "hashFiles")
_JOB = _row("github needs strategy matrix vars inputs")
_CREDENTIALS = _row("github needs strategy matrix env vars secrets inputs")
_CONTAINER_ENV = _row("github needs strategy matrix job runner env vars secrets inputs")

#: GitHub's "Context availability" table: for each workflow key, (contexts, special functions).
AVAILABILITY: dict[str, Availability] = {
    "run-name": _row("github inputs vars"),
    "concurrency": _row("github inputs vars"),
    "env": _row("github secrets inputs vars"),
    "on.workflow_call.inputs.<inputs_id>.default": _row("github inputs vars"),
    "on.workflow_call.outputs.<output_id>.value": _row("github jobs vars inputs"),
    "jobs.<job_id>.name": _JOB,
    "jobs.<job_id>.if": _row("github needs vars inputs", "always cancelled success failure"),
    "jobs.<job_id>.runs-on": _JOB,
    "jobs.<job_id>.concurrency": _JOB,
    "jobs.<job_id>.env": _row("github needs strategy matrix vars secrets inputs"),
    "jobs.<job_id>.environment": _JOB,
    "jobs.<job_id>.environment.url": _row("github needs strategy matrix job runner env vars steps inputs"),
    "jobs.<job_id>.outputs.<output_id>": _row("github needs strategy matrix job runner env vars secrets steps "
                                              "inputs"),
    "jobs.<job_id>.strategy": _row("github needs vars inputs"),
    "jobs.<job_id>.continue-on-error": _JOB,
    "jobs.<job_id>.timeout-minutes": _JOB,
    "jobs.<job_id>.defaults.run": _row("github needs strategy matrix env vars inputs"),
    "jobs.<job_id>.container": _JOB,
    "jobs.<job_id>.container.image": _JOB,
    "jobs.<job_id>.container.credentials": _CREDENTIALS,
    "jobs.<job_id>.container.env.<env_id>": _CONTAINER_ENV,
    "jobs.<job_id>.services": _JOB,
    "jobs.<job_id>.services.<service_id>.credentials": _CREDENTIALS,
    "jobs.<job_id>.services.<service_id>.env.<env_id>": _CONTAINER_ENV,
    "jobs.<job_id>.snapshot.if": _JOB,
    "jobs.<job_id>.steps.if": _row("github needs strategy matrix job runner env vars steps inputs",
                                   "always cancelled success failure hashFiles"),
    "jobs.<job_id>.steps.name": _STEP,
    "jobs.<job_id>.steps.run": _STEP,
    "jobs.<job_id>.steps.with": _STEP,
    "jobs.<job_id>.steps.env": _STEP,
    "jobs.<job_id>.steps.working-directory": _STEP,
    "jobs.<job_id>.steps.continue-on-error": _STEP,
    "jobs.<job_id>.steps.timeout-minutes": _STEP,
    "jobs.<job_id>.with.<with_id>": _JOB,
    "jobs.<job_id>.secrets.<secrets_id>": _row("github needs strategy matrix secrets vars inputs"),
}
#: What a key the table does not list may use: any context but `jobs`, no special function.
UNLISTED: Availability = (CONTEXTS - {"jobs"}, frozenset())
#: The keys whose value is a condition: one expression, `${{ }}` or not.
CONDITIONS = frozenset({"jobs.<job_id>.if", "jobs.<job_id>.steps.if", "jobs.<job_id>.snapshot.if"})

_STEP_PREFIX = "jobs.<job_id>.steps."
_JOB_KEYS = {"name", "runs-on", "concurrency", "env", "if", "strategy", "continue-on-error", "timeout-minutes"}
_STEP_KEYS = {"name", "if", "run", "with", "env", "working-directory", "continue-on-error", "timeout-minutes"}


def _job_key(rest: tuple[str | int, ...]) -> str | None:
    """The row for a value at `rest` inside a job."""
    first = rest[0]
    if first in _JOB_KEYS:
        return f"jobs.<job_id>.{first}"
    second = rest[1] if len(rest) > 1 else None
    if first == "defaults":
        return "jobs.<job_id>.defaults.run" if second == "run" else None
    if first == "environment":
        return "jobs.<job_id>.environment.url" if second == "url" else "jobs.<job_id>.environment"
    if first in ("outputs", "with", "secrets") and second is not None:
        return {"outputs": "jobs.<job_id>.outputs.<output_id>", "with": "jobs.<job_id>.with.<with_id>",
                "secrets": "jobs.<job_id>.secrets.<secrets_id>"}[first]
    if first == "container":
        if second in ("image", "credentials"):
            return f"jobs.<job_id>.container.{second}"
        return "jobs.<job_id>.container.env.<env_id>" if second == "env" else "jobs.<job_id>.container"
    if first == "services":
        third = rest[2] if len(rest) > 2 else None
        if third == "credentials":
            return "jobs.<job_id>.services.<service_id>.credentials"
        return "jobs.<job_id>.services.<service_id>.env.<env_id>" if third == "env" else "jobs.<job_id>.services"
    if first == "snapshot":
        return "jobs.<job_id>.snapshot.if" if second == "if" else None
    if first == "steps" and isinstance(second, int) and len(rest) > 2 and rest[2] in _STEP_KEYS:
        return f"jobs.<job_id>.steps.{rest[2]}"
    return None


def availability_key(path: tuple[str | int, ...]) -> str | None:
    """The row of `AVAILABILITY` for the value at `path` in a workflow, or None when the table does not
    list its key."""
    if not path:
        return None
    first = path[0]
    if first in ("run-name", "concurrency", "env"):
        return str(first)
    if first == "on" and len(path) == 5 and path[1] == "workflow_call":
        if path[2] == "inputs" and path[4] == "default":
            return "on.workflow_call.inputs.<inputs_id>.default"
        if path[2] == "outputs" and path[4] == "value":
            return "on.workflow_call.outputs.<output_id>.value"
    if first == "jobs" and len(path) > 2:
        return _job_key(path[2:])
    return None


def _strings(value: Any, path: tuple[str | int, ...]) -> Iterator[tuple[tuple[str | int, ...], str]]:
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(item, (*path, str(key)))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _strings(item, (*path, index))


def _position(document: Document, path: tuple[str | int, ...], value: str, offset: int) -> tuple[int, int]:
    """Where the character at `offset` of the value at `path` stands in the file (see the module's
    docstring for when that is the start of the value)."""
    node = document.node_at(path)
    if not isinstance(node, yaml.ScalarNode):
        return document.position(path)
    line = value.count("\n", 0, offset) + 1
    column = offset - (value.rfind("\n", 0, offset) + 1) + 1
    start, end = node.start_mark, node.end_mark
    if node.style == "|" or (not node.style and line == 1 and start.line == end.line):
        return document.position_in_value(path, line, column)
    if node.style in ("'", '"') and start.line == end.line:
        lines = document.text.splitlines()
        source = lines[start.line] if start.line < len(lines) else ""
        if source[start.column + 1:end.column - 1] == value:  # no escapes: one character for one
            return (start.line + 1, start.column + 2 + offset)
    return (start.line + 1, start.column + 1)


def _dotted(path: tuple[str | int, ...]) -> str:
    return "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in path).lstrip(".")


def _findings(expression: Expression, path: tuple[str | int, ...],
              key: str | None) -> Iterator[tuple[Code, int, str, str | None]]:
    """(code, offset, message, hint) for what is wrong with one expression at `path`, under `key`."""
    if expression.error is not None:
        yield OB414, expression.error.offset, f"expression cannot be read: {expression.error.message}", None
        return
    contexts, functions = AVAILABILITY.get(key, UNLISTED) if key else UNLISTED
    where = key or _dotted(path)
    for name in expression.names:
        lower = name.name.lower()
        if name.kind == "function":
            if lower not in FUNCTIONS:
                yield OB413, name.offset, f"no function is named {name.name}()", None
            elif lower in SPECIAL_FUNCTIONS and lower not in functions:
                allowed = sorted(k for k, (_, f) in AVAILABILITY.items() if lower in f)
                if all(k.startswith(_STEP_PREFIX) for k in allowed):
                    allowed = ["a step's " + ", ".join(k.removeprefix(_STEP_PREFIX) for k in allowed)]
                hint = ("test it in a step's if:, or in an earlier job whose output this key reads "
                        "(needs.<job>.outputs)" if lower == "hashfiles" else None)
                yield OB413, name.offset, (f"{name.name}() is not available in {where}; it is only in "
                                           f"{', '.join(allowed)}"), hint
        elif lower not in CONTEXTS:
            yield OB413, name.offset, f"no context is named {name.name} (contexts: {', '.join(sorted(CONTEXTS))})", None
        elif lower not in contexts:
            yield OB413, name.offset, (f"context {name.name} is not available in {where}; it may use "
                                       f"{', '.join(sorted(contexts))}"), None


def check_expressions(handbook: Handbook) -> Iterator[Diagnostic]:
    """OB413 and OB414: every expression of every workflow can be read, and names only contexts and
    functions available under its key."""
    for workflow in handbook.loaded_of(Workflow):
        if not isinstance(workflow.data, dict):
            continue
        for path, value in _strings(workflow.data, ()):
            if "${{" not in value and not (path and path[-1] == "if"):
                continue
            key = availability_key(path)
            expressions = condition_expressions(value) if key in CONDITIONS else template_expressions(value)
            for expression in expressions:
                for code, offset, message, hint in _findings(expression, path, key):
                    line, column = _position(workflow.document, path, value, offset)
                    yield make(code, workflow.path, line, column, message, hint=hint)
