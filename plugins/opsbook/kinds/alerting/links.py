"""Alerting across kinds, as facts that checks and pages both read: which runbook an alert links, where
Alertmanager routes it, which teams a receiver pages. Each is computed once per handbook."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from ...model import Handbook, Record
from .alertmanager import AlertmanagerConfig
from .rules import AlertRule

__all__ = ["RunbookLink", "Routing", "primary_alertmanager", "routing_of", "runbook_link", "runbooks_for_alert",
           "teams_for_receiver"]


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
    found = re.search(rf"(?:^|/){re.escape(folder)}/([^/#?]+?)(?:\.md|\.html|/index\.html|/)?\Z", path)
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
    for alert in handbook.loaded_of(AlertRule):
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
    configs = handbook.records_of(AlertmanagerConfig)
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
