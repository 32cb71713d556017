"""Routing tests: label sets and the receivers Alertmanager must notify, checked by `opsbook check`."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from ...diagnostics import Diagnostic
from ...loader import Document
from ...model import Kind, Record
from ...schema_validation import validate_data
from .alertmanager import written_text
from .scenarios import scenario_records

__all__ = ["KIND", "RouteTest"]


@dataclass
class RouteTest(Record):
    """One routing test."""

    kind: ClassVar[str] = "route_test"

    index: int = 0

    def _prefix(self) -> tuple[str | int, ...]:
        return ("tests", self.index)

    @property
    def title(self) -> str:
        name = self.data.get("name")
        return name if isinstance(name, str) and name else f"test {self.index + 1} of {self.path}"

    @property
    def labels(self) -> dict[str, str]:
        value = self.data.get("labels")
        if not isinstance(value, dict):
            return {}
        return {str(k): written_text(self.document, (*self._prefix(), "labels", k), v) for k, v in value.items()}

    @property
    def receivers(self) -> list[str]:
        value = self.data.get("receivers")
        if not isinstance(value, list):
            return []
        return [written_text(self.document, (*self._prefix(), "receivers", i), v) for i, v in enumerate(value)]


def route_test_records(document: Document) -> Iterator[Record | Diagnostic]:
    """The routing tests of a file, and its scenarios (`scenarios.py`)."""
    problems = validate_data("route-tests", document.data, document) if document.data is not None else []
    yield from problems
    if problems or not isinstance(document.data, dict):
        return
    stem = Path(document.path).name.rsplit(".", 1)[0]
    for index, test in enumerate(document.data.get("tests") or []):
        yield RouteTest(f"{stem}-{index + 1}", test, document, index=index)
    yield from scenario_records(document, document.data.get("scenarios") or [])


KIND = Kind(
    name="route_test",
    page_folder="alerts/routing-tests",
    record_type=RouteTest,
    folders=("ops/routing-tests.yaml", "ops/routing-tests.yml", "routing-tests.yaml"),
    schema="route-tests",
    records_from=route_test_records,
)
