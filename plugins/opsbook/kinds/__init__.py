"""The registry of kinds: each kind is one module here that declares a `KIND`."""

from __future__ import annotations

from ..model import Kind
from . import alerting, alerts, architecture, environments, metrics, opsdata, route_tests, routing, runbook, team, workflows

__all__ = ["KINDS", "register_kind"]

KINDS: dict[str, Kind] = {}


def register_kind(kind: Kind) -> Kind:
    """Add a kind to the registry; the loader, checks, renderer and adapters pick it up from there."""
    if kind.name in KINDS:
        raise ValueError(f"kind {kind.name!r} registered twice")
    KINDS[kind.name] = kind
    return kind


for _kind in (runbook.KIND, team.KIND, alerts.ALERT_KIND, alerts.GROUP_KIND, alerts.RECORDING_KIND,
              routing.ALERTMANAGER_KIND, routing.RECEIVER_KIND, route_tests.KIND, metrics.KIND,
              workflows.KIND, environments.KIND, architecture.COMPONENT_KIND, architecture.BACKUP_KIND,
              architecture.DRILL_KIND, opsdata.MIGRATION_KIND, opsdata.LOG_KIND, opsdata.INCIDENT_KIND):
    register_kind(_kind)

# Alerting checks span several kinds (alerts, runbooks, routing, teams); they run with the alert kind.
alerts.ALERT_KIND.checks = alerting.ALERTING_CHECKS
