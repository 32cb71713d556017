"""Architecture, disaster recovery and data protection: cron gaps against RPOs, retention, restores
proved by CI or drills, personal data rules, and the pages."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest

from opsbook import analyse
from opsbook.cron import _CYCLE_DAYS as CYCLE_DAYS
from opsbook.cron import _CYCLE_START as CYCLE_START
from opsbook.cron import CronError, Schedule, parse_cron

TEAM = "name: Data\n"
RESTORE = "title: Restore\nsteps: [{name: Restore, manual: Restore it.}]\n"
DRILL = "runbook: restore\ndate: 2026-10-01\noutcome: pass\n"


def _datastore(rpo: str, data: str = "") -> str:
    return f"name: DB\nkind: datastore\nowner: data\nrpo: {rpo}\n{data}"


def _backup(schedule: str, retention: str = "{count: 500}") -> str:
    return f"datastore: db\nschedule: \"{schedule}\"\nretention: {retention}\nrestore_runbook: restore\n"


def _handbook(make_handbook: Callable[..., Path], rpo: str, schedule: str, **extra: str) -> Path:
    return make_handbook({"teams/data.yaml": TEAM, "components/db.yaml": _datastore(rpo),
                          "backups/db.yaml": _backup(schedule), "runbooks/restore.yaml": RESTORE,
                          "drills/d.yaml": DRILL, **extra})


@pytest.mark.parametrize(("schedule", "minutes"), [
    ("0 2 * * *", 1440), ("0 * * * *", 60), ("0 2 * * 1-5", 4320), ("*/15 * * * *", 15),
    ("0 9-17 * * mon-fri", 16 * 60 + 2 * 1440), ("0 0 1 * *", 31 * 1440), ("30 1 * * 7", 7 * 1440),
    ("0 0 1,15 * 5", 7 * 1440), ("@daily", 1440), ("0 3 29 2 *", 8 * 365 * 1440 + 1440),
    ("0 0 31 * *", 61 * 1440), ("0 12 * jan,jul *", (31 + 30 + 31 + 30 + 31 + 1) * 1440),
])
def test_worst_gap_over_a_whole_cycle(schedule: str, minutes: int) -> None:
    assert parse_cron(schedule).worst_gap()[0] == minutes


def _worst_gap_by_scanning_the_cycle(schedule: Schedule) -> tuple[int, object, object]:
    """The worst gap found the slow way: every day of the 400-year cycle, whatever the schedule."""
    times = schedule.times
    days = [offset for offset in range(CYCLE_DAYS) if schedule.runs_on(CYCLE_START + timedelta(days=offset))]
    within = max((b - a for a, b in zip(times, times[1:])), default=0)
    widest, after = 0, days[0]
    for previous, current in zip(days, [*days[1:], days[0] + CYCLE_DAYS]):
        if current - previous > widest:
            widest, after = current - previous, previous
    across = widest * 1440 - (times[-1] - times[0])
    if within >= across:
        return (within, None, None)
    start = CYCLE_START + timedelta(days=after)
    return (across, start, start + timedelta(days=widest))


@pytest.mark.parametrize("schedule", ["0 2 * * 1-5", "30 1 * * 7", "0 9-17 * * mon-fri", "15 3 * * 2,6",
                                      "0 0 1-31 * 3", "0 4 * * *", "0 */8 * * 0,3"])
def test_weekly_schedules_take_a_week_and_agree_with_the_whole_cycle(schedule: str) -> None:
    """A schedule that allows every day of every month is settled over one week (a shortcut):
    the gap and its dates must be those a scan of all 146,097 days finds."""
    parsed = parse_cron(schedule)
    assert parsed.worst_gap() == _worst_gap_by_scanning_the_cycle(parsed)
    days = [offset for offset in range(CYCLE_DAYS) if parsed.runs_on(CYCLE_START + timedelta(days=offset))]
    runs = [day * 1440 + minute for day in days for minute in parsed.times]
    shortest = min(b - a for a, b in zip(runs, [*runs[1:], runs[0] + CYCLE_DAYS * 1440]))
    assert parsed.shortest_gap() == shortest  # every run of the cycle, one after another


@pytest.mark.parametrize(("schedule", "start", "expected"), [
    ("0 2 * * 1-5", "2026-11-26", (4320, "2026-11-27", "2026-11-30")),   # a Thursday: the next weekend
    ("0 2 * * 1-5", "2026-11-28", (4320, "2026-12-04", "2026-12-07")),   # inside a weekend: the next one
    ("0 0 31 * *", "2026-11-26", (61 * 1440, "2027-03-31", "2027-05-31")),
    ("0 3 29 2 *", "2026-11-26", (8 * 365 * 1440 + 1440, "2096-02-29", "2104-02-29")),
])
def test_the_worst_gap_named_is_the_next_one_after_the_start(schedule: str, start: str,
                                                              expected: tuple[int, str, str]) -> None:
    from datetime import date

    gap, first, last = parse_cron(schedule).worst_gap(date.fromisoformat(start))
    assert (gap, str(first), str(last)) == expected
    assert parse_cron(schedule).worst_gap()[0] == gap  # the length does not depend on the start


@pytest.mark.parametrize("schedule", ["0 2 * *", "61 * * * *", "0 2 * * 8", "x * * * *", "5-1 * * * *", "*/0 * * * *"])
def test_invalid_cron(schedule: str) -> None:
    with pytest.raises(CronError):
        parse_cron(schedule)


def test_daily_backup_against_an_hourly_rpo(make_handbook: Callable[..., Path]) -> None:
    diagnostics = analyse(_handbook(make_handbook, "1h", "0 2 * * *")).diagnostics
    assert [(d.code, d.path, d.line, d.column) for d in diagnostics] == [("OB601", "backups/db.yaml", 2, 11)]
    assert "worst gap between two runs of '0 2 * * *' is 24 h" in diagnostics[0].message
    assert "RPO of db, 1 h" in diagnostics[0].message


def test_hourly_backup_against_an_hourly_rpo_is_clean(make_handbook: Callable[..., Path]) -> None:
    assert analyse(_handbook(make_handbook, "1h", "0 * * * *")).diagnostics == []


def test_weekday_backup_against_a_daily_rpo(make_handbook: Callable[..., Path]) -> None:
    (diagnostic,) = analyse(_handbook(make_handbook, "24h", "0 2 * * 1-5")).diagnostics
    assert diagnostic.code == "OB601"
    assert " is 72 h, from Fri 2026-11-27 to Mon 2026-11-30:" in diagnostic.message  # the next one after today


def test_invalid_schedule_and_short_retention(make_handbook: Callable[..., Path]) -> None:
    root = _handbook(make_handbook, "1d", "every night")
    assert [(d.code, d.line) for d in analyse(root).diagnostics] == [("OB600", 2)]
    short = make_handbook({"teams/data.yaml": TEAM, "components/db.yaml": _datastore("1d"),
                           "backups/db.yaml": _backup("0 2 * * *", "{count: 3}"), "runbooks/restore.yaml": RESTORE,
                           "drills/d.yaml": DRILL})
    (diagnostic,) = analyse(short).diagnostics
    assert (diagnostic.code, diagnostic.line) == ("OB602", 3)
    assert "kept for as little as 72 h: the newest 3 are kept;" in diagnostic.message
    assert diagnostic.hint == "keep at least 7 backups"


@pytest.mark.parametrize(("schedule", "retention", "found"), [
    ("5 * * * *", "{count: 72, age: 30d}", "as little as 72 h: the newest 72 are kept, before retention.age 30d "
                                           "prunes them;"),
    ("5 * * * *", "{count: 720, age: 3d}", "retention.age 3d:"),
    ("5 * * * *", "{count: 720, age: 30d}", None),
    ("0 2 * * 1-5", "{count: 4}", "as little as 96 h: the newest 4 are kept;"),  # Monday to Friday
    ("0 2 * * 1-5", "{count: 5}", None),  # each lives a week
    ("0,5 2 * * *", "{count: 30}", None),  # two runs a day, 5 minutes apart: 30 last 15 days
    ("0,5 2 * * *", "{count: 10}", "as little as 120 h: the newest 10 are kept;"),
])
def test_retention_is_the_shorter_of_count_and_age(make_handbook: Callable[..., Path], schedule: str,
                                                    retention: str, found: str | None) -> None:
    root = make_handbook({"teams/data.yaml": TEAM, "components/db.yaml": _datastore("30d"),
                          "backups/db.yaml": _backup(schedule, retention), "runbooks/restore.yaml": RESTORE,
                          "drills/d.yaml": DRILL})
    messages = [d.message for d in analyse(root).diagnostics if d.code == "OB602"]
    assert messages == ([] if found is None else [f"backups are kept for {found} less than min_backup_retention, 7d"])


@pytest.mark.parametrize("schedule", ["0 2 * * 1-5", "0,5 2 * * *", "0 0 1,15 * *", "0 9-17 * * mon-fri",
                                      "30 1 * * 7", "0 0 31 * *"])
def test_kept_for_is_the_least_span_of_that_many_runs(schedule: str) -> None:
    """kept_for(n) against a sliding window over every run of the cycle (for weekly schedules, of a
    week repeated): the least time between a run and the n-th run after it."""
    parsed = parse_cron(schedule)
    period = 7 if parsed.days == frozenset(range(1, 32)) and parsed.months == frozenset(range(1, 13)) else CYCLE_DAYS
    days = [offset for offset in range(period) if parsed.runs_on(CYCLE_START + timedelta(days=offset))]
    runs = [day * 1440 + minute for day in days for minute in parsed.times]
    for count in (1, 2, 3, 5, 8, 30):
        extended = runs + [run + turn * period * 1440 for turn in range(1, count // len(runs) + 2) for run in runs]
        least = min(extended[index + count] - extended[index] for index in range(len(runs)))
        assert parsed.kept_for(count) == least, (schedule, count)
        needed = parsed.count_to_keep(7 * 1440)
        assert parsed.kept_for(needed) >= 7 * 1440 and (needed == 1 or parsed.kept_for(needed - 1) < 7 * 1440)


@pytest.mark.parametrize("today", ["9700-01-01", "9999-12-31", "0001-01-01"])
def test_a_today_at_the_ends_of_the_calendar(make_handbook: Callable[..., Path], today: str) -> None:
    """The cycle is searched from the same day of the base cycle: no date overflows; past year 9999 the
    gap is reported without dates."""
    root = make_handbook({"teams/data.yaml": TEAM, "components/db.yaml": _datastore("1d"),
                          "backups/db.yaml": _backup("5 2 1 * *"), "runbooks/restore.yaml": RESTORE,
                          "drills/d.yaml": DRILL}, today=today)
    gaps = [d.message for d in analyse(root).diagnostics if d.code == "OB601"]
    assert len(gaps) == 1 and "is 744 h" in gaps[0]
    assert (" from " in gaps[0]) == (today != "9999-12-31")


@pytest.mark.parametrize(("schedule", "minutes"), [
    ("5 * * * *", 60), ("0 2 * * *", 1440), ("0 2 * * 1-5", 1440), ("30 1 * * 7", 7 * 1440),
    ("0 9-17 * * mon-fri", 60), ("0 0 1,15 * *", 14 * 1440), ("0 3 29 2 *", (4 * 365 + 1) * 1440),
])
def test_shortest_gap(schedule: str, minutes: int) -> None:
    assert parse_cron(schedule).shortest_gap() == minutes


def test_restore_runbook_must_be_drilled_or_verified(make_handbook: Callable[..., Path]) -> None:
    from click.testing import CliRunner

    from opsbook.cli import main

    root = make_handbook({"teams/data.yaml": TEAM, "components/db.yaml": _datastore("1d"),
                          "backups/db.yaml": _backup("0 2 * * *"),
                          "runbooks/restore.yaml": "title: Restore\nsteps: [{name: Restore, run: 'true'}]\n",
                          "drills/old.yaml": DRILL.replace("2026-10-01", "2025-01-01"),
                          "drills/failed.yaml": DRILL.replace("pass", "fail")})
    assert [(d.code, d.line) for d in analyse(root).diagnostics] == [("OB603", 4)]
    # A pass on a workstation proves nothing; the same run in CI does.
    workstation = {"GITHUB_ACTIONS": None, "GITLAB_CI": None, "CI": None}
    assert CliRunner().invoke(main, ["test", "--dir", str(root)], env=workstation).exit_code == 0
    assert [(d.code, d.line) for d in analyse(root).diagnostics] == [("OB603", 4)]
    assert CliRunner().invoke(main, ["test", "--dir", str(root)], env={"CI": "true"}).exit_code == 0  # verified in CI today
    assert analyse(root).diagnostics == []


def test_the_verify_runbook_must_be_drilled_or_verified_too(make_handbook: Callable[..., Path]) -> None:
    files = {"teams/data.yaml": TEAM, "components/db.yaml": _datastore("1d"),
             "backups/db.yaml": _backup("0 2 * * *") + "verify_runbook: verify\n",
             "runbooks/restore.yaml": RESTORE, "drills/d.yaml": DRILL,
             "runbooks/verify.yaml": "title: Verify\nsteps: [{name: Verify, manual: Restore into a scratch database.}]\n"}
    found = [(d.code, d.line, d.column, d.message) for d in analyse(make_handbook(files)).diagnostics]
    assert [(code, line, column) for code, line, column, _ in found] == [("OB603", 5, 17)]
    assert found[0][3].startswith("verify runbook verify has neither passed in CI nor been drilled")
    drilled = make_handbook({**files, "drills/v.yaml": DRILL.replace("runbook: restore", "runbook: verify")})
    assert analyse(drilled).diagnostics == []


def test_personal_data_rules(make_handbook: Callable[..., Path]) -> None:
    data = "data:\n  classification: pii\n  encryption:\n    at_rest: false\n    in_transit: true\n"
    root = make_handbook({"teams/data.yaml": TEAM, "components/db.yaml": _datastore("1d", data)})
    found = [(d.code, d.line, d.column) for d in analyse(root).diagnostics if d.code.startswith("OB61")]
    assert ("OB610", 8, 14) in found  # the line of at_rest: false
    assert ("OB611", 5, 1) in found and ("OB612", 5, 1) in found
    bare = make_handbook({"teams/data.yaml": TEAM, "components/db.yaml": _datastore("1d", "data: {classification: pii}\n")})
    assert sorted(d.code for d in analyse(bare).diagnostics) == ["OB610", "OB610", "OB611", "OB612"]


def test_component_references(make_handbook: Callable[..., Path]) -> None:
    root = make_handbook({"teams/data.yaml": TEAM,
                          "components/api.yaml": "name: API\nkind: service\nowner: data\ndepends_on:\n"
                                                 "  - {component: db, protocol: sql}\n  - {component: cache}\n",
                          "components/db.yaml": "name: DB\nkind: datastore\nowner: nobody\n",
                          "runbooks/r.yaml": "title: R\nservice: apj\nsteps: [{name: S, manual: m}]\n"})
    found = [(d.code, d.path, d.line, d.column, d.message) for d in analyse(root).diagnostics]
    assert ("OB021", "components/api.yaml", 6, 17, "depends_on[1].component names component 'cache', which does not exist") in found
    assert ("OB021", "components/db.yaml", 3, 8, "owner names team 'nobody', which does not exist") in found
    assert any(f[:2] == ("OB021", "runbooks/r.yaml") and "did you mean" not in f[4] for f in found)


def test_pages(make_handbook: Callable[..., Path]) -> None:
    hostile = "name: 'API\"] --> x[\"<script>'\nkind: service\nowner: data\ndepends_on: [{component: db, purpose: reads orders}]\n"
    root = make_handbook({"teams/data.yaml": TEAM, "components/api.yaml": hostile,
                          "components/db.yaml": _datastore("1d", "data:\n  classification: pii\n  retention: 1y\n"
                                                                 "  encryption: {at_rest: true, in_transit: true}\n"
                                                                 "  deletion_runbook: restore\n  pii_fields: [users.email]\n"),
                          "backups/db.yaml": _backup("0 2 * * 1-5"), "runbooks/restore.yaml": RESTORE,
                          "drills/d.yaml": DRILL})
    pages = {p.uri: p.text for p in analyse(root).pages()}
    overview = pages["architecture/components/index.md"]
    graph = overview.split("```mermaid\n")[1].split("```")[0]
    assert "<script>" not in graph and "x[" not in graph and 'c1[("DB")]' in graph and "c0 -->" in graph
    component = pages["architecture/components/db.md"]
    assert "[API&quot;&#93; --&gt; x&#91;&quot;&lt;script&gt;](api.md) over" not in component  # escaped, not raw
    assert "## Used by" in component and "(api.md)" in component and "[db-backup]" not in component
    recovery = pages["recovery/backups/index.md"]
    assert "At 02:00 AM, Monday through Friday" in recovery and "72 h (over the RPO)" in recovery
    assert "2026-10-01 (pass)" in recovery
    personal = pages["architecture/components/personal-data.md"]
    assert "users.email" in personal and "| yes | yes |" in personal
    assert "reads orders" in personal.split("```mermaid")[1]


def test_a_drill_dated_in_the_future_proves_nothing(make_handbook: Callable[..., Path]) -> None:
    root = _handbook(make_handbook, "1d", "0 2 * * *", **{"drills/d.yaml": DRILL.replace("2026-10-01", "2027-01-01")})
    assert sorted(d.code for d in analyse(root).diagnostics) == ["OB603", "OB613"]


def test_reserved_ids_do_not_collide_with_index_pages(make_handbook: Callable[..., Path]) -> None:
    root = make_handbook({"teams/data.yaml": TEAM, "components/index.yaml": "name: Index\nkind: service\nowner: data\n",
                          "components/personal-data.yaml": "name: PD\nkind: service\nowner: data\n"})
    uris = [p.uri for p in analyse(root).pages() if p.uri.startswith("architecture/components/")]
    assert len(uris) == len(set(uris)) == 4


def test_next_runs_on_a_backup_page_lie_ahead_of_the_build(make_handbook: Callable[..., Path],
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """With the real date, the runs listed come after the instant of the build (none already past); with a
    pinned date, after the start of that day, so that the page is the same on every build."""
    import datetime as dt
    import re

    files = {"teams/data.yaml": TEAM, "components/db.yaml": _datastore("1h"), "runbooks/restore.yaml": RESTORE,
             "backups/db.yaml": _backup("* * * * *"), "drills/d.yaml": DRILL}

    def runs(root: Path) -> tuple[str, list[dt.datetime]]:
        page = next(p.text for p in analyse(root).pages() if p.uri == "recovery/backups/db.md")
        line = next(line for line in page.splitlines() if line.startswith("- **Next runs**"))
        return line, [dt.datetime.strptime(text, "%Y-%m-%d %H:%M UTC")
                      for text in re.findall(r"\d{4}-\d\d-\d\d \d\d:\d\d UTC", line.split("):", 1)[1])]

    line, pinned = runs(make_handbook(files, today="2026-11-30"))
    assert line.startswith("- **Next runs** (after 2026-11-30 00:00 UTC, when this page was built): ")
    assert pinned == [dt.datetime(2026, 11, 30, 0, minute) for minute in range(1, 4)]
    monkeypatch.delenv("OPSBOOK_TODAY")
    before = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    line, real = runs(make_handbook(files, today=None))
    assert len(real) == 3 and all(run > before - dt.timedelta(minutes=1) for run in real), (line, before)
    assert real == sorted(real) and real[1] - real[0] == dt.timedelta(minutes=1)
