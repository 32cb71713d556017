"""Pages of teams: one page per team with its on-call and everything it owns or is paged for."""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterator

from ...model import Handbook
from ...render import Page, Renderer
from ...render.sections import section
from ..alerting.coverage import heat_map, paged_when, team_coverage
from ..alerting.pages import routing_for
from ..alerting.rules import AlertRule
from .records import Team


def team_pages(handbook: Handbook, renderer: Renderer) -> Iterator[Page]:
    teams = handbook.records_of(Team)
    alerts = handbook.loaded_of(AlertRule)
    for team in teams:
        uri = renderer.uri_of(team)
        paged = []
        for alert in alerts:
            routing = routing_for(handbook, alert)
            if routing and set(routing.receivers) & set(team.receivers):
                paged.append(alert)
        owned: dict[str, list] = {}
        for reference in handbook.referrers(team):
            owned.setdefault(reference.source.kind, []).append(reference.source)
        coverage = team_coverage(handbook, team)
        week = None
        if coverage is not None:
            title = f"Who is paged when, for {team.title}'s paging alerts, hour by hour ({coverage.week.zone})"
            today = handbook.config.today_date
            monday = today - _dt.timedelta(days=today.weekday())
            week = (heat_map(title, coverage.week), paged_when(coverage), monday.isoformat())
        text = renderer.render("team.md.j2", uri, team=team, paged=paged, owned=owned, week=week)
        yield Page(uri, text, source=team.path, title=team.title)
    if teams:
        uri = renderer.index_uri("team")
        yield Page(uri, "# Teams and on-call\n\n" + teams_index(handbook, renderer, uri), title="Teams and on-call",
                   in_nav=True)


@section("teams", "The teams, their channels and the receivers that page them.")
def teams_index(handbook: Handbook, renderer: Renderer, uri: str) -> str:
    teams = handbook.records_of(Team)
    return renderer.render("teams_index.md.j2", uri, teams=teams)


@section("oncall", "Every team's on-call rotation and escalation, and the receivers that page it.")
def oncall_section(handbook: Handbook, renderer: Renderer, uri: str) -> str:
    return renderer.render("oncall.md.j2", uri, teams=handbook.all("team"))
