"""Routing scenarios (#19 item 4): alerts firing together at an instant, and the notifications they must give,
checked by `opsbook check` (OB318) at the position of each difference."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from opsbook.pipeline import analyse

REPO = Path(__file__).parent.parent

ALERTMANAGER = """\
route:
  receiver: chat
  group_by: [alertname]
  routes:
    - matchers: [severity="critical"]
      receiver: pager
      active_time_intervals: [office]
      group_wait: 10s
      continue: true
    - matchers: [severity="critical"]
      receiver: night-pager
      mute_time_intervals: [office]
inhibit_rules:
  - source_matchers: [alertname="DatabaseDown"]
    target_matchers: [alertname="ApiErrors"]
    equal: [env]
time_intervals:
  - name: office
    time_intervals:
      - weekdays: ["monday:friday"]
        times: [{start_time: "09:00", end_time: "17:00"}]
        location: Europe/Berlin
receivers:
  - name: chat
  - name: pager
    pagerduty_configs: [{routing_key: x}]
  - name: night-pager
    pagerduty_configs: [{routing_key: y}]
"""


def _scenarios(text: str) -> dict[str, str]:
    return {"alertmanager.yml": ALERTMANAGER, "routing-tests.yaml": text}


def _ob318(root: Path) -> list[tuple[int, int, str]]:
    analysis = analyse(root)
    return [(d.line, d.column, d.message) for d in analysis.diagnostics if d.code == "OB318"]


PASSING = """\
scenarios:
  - name: a database outage in office hours
    at: "2026-12-02T10:00"
    timezone: Europe/Berlin
    firing:
      db: {alertname: DatabaseDown, severity: critical, env: prod}
      api: {alertname: ApiErrors, severity: critical, env: prod}
    notified:
      - {receiver: pager, alerts: [db], group: {alertname: DatabaseDown}, group_wait: 10s, repeat_interval: 4h}
    inhibited: [api]
    muted:
      - {receiver: night-pager, alerts: [db]}
"""


def test_a_scenarios_only_file_loads_and_passes(make_handbook: Callable[..., Path]) -> None:
    root = make_handbook(_scenarios(PASSING))
    assert _ob318(root) == []
    analysis = analyse(root)
    assert [r.title for r in analysis.handbook.all("route_scenario")] == ["a database outage in office hours"]


@pytest.mark.parametrize(("change", "line", "expected"), [
    # The night: the office pager's route is not active, the night pager's route is no longer muted.
    (("2026-12-02T10:00", "2026-12-02T20:00"), 9,
     "expected pager to be notified of db; it is not notified"),
    # Across the change to winter time: 09:30 on the Sunday is not office hours (a weekend day).
    (("2026-12-02T10:00", "2026-10-25T09:30"), 9, "expected pager to be notified of db"),
    # Other labels on the two sides of `equal`: no inhibition.
    (("api: {alertname: ApiErrors, severity: critical, env: prod}",
      "api: {alertname: ApiErrors, severity: critical, env: staging}"), 10,
     "api is expected to be inhibited, and no inhibition rule silences it"),
    ((", group_wait: 10s", ", group_wait: 30s"), 9, "30s expected, the route gives 10s"),
    (("group: {alertname: DatabaseDown}", "group: {alertname: DatabaseDown, env: prod}"), 9,
     "the notification's group labels are alertname=DatabaseDown"),
    (("alerts: [db], group", "alerts: [dbx], group"), 9, "no alert named 'dbx' under firing"),
    (("    muted:\n      - {receiver: night-pager, alerts: [db]}\n", ""), 3,
     "night-pager's notification of db is muted (an interval of mute_time_intervals holds: office)"),
])
def test_a_difference_is_named_at_its_place(make_handbook: Callable[..., Path], change: tuple[str, str], line: int,
                                            expected: str) -> None:
    text = PASSING.replace(*change)
    assert text != PASSING
    root = make_handbook(_scenarios(text))
    found = _ob318(root)
    assert found, "the changed scenario should fail"
    assert any(expected in message and found_line == line for found_line, _, message in found), found


def test_a_wall_time_that_does_not_exist_is_named(make_handbook: Callable[..., Path]) -> None:
    root = make_handbook(_scenarios(PASSING.replace("2026-12-02T10:00", "2026-03-29T02:30")))
    [(line, column, message)] = _ob318(root)
    assert (line, column) == (3, 9)
    assert "does not exist in Europe/Berlin" in message and "2026-03-29T02:30:00+01:00" in message


def test_an_unexpected_inhibition_is_named_at_the_alert(make_handbook: Callable[..., Path]) -> None:
    text = PASSING.replace("    inhibited: [api]\n", "")
    [(line, _, message)] = _ob318(make_handbook(_scenarios(text)))
    assert line == 7  # the inhibited alert, under firing: no `inhibited` to point at
    assert "api is inhibited by inhibit_rules[0] (source: db), which the scenario does not expect" in message


def test_an_unexpected_notification_is_named(make_handbook: Callable[..., Path]) -> None:
    text = PASSING.replace("env: staging", "env: prod").replace(
        "api: {alertname: ApiErrors, severity: critical, env: prod}",
        "api: {alertname: ApiErrors, severity: critical, env: staging}").replace("    inhibited: [api]\n", "")
    messages = " | ".join(message for _, _, message in _ob318(make_handbook(_scenarios(text))))
    assert "pager is also notified of api" in messages
    assert "night-pager's notification of api is muted" in messages


@pytest.fixture
def reference(tmp_path: Path) -> Path:
    """A copy of the reference handbook's sources that a test may change."""
    root = tmp_path / "reference"
    root.mkdir()
    for name in ("mkdocs.yml", "ops", "runbooks", "docs", "schemas", "migrations", "scripts", ".github"):
        source = REPO / name
        if source.is_dir():
            shutil.copytree(source, root / name, symlinks=False)
        elif source.exists():
            shutil.copy(source, root / name)
    return root


def test_the_reference_scenarios_pass_and_fail_when_the_routing_changes(reference: Path) -> None:
    data = yaml.safe_load((reference / "ops/routing-tests.yaml").read_text(encoding="utf-8"))
    names = [s["name"] for s in data["scenarios"]]
    assert any("inhibited" in s for s in data["scenarios"]) and any("muted" in s for s in data["scenarios"])
    assert _ob318(reference) == []
    config = reference / "ops/alertmanager.yml"
    text = config.read_text(encoding="utf-8")
    # Without the inhibition rule, the database scenario fails; without the staging rebuild, the staging one.
    config.write_text(text.replace("    equal: [environment]\n", "    equal: [service]\n")
                      .replace("      mute_time_intervals: [staging-rebuild]\n", ""), encoding="utf-8")
    failed = {message.split(":")[0] for _, _, message in _ob318(reference)}
    assert names[0] in failed
    assert any("staging" in name for name in failed)


def test_values_are_read_as_written_like_the_configuration(make_handbook: Callable[..., Path], tmp_path: Path) -> None:
    """`1.10` and `on` in a routing test or scenario are the text written, as Alertmanager reads the
    configuration it is compared with (PyYAML alone would read 1.1 and True)."""
    config = """\
route:
  receiver: rest
  routes:
    - match: {version: 1.10, flag: on}
      receiver: 2027
receivers:
  - name: rest
  - name: 2027
"""
    tests = """\
tests:
  - labels: {version: 1.10, flag: on}
    receivers: [2027]
  - labels: {version: 1.1, flag: true}
    receivers: [rest]
scenarios:
  - name: as written
    at: "2026-12-02T10:00Z"
    firing:
      a: {alertname: A, version: 1.10, flag: on}
    notified:
      - {receiver: 2027, alerts: [a]}
"""
    root = make_handbook({"alertmanager.yml": config, "routing-tests.yaml": tests})
    assert [(d.code, d.message) for d in analyse(root).diagnostics] == []
    broken = tmp_path / "broken"
    shutil.copytree(root, broken)
    (broken / "routing-tests.yaml").write_text(tests.replace("[2027]", "[rest]", 1), encoding="utf-8")
    assert [d.code for d in analyse(broken).diagnostics if d.code == "OB316"] == ["OB316"]


def test_a_time_zone_typo_is_named_at_the_time_zone(make_handbook: Callable[..., Path]) -> None:
    root = make_handbook(_scenarios(PASSING.replace("timezone: Europe/Berlin", "timezone: Europe/Berln")))
    [(line, column, message)] = _ob318(root)
    assert (line, column) == (4, 15) and "Europe/Berln" in message


def test_group_interval_is_checked_too(make_handbook: Callable[..., Path]) -> None:
    assert _ob318(make_handbook(_scenarios(PASSING.replace("group_wait: 10s", "group_wait: 10s, group_interval: 5m"))))\
        == []
    [(_, _, message)] = _ob318(make_handbook(_scenarios(PASSING.replace("group_wait: 10s",
                                                                            "group_wait: 10s, group_interval: 1m"))))
    assert "1m expected, the route gives 5m" in message


def test_an_instant_with_an_offset_is_shown_as_the_zones_wall_clock() -> None:
    import datetime as dt

    from opsbook.kinds.alerting.pages import moment_text

    at = dt.datetime(2026, 12, 2, 8, 30, tzinfo=dt.UTC)
    assert moment_text(at, "Europe/Berlin") == "Wed 2026-12-02 09:30 in Europe/Berlin (UTC+01:00)"
    assert moment_text(at, None) == "Wed 2026-12-02 08:30 (UTC+00:00)"


def test_a_misspelt_receiver_is_named_as_such(make_handbook: Callable[..., Path]) -> None:
    [(line, column, message)] = _ob318(make_handbook(_scenarios(PASSING.replace("{receiver: pager,",
                                                                                "{receiver: pagr,"))))
    assert (line, column) == (9, 20)
    assert "no receiver named 'pagr' in the Alertmanager configuration (did you mean pager?)" in message
