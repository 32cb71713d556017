"""The one problem type every loader and check yields, and the type of its codes.

Each code is a module-level `Code` value declared beside the check that yields it; the registry
assembles the catalogue (`opsbook.registry.CODES`) from the modules that declare them."""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from types import ModuleType


class Severity(enum.IntEnum):
    """How bad a diagnostic is; the CLI and the MkDocs plugin fail at or above a threshold."""

    INFO = 10
    WARNING = 20
    ERROR = 30

    def __str__(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, text: str) -> Severity:
        return cls[text.upper()]


@dataclass(frozen=True, order=True)
class Diagnostic:
    """One problem found in a source file.

    Attributes:
        path: The file, relative to the handbook root, with `/` separators.
        line: 1-based line of the exact key or item at fault (0 when the file has no position).
        column: 1-based column.
        severity: Error, warning or info.
        code: Stable code such as `OB021`; every code has a reference page.
        message: One sentence saying what is wrong.
        hint: Optionally, what to do about it.
    """

    path: str
    line: int
    column: int
    severity: Severity = field(compare=False)
    code: str
    message: str
    hint: str | None = field(default=None, compare=False)

    def to_dict(self) -> dict[str, object]:
        data: dict[str, object] = {
            "path": self.path,
            "line": self.line,
            "column": self.column,
            "severity": str(self.severity),
            "code": self.code,
            "message": self.message,
        }
        if self.hint:
            data["hint"] = self.hint
        return data

    def location(self) -> str:
        return f"{self.path}:{self.line}:{self.column}"


@dataclass(frozen=True)
class Code:
    """A diagnostic code, declared once next to the check that yields it, with its documentation.

    Attributes:
        code: The stable code, such as `OB021`.
        severity: The severity its diagnostics have unless a check says otherwise.
        title: A few words naming the problem.
        explanation: What the problem is and what to do about it (the code's reference page).
        failing: A source excerpt that yields this code (executed by the test suite).
        passing: The same excerpt corrected, which does not yield it.
        date_driven: Whether the passing of days alone can make it appear on a file nobody touched (a
            review falls due, a drill grows too old): `opsbook check --changed-since REF` fails on such a
            diagnostic only when its file changed since REF (`opsbook.changes`).

    The examples are real inputs, run by `tests/test_codes.py`. Each is one or more files, each introduced
    by a line naming its path from the handbook root: `# runbooks/orders-db-restore.yaml` (`-- ` before a
    SQL migration, `<!-- docs/deploy.md -->` before a page; `, saved in latin-1` after the path writes the
    file in that encoding rather than UTF-8). The files go into a small, clean handbook (`tests/codes/base`:
    a team, a datastore with its backup, drill and runbooks, an alert, the Alertmanager configuration, an
    environment and its deploy workflow). A YAML file that handbook has keeps the top-level keys the example
    does not set, so `severity: urgent` under `# runbooks/orders-db-restore.yaml` changes one field of that
    runbook; any other file is written as it is. The failing example must yield this code and nothing else,
    the passing one nothing at all. A code that no short example can show (a missing program, a file of
    over 5 MiB) has neither, and `tests/test_codes.py` names the test that asserts it instead.
    """

    code: str
    severity: Severity
    title: str
    explanation: str
    failing: str = ""
    passing: str = ""
    date_driven: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "explanation", self.explanation.strip())
        object.__setattr__(self, "failing", self.failing.strip("\n"))
        object.__setattr__(self, "passing", self.passing.strip("\n"))


#: A line of an example naming the file the lines after it go into: `# runbooks/restart-api.yaml` (`-- ` in
#: SQL, `<!-- -->` in Markdown), optionally `, saved in latin-1` for a file in another encoding than UTF-8.
EXAMPLE_PATH = re.compile(r"^(?:#|--|<!--)\s*(?P<path>(?:[\w.-]+/)*[\w.-][\w. -]*\.(?:ya?ml|sql|md|json|sh))"
                          r"(?:,\s*saved in (?P<encoding>[\w-]+))?\s*(?:-->)?\s*$")


@dataclass(frozen=True)
class ExampleFile:
    """One file of a code's example: its path from the handbook root, its encoding, and its text."""

    path: str
    encoding: str
    text: str

    @property
    def language(self) -> str:
        """The language of its text, for highlighting: yaml, sql, markdown, json or shell."""
        suffix = self.path.rsplit(".", 1)[-1]
        return {"yml": "yaml", "md": "markdown", "sh": "shell"}.get(suffix, suffix)


def example_files(text: str) -> list[ExampleFile]:
    """The files of an example, in order (a path may come more than once).

    Raises:
        ValueError: The example does not start with a line naming its file.
    """
    files: list[tuple[str, str, list[str]]] = []
    for line in text.splitlines():
        named = EXAMPLE_PATH.match(line)
        if named:
            files.append((named["path"], named["encoding"] or "utf-8", []))
        elif files:
            files[-1][2].append(line)
        elif line.strip():
            raise ValueError(f"an example starts with the line naming its file, such as "
                             f"'# runbooks/restart-api.yaml'; found {line!r}")
    return [ExampleFile(path, encoding, "\n".join(lines) + "\n") for path, encoding, lines in files]


def catalogue(codes: Iterable[Code]) -> dict[str, Code]:
    """Codes by name, in code order; a code declared twice, differently, is a programming error."""
    found: dict[str, Code] = {}
    for entry in codes:
        if entry.code in found and found[entry.code] is not entry:
            raise ValueError(f"diagnostic code {entry.code} declared twice")
        found[entry.code] = entry
    return dict(sorted(found.items()))


def codes_in(*modules: ModuleType) -> tuple[Code, ...]:
    """The codes the given modules declare or import to yield (their module-level `Code` values), in order."""
    return tuple(value for module in modules for value in vars(module).values() if isinstance(value, Code))


def make(code: Code, path: str, line: int, column: int, message: str, hint: str | None = None,
         severity: Severity | None = None) -> Diagnostic:
    """Build a diagnostic of a declared code, with that code's default severity unless told."""
    return Diagnostic(path, line, column, severity if severity is not None else code.severity,
                      code.code, message, hint)


def sort_key(diagnostic: Diagnostic) -> tuple[str, int, int, str]:
    return (diagnostic.path, diagnostic.line, diagnostic.column, diagnostic.code)
