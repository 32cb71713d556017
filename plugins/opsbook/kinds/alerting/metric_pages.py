"""Pages of the metrics catalog: the catalog, and a page per metric with the alerts that read it."""

from __future__ import annotations

from collections.abc import Iterator

from ...model import Handbook
from ...render import Page, Renderer
from ...render.sections import section
from .rules import AlertRule, RecordingRule


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
    yield Page(uri, "# Metrics\n\n" + metrics_index(handbook, renderer, uri), title="Metrics", in_nav=True)


def _readers(handbook: Handbook) -> dict[str, list[tuple[AlertRule, str | None]]]:
    """For each metric, the alerts that read it: directly (None), or through a recording rule (its name),
    however many recording rules lie between."""
    recorded: dict[str, set[str]] = {}
    for rule in handbook.loaded_of(RecordingRule):
        recorded.setdefault(rule.id, set()).update(rule.metrics)

    closure: dict[str, set[str]] = {}

    def sources(name: str) -> set[str]:
        """Every metric a recorded series is computed from, however deep (walked, not recursed: a chain
        may be long), a cycle ending where it closes."""
        if name not in closure:
            found: set[str] = set()
            pending = list(recorded.get(name, ()))
            while pending:
                metric = pending.pop()
                if metric not in found and metric != name:
                    found.add(metric)
                    pending.extend(recorded.get(metric, ()))
            closure[name] = found
        return closure[name]

    readers: dict[str, list[tuple[AlertRule, str | None]]] = {}
    for alert in handbook.loaded_of(AlertRule):
        reached: dict[str, str | None] = {}
        for name in alert.metrics:
            reached.setdefault(name, None)
        for name in alert.metrics:
            for metric in sorted(sources(name)):
                reached.setdefault(metric, name)
        for metric, via in reached.items():
            readers.setdefault(metric, []).append((alert, via))
    return readers


@section("metrics", "The metrics catalog, with how many alerts read each metric.")
def metrics_index(handbook: Handbook, renderer: Renderer, uri: str) -> str:
    return renderer.render("metrics_index.md.j2", uri, metrics=handbook.all("metric"), readers=_readers(handbook))
