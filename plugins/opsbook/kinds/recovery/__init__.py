"""The architecture and recovery family: components (the architecture, its data and data flows),
backup policies and drills; the checks that hold backups to the RPO and restores to proof; pages and
sections, the disaster-recovery plan among them."""

from __future__ import annotations

from ...diagnostics import codes_in
from .. import Family
from . import checks, records
from .checks import check_backup_scripts, check_backups, check_personal_data, check_restores
from .pages import (
                    architecture_section,
                    backups_section,
                    component_pages,
                    data_flow_section,
                    dr_plan_section,
                    personal_data_section,
                    recovery_pages,
                    rto_rpo_section,
)

__all__ = ["FAMILY"]

FAMILY = Family(
    name="recovery",
    kinds=(records.COMPONENT_KIND, records.BACKUP_KIND, records.DRILL_KIND),
    templates=__name__,
    checks=(check_backups, check_restores, check_personal_data, check_backup_scripts),
    pages={"component": component_pages, "backup": recovery_pages},
    sections=(architecture_section, personal_data_section, data_flow_section, rto_rpo_section, backups_section,
              dr_plan_section),
    codes=codes_in(checks),
)
