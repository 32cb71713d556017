"""Pages of migrations, logging and incidents."""

from __future__ import annotations

from collections.abc import Iterator

from ...model import Handbook
from ...render import Page, Renderer
from ...render.markdown import md_source
from ...render.sections import section
from .records import Incident, LogSource, Migration


def migration_pages(handbook: Handbook, renderer: Renderer) -> Iterator[Page]:
    if not handbook.all("migration"):
        return
    uri = renderer.index_uri("migration")
    yield Page(uri, "# Migrations\n\n" + migrations_section(handbook, renderer, uri), title="Migrations", in_nav=True)


@section("migrations", "The database migrations: what each changes, whether it can be rolled back, whether "
                       "it locks or rewrites a table.")
def migrations_section(handbook: Handbook, renderer: Renderer, uri: str) -> str:
    rows = []
    for migration in handbook.records_of(Migration):
        rows.append((migration, migration.changes, (handbook.root / migration.rollback_path).is_file()))
    return renderer.render("migrations.md.j2", uri, rows=rows)


@section("logging", "The log sources: where each component's logs go, how long they stay, whether they hold "
                    "personal data, and their saved queries.")
def logging_section(handbook: Handbook, renderer: Renderer, uri: str) -> str:
    sources = handbook.records_of(LogSource)
    return renderer.render("logging.md.j2", uri, sources=sources)


def incident_pages(handbook: Handbook, renderer: Renderer) -> Iterator[Page]:
    incidents = handbook.records_of(Incident)
    for incident in incidents:
        uri = renderer.uri_of(incident)
        text = renderer.render("incident.md.j2", uri, incident=incident, postmortem=md_source(
            incident.data.get("postmortem"), handbook.config.image_hosts), today=handbook.config.today_date)
        yield Page(uri, text, source=incident.path, title=incident.title)
    if incidents:
        uri = renderer.index_uri("incident")
        yield Page(uri, "# Incident log\n\n" + incidents_section(handbook, renderer, uri), title="Incident log",
                   in_nav=True)


@section("incidents", "The incident log: every incident, its severity, duration, services and runbooks used.")
def incidents_section(handbook: Handbook, renderer: Renderer, uri: str) -> str:
    incidents = sorted(handbook.records_of(Incident),
                       key=lambda i: str(i.data.get("started", "")), reverse=True)
    return renderer.render("incidents.md.j2", uri, incidents=incidents)

