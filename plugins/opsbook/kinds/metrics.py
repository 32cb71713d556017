"""The metrics catalog: the metrics the system exports, so that alerts reading unknown ones stand out."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from ..diagnostics import Diagnostic
from ..loader import Document
from ..model import Kind, Record, Ref
from ..schema import validated_items

if TYPE_CHECKING:
    from ..render import Page, Renderer

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


def _pages(handbook: Any, renderer: Renderer) -> Iterator[Page]:
    from ..render.metrics import metric_pages

    yield from metric_pages(handbook, renderer)


KIND = Kind(
    name="metric",
    plural="metrics",
    record_type=Metric,
    folders=("ops/metrics.yaml", "ops/metrics.yml", "metrics.yaml"),
    schema="metrics",
    records_from=metric_records,
    refs=(Ref("component", "component", label="Metrics exported"),),
    pages=_pages,
)
