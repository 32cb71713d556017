"""Pages of the metrics catalog: the catalog, and a page per metric with the alerts that read it."""

from __future__ import annotations

from collections.abc import Iterator

from ..kinds.alerts import AlertRule
from ..model import Handbook
from . import Page, Renderer


def metric_pages(handbook: Handbook, renderer: Renderer) -> Iterator[Page]:
    metrics = handbook.all("metric")
    if not metrics:
        return
    readers: dict[str, list[AlertRule]] = {}
    for alert in handbook.loaded.get("alert", []):
        if isinstance(alert, AlertRule):
            for name in alert.metrics:
                readers.setdefault(name, []).append(alert)
    for metric in metrics:
        uri = renderer.uri_of(metric)
        text = renderer.render("metric.md.j2", uri, metric=metric, alerts=readers.get(metric.id, []))
        yield Page(uri, text, source=metric.path, title=metric.id)
    uri = renderer.index_uri("metric")
    yield Page(uri, renderer.render("metrics_index.md.j2", uri, metrics=metrics, readers=readers),
               title="Metrics", in_nav=True)
