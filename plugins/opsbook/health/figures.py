"""Handbook health: the figures the dashboard draws and `opsbook metrics` exports, computed once from
the same model and the same checks, so that the two can never disagree."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from ..diagnostics import Diagnostic
from ..kinds.alerting.links import runbooks_for_alert
from ..kinds.alerting.rules import AlertRule
from ..kinds.operations.records import Incident
from ..kinds.recovery.facts import dr_runbooks, restore_proof
from ..kinds.runbooks.records import Runbook
from ..kinds.runbooks.verification import coverage
from ..model import Handbook, as_list

__all__ = ["Health", "compute_health"]


@dataclass
class Health:
    """The handbook's health figures."""

    alerts: int = 0
    alerts_with_runbook: int = 0
    paging_alerts: int = 0
    paging_alerts_with_runbook: int = 0
    runnable_steps: int = 0
    verified_steps: int = 0
    runbooks: int = 0
    runbooks_overdue: int = 0
    records_overdue: int = 0
    dr_runbooks: int = 0
    drills_overdue: int = 0
    diagnostics_by_code: dict[str, int] = field(default_factory=dict)
    diagnostics_by_severity: dict[str, int] = field(default_factory=dict)
    records_by_kind: dict[str, int] = field(default_factory=dict)
    resolve_hours_by_service: dict[str, float] = field(default_factory=dict)
    severity_of: dict[str, str] = field(default_factory=dict)


def compute_health(handbook: Handbook, diagnostics: list[Diagnostic]) -> Health:
    """Every figure of the dashboard, from the model and the diagnostics of one analysis."""
    health = Health()
    names = sorted({a.id for a in handbook.loaded_of(AlertRule)})
    paging = set(handbook.config.paging_severities)
    for name in names:
        variants = [a for a in handbook.variants("alert", name) if isinstance(a, AlertRule)]
        has_runbook = bool(runbooks_for_alert(handbook, name))
        health.alerts += 1
        health.alerts_with_runbook += has_runbook
        if any(a.severity in paging for a in variants):
            health.paging_alerts += 1
            health.paging_alerts_with_runbook += has_runbook
    health.verified_steps, health.runnable_steps = coverage(handbook)
    health.runbooks = len(handbook.records_of(Runbook))
    overdue = [d for d in diagnostics if d.code == "OB040"]
    runbook_files = {r.path for r in handbook.all("runbook")}
    health.runbooks_overdue = len({d.path for d in overdue if d.path in runbook_files})
    health.records_overdue = len({d.path for d in overdue})
    health.dr_runbooks, health.drills_overdue = _drills(handbook)
    health.diagnostics_by_code = dict(sorted(Counter(d.code for d in diagnostics).items()))
    health.severity_of = {d.code: str(d.severity) for d in diagnostics}
    health.diagnostics_by_severity = dict(sorted(Counter(str(d.severity) for d in diagnostics).items()))
    health.records_by_kind = {kind: len(records) for kind, records in sorted(handbook.records.items()) if records}
    health.resolve_hours_by_service = _resolve_hours(handbook)
    return health


def _drills(handbook: Handbook) -> tuple[int, int]:
    """DR runbooks (restore and verify runbooks of backup policies), and how many are not proven within
    the drill window: the rule of OB603 and of the DR plan, `restore_proof`."""
    runbooks = {entry.runbook.id: entry.runbook for entry in dr_runbooks(handbook)}
    return len(runbooks), sum(not restore_proof(handbook, runbook).proven for runbook in runbooks.values())


def _resolve_hours(handbook: Handbook) -> dict[str, float]:
    """Mean hours from start to resolution of incidents, by service (when the handbook keeps incidents)."""
    totals: dict[str, list[float]] = {}
    for incident in handbook.records_of(Incident):
        hours = incident.duration_hours
        if hours is None or hours < 0:
            continue
        for service in as_list(incident.data.get("services")):
            totals.setdefault(str(service), []).append(hours)
    return {service: sum(values) / len(values) for service, values in sorted(totals.items())}
