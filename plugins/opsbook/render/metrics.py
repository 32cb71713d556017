"""Pages of the metrics catalog: the catalog, and a page per metric with the alerts that read it."""

from __future__ import annotations

from collections.abc import Iterator

from ..kinds.alerts import AlertRule
from ..model import Handbook
from . import Page, Renderer
from .sections import section


def metric_pages(handbook: Handbook, renderer: Renderer) -> Iterator[Page]:
    metrics = handbook.all("metric")
    if not metrics:
        return
    readers = _readers(handbook)
    for metric in metrics:
        uri = renderer.uri_of(metric)
        text = renderer.render("metric.md.j2", uri, metric=metric, alerts=readers.get(metric.id, []))
        yield Page(uri, text, source=metric.path, title=metric.id)
    uri = renderer.index_uri("metric")
    yield Page(uri, metrics_index(handbook, renderer, uri), title="Metrics", in_nav=True)


def _readers(handbook: Handbook) -> dict[str, list[AlertRule]]:
    readers: dict[str, list[AlertRule]] = {}
    for alert in handbook.loaded.get("alert", []):
        if isinstance(alert, AlertRule):
            for name in alert.metrics:
                readers.setdefault(name, []).append(alert)
    return readers


@section("metrics", "The metrics catalog, with how many alerts read each metric.")
def metrics_index(handbook: Handbook, renderer: Renderer, uri: str) -> str:
    return renderer.render("metrics_index.md.j2", uri, metrics=handbook.all("metric"), readers=_readers(handbook))
