"""Alerting across kinds: which runbook an alert links, where Alertmanager routes it, which team it pages,
and the checks that hold those links together in both directions."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit

from ..diagnostics import Diagnostic, Severity, make, register
from ..model import Handbook, Record
from .alerts import AlertRule, RecordingRule
from .routing import AlertmanagerConfig, Receiver

__all__ = ["RunbookLink", "Routing", "primary_alertmanager", "runbook_link", "runbooks_for_alert", "routing_of", "teams_for_receiver",
           "ALERTING_CHECKS"]

register("OB310", Severity.ERROR, "Paging alert without a runbook",
         "An alert with a paging severity (`paging_severities`, by default `critical` and `page`) has no "
         "runbook: neither a `runbook_url` or `runbook` annotation or label, nor a runbook that lists it in "
         "`alerts:`. Whoever is woken up by it must find out alone what to do.",
         failing="- alert: OrdersDatabaseDown\n  expr: pg_up == 0\n  labels: {severity: critical}\n",
         passing="- alert: OrdersDatabaseDown\n  expr: pg_up == 0\n  labels: {severity: critical}\n"
                 "  annotations: {runbook_url: 'runbooks/orders-db-restore/'}\n")
register("OB311", Severity.ERROR, "Runbook link resolves to no runbook",
         "An alert's `runbook_url` points into this handbook's runbooks (a relative `runbooks/<id>/`, or a URL "
         "under the site's `site_url`), or its `runbook` label or annotation holds an id, and no runbook has "
         "that id. A link to another site is not checked.",
         failing="annotations: {runbook_url: 'runbooks/orders-db-restor/'}\n",
         passing="annotations: {runbook_url: 'runbooks/orders-db-restore/'}\n")
register("OB312", Severity.WARNING, "Alert and runbook disagree",
         "An alert links a runbook (its `runbook_url`, or a `runbook` label or annotation) that does not list "
         "the alert in its `alerts:`. The two directions should tell the same story, so that the alert page "
         "and the runbook page agree. (A runbook may list an alert that links another runbook: an alert can "
         "have a first runbook and others for when the first does not apply.)",
         failing="# ops/alerts/orders.yml\nannotations: {runbook_url: runbooks/orders-db-failover/}\n"
                 "# runbooks/orders-db-failover.yaml\nalerts: []\n",
         passing="# runbooks/orders-db-failover.yaml\nalerts: [OrdersDatabaseDown]\n")
register("OB313", Severity.WARNING, "Alert routed only to the default or a null receiver",
         "Routed with its own labels, the alert reaches no route but the root (so only the default receiver), "
         "or only receivers without any notification integration. Nobody will hear of it; route it, or lower "
         "its severity if that is intended.")
register("OB314", Severity.WARNING, "Receiver that no team claims",
         "A receiver of the Alertmanager configuration is in no team's `receivers:`, so the handbook cannot "
         "say who is paged through it. Checked once the handbook has teams; a receiver without any "
         "integration (a null receiver) notifies nobody and needs no team.")
register("OB315", Severity.WARNING, "Alert name defined twice with different definitions",
         "Two alerting rules share a name but differ in expression, labels or `for`. That is sometimes "
         "intended (a warning and a critical threshold), but the runbook and the routing then serve both.")
register("OB316", Severity.ERROR, "Routing test failed",
         "A routing test's labels, routed through the Alertmanager configuration, reach receivers other than "
         "the ones the test expects (in order).",
         failing="tests:\n  - labels: {severity: critical}\n    receivers: [pager]   # but routed to default\n")
register("OB317", Severity.WARNING, "Alert reads a metric the catalog does not declare",
         "The handbook has a metrics catalog, and an alert's expression reads a metric that is neither in it "
         "nor produced by a recording rule: a typo, or a metric that was renamed.")


@dataclass(frozen=True)
class RunbookLink:
    """Where an alert says its runbook is.

    Attributes:
        raw: The value as written.
        where: The path of the label or annotation inside the rule.
        runbook_id: The runbook id it names, when it points into this handbook.
        external: Whether it is a URL to another site (not checked).
    """

    raw: str
    where: tuple[str, str]
    runbook_id: str | None
    external: bool


def _runbook_id_from_url(handbook: Handbook, url: str) -> tuple[str | None, bool]:
    known: dict[str, tuple[str | None, bool]] = handbook.derived("alerting.runbook_urls", lambda hb: {})
    if url not in known:  # thousands of alerts share a handful of link forms: each is read once
        known[url] = _read_runbook_url(handbook, url)
    return known[url]


def _read_runbook_url(handbook: Handbook, url: str) -> tuple[str | None, bool]:
    folder = handbook.config.page_dir("runbook", "runbooks")
    parts = urlsplit(url)
    path = parts.path
    if parts.scheme or parts.netloc:
        site = handbook.config.site_url
        if not site or not url.startswith(site.rstrip("/") + "/"):
            return None, True
        path = urlsplit(url[len(site.rstrip("/")):]).path
    found = re.search(rf"(?:^|/){re.escape(folder)}/([^/#?]+?)(?:\.md|\.html|/index\.html|/)?$", path)
    if found is None:
        return None, True  # a page of the site, or of another one, that is not a runbook: not checked
    return found.group(1), False


def runbook_link(handbook: Handbook, alert: AlertRule) -> RunbookLink | None:
    """The runbook link an alert carries: `runbook_url` annotation, else a `runbook` annotation or label."""
    url = alert.annotations.get("runbook_url")
    if url:
        runbook_id, external = _runbook_id_from_url(handbook, url.strip())
        return RunbookLink(url, ("annotations", "runbook_url"), runbook_id, external)
    for where in ("annotations", "labels"):
        value = (alert.annotations if where == "annotations" else alert.labels).get("runbook")
        if value:
            return RunbookLink(value, (where, "runbook"), value.strip(), False)
    return None


def runbooks_for_alert(handbook: Handbook, name: str) -> list[Record]:
    """Runbooks for an alert name, from both directions: linked by the alert, or listing it."""
    index = handbook.derived("alerting.runbooks", _runbook_index)
    return index.get(name, [])


def _runbook_index(handbook: Handbook) -> dict[str, list[Record]]:
    index: dict[str, list[Record]] = {}

    def add(name: str, runbook: Record | None) -> None:
        if runbook is not None and runbook not in index.setdefault(name, []):
            index[name].append(runbook)

    for runbook in handbook.all("runbook"):
        for name in runbook.data.get("alerts") or []:
            if isinstance(name, str):
                add(name, runbook)
    for alert in handbook.loaded.get("alert", []):
        assert isinstance(alert, AlertRule)
        link = runbook_link(handbook, alert)
        if link is not None and link.runbook_id:
            add(alert.id, handbook.get("runbook", link.runbook_id))
    for runbooks in index.values():
        runbooks.sort(key=lambda r: r.id)
    return index


@dataclass
class Routing:
    """Where an alert goes: the routes it matches, in order, and their receivers."""

    config: AlertmanagerConfig
    routes: list
    receivers: list[str]

    @property
    def only_default(self) -> bool:
        return all(route.parent is None for route in self.routes)


def primary_alertmanager(handbook: Handbook) -> AlertmanagerConfig | None:
    """The Alertmanager configuration that routes the handbook's alerts: the first by id, if several."""
    configs = [c for c in handbook.all("alertmanager") if isinstance(c, AlertmanagerConfig)]
    return configs[0] if configs else None


def routing_of(handbook: Handbook, labels: dict[str, str]) -> Routing | None:
    """Route a label set through the handbook's Alertmanager configuration."""
    config = primary_alertmanager(handbook)
    if config is None or config.tree is None:
        return None
    routes = config.tree.routes_for(labels)
    return Routing(config, routes, [route.receiver for route in routes])


def teams_for_receiver(handbook: Handbook, receiver: str) -> list[Record]:
    """Teams that claim a receiver in their `receivers:`."""
    index = handbook.derived("alerting.teams", lambda hb: _receiver_teams(hb))
    return index.get(receiver, [])


def _receiver_teams(handbook: Handbook) -> dict[str, list[Record]]:
    index: dict[str, list[Record]] = {}
    for team in handbook.all("team"):
        names = team.data.get("receivers")
        for name in names if isinstance(names, list) else []:
            if isinstance(name, str):
                index.setdefault(name, []).append(team)
    return index


def _alerts(handbook: Handbook) -> list[AlertRule]:
    return [alert for alert in handbook.loaded.get("alert", []) if isinstance(alert, AlertRule)]


def check_runbook_links(handbook: Handbook) -> Iterator[Diagnostic]:
    """OB310, OB311 and OB312: every paging alert has a runbook, every link resolves, both directions agree.

    Failing (a critical alert with no runbook):

        - alert: OrdersDatabaseDown
          expr: pg_up == 0
          labels: {severity: critical}

    Passing:

        - alert: OrdersDatabaseDown
          expr: pg_up == 0
          labels: {severity: critical}
          annotations: {runbook_url: runbooks/orders-db-restore/}
    """
    paging = set(handbook.config.paging_severities)
    have_runbooks = "runbook" in handbook.present
    for alert in _alerts(handbook):
        link = runbook_link(handbook, alert)
        if link is not None and link.runbook_id and have_runbooks:
            runbook = handbook.get("runbook", link.runbook_id)
            if runbook is None:
                line, column = alert.position(*link.where)
                yield make("OB311", alert.path, line, column,
                           f"alert {alert.id} links runbook '{link.runbook_id}', which does not exist")
            elif alert.id not in (runbook.data.get("alerts") if isinstance(runbook.data.get("alerts"), list) else []):
                line, column = alert.position(*link.where)
                yield make("OB312", alert.path, line, column,
                           f"alert {alert.id} links runbook '{runbook.id}', which does not list it in alerts:",
                           hint=f"add {alert.id} to alerts: in {runbook.path}")
        if alert.severity in paging and link is None and not runbooks_for_alert(handbook, alert.id):
            line, column = alert.position("alert")
            yield make("OB310", alert.path, line, column,
                       f"alert {alert.id} pages ({alert.severity}) but has no runbook",
                       hint="add annotations.runbook_url, or list the alert in a runbook's alerts:")


def check_routing(handbook: Handbook) -> Iterator[Diagnostic]:
    """OB313 and OB314: alerts reach a real receiver; every receiver belongs to a team."""
    receivers = {r.id: r for r in handbook.all("receiver") if isinstance(r, Receiver)}
    for alert in _alerts(handbook):
        routing = routing_of(handbook, alert.routing_labels())
        if routing is None:
            break
        nulls = [name for name in routing.receivers if name in receivers and receivers[name].is_null]
        if routing.only_default or len(nulls) == len(routing.receivers):
            line, column = alert.position("alert")
            why = ("reaches only the root route" if routing.only_default
                   else "reaches only receivers without integrations")
            yield make("OB313", alert.path, line, column,
                       f"alert {alert.id} {why} ({', '.join(routing.receivers)})")
    if "team" not in handbook.present:
        return
    for receiver in receivers.values():
        if receiver.is_null or teams_for_receiver(handbook, receiver.id):
            continue
        line, column = receiver.position("name")
        yield make("OB314", receiver.path, line, column, f"no team claims receiver '{receiver.id}'",
                   hint="add it to the receivers: of the team it notifies")


def check_duplicates(handbook: Handbook) -> Iterator[Diagnostic]:
    """OB315: alert names defined more than once with different definitions."""
    by_name: dict[str, list[AlertRule]] = {}
    for alert in _alerts(handbook):
        by_name.setdefault(alert.id, []).append(alert)
    for name, alerts in by_name.items():
        first = alerts[0]
        for alert in alerts[1:]:
            if alert.definition() != first.definition():
                line, column = alert.position("alert")
                first_line, _ = first.position("alert")
                yield make("OB315", alert.path, line, column,
                           f"alert {name} is also defined at {first.path}:{first_line}, differently")


def check_route_tests(handbook: Handbook) -> Iterator[Diagnostic]:
    """OB316: every declared routing test reaches exactly the receivers it expects, in order."""
    for test in handbook.all("route_test"):
        labels = test.labels  # type: ignore[attr-defined]
        expected = test.receivers  # type: ignore[attr-defined]
        routing = routing_of(handbook, labels)
        line, column = test.position()
        if routing is None:
            yield make("OB316", test.path, line, column, "routing tests need an Alertmanager configuration")
            return
        if routing.receivers != expected:
            yield make("OB316", test.path, line, column,
                       f"{test.title}: routed to {','.join(routing.receivers) or 'nothing'}, "
                       f"expected {','.join(expected) or 'nothing'}")


def check_metrics(handbook: Handbook) -> Iterator[Diagnostic]:
    """OB317: alerts read only metrics the catalog declares or recording rules produce."""
    if not handbook.records.get("metric"):
        return
    known = set(handbook.records["metric"]) | {r.id for r in handbook.loaded.get("recording_rule", [])
                                                if isinstance(r, RecordingRule)}
    for alert in _alerts(handbook):
        missing = [name for name in alert.metrics if name not in known]
        if missing:
            line, column = alert.position("expr")
            yield make("OB317", alert.path, line, column,
                       f"alert {alert.id} reads {', '.join(missing)}, not in the metrics catalog")


ALERTING_CHECKS = (check_runbook_links, check_routing, check_duplicates, check_route_tests, check_metrics)
