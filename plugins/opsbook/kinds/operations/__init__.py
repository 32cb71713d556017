"""The operations family: database migrations, log sources and incidents, their checks, pages and
sections."""

from __future__ import annotations

from ...diagnostics import codes_in
from .. import Family
from . import checks, records
from .checks import check_incidents, check_logs, check_migrations
from .pages import incident_pages, incidents_section, logging_section, migration_pages, migrations_section

__all__ = ["FAMILY"]

FAMILY = Family(
    name="operations",
    kinds=(records.MIGRATION_KIND, records.LOG_KIND, records.INCIDENT_KIND),
    templates=__name__,
    checks=(check_migrations, check_logs, check_incidents),
    pages={"migration": migration_pages, "incident": incident_pages},
    sections=(migrations_section, logging_section, incidents_section),
    codes=codes_in(checks),
)
