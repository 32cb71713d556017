"""The alerting family: Prometheus rule files (alerts, recording rules, groups), the Alertmanager
configuration and its receivers, routing tests, the metrics catalog; the routing engine; the checks
across them; their pages and sections."""

from __future__ import annotations

from ...diagnostics import codes_in
from .. import Family
from . import alertmanager, checks, coverage, metrics, route_tests, rule_templates, rules, scenarios
from .checks import check_duplicates, check_metrics, check_route_tests, check_routing, check_runbook_links
from .metric_pages import metric_pages, metrics_index
from .pages import alert_pages, alerts_index, group_pages, receiver_pages, routing_index, routing_pages

__all__ = ["FAMILY"]

FAMILY = Family(
    name="alerting",
    kinds=(rules.ALERT_KIND, rules.GROUP_KIND, rules.RECORDING_KIND, alertmanager.ALERTMANAGER_KIND,
           alertmanager.RECEIVER_KIND, route_tests.KIND, scenarios.KIND, metrics.KIND),
    templates=__name__,
    checks=(check_runbook_links, check_routing, check_duplicates, check_route_tests, scenarios.check_route_scenarios,
            coverage.check_paging_coverage, coverage.check_time_zones, check_metrics),
    pages={"alert": alert_pages, "rule_group": group_pages, "alertmanager": routing_pages,
           "receiver": receiver_pages, "metric": metric_pages},
    sections=(alerts_index, routing_index, metrics_index),
    codes=codes_in(rules, rule_templates, alertmanager, checks, scenarios, coverage),
)
