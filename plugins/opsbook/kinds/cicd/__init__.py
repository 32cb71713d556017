"""The CI/CD family: GitHub Actions workflows and the environments they deploy to, their checks,
pages and sections."""

from __future__ import annotations

from ...diagnostics import codes_in
from .. import Family
from . import checks, contexts, environments, workflows
from .checks import check_environments, check_jobs, check_permissions, check_schema, check_workflow_scripts
from .contexts import check_expressions
from .pages import cicd_index, environment_pages, environments_index, workflow_graphs, workflow_pages

__all__ = ["FAMILY"]

FAMILY = Family(
    name="cicd",
    kinds=(workflows.KIND, environments.KIND),
    templates=__name__,
    checks=(check_schema, check_jobs, check_workflow_scripts, check_environments, check_permissions,
            check_expressions),
    pages={"workflow": workflow_pages, "environment": environment_pages},
    sections=(cicd_index, workflow_graphs, environments_index),
    codes=codes_in(checks, contexts),
)
