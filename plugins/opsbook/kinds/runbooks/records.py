"""The runbook kind: what to do when something goes wrong, as steps people follow and CI executes."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import re2

from ...diagnostics import Code, Diagnostic, Severity, make
from ...durations import parse_duration
from ...model import Handbook, Kind, Record, Ref, TextField, TextListField

if TYPE_CHECKING:
    import jsonschema

__all__ = ["KIND", "OB030", "OB031", "OB032", "Runbook", "Step", "SEVERITIES", "SECTIONS", "check_expect_patterns",
           "expect_pattern"]

#: Severities a runbook may declare, most urgent first (the schema's `severity` enum).
SEVERITIES = ("critical", "high", "medium", "low")
#: The step lists of a runbook, in the order the runner takes them.
SECTIONS = ("setup", "steps", "verify", "cleanup")

OB030 = Code("OB030", Severity.ERROR, "Step has both or neither of run and manual",
         "Every step is either a shell command (`run`), executed in CI, or instructions for a person "
         "(`manual`), never both and never neither.",
         failing="# runbooks/orders-db-restore.yaml\n"
                 "steps:\n"
                 "  - name: Restore the last backup\n",
         passing="# runbooks/orders-db-restore.yaml\n"
                 "steps:\n"
                 "  - name: Restore the last backup\n"
                 "    manual: Restore the newest backup into a new instance.\n")
OB031 = Code("OB031", Severity.ERROR, "CI skip without a reason",
         "A step marked `ci.skip` is not verified in CI, and the handbook says why on its page. The reason "
         "is the value of `skip`; it may not be empty or a bare `true`.",
         failing="# runbooks/orders-db-restore.yaml\n"
                 "steps:\n"
                 "  - name: Restore the last backup\n"
                 "    run: pg_restore --clean --dbname \"$DATABASE_URL\" latest.dump\n"
                 "    ci: {skip: true}\n",
         passing="# runbooks/orders-db-restore.yaml\n"
                 "steps:\n"
                 "  - name: Restore the last backup\n"
                 "    run: pg_restore --clean --dbname \"$DATABASE_URL\" latest.dump\n"
                 "    ci: {skip: needs production credentials}\n")
OB032 = Code("OB032", Severity.ERROR, "Step output pattern that RE2 does not accept",
         "A step's `expect.stdout` and `expect.stderr` are regular expressions in RE2's syntax (Go's, as "
         "Alertmanager's matchers), matched line by line (`^` and `$` at each line) in time linear in the "
         "output. RE2 has no backreferences (`\\1`) and no lookaround (`(?=`, `(?!`, `(?<=`, `(?<!`): a "
         "pattern that needs them, or is not a regular expression at all, would fail the step in CI. Write "
         "it without them: match the text itself, or check it with a command in the step.",
         failing="# runbooks/orders-db-restore.yaml\n"
                 "steps:\n"
                 "  - name: Restore the last backup\n"
                 "    run: ls backups\n"
                 "    expect: {stdout: '(orders)-\\1'}\n",
         passing="# runbooks/orders-db-restore.yaml\n"
                 "steps:\n"
                 "  - name: Restore the last backup\n"
                 "    run: ls backups\n"
                 "    expect: {stdout: 'orders-orders'}\n")

_RE2_OPTIONS = re2.Options()
_RE2_OPTIONS.log_errors = False  # the error is reported; RE2's own log line on stderr is noise


def expect_pattern(pattern: str) -> Any:
    """An `expect.stdout` or `expect.stderr` pattern compiled by RE2, multi-line (`^` and `$` at each
    line), or, as a string, why RE2 refuses it (backreferences, lookaround, bad syntax). RE2 matches in
    time linear in the output whatever the pattern: `^(a|aa)+$` cannot stall the runner."""
    try:
        return re2.compile(f"(?m:{pattern})", _RE2_OPTIONS)
    except re2.error as error:
        reason = error.args[0] if error.args else error
        return reason.decode("utf-8", "replace") if isinstance(reason, bytes) else str(reason)


@dataclass
class Step:
    """One step of a runbook section, tolerant of invalid data (the schema check reports that)."""

    FIELDS: ClassVar[tuple[str, ...]] = ("name", "run", "manual", "expect", "ci")

    section: str
    index: int
    data: dict[str, Any]

    @property
    def number(self) -> int:
        return self.index + 1

    @property
    def name(self) -> str:
        value = self.data.get("name")
        return value if isinstance(value, str) and value else f"Step {self.number}"

    @property
    def run(self) -> str | None:
        value = self.data.get("run")
        return value if isinstance(value, str) else None

    @property
    def manual(self) -> str | None:
        value = self.data.get("manual")
        return value if isinstance(value, str) else None

    @property
    def expect(self) -> dict[str, Any]:
        value = self.data.get("expect")
        return value if isinstance(value, dict) else {}

    @property
    def skip_reason(self) -> str | None:
        ci = self.data.get("ci")
        reason = ci.get("skip") if isinstance(ci, dict) else None
        return reason if isinstance(reason, str) and reason.strip() else None

    @property
    def runnable(self) -> bool:
        """Whether CI executes the step: a command, not marked to skip."""
        return self.run is not None and self.skip_reason is None

    @property
    def timeout(self) -> float | None:
        return parse_duration(self.expect.get("timeout"))


@dataclass
class Runbook(Record):
    """A runbook, as in the contract of DESIGN.md."""

    kind: ClassVar[str] = "runbook"
    FIELDS: ClassVar[tuple[str, ...]] = (
        "id", "title", "summary", "owner", "service", "severity", "alerts", "symptoms", "related",
        "last_reviewed", "review_every", "inputs", "setup", "steps", "verify", "cleanup")

    summary = TextField(blank=False)
    owner = TextField(blank=False)
    service = TextField(blank=False)
    alerts = TextListField()
    symptoms = TextListField()
    related = TextListField()
    last_reviewed = TextField(blank=False)
    review_every = TextField(blank=False)

    @property
    def severity(self) -> str | None:
        value = self.data.get("severity")
        return value if value in SEVERITIES else None

    @property
    def inputs(self) -> dict[str, dict[str, Any]]:
        value = self.data.get("inputs")
        if not isinstance(value, dict):
            return {}
        return {name: spec if isinstance(spec, dict) else {} for name, spec in value.items()}

    def section(self, name: str) -> list[Step]:
        value = self.data.get(name)
        if not isinstance(value, list):
            return []
        return [Step(name, index, item) for index, item in enumerate(value) if isinstance(item, dict)]

    @property
    def steps(self) -> list[Step]:
        return self.section("steps")

    def all_steps(self) -> list[Step]:
        return [step for name in SECTIONS for step in self.section(name)]


def check_expect_patterns(handbook: Handbook) -> Iterator[Diagnostic]:
    """OB032: every `expect.stdout` and `expect.stderr` pattern is one RE2 accepts, at its line and column."""
    for runbook in handbook.loaded_of(Runbook):
        for step in runbook.all_steps():
            for stream in ("stdout", "stderr"):
                pattern = step.expect.get(stream)
                if not isinstance(pattern, str):
                    continue
                reason = expect_pattern(pattern)
                if isinstance(reason, str):
                    line, column = runbook.position(step.section, step.index, "expect", stream)
                    yield make(OB032, runbook.path, line, column,
                               f"step '{step.name}': expect.{stream} {pattern!r} is not a regular expression "
                               f"RE2 accepts: {reason}")


def _schema_error(error: jsonschema.ValidationError, record: Record | None) -> Diagnostic | bool | None:
    """Turn the schema's step rules into their own codes, with messages that say what to do."""
    if record is None:
        return None
    path = tuple(error.absolute_path)
    if (error.validator == "oneOf" and len(path) == 2 and path[0] in SECTIONS and isinstance(error.instance, dict)):
        has_run, has_manual = "run" in error.instance, "manual" in error.instance
        if has_run == has_manual:
            line, column = record.position(*path)
            which = "both run and manual" if has_run else "neither run nor manual"
            return make(OB030, record.path, line, column,
                        f"{path[0]}[{path[1]}] has {which}; a step has exactly one of them")
    if len(path) >= 2 and path[-2:] == ("ci", "skip"):
        line, column = record.position(*path)
        return make(OB031, record.path, line, column,
                    f"{path[0]}[{path[1]}] is skipped in CI without a reason; write the reason as the value of skip",
                    hint="ci: {skip: needs production credentials}")
    return None


KIND = Kind(
    name="runbook",
    page_folder="runbooks",
    record_type=Runbook,
    folders=("runbooks",),
    schema="runbook",
    refs=(
        Ref("related", "runbook", many=True, label="Related runbooks"),
        Ref("owner", "team", label="Runbooks owned"),
        Ref("service", "component", label="Runbooks"),
        Ref("alerts", "alert", many=True, label="Runbooks"),
    ),
    schema_error=_schema_error,
)
