"""The metrics catalog: the metrics the system exports, so that alerts reading unknown ones stand out."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import ClassVar

from ...diagnostics import Diagnostic
from ...loader import Document
from ...model import Kind, Record, Ref
from ...schema_validation import validated_items

__all__ = ["KIND", "Metric"]


@dataclass
class Metric(Record):
    """A metric of the catalog."""

    kind: ClassVar[str] = "metric"

    index: int = 0

    def _prefix(self) -> tuple[str | int, ...]:
        return ("metrics", self.index)

    @property
    def title(self) -> str:
        return self.id


def metric_records(document: Document) -> Iterator[Record | Diagnostic]:
    problems, metrics = validated_items(document, "metrics", "metrics")
    yield from problems
    for index, metric in enumerate(metrics):
        yield Metric(metric["name"], metric, document, index=index)


KIND = Kind(
    name="metric",
    page_folder="metrics",
    record_type=Metric,
    folders=("ops/metrics.yaml", "ops/metrics.yml", "metrics.yaml"),
    schema="metrics",
    records_from=metric_records,
    refs=(Ref("component", "component", label="Metrics exported"),),
)
