"""The handbook's health, read across families: the figures, the dashboard page and section, and the
figures as Prometheus text (`opsbook metrics`)."""

from __future__ import annotations

from ..diagnostics import Code
from .dashboard import health_pages, health_section
from .figures import Health, compute_health

__all__ = ["CODES", "Health", "compute_health", "health_pages", "health_section"]

#: The health reports yield no diagnostics of their own.
CODES: tuple[Code, ...] = ()
