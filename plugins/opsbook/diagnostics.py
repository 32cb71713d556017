"""The one problem type every loader and check yields, and the catalogue of its codes."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field


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
    """A diagnostic code's documentation: what it means, and a failing and a passing example."""

    code: str
    severity: Severity
    title: str
    explanation: str
    failing: str = ""
    passing: str = ""


CODES: dict[str, Code] = {}


def register(code: str, severity: Severity, title: str, explanation: str, failing: str = "", passing: str = "") -> Code:
    """Declare a diagnostic code; each check module declares the codes it yields."""
    entry = Code(code, severity, title, explanation.strip(), failing.strip("\n"), passing.strip("\n"))
    if code in CODES and CODES[code] != entry:  # the same declaration again is a module imported twice
        raise ValueError(f"diagnostic code {code} declared twice, differently")
    CODES[code] = entry
    return entry


def make(code: str, path: str, line: int, column: int, message: str, hint: str | None = None,
         severity: Severity | None = None) -> Diagnostic:
    """Build a diagnostic for a declared code, with that code's default severity unless told."""
    return Diagnostic(path, line, column, severity if severity is not None else CODES[code].severity,
                      code, message, hint)


def sort_key(diagnostic: Diagnostic) -> tuple[str, int, int, str]:
    return (diagnostic.path, diagnostic.line, diagnostic.column, diagnostic.code)
