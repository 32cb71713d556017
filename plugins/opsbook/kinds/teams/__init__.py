"""The teams family: teams, who is on call and which receivers page them."""

from __future__ import annotations

from .. import Family
from . import records
from .pages import oncall_section, team_pages, teams_index

__all__ = ["FAMILY"]

FAMILY = Family(
    name="teams",
    kinds=(records.KIND,),
    templates=__name__,
    pages={"team": team_pages},
    sections=(teams_index, oncall_section),
)
