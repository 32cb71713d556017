"""Pages of alerting: the alert catalog, a page per alert and per rule group, and the routing page."""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup

from ...model import Handbook, Record, as_list
from ...render import Page, Renderer
from ...render.markdown import inline_code, md_inline
from ...render.sections import section
from .alertmanager import AlertmanagerConfig, Receiver
from .coverage import alert_coverage, paged_when
from .gotemplate import placeholders
from .links import Routing, primary_alertmanager, routing_of, runbook_link, runbooks_for_alert, teams_for_receiver
from .routing import Matcher
from .rules import AlertRule, RecordingRule, RuleGroup
from .scenarios import verdicts
from .timeintervals import IntervalEntry, Range, load_location

#: How many of the runbook's first steps an alert page lists under "What to do now".
FIRST_STEPS = 3
_SEVERITY_ORDER = ("page", "critical", "high", "warning", "medium", "low", "info", "none")


@dataclass
class AlertView:
    """One definition of an alert, with everything its page and the catalog show."""

    alert: AlertRule
    group: Record | None
    routing: Routing | None
    teams: list[Record]


def _step_name(step: object, index: int) -> str:
    """The name of a runbook's step as its page numbers it (read from the record's data: the runbooks
    family is a sibling of this one)."""
    name = step.get("name") if isinstance(step, dict) else None
    return name if isinstance(name, str) and name else f"Step {index + 1}"


def shown_template(text: object) -> Markup:
    """An annotation as a person reads it: each simple action of its Go template a readable placeholder
    (`{{ $labels.instance }}` → ‹instance›, `gotemplate.placeholders`); a template with control
    structures, or one that does not parse, is shown as written, as code."""
    value = "" if text is None else str(text)
    readable = placeholders(value)
    if "{{" in readable:
        return inline_code(value)
    return md_inline(readable)


def routing_for(handbook: Handbook, alert: AlertRule) -> Routing | None:
    cache = handbook.derived("alerting.routing", lambda hb: {})
    key = id(alert)
    if key not in cache:
        cache[key] = routing_of(handbook, alert.routing_labels())
    return cache[key]


def alert_view(handbook: Handbook, alert: AlertRule) -> AlertView:
    routing = routing_for(handbook, alert)
    teams: list[Record] = []
    for receiver in routing.receivers if routing else []:
        for team in teams_for_receiver(handbook, receiver):
            if team not in teams:
                teams.append(team)
    return AlertView(alert, handbook.get("rule_group", alert.group_id), routing, teams)


def _views(handbook: Handbook) -> list[AlertView]:
    """Every alert definition with its routing and teams, computed once for all the alerting pages."""
    return handbook.derived("alerting.views", lambda hb: [alert_view(hb, a) for a in hb.loaded_of(AlertRule)])


def _severity_key(view: AlertView) -> tuple[int, str]:
    severity = view.alert.severity or "none"
    rank = _SEVERITY_ORDER.index(severity) if severity in _SEVERITY_ORDER else len(_SEVERITY_ORDER)
    return (rank, view.alert.id.lower())


def alert_pages(handbook: Handbook, renderer: Renderer) -> Iterator[Page]:
    alerts = handbook.loaded_of(AlertRule)
    views = _views(handbook)
    by_name: dict[str, list[AlertView]] = {}
    for view in views:
        by_name.setdefault(view.alert.id, []).append(view)
    for name, variants in by_name.items():
        first = variants[0].alert
        uri = renderer.uri_of(first)
        incidents = [r.source for r in handbook.referrers(first, "incident")]
        runbooks = runbooks_for_alert(handbook, name)
        steps = [_step_name(step, index) for index, step in
                 enumerate(as_list(runbooks[0].data.get("steps")) if runbooks else [])]
        text = renderer.render("alert.md.j2", uri, name=name, variants=variants, incidents=incidents,
                               runbooks=runbooks, runbook_ref=runbook_link(handbook, first),
                               first_steps=steps[:FIRST_STEPS], more_steps=max(len(steps) - FIRST_STEPS, 0),
                               page_of=renderer.uri_of, shown=shown_template,
                               paged_when=paged_when(alert_coverage(handbook, first)),
                               held_back=_inhibited_by(handbook, first), matchers_text=_matchers_text,
                               routing_uri=renderer.index_uri("alertmanager"))
        yield Page(uri, text, source=first.path, title=name)
    groups = handbook.records_of(RuleGroup)
    if not alerts and not groups:
        return
    uri = renderer.index_uri("alert")
    yield Page(uri, "# Alerts\n\n" + alerts_index(handbook, renderer, uri), title="Alerts", in_nav=True)


@section("alerts", "The alert catalog: every alert with its severity, team paged, runbook and receivers.")
def alerts_index(handbook: Handbook, renderer: Renderer, uri: str) -> str:
    views = _views(handbook)
    groups = handbook.records_of(RuleGroup)
    catalog = sorted(views, key=_severity_key)
    recording_count = len(handbook.loaded.get("recording_rule", []))
    return renderer.render("alerts_index.md.j2", uri, catalog=catalog, groups=groups,
                           names=len({v.alert.id for v in views}), recording_count=recording_count,
                           runbooks_for=lambda n: runbooks_for_alert(handbook, n),
                           routing_uri=renderer.index_uri("alertmanager"),
                           has_routing=bool(handbook.all("alertmanager")))



def routing_pages(handbook: Handbook, renderer: Renderer) -> Iterator[Page]:
    config = primary_alertmanager(handbook)
    if config is None:
        return
    uri = renderer.index_uri("alertmanager")
    yield Page(uri, "# Who gets paged\n\n" + routing_index(handbook, renderer, uri), source=config.path,
               title="Who gets paged", in_nav=True)


@section("alert-routing", "The Alertmanager routing tree, receivers, inhibition rules and routing tests.")
def routing_index(handbook: Handbook, renderer: Renderer, uri: str) -> str:
    configs = handbook.records_of(AlertmanagerConfig)
    config = primary_alertmanager(handbook)
    if config is None:
        return "No Alertmanager configuration.\n"
    receivers = handbook.records_of(Receiver)
    tests = []
    for test in handbook.all("route_test"):
        routing = routing_of(handbook, test.labels)  # type: ignore[attr-defined]
        got = routing.receivers if routing else []
        tests.append((test, got, got == test.receivers))  # type: ignore[attr-defined]
    intervals = sorted(config.simulator.intervals.items()) if config.simulator else []
    return renderer.render("routing.md.j2", uri, config=config, others=[c for c in configs if c is not config],
                           matchers_text=_matchers_text, intervals=intervals,
                           inhibit_rules=config.simulator.rules if config.simulator else [],
                           interval_text=interval_text,
                           scenarios=verdicts(handbook), moment_text=moment_text,
                           routes=list(config.tree.root.walk()) if config.tree else [], receivers=receivers,
                           teams_for=lambda name: teams_for_receiver(handbook, name), tests=tests)


def group_pages(handbook: Handbook, renderer: Renderer) -> Iterator[Page]:
    views = _views(handbook)
    for group in handbook.records_of(RuleGroup):
        uri = renderer.uri_of(group)
        members = [v for v in views if v.alert.group_id == group.id]
        recording = [r for r in handbook.loaded_of(RecordingRule) if r.group_id == group.id]
        text = renderer.render("rule_group.md.j2", uri, group=group, alerts=members, recording=recording,
                               show_dialect=bool(handbook.config.rule_dialects), setting_text=setting_text)
        yield Page(uri, text, source=group.path, title=f"Rule group {group.name}")


def setting_text(value: object) -> str:
    """A rule group's setting as one line: `a=1, b=2` for labels, items joined by commas for a list."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    if isinstance(value, dict):
        return ", ".join(f"{key}={setting_text(item)}" for key, item in value.items())
    if isinstance(value, list):
        return ", ".join(setting_text(item) for item in value)
    return str(value)


def receiver_pages(handbook: Handbook, renderer: Renderer) -> Iterator[Page]:
    alerts = handbook.loaded_of(AlertRule)
    for receiver in handbook.records_of(Receiver):
        uri = renderer.uri_of(receiver)
        reaching = []
        for alert in alerts:
            routing = routing_for(handbook, alert)
            if routing and receiver.id in routing.receivers:
                reaching.append(alert)
        config = primary_alertmanager(handbook)
        routes = [r for r in config.tree.root.walk() if r.receiver == receiver.id] if config and config.tree else []
        text = renderer.render("receiver.md.j2", uri, receiver=receiver, alerts=reaching, routes=routes,
                               teams=teams_for_receiver(handbook, receiver.id),
                               routing_uri=renderer.index_uri("alertmanager"))
        yield Page(uri, text, source=receiver.path, title=f"Receiver {receiver.id}")


def moment_text(at: _dt.datetime, zone: str | None) -> str:
    """An instant as a reader reads it: `Wed 2026-12-02 15:00 in Europe/Berlin (UTC+01:00)`."""
    place = load_location(zone)[0] if zone else None
    if place is not None:
        at = at.astimezone(place)  # an instant written with an offset, shown as the zone's wall clock
    offset = at.strftime("%z")
    where = f" in {zone}" if place is not None else ""
    return f"{at.strftime('%a %Y-%m-%d %H:%M')}{where} (UTC{offset[:3]}:{offset[3:]})" if offset else \
        f"{at.strftime('%a %Y-%m-%d %H:%M')}{where}"


_WEEKDAYS = ("Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def interval_text(entry: IntervalEntry) -> str:
    """One entry of a time interval as a reader reads it: `Mon–Fri, 09:00–18:00 (Europe/Berlin)`."""
    def spans(ranges: tuple[Range, ...], name: Callable[[int], str]) -> str:
        return ", ".join(name(r.begin) if r.begin == r.end else f"{name(r.begin)}–{name(r.end)}" for r in ranges)

    def day(number: int) -> str:
        return "the last day" if number == -1 else f"{-number}th-last day" if number < 0 else str(number)

    parts = []
    if entry.weekdays is not None:
        parts.append(spans(entry.weekdays, lambda n: _WEEKDAYS[n % 7]) or "no weekday")
    if entry.days_of_month is not None:
        parts.append("days " + (spans(entry.days_of_month, day) or "none"))
    if entry.months is not None:
        parts.append(spans(entry.months, lambda n: _MONTHS[(n - 1) % 12]) or "no month")
    if entry.years is not None:
        parts.append(spans(entry.years, str) or "no year")
    if entry.times is not None:
        parts.append(", ".join(f"{t.start // 60:02d}:{t.start % 60:02d}–{t.end // 60:02d}:{t.end % 60:02d}"
                               for t in entry.times) or "no time of day")
    text = ", ".join(parts) or "always"
    return f"{text} ({entry.location.name if entry.location else 'UTC'})"


def _inhibited_by(handbook: Handbook, alert: AlertRule) -> list[Any]:
    """The inhibition rules whose target side the alert's own labels match: while a source fires, it is
    silenced (the rule's `equal` labels permitting)."""
    config = primary_alertmanager(handbook)
    if config is None or config.simulator is None:
        return []
    labels = alert.routing_labels()
    return [rule for rule in config.simulator.rules if rule.targets(labels)]


def _matchers_text(matchers: Iterable[Matcher]) -> Markup:
    """An inhibition rule's side, its matchers as Alertmanager read them (values as written), as code."""
    return Markup(", ").join(inline_code(str(matcher)) for matcher in matchers)
