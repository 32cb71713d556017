"""The runbooks family: runbooks, what runs them (the runner), what CI verified (results and
verification), their checks, pages and sections."""

from __future__ import annotations

from ...diagnostics import codes_in
from .. import Family
from . import checks, records, shellcheck
from .checks import check_results, check_step_scripts, check_timeouts
from .pages import runbook_pages, runbooks_index, symptoms_section
from .records import check_expect_patterns
from .shellcheck import check_shell

__all__ = ["FAMILY"]

FAMILY = Family(
    name="runbooks",
    kinds=(records.KIND,),
    templates=__name__,
    checks=(check_timeouts, check_expect_patterns, check_results, check_shell, check_step_scripts),
    pages={"runbook": runbook_pages},
    sections=(runbooks_index, symptoms_section),
    codes=codes_in(records, checks, shellcheck),
)
