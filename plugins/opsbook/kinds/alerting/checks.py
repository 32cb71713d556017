"""The alerting family's checks, which hold alerts, runbooks, routing, teams and metrics together in both
directions (OB310 to OB317)."""

from __future__ import annotations

import re
from collections.abc import Iterator

from ...diagnostics import Code, Diagnostic, Severity, make
from ...model import Handbook, as_list
from .alertmanager import Receiver
from .links import routing_of, runbook_link, runbooks_for_alert, teams_for_receiver
from .rules import AlertRule, RecordingRule

__all__ = ["check_duplicates", "check_metrics", "check_route_tests", "check_routing", "check_runbook_links"]

OB310 = Code("OB310", Severity.ERROR, "Paging alert without a runbook",
         "An alert with a paging severity (`paging_severities`, by default `critical` and `page`) has no "
         "runbook: neither a `runbook_url` or `runbook` annotation or label, nor a runbook that lists it in "
         "`alerts:`. Whoever is woken up by it must find out alone what to do.",
         failing="# ops/alerts/orders-db.yml\n"
                 "groups:\n"
                 "  - name: orders-db\n"
                 "    rules:\n"
                 "      - alert: OrdersDatabaseCorrupt\n"
                 "        expr: pg_checksum_failures_total > 0\n"
                 "        labels: {severity: critical, team: data}\n",
         passing="# ops/alerts/orders-db.yml\n"
                 "groups:\n"
                 "  - name: orders-db\n"
                 "    rules:\n"
                 "      - alert: OrdersDatabaseCorrupt\n"
                 "        expr: pg_checksum_failures_total > 0\n"
                 "        labels: {severity: critical, team: data}\n"
                 "        annotations: {runbook_url: runbooks/orders-db-restore/}\n"
                 "# runbooks/orders-db-restore.yaml\n"
                 "alerts: [OrdersDatabaseDown, OrdersDatabaseCorrupt]\n")
OB311 = Code("OB311", Severity.ERROR, "Runbook link resolves to no runbook",
         "An alert's `runbook_url` points into this handbook's runbooks (a relative `runbooks/<id>/`, or a URL "
         "under the site's `site_url`), or its `runbook` label or annotation holds an id, and no runbook has "
         "that id. A link to another site is not checked.",
         failing="# ops/alerts/orders.yml\n"
                 "groups:\n"
                 "  - name: orders\n"
                 "    rules:\n"
                 "      - alert: OrdersDatabaseDown\n"
                 "        expr: pg_up == 0\n"
                 "        labels: {severity: critical, team: data}\n"
                 "        annotations: {runbook_url: runbooks/orders-db-restor/}\n",
         passing="# ops/alerts/orders.yml\n"
                 "groups:\n"
                 "  - name: orders\n"
                 "    rules:\n"
                 "      - alert: OrdersDatabaseDown\n"
                 "        expr: pg_up == 0\n"
                 "        labels: {severity: critical, team: data}\n"
                 "        annotations: {runbook_url: runbooks/orders-db-restore/}\n")
OB312 = Code("OB312", Severity.WARNING, "Alert and runbook disagree",
         "An alert links a runbook (its `runbook_url`, or a `runbook` label or annotation) that does not list "
         "the alert in its `alerts:`. The two directions should tell the same story, so that the alert page "
         "and the runbook page agree. (A runbook may list an alert that links another runbook: an alert can "
         "have a first runbook and others for when the first does not apply.)",
         failing="# runbooks/orders-db-restore.yaml\n"
                 "alerts: []   # but OrdersDatabaseDown links this runbook\n",
         passing="# runbooks/orders-db-restore.yaml\n"
                 "alerts: [OrdersDatabaseDown]\n")
OB313 = Code("OB313", Severity.WARNING, "Alert routed only to the default or a null receiver",
         "Routed with its own labels, the alert reaches no route but the root (so only the default receiver), "
         "or only receivers without any notification integration. Nobody will hear of it; route it, or lower "
         "its severity if that is intended.",
         failing="# ops/alerts/api.yml\n"
                 "groups:\n"
                 "  - name: api\n"
                 "    rules:\n"
                 "      - alert: ApiDown\n"
                 "        expr: up{job=\"api\"} == 0\n"
                 "        labels: {severity: high}   # no team: only the default route\n",
         passing="# ops/alerts/api.yml\n"
                 "groups:\n"
                 "  - name: api\n"
                 "    rules:\n"
                 "      - alert: ApiDown\n"
                 "        expr: up{job=\"api\"} == 0\n"
                 "        labels: {severity: high, team: data}\n")
OB314 = Code("OB314", Severity.WARNING, "Receiver that no team claims",
         "A receiver of the Alertmanager configuration is in no team's `receivers:`, so the handbook cannot "
         "say who is paged through it. Checked once the handbook has teams; a receiver without any "
         "integration (a null receiver) notifies nobody and needs no team.",
         failing="# ops/teams/team-data.yaml\n"
                 "receivers: [data-pager]   # and nobody claims fallback\n",
         passing="# ops/teams/team-data.yaml\n"
                 "receivers: [data-pager, fallback]\n")
OB315 = Code("OB315", Severity.WARNING, "Alert name defined twice as two conditions that cannot be told apart",
         "Two alerting rules share a name and their labels, and their expressions differ in shape (another "
         "metric, function or matcher): their notifications cannot be told apart, and only one of the two "
         "is what the runbook describes. A family is not reported: definitions whose labels differ (a "
         "`window` or `severity` label), or whose expressions differ only in thresholds and windows (a "
         "multi-window, multi-burn-rate pair), in `for`, or in the values of equality matchers "
         "(`component=\"cpu\"`, carried by the alerts' series).",
         failing="# ops/alerts/replica.yml\n"
                 "groups:\n"
                 "  - name: replica\n"
                 "    rules:\n"
                 "      - alert: OrdersDatabaseDown   # as in ops/alerts/orders.yml, same labels\n"
                 "        expr: pg_up{role=\"replica\"} == 0\n"
                 "        labels: {severity: critical, team: data}\n",
         passing="# ops/alerts/replica.yml\n"
                 "groups:\n"
                 "  - name: replica\n"
                 "    rules:\n"
                 "      - alert: OrdersDatabaseDown   # the same name, told apart by its labels\n"
                 "        expr: pg_up{role=\"replica\"} == 0\n"
                 "        labels: {severity: critical, team: data, role: replica}\n")
OB316 = Code("OB316", Severity.ERROR, "Routing test failed",
         "A routing test's labels, routed through the Alertmanager configuration, reach receivers other than "
         "the ones the test expects (in order).",
         failing="# ops/routing-tests.yaml\n"
                 "tests:\n"
                 "  - labels: {alertname: OrdersDatabaseDown, team: data}\n"
                 "    receivers: [fallback]   # but routed to data-pager\n",
         passing="# ops/routing-tests.yaml\n"
                 "tests:\n"
                 "  - labels: {alertname: OrdersDatabaseDown, team: data}\n"
                 "    receivers: [data-pager]\n")
OB317 = Code("OB317", Severity.WARNING, "Alert reads a metric the catalog does not declare",
         "The handbook has a metrics catalog, and an alert's expression reads a metric that is neither in it "
         "nor produced by a recording rule: a typo, or a metric that was renamed.",
         failing="# ops/metrics.yaml\n"
                 "metrics:\n"
                 "  - {name: pg_stat_activity_count}   # but the alerts read pg_up\n",
         passing="# ops/metrics.yaml\n"
                 "metrics:\n"
                 "  - {name: pg_stat_activity_count}\n"
                 "  - {name: pg_up}\n")


def _alerts(handbook: Handbook) -> list[AlertRule]:
    return handbook.loaded_of(AlertRule)


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
                yield make(OB311, alert.path, line, column,
                           f"alert {alert.id} links runbook '{link.runbook_id}', which does not exist")
            elif alert.id not in as_list(runbook.data.get("alerts")):
                line, column = alert.position(*link.where)
                yield make(OB312, alert.path, line, column,
                           f"alert {alert.id} links runbook '{runbook.id}', which does not list it in alerts:",
                           hint=f"add {alert.id} to alerts: in {runbook.path}")
        if alert.severity in paging and link is None and not runbooks_for_alert(handbook, alert.id):
            line, column = alert.position("alert")
            yield make(OB310, alert.path, line, column,
                       f"alert {alert.id} pages ({alert.severity}) but has no runbook",
                       hint="add annotations.runbook_url, or list the alert in a runbook's alerts:")


def check_routing(handbook: Handbook) -> Iterator[Diagnostic]:
    """OB313 and OB314: alerts reach a real receiver; every receiver belongs to a team."""
    receivers = {r.id: r for r in handbook.records_of(Receiver)}
    for alert in _alerts(handbook):
        routing = routing_of(handbook, alert.routing_labels())
        if routing is None:
            break
        nulls = [name for name in routing.receivers if name in receivers and receivers[name].is_null]
        if routing.only_default or len(nulls) == len(routing.receivers):
            line, column = alert.position("alert")
            why = ("reaches only the root route" if routing.only_default
                   else "reaches only receivers without integrations")
            yield make(OB313, alert.path, line, column,
                       f"alert {alert.id} {why} ({', '.join(routing.receivers)})")
    if "team" not in handbook.present:
        return
    for receiver in receivers.values():
        if receiver.is_null or teams_for_receiver(handbook, receiver.id):
            continue
        line, column = receiver.position("name")
        yield make(OB314, receiver.path, line, column, f"no team claims receiver '{receiver.id}'",
                   hint="add it to the receivers: of the team it notifies")


# An equality matcher's value (`component="cpu"`, not `!=`, `=~` or `==`): the value is carried by the
# alert's series, so definitions differing only there are told apart by that label.
_EQUAL_MATCHER = re.compile(r'([A-Za-z_][A-Za-z0-9_]*)\s*(?<![!=<>])=(?![=~])\s*"(?:[^"\\]|\\.)*"')
# A number or a duration (`0.99`, `1e3`, `5m`, `1h30m`), not a digit inside a name (`http_5xx_total`).
_NUMBER = re.compile(r"(?<![A-Za-z0-9_:.])\d[A-Za-z0-9_.]*(?:[eE][+-]\d+)?")
# A window in a recording rule's name (`job:slo_errors:ratio_rate1h`, `errors_5m_total`), not another
# number in a name (`node_load15`, `http_5xx_total`).
_NAMED_WINDOW = re.compile(r"(?<=[A-Za-z_:])\d+(?:ms|[smhdwy])(?![A-Za-z0-9])")


def _shape(expr: str) -> str:
    """An expression with its thresholds, windows and equality-matched label values masked."""
    masked = _EQUAL_MATCHER.sub(r'\1="#"', " ".join(expr.split()))
    return _NAMED_WINDOW.sub("#", _NUMBER.sub("#", masked))


def check_duplicates(handbook: Handbook) -> Iterator[Diagnostic]:
    """OB315: one alert name defined twice as two different conditions that cannot be told apart.

    Definitions of one name are a family, not reported, when their labels differ (a `window` or
    `severity` label), or when their expressions differ only in numbers and durations (thresholds,
    windows, a window in a recording rule's name: a multi-window burn-rate pair), their `for`, or the
    values of equality matchers (`component="cpu"` and `component="disk"`, carried by the alerts'
    series). A conflict is the same labels over an expression of another shape: another metric,
    another function or another matcher.
    """
    first_of: dict[tuple[str, tuple[tuple[str, str], ...]], AlertRule] = {}
    for alert in _alerts(handbook):
        labels = tuple(sorted(alert.labels.items()))
        first = first_of.setdefault((alert.id, labels), alert)
        if first is not alert and _shape(alert.expr) != _shape(first.expr):
            line, column = alert.position("alert")
            first_line, _ = first.position("alert")
            yield make(OB315, alert.path, line, column,
                       f"alert {alert.id} is also defined at {first.path}:{first_line} with the same labels "
                       "over another expression")


def check_route_tests(handbook: Handbook) -> Iterator[Diagnostic]:
    """OB316: every declared routing test reaches exactly the receivers it expects, in order."""
    for test in handbook.all("route_test"):
        labels = test.labels  # type: ignore[attr-defined]
        expected = test.receivers  # type: ignore[attr-defined]
        routing = routing_of(handbook, labels)
        line, column = test.position()
        if routing is None:
            yield make(OB316, test.path, line, column, "routing tests need an Alertmanager configuration")
            return
        if routing.receivers != expected:
            yield make(OB316, test.path, line, column,
                       f"{test.title}: routed to {','.join(routing.receivers) or 'nothing'}, "
                       f"expected {','.join(expected) or 'nothing'}")


def check_metrics(handbook: Handbook) -> Iterator[Diagnostic]:
    """OB317: alerts read only metrics the catalog declares or recording rules produce."""
    if not handbook.records.get("metric"):
        return
    known = set(handbook.records["metric"]) | {r.id for r in handbook.loaded_of(RecordingRule)}
    for alert in _alerts(handbook):
        missing = [name for name in alert.metrics if name not in known]
        if missing:
            line, column = alert.position("expr")
            yield make(OB317, alert.path, line, column,
                       f"alert {alert.id} reads {', '.join(missing)}, not in the metrics catalog")


