"""`opsbook metrics`: the handbook-health figures in the Prometheus text exposition format."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Gauge, generate_latest

from .figures import Health

__all__ = ["exposition"]


def exposition(health: Health) -> str:
    """The figures of the dashboard as Prometheus gauges, with HELP and TYPE lines."""
    registry = CollectorRegistry()

    def gauge(name: str, help_text: str, value: float) -> None:
        Gauge(name, help_text, registry=registry).set(value)

    gauge("opsbook_alerts", "Alerting rules, by name.", health.alerts)
    gauge("opsbook_alerts_with_runbook", "Alerts that have a runbook.", health.alerts_with_runbook)
    gauge("opsbook_paging_alerts", "Alerts with a paging severity.", health.paging_alerts)
    gauge("opsbook_paging_alerts_with_runbook", "Paging alerts that have a runbook.", health.paging_alerts_with_runbook)
    gauge("opsbook_runnable_steps", "Runbook steps that CI runs.", health.runnable_steps)
    gauge("opsbook_verified_steps", "Runnable steps that passed in CI, as the results file says.",
          health.verified_steps)
    gauge("opsbook_runbooks", "Runbooks.", health.runbooks)
    gauge("opsbook_runbooks_overdue", "Runbooks past their review date.", health.runbooks_overdue)
    gauge("opsbook_records_overdue", "Records and pages past their review date.", health.records_overdue)
    gauge("opsbook_dr_runbooks", "Runbooks that restore or verify backups.", health.dr_runbooks)
    gauge("opsbook_drills_overdue", "DR runbooks neither drilled nor verified within the window.",
          health.drills_overdue)
    by_code = Gauge("opsbook_diagnostics", "Diagnostics of opsbook check, by code and severity.",
                    ["code", "severity"], registry=registry)
    for code, count in health.diagnostics_by_code.items():
        by_code.labels(code=code, severity=health.severity_of.get(code, "")).set(count)
    records = Gauge("opsbook_records", "Records of the handbook, by kind.", ["kind"], registry=registry)
    for kind, count in health.records_by_kind.items():
        records.labels(kind=kind).set(count)
    resolve = Gauge("opsbook_incident_resolve_seconds", "Mean time from start to resolution of incidents.",
                    ["service"], registry=registry)
    for service, hours in health.resolve_hours_by_service.items():
        resolve.labels(service=service).set(hours * 3600)  # Prometheus' base unit
    return generate_latest(registry).decode("utf-8")
