"""Pages of architecture, disaster recovery and data protection: the system drawn from its components,
a page per component and per backup policy, the RTO/RPO table, the DR testing plan, and the register
of personal data with its data flows."""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from ...cron import cron_in_words
from ...model import Handbook
from ...render import Page, Renderer
from ...render.mermaid import label
from ...render.sections import section
from ..alerting.rules import AlertRule
from ..runbooks.records import Runbook
from .facts import BackupGap, RestoreProof, backup_gap, dr_runbooks, personal_data, restore_proof
from .records import COMPONENT_KINDS, Backup, Component

_SHAPES = {"datastore": ("[(", ")]"), "queue": ("[[", "]]"), "frontend": ("([", "])"), "external": ("{{", "}}"),
           "service": ("[", "]")}


def _components(handbook: Handbook) -> list[Component]:
    return handbook.records_of(Component)


def _backups(handbook: Handbook) -> list[Backup]:
    return handbook.records_of(Backup)


def system_diagram(handbook: Handbook, only: set[str] | None = None, edge_words: str = "protocol") -> str:
    """A Mermaid flowchart of the components (or of `only` them), grouped by owner, edges along depends_on."""
    components = [c for c in _components(handbook) if only is None or c.id in only]
    ids = {c.id: f"c{index}" for index, c in enumerate(components)}
    lines = ["flowchart LR"]
    owners: dict[str, list[Component]] = {}
    for component in components:
        owners.setdefault(component.owner or "", []).append(component)
    for index, (owner, members) in enumerate(sorted(owners.items())):
        team = handbook.get("team", owner)
        title = team.title if team is not None else (owner or "no owner")
        lines.append(f"    subgraph g{index} [{label(title)}]")
        for component in members:
            opening, closing = _SHAPES.get(component.sort, _SHAPES["service"])
            lines.append(f"        {ids[component.id]}{opening}{label(component.title)}{closing}")
        lines.append("    end")
    for component in components:
        for dependency in component.depends_on:
            target = dependency["component"]
            if target in ids:
                words = dependency.get(edge_words) or dependency.get("protocol") or ""
                arrow = f"-->|{label(words, 40)}|" if words else "-->"
                lines.append(f"    {ids[component.id]} {arrow} {ids[target]}")
    for component in components:
        if component.holds_pii:
            lines.append(f"    style {ids[component.id]} stroke-width:3px,stroke-dasharray: 5 3")
    return "\n".join(lines)


@dataclass
class _ComponentView:
    component: Component
    uses: list[tuple[dict[str, Any], Component | None]]
    used_by: list[tuple[Component, dict[str, Any]]]
    runbooks: list[Any]
    alerts: list[AlertRule]
    backups: list[Backup]

    @property
    def protection(self) -> Any:
        return personal_data(self.component)


def _view(handbook: Handbook, component: Component) -> _ComponentView:
    uses = [(dep, handbook.record_of(Component, dep["component"])) for dep in component.depends_on]
    used_by = []
    for other in _components(handbook):
        for dep in other.depends_on:
            if dep["component"] == component.id:
                used_by.append((other, dep))
    runbooks = [r.source for r in handbook.referrers(component, "runbook")]
    alerts = [a for a in handbook.loaded_of(AlertRule) if a.labels.get("service") == component.id]
    backups = [r.source for r in handbook.referrers(component, "backup") if isinstance(r.source, Backup)]
    return _ComponentView(component, uses, used_by, runbooks, alerts, backups)


def component_pages(handbook: Handbook, renderer: Renderer) -> Iterator[Page]:
    components = _components(handbook)
    for component in components:
        uri = renderer.uri_of(component)
        text = renderer.render("component.md.j2", uri, view=_view(handbook, component),
                               logs=[r.source for r in handbook.referrers(component, "log")],
                               metrics=[r.source for r in handbook.referrers(component, "metric")])
        yield Page(uri, text, source=component.path, title=component.title)
    if not components:
        return
    uri = renderer.index_uri("component")
    yield Page(uri, "# Components\n\n" + architecture_section(handbook, renderer, uri), title="Components",
               in_nav=True)
    uri = f"{renderer.page_dir('component')}/personal-data.md"
    text = "# Personal data register\n\n" + personal_data_section(handbook, renderer, uri) + \
        "\n## Where it travels\n\n" + data_flow_section(handbook, renderer, uri)
    yield Page(uri, text, title="Personal data register", in_nav=True)


@section("architecture", "The system overview: a diagram of every component grouped by owner, and their table.")
def architecture_section(handbook: Handbook, renderer: Renderer, uri: str) -> str:
    components = sorted(_components(handbook), key=lambda c: (COMPONENT_KINDS.index(c.sort)
                                                              if c.sort in COMPONENT_KINDS else 9, c.title.lower()))
    return renderer.render("architecture.md.j2", uri, components=components, diagram=system_diagram(handbook))


@section("personal-data", "The register of personal data: datastore, fields, lawful basis, retention, "
                          "encryption and deletion runbook.")
def personal_data_section(handbook: Handbook, renderer: Renderer, uri: str) -> str:
    holders = [personal_data(c) for c in _components(handbook) if c.holds_pii]
    return renderer.render("personal_data.md.j2", uri, holders=holders)


@section("data-flows", "A diagram of where personal data is held and where it travels.")
def data_flow_section(handbook: Handbook, renderer: Renderer, uri: str) -> str:
    holders = {c.id for c in _components(handbook) if c.holds_pii}
    involved = set(holders)
    for component in _components(handbook):
        for dependency in component.depends_on:
            if dependency["component"] in holders or component.id in holders:
                involved.update({component.id, dependency["component"]})
    diagram = system_diagram(handbook, only=involved, edge_words="purpose") if holders else ""
    return renderer.render("data_flows.md.j2", uri, diagram=diagram, holders=sorted(holders))


@dataclass
class _BackupView:
    backup: Backup
    datastore: Component | None
    words: str
    after: _dt.datetime
    next_runs: list[Any]
    gap: str
    within_rpo: bool | None


def _backup_view(handbook: Handbook, backup: Backup) -> _BackupView:
    """What a backup page states: the schedule in words and `backup_gap`'s facts, as OB600–OB602 judge them."""
    found: BackupGap = backup_gap(handbook, backup)
    schedule = backup.schedule or ""
    words = cron_in_words(schedule) if found.schedule is not None else schedule
    after = build_instant(handbook.config.today_date, pinned=handbook.config.today_is_pinned)
    return _BackupView(backup, found.datastore, words, after, found.next_runs(after), found.gap_words, found.meets_rpo)


def build_instant(today: _dt.date, pinned: bool) -> _dt.datetime:
    """The instant a page is built for, in UTC (naive), to the minute: now, or the start of `today` when
    the date is pinned (a test, a rebuild of an old commit), so that such a page is the same on every build."""
    if pinned:
        return _dt.datetime.combine(today, _dt.time())
    return _dt.datetime.now(_dt.UTC).replace(tzinfo=None, second=0, microsecond=0)


def recovery_pages(handbook: Handbook, renderer: Renderer) -> Iterator[Page]:
    backups = _backups(handbook)
    for backup in backups:
        uri = renderer.uri_of(backup)
        text = renderer.render("backup.md.j2", uri, view=_backup_view(handbook, backup))
        yield Page(uri, text, source=backup.path, title=f"Backup policy {backup.id}")
    if not backups and not _components(handbook):
        return
    uri = renderer.index_uri("backup")
    text = "# Recovery objectives and backups\n\n## Recovery objectives\n\n" + \
        rto_rpo_section(handbook, renderer, uri) + \
        "\n## Backup policies\n\n" + backups_section(handbook, renderer, uri) + \
        "\n## DR testing plan\n\n" + dr_plan_section(handbook, renderer, uri)
    yield Page(uri, text, title="Recovery objectives and backups", in_nav=True)


@section("rto-rpo", "The recovery time and recovery point objectives of every component.")
def rto_rpo_section(handbook: Handbook, renderer: Renderer, uri: str) -> str:
    return renderer.render("rto_rpo.md.j2", uri, components=_components(handbook))


@section("backups", "The backup policies: schedule in words, next runs, worst gap against the RPO, retention.")
def backups_section(handbook: Handbook, renderer: Renderer, uri: str) -> str:
    return renderer.render("backups.md.j2", uri, views=[_backup_view(handbook, b) for b in _backups(handbook)])


@dataclass
class _PlanRow:
    runbook: Runbook
    role: str
    proof: RestoreProof


@section("dr-plan", "The DR testing plan: every restore and verify runbook, its last drill, its last CI "
                    "verification, and when the next one is due.")
def dr_plan_section(handbook: Handbook, renderer: Renderer, uri: str) -> str:
    """The plan states `restore_proof` for each runbook `dr_runbooks` names: what OB603 judges."""
    roles: dict[str, set[str]] = {}
    runbooks: dict[str, Runbook] = {}
    for named in dr_runbooks(handbook):
        roles.setdefault(named.runbook.id, set()).add(named.role)
        runbooks.setdefault(named.runbook.id, named.runbook)
    rows = [_PlanRow(runbooks[runbook_id], ", ".join(sorted(role)), restore_proof(handbook, runbooks[runbook_id]))
            for runbook_id, role in sorted(roles.items())]
    return renderer.render("dr_plan.md.j2", uri, rows=rows, today=handbook.config.today_date,
                           window=handbook.config.drill_window)
