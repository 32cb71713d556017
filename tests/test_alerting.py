"""Alerting checks (OB310–OB317) with their positions, and the alert, runbook and routing pages."""

from __future__ import annotations

import re

from collections.abc import Callable
from pathlib import Path

from opsbook import analyse
from opsbook.kinds.alerting.links import runbooks_for_alert

REPO = Path(__file__).parent.parent

ALERTMANAGER = """\
route:
  receiver: fallback
  routes:
    - matchers: [team="data"]
      receiver: data-pager
    - matchers: [alertname="Heartbeat"]
      receiver: blackhole
receivers:
  - name: fallback
    slack_configs: [{channel: "#all", api_url: "https://chat.example/hook"}]
  - name: data-pager
    pagerduty_configs: [{routing_key: abc}]
  - name: blackhole
"""

RUNBOOK = "title: Restore the database\nalerts: [DbDown]\nsteps: [{name: Restore, run: 'true'}]\n"


def _rules(*rules: str) -> str:
    return "groups:\n  - name: db\n    rules:\n" + "".join(rules)


def _alert(name: str, severity: str, team: str = "data", annotations: str = "") -> str:
    text = f"      - alert: {name}\n        expr: up == 0\n        labels: {{severity: {severity}, team: {team}}}\n"
    if annotations:
        text += f"        annotations: {annotations}\n"
    return text


def _codes(root: Path) -> list[tuple[str, str, int, int]]:
    return [(d.code, d.path, d.line, d.column) for d in analyse(root).diagnostics]


def test_clean_alerting_handbook(make_handbook: Callable[..., Path]) -> None:
    root = make_handbook({
        "ops/alertmanager.yml": ALERTMANAGER,
        "ops/alerts/db.yml": _rules(_alert("DbDown", "critical", annotations="{runbook_url: runbooks/db-restore/}")),
        "runbooks/db-restore.yaml": RUNBOOK,
        "ops/teams/data.yaml": "name: Data\nreceivers: [data-pager, fallback]\n",
    })
    assert _codes(root) == []


def test_paging_alert_without_runbook(make_handbook: Callable[..., Path]) -> None:
    root = make_handbook({"ops/alerts/db.yml": _rules(_alert("DbDown", "critical"), _alert("DbSlow", "warning"))})
    assert _codes(root) == [("OB310", "ops/alerts/db.yml", 4, 16)]


def test_a_runbook_listing_the_alert_is_a_runbook(make_handbook: Callable[..., Path]) -> None:
    root = make_handbook({"ops/alerts/db.yml": _rules(_alert("DbDown", "page")), "runbooks/db-restore.yaml": RUNBOOK})
    assert _codes(root) == []


def test_runbook_link_to_nothing(make_handbook: Callable[..., Path]) -> None:
    root = make_handbook({
        "ops/alerts/db.yml": _rules(_alert("DbDown", "critical", annotations="{runbook_url: runbooks/db-restor/}")),
        "runbooks/db-restore.yaml": RUNBOOK,
    })
    assert _codes(root) == [("OB311", "ops/alerts/db.yml", 7, 36)]


def test_runbook_label_and_site_urls(make_handbook: Callable[..., Path]) -> None:
    root = make_handbook({
        "ops/alerts/db.yml": _rules(
            "      - alert: DbDown\n        expr: up == 0\n        labels: {severity: critical, runbook: db-restore}\n",
            _alert("DbGone", "critical", annotations="{runbook_url: 'https://handbook.example/runbooks/nope/'}"),
            _alert("DbAway", "critical", annotations="{runbook_url: 'https://elsewhere.example/runbooks/x'}")),
        "runbooks/db-restore.yaml": RUNBOOK,
    })
    (root / "mkdocs.yml").write_text("site_name: x\nsite_url: https://handbook.example/\nplugins:\n  - opsbook:\n"
                                     "      today: '2026-11-26'\n", encoding="utf-8")
    (root / "opsbook.yml").unlink()
    codes = _codes(root)
    assert ("OB311", "ops/alerts/db.yml", 10, 36) in codes  # under site_url, and no such runbook
    assert all(line != 13 for _, _, line, _ in codes)  # another site: not checked
    assert not any(code == "OB312" for code, *_ in codes)  # the label's runbook lists DbDown


def test_runbook_alerts_naming_nothing(make_handbook: Callable[..., Path]) -> None:
    root = make_handbook({
        "ops/alerts/db.yml": _rules(_alert("DbSlow", "warning")),
        "runbooks/db-restore.yaml": "title: R\nalerts:\n  - DbDown\nsteps: [{name: S, run: 'true'}]\n",
    })
    assert _codes(root) == [("OB021", "runbooks/db-restore.yaml", 3, 5)]


def test_alert_and_runbook_disagree(make_handbook: Callable[..., Path]) -> None:
    root = make_handbook({
        "ops/alerts/db.yml": _rules(_alert("DbSlow", "warning", annotations="{runbook_url: runbooks/db-restore}")),
        "runbooks/db-restore.yaml": RUNBOOK.replace("[DbDown]", "[]"),
    })
    assert _codes(root) == [("OB312", "ops/alerts/db.yml", 7, 36)]


def test_routed_only_to_default_or_null(make_handbook: Callable[..., Path]) -> None:
    root = make_handbook({
        "ops/alertmanager.yml": ALERTMANAGER,
        "ops/alerts/db.yml": _rules(_alert("DbSlow", "warning", team="nobody"), _alert("Heartbeat", "none", team="x")),
    })
    assert _codes(root) == [("OB313", "ops/alerts/db.yml", 4, 16), ("OB313", "ops/alerts/db.yml", 7, 16)]


def test_receiver_no_team_claims(make_handbook: Callable[..., Path]) -> None:
    root = make_handbook({"ops/alertmanager.yml": ALERTMANAGER,
                          "ops/teams/data.yaml": "name: Data\nreceivers: [data-pager]\n"})
    # The null receiver needs no team; `fallback` does.
    assert _codes(root) == [("OB314", "ops/alertmanager.yml", 9, 11)]


def test_duplicate_alert_definitions(make_handbook: Callable[..., Path]) -> None:
    same = _alert("DbSlow", "warning")
    other = "      - alert: DbSlow\n        expr: mysql_up == 0\n        labels: {severity: warning, team: data}\n"
    # Identical twice, and a critical threshold told apart by its severity: no conflict. Same labels,
    # another expression: the notifications cannot be told apart.
    root = make_handbook({"ops/alerts/db.yml": _rules(same, same, _alert("DbSlow", "high"), other)})
    assert _codes(root) == [("OB315", "ops/alerts/db.yml", 13, 16)]


def burn_rate(window: str | None, long: str, short: str, factor: str, for_: str) -> str:
    labels = f"severity: page, team: data{f', window: {window}' if window else ''}"
    return (f"      - alert: ErrorBudgetBurn\n"
            f"        expr: job:slo_errors:ratio_rate{long}{{job=\"api\"}} > ({factor} * 0.001)"
            f" and job:slo_errors:ratio_rate{short}{{job=\"api\"}} > ({factor} * 0.001)\n"
            f"        for: {for_}\n        labels: {{{labels}}}\n")


def test_multi_window_alerts_are_a_family(make_handbook: Callable[..., Path]) -> None:
    """The SRE workbook's multi-window, multi-burn-rate alerts: one name, its windows told apart by a
    label or only by their thresholds and windows; one name per component, told apart by a matcher."""
    labelled = _rules(burn_rate("fast", "1h", "5m", "14.4", "2m"), burn_rate("slow", "6h", "30m", "6", "15m"))
    unlabelled = _rules(burn_rate(None, "1h", "5m", "14.4", "2m"), burn_rate(None, "6h", "30m", "6", "15m"))
    component = "".join(f"      - alert: Saturated\n        expr: saturation{{component=\"{c}\"}} > 0.9\n"
                        for c in ("cpu", "disk"))
    root = make_handbook({"ops/alerts/a.yml": labelled, "ops/alerts/b.yml": unlabelled.replace("Burn", "Burning"),
                          "ops/alerts/c.yml": _rules(component)})
    assert [d for d in analyse(root).diagnostics if d.code == "OB315"] == []


def test_conflict_keeps_its_labels_apart_from_a_family(make_handbook: Callable[..., Path]) -> None:
    # Same labels, another metric, another function, another kind of matcher: each a conflict.
    base = "      - alert: Down\n        expr: up{job=\"db\"} == 0\n        labels: {team: data}\n"
    variants = [base.replace("up{", "pg_up{"), base.replace("up{job", "absent(up{job").replace("} ==", "}) =="),
                base.replace('job="db"', 'job=~"db"')]
    root = make_handbook({"ops/alerts/db.yml": _rules(base, *variants)})
    assert [(d.code, d.line) for d in analyse(root).diagnostics if d.code == "OB315"] == [
        ("OB315", 7), ("OB315", 10), ("OB315", 13)]


def test_routing_tests(make_handbook: Callable[..., Path]) -> None:
    root = make_handbook({
        "ops/alertmanager.yml": ALERTMANAGER,
        "ops/routing-tests.yaml": "tests:\n  - labels: {team: data}\n    receivers: [data-pager]\n"
                                  "  - name: wrong\n    labels: {team: web}\n    receivers: [data-pager]\n",
    })
    codes = analyse(root).diagnostics
    assert [(d.code, d.line, d.column) for d in codes] == [("OB316", 4, 5)]
    assert "routed to fallback, expected data-pager" in codes[0].message


def test_metrics_catalog(make_handbook: Callable[..., Path]) -> None:
    rule = ("      - record: job:up:sum\n        expr: sum by (job) (up)\n"
            "      - alert: Down\n        expr: job:up:sum == 0 or absent(pg_up) or rate(typo_total[5m]) > 0\n")
    root = make_handbook({"ops/alerts/db.yml": _rules(rule),
                          "ops/metrics.yaml": "metrics:\n  - {name: up}\n  - {name: pg_up}\n"})
    diagnostics = analyse(root).diagnostics
    assert [(d.code, d.line) for d in diagnostics] == [("OB317", 7)]
    assert "typo_total" in diagnostics[0].message and "pg_up" not in diagnostics[0].message
    pages = {page.uri: page.text for page in analyse(root).pages()}
    # up is read through the recording rule, pg_up directly: both pages name the alert, the first says how.
    assert "- [Down](../alerts/Down.md) (no severity), through the recording rule `job:up:sum`" in pages["metrics/up.md"]
    assert pages["metrics/pg_up.md"].rstrip().endswith("- [Down](../alerts/Down.md) (no severity)")
    assert "| [up](up.md) |  |  | 1 |" in pages["metrics/index.md"]


def test_metrics_read_through_chained_and_cyclic_recording_rules(make_handbook: Callable[..., Path]) -> None:
    rule = ("      - record: a:one\n        expr: rate(base_total[5m])\n"
            "      - record: a:two\n        expr: a:one * 2 + a:three\n"
            "      - record: a:three\n        expr: a:two\n"  # a cycle: must not loop
            "      - alert: Chained\n        expr: a:two > 1\n")
    root = make_handbook({"ops/alerts/a.yml": _rules(rule), "ops/metrics.yaml": "metrics:\n  - {name: base_total}\n"})
    pages = {page.uri: page.text for page in analyse(root).pages()}
    assert "[Chained](../alerts/Chained.md) (no severity), through the recording rule `a:two`" in pages["metrics/base_total.md"]


def test_alert_page_shows_route_receivers_and_team(make_handbook: Callable[..., Path]) -> None:
    root = make_handbook({
        "ops/alertmanager.yml": ALERTMANAGER,
        "ops/alerts/db.yml": _rules(_alert("DbDown", "critical", annotations="{runbook_url: runbooks/db-restore/}")),
        "runbooks/db-restore.yaml": RUNBOOK,
        "ops/teams/data.yaml": "name: Data team\nreceivers: [data-pager, fallback]\n",
    })
    pages = {page.uri: page.text for page in analyse(root).pages()}
    alert = pages["alerts/DbDown.md"]
    assert "- **Who is paged:** [Data team](../teams/data.md), through [data-pager](receivers/data-pager.md)\n" in alert
    assert '!!! danger "What to do now: follow [Restore the database](../runbooks/db-restore.md)"' in alert
    assert "- **Runbook URL:** [Restore the database](../runbooks/db-restore.md)\n" in alert
    assert "```promql\nup == 0\n```" in alert
    assert "[DbDown](../alerts/DbDown.md) (critical)" in pages["runbooks/db-restore.md"]
    assert "data-pager" in pages["alerts/routing/index.md"]
    assert "[DbDown](../DbDown.md) (critical)" in pages["alerts/receivers/data-pager.md"]
    assert "[DbDown](../alerts/DbDown.md)" in pages["teams/data.md"]


def test_every_alert_page_of_the_reference_handbook_names_receiver_and_team() -> None:
    analysis = analyse(REPO)
    assert analysis.failures() == []
    pages = [page for page in analysis.pages() if page.uri.startswith("alerts/") and page.uri.count("/") == 1
             and not page.uri.endswith("index.md")]
    assert len(pages) == len({a.id for a in analysis.handbook.loaded["alert"]}) >= 5
    for page in pages:
        assert re.search(r"^- \*\*Who is paged:\*\* \[.*, through \[", page.text, flags=re.M), page.uri
        name = page.uri.removeprefix("alerts/").removesuffix(".md")
        follow = '!!! danger "What to do now: follow [' in page.text
        assert follow == bool(runbooks_for_alert(analysis.handbook, name)), page.uri
        assert follow or '!!! warning "No runbook for this alert"' in page.text, page.uri


def test_a_long_chain_of_recording_rules_is_followed_without_recursion(make_handbook: Callable[..., Path]) -> None:
    chain = "".join(f"      - record: c:{i}\n        expr: c:{i - 1}\n" for i in range(1, 3000))
    rule = "      - record: c:0\n        expr: rate(base_total[5m])\n" + chain + "      - alert: Deep\n        expr: c:2999 > 1\n"
    root = make_handbook({"ops/alerts/a.yml": _rules(rule), "ops/metrics.yaml": "metrics:\n  - {name: base_total}\n"})
    pages = {page.uri: page.text for page in analyse(root).pages()}
    assert "[Deep](../alerts/Deep.md) (no severity), through the recording rule `c:2999`" in pages["metrics/base_total.md"]
