"""Who is paged when (#19 item 5): every alert that must page reaches a pager at every hour of the week
(OB319), judged over 53 weeks in the team's time zone; the week map on team pages and the line on alert pages."""

from __future__ import annotations

import bisect
import datetime as _dt
import random
import re
import shutil
from collections.abc import Callable
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from opsbook.kinds.alerting.coverage import WEEK_MINUTES, change_points, heat_map, team_coverage
from opsbook.kinds.alerting.notify import Simulator
from opsbook.pipeline import analyse

REPO = Path(__file__).parent.parent

RULES = """\
groups:
  - name: api
    rules:
      - alert: ApiDown
        expr: up == 0
        labels: {severity: critical, team: api}
      - alert: ApiSlow
        expr: up == 0
        labels: {severity: warning, team: api}
"""
TEAM = """\
name: API
timezone: Europe/Berlin
receivers: [day-pager, night-pager, chat]
"""


def _config(day: str, night: str | None, location: str = "") -> str:
    where = f"\n        location: {location}" if location else ""
    text = f"""\
route:
  receiver: chat
  routes:
    - matchers: [severity="critical"]
      receiver: day-pager
      active_time_intervals: [office]
      continue: true
{night or ""}
time_intervals:
  - name: office
    time_intervals:
      - weekdays: ["monday:friday"]
        times: [{{start_time: "{day.split('-')[0]}", end_time: "{day.split('-')[1]}"}}]{where}
receivers:
  - name: chat
  - name: day-pager
    pagerduty_configs: [{{routing_key: a}}]
  - name: night-pager
    opsgenie_configs: [{{api_key: b}}]
"""
    return text


NIGHT = """\
    - matchers: [severity="critical"]
      receiver: night-pager
      mute_time_intervals: [office]
"""


def _handbook(make_handbook: Callable[..., Path], config: str, **options: object) -> Path:
    return make_handbook({"ops/alertmanager.yml": config, "ops/alerts/api.yml": RULES, "ops/teams/api.yaml": TEAM},
                         **options)


def _ob319(root: Path) -> list[str]:
    return [f"{d.path}:{d.line}:{d.column} {d.message}" for d in analyse(root).diagnostics if d.code == "OB319"]


def test_day_and_night_routes_together_cover_every_hour(make_handbook: Callable[..., Path]) -> None:
    root = _handbook(make_handbook, _config("09:00-18:00", NIGHT, "Europe/Berlin"))
    assert _ob319(root) == []
    analysis = analyse(root)
    [team] = analysis.handbook.all("team")
    coverage = team_coverage(analysis.handbook, team)
    assert coverage is not None and coverage.alerts == ["ApiDown"]  # the warning does not page
    week = coverage.week
    assert all(week.seen[m] == week.covered[m] > 0 for m in range(WEEK_MINUTES))
    monday_ten = 10 * 60
    assert week.reached[(0, 10)] == {("day-pager",): 60 * week.seen[monday_ten]}
    assert set(week.reached[(5, 3)]) == {("night-pager",)}


def test_without_the_night_route_the_nights_and_weekends_are_named(make_handbook: Callable[..., Path]) -> None:
    root = _handbook(make_handbook, _config("09:00-18:00", None, "Europe/Berlin"))
    [finding] = _ob319(root)
    assert finding.startswith("ops/alerts/api.yml:4:16 ")
    assert "API's critical alerts (ApiDown) reach no paging receiver" in finding
    assert finding.endswith("reach no paging receiver Mon–Thu 18:00–09:00 next day, Fri 18:00–Mon 09:00 "
                            "(Europe/Berlin)"), finding
    assert "weeks)" not in finding  # the same hours in every week: the interval is in Berlin time too


def test_an_interval_in_utc_read_in_berlin_moves_with_summer_time(make_handbook: Callable[..., Path]) -> None:
    """Office hours 08:00-17:00 UTC are 09:00-18:00 in Berlin's winter and 10:00-19:00 in its summer: over
    a year the team's 09:00 hour is reached in winter weeks only, and its 18:00 hour in summer weeks only."""
    root = _handbook(make_handbook, _config("08:00-17:00", None), today="2026-11-30")
    [finding] = _ob319(root)
    # The union of the nights: winter's 18:00-09:00 and summer's 19:00-10:00.
    assert "Mon–Thu 18:00–10:00 next day, Fri 18:00–Mon 10:00" in finding, finding
    analysis = analyse(root)
    [team] = analysis.handbook.all("team")
    coverage = team_coverage(analysis.handbook, team)
    assert coverage is not None
    nine, _ = coverage.week.cell(0, 9)
    eighteen, _ = coverage.week.cell(0, 18)
    noon, _ = coverage.week.cell(0, 12)
    three, _ = coverage.week.cell(0, 3)
    assert 0 < nine < 1 and 0 < eighteen < 1 and noon == 1 and three == 0
    # Each Monday is in winter (UTC+1: 09:00 reached) or in summer (UTC+2: 18:00 reached): the two shares
    # make one whole; from 2026-11-30, 22 of the 53 Mondays are in winter.
    assert nine + eighteen == pytest.approx(1)
    assert round(nine * 53) == 22


def test_no_finding_without_a_paging_receiver(make_handbook: Callable[..., Path]) -> None:
    config = _config("09:00-18:00", None, "Europe/Berlin").replace("pagerduty_configs", "webhook_configs").replace(
        "routing_key: a", "url: http://x").replace("opsgenie_configs", "email_configs").replace("api_key: b",
                                                                                               "to: a@b")
    assert _ob319(_handbook(make_handbook, config)) == []
    # A webhook that pages a person, declared so, is a pager again.
    found = _ob319(_handbook(make_handbook, config, paging_integrations=["webhook"]))
    assert found and "at every hour of the week" not in found[0] and "Mon–Thu 18:00–09:00 next day" in found[0]


def test_the_week_map_draws_what_the_week_holds(make_handbook: Callable[..., Path]) -> None:
    root = _handbook(make_handbook, _config("08:00-17:00", None), today="2026-11-30")
    analysis = analyse(root)
    [team] = analysis.handbook.all("team")
    coverage = team_coverage(analysis.handbook, team)
    assert coverage is not None
    svg = str(heat_map("who is paged", coverage.week))
    cells = re.findall(r'<rect class="opsbook-hour" data-day="(\d)" data-hour="(\d+)" data-share="([\d.]+)" '
                       r'data-who="([^"]*)"[^>]* fill="(#[0-9a-f]{6})"><title>([^<]*)</title>', svg)
    assert len(cells) == 7 * 24
    for day, hour, share, _who, fill, title in cells:
        expected, _ = coverage.week.cell(int(day), int(hour))
        assert float(share) == pytest.approx(expected, abs=0.001)
        if expected == 0:
            assert fill == "#c62828" and title.endswith("no pager")
        elif expected < 1:
            assert fill == "#f9a825" and "in some weeks" in title
        else:
            assert fill not in ("#c62828", "#f9a825") and "day-pager" in title


ZONES = ["Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "Asia/Kolkata", "UTC", "America/Santiago"]


@pytest.mark.parametrize("seed", range(6))
def test_intervals_change_only_at_the_change_points(seed: int) -> None:
    """What makes the year's coverage exact: between two consecutive change points no interval changes its
    answer. Checked at 2,000 random instants per seed against the simulator's own evaluation."""
    rng = random.Random(seed)
    entries = []
    for _ in range(rng.randint(1, 4)):
        start = rng.randrange(0, 1440)
        end = rng.randrange(start + 1, 1441)
        entry = {"times": [{"start_time": f"{start // 60:02d}:{start % 60:02d}",
                            "end_time": f"{end // 60:02d}:{end % 60:02d}"}],
                 "location": rng.choice(ZONES)}
        if rng.random() < 0.5:
            entry["weekdays"] = [rng.choice(["monday:friday", "saturday", "sunday", "tuesday:thursday"])]
        if rng.random() < 0.3:
            entry["days_of_month"] = [rng.choice(["1:7", "-1", "-7:-1", "15"])]
        if rng.random() < 0.2:
            entry["months"] = [rng.choice(["march:april", "october", "11"])]
        entries.append(entry)
    config = {"route": {"receiver": "x", "routes": [{"receiver": "x", "mute_time_intervals": ["i"]}]},
              "receivers": [{"name": "x"}], "time_intervals": [{"name": "i", "time_intervals": entries}]}
    simulator = Simulator(config)
    assert not simulator.problems, simulator.problems
    route = simulator.tree.root.children[0]  # type: ignore[union-attr]
    start = _dt.datetime(2026, 1, 5, tzinfo=_dt.UTC)
    end = start + _dt.timedelta(weeks=53)
    boundaries: dict[_dt.tzinfo, set[int]] = {}
    for entry in simulator.intervals["i"]:
        zone = entry.location.zone if entry.location else _dt.UTC
        boundaries.setdefault(zone, set()).update(m for t in entry.times or () for m in (t.start, t.end))
    points = change_points(start, end, boundaries)
    assert points is not None
    for _ in range(2000):
        moment = start + _dt.timedelta(minutes=rng.randrange(int((end - start).total_seconds() // 60)))
        base = points[bisect.bisect_right(points, moment) - 1]
        assert (simulator.muting(route, moment) is None) == (simulator.muting(route, base) is None), (moment, base)


@pytest.fixture
def reference(tmp_path: Path) -> Path:
    root = tmp_path / "reference"
    shutil.copytree(REPO, root, ignore=shutil.ignore_patterns(".git", ".venv", "node_modules", "site", ".ci",
                                                              "tests", "benchmarks", "plugins", "__pycache__"))
    return root


def test_removing_the_reference_night_route_fails_the_check(reference: Path) -> None:
    assert _ob319(reference) == []
    config = reference / "ops/alertmanager.yml"
    text = config.read_text(encoding="utf-8")
    night = re.search(r"    - matchers: \['team=\"platform\"', 'severity=~\"critical\|page\"'\]\n"
                      r"      receiver: platform-night-pager\n(?:      .*\n)*", text)
    assert night is not None
    config.write_text(text.replace(night.group(0), ""), encoding="utf-8")
    [finding] = _ob319(reference)
    assert "Platform's critical alerts (OrdersApiDown, OrdersApiHighErrorRate) reach no paging receiver" in finding
    assert "Fri 18:00–Mon 09:00" in finding and "(Europe/Berlin)" in finding
    assert ZoneInfo("Europe/Berlin")  # the zone the reference team works in is in the system database


def test_the_alert_page_says_when_it_is_paged_and_what_silences_it() -> None:
    pages = {page.uri: page.text for page in analyse(REPO).pages()}
    silenced = pages["alerts/OrdersApiHighErrorRate.md"]
    assert "- **Silenced:** while an alert matching `alertname=\"OrdersDatabaseDown\"` fires with the same " \
           "environment" in silenced
    down = pages["alerts/OrdersApiDown.md"]
    assert "**Silenced:**" not in down
    assert "- **Paged when:** platform-night-pager Mon–Fri 00:00–09:00, 18:00–24:00, Sat–Sun all day; " \
           "platform-pager at other times (Europe/Berlin)" in down
    assert "receiver [platform-pager](receivers/platform-pager.md), only during working-hours" in down
    assert "receiver [platform-night-pager](receivers/platform-night-pager.md), not during working-hours" in down


def test_hours_with_no_pager_are_named_once_on_the_alert_page(make_handbook: Callable[..., Path]) -> None:
    from opsbook.kinds.alerting.coverage import alert_coverage, paged_when

    analysis = analyse(_handbook(make_handbook, _config("09:00-18:00", None, "Europe/Berlin")))
    [alert] = [a for a in analysis.handbook.loaded["alert"] if a.id == "ApiDown"]
    line = paged_when(alert_coverage(analysis.handbook, alert))
    assert line.count("no pager") == 1, line  # the nights are named once, not again as a list of gaps
    assert line == "no pager Mon–Fri 00:00–09:00, 18:00–24:00, Sat–Sun all day; day-pager at other times " \
                   "(Europe/Berlin)"


def test_the_same_hours_on_following_days_are_named_once() -> None:
    from opsbook.kinds.alerting.coverage import WeekMap, runs_text

    week = WeekMap("UTC", 53)
    for day in range(7):
        for minute in range(WEEK_MINUTES):
            week.seen[minute] = 53
            week.covered[minute] = 53
    gaps = [(d * 1440 + 18 * 60, d * 1440 + 19 * 60) for d in range(5)] + [(5 * 1440 + 600, 5 * 1440 + 660)]
    for first, after in gaps:
        for minute in range(first, after):
            week.covered[minute] = 0
    assert runs_text(week) == "Mon–Fri 18:00–19:00, Sat 10:00–11:00 (UTC)"
    for minute in range(6 * 1440 + 23 * 60, WEEK_MINUTES):  # Sunday night into Monday morning: one run
        week.covered[minute] = 0
    for minute in range(0, 60):
        week.covered[minute] = 0
    assert runs_text(week) == "Mon–Fri 18:00–19:00, Sat 10:00–11:00, Sun 23:00–01:00 next day (UTC)"


def test_a_team_time_zone_that_is_none_is_named_with_the_nearest(make_handbook: Callable[..., Path]) -> None:
    root = make_handbook({"ops/teams/api.yaml": TEAM.replace("Europe/Berlin", "europe/berlin")})
    [found] = [d for d in analyse(root).diagnostics if d.code == "OB321"]
    assert (found.path, found.line, found.column) == ("ops/teams/api.yaml", 2, 11)
    assert found.message == "'europe/berlin' is not a time zone" and found.hint == "did you mean 'Europe/Berlin'?"
