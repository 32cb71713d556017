"""Alertmanager's time intervals (`timeintervals.py`): read as `amtool check-config` reads them, and
evaluated at instants as Alertmanager's `ContainsTime` does, on both sides of daylight-saving changes.

The differential test writes a few hundred configurations that differ only in their time intervals
(the sections, the entries, every field, good and bad values, the routes naming them) and holds
opsbook to amtool 0.25: a configuration amtool refuses gets an OB320 error, one it accepts gets none.
"""

from __future__ import annotations

import datetime as _dt
import os
import random
import shutil
import subprocess
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml

from opsbook.diagnostics import Diagnostic
from opsbook.kinds.alerting.alertmanager import alertmanager_records
from opsbook.kinds.alerting.notify import Simulator
from opsbook.kinds.alerting.timeintervals import (
    IntervalEntry,
    Range,
    TimeRange,
    days_in_month,
    interval_holds,
    load_location,
    read_time_intervals,
)
from opsbook.loader import load_yaml_text

AMTOOL = shutil.which("amtool")
UTC = _dt.UTC
BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
LORD_HOWE = ZoneInfo("Australia/Lord_Howe")


def _intervals(text: str) -> dict[str, tuple[IntervalEntry, ...]]:
    intervals, problems = read_time_intervals(yaml.safe_load(text))
    assert problems == [], problems
    return intervals


def _holds(text: str, at: _dt.datetime, version: str = "0.25") -> bool:
    (entries,) = _intervals(text).values()
    return interval_holds(entries, at, version)


def _utc(text: str) -> _dt.datetime:
    return _dt.datetime.fromisoformat(text).astimezone(UTC)


# --- evaluation at instants ------------------------------------------------------------------------------

NIGHTS_BERLIN = """
time_intervals:
  - name: nights
    time_intervals:
      - times: [{start_time: '01:00', end_time: '04:00'}]
        location: Europe/Berlin
"""


@pytest.mark.parametrize(("instant", "expected"), [
    # 2026-03-29: Berlin's clocks go from 02:00 CET to 03:00 CEST (01:00 UTC).
    ("2026-03-29T00:30:00+00:00", True),   # 01:30 CET
    ("2026-03-29T00:59:00+00:00", True),   # 01:59 CET
    ("2026-03-29T01:00:00+00:00", True),   # 03:00 CEST: the hour 02:00-03:00 never happens
    ("2026-03-29T01:59:00+00:00", True),   # 03:59 CEST
    ("2026-03-29T02:00:00+00:00", False),  # 04:00 CEST, the end is excluded
    ("2026-03-28T02:59:00+00:00", True),   # 03:59 CET, the day before
    ("2026-03-28T03:00:00+00:00", False),  # 04:00 CET
    # 2026-10-25: from 03:00 CEST back to 02:00 CET (01:00 UTC); 02:xx happens twice.
    ("2026-10-25T00:30:00+00:00", True),   # 02:30 CEST
    ("2026-10-25T01:30:00+00:00", True),   # 02:30 CET
    ("2026-10-25T02:59:00+00:00", True),   # 03:59 CET
    ("2026-10-25T03:00:00+00:00", False),  # 04:00 CET
    ("2026-10-24T23:00:00+00:00", True),   # 01:00 CEST
    ("2026-10-24T22:59:00+00:00", False),  # 00:59 CEST
])
def test_times_in_berlin_across_both_changes(instant: str, expected: bool) -> None:
    assert _holds(NIGHTS_BERLIN, _utc(instant)) is expected


def test_times_in_new_york_and_utc_without_location() -> None:
    text = """
time_intervals:
  - name: business
    time_intervals:
      - weekdays: ['monday:friday']
        times: [{start_time: '09:00', end_time: '17:00'}]
        location: America/New_York
"""
    # 2026-03-08 (Sunday): 02:00 EST becomes 03:00 EDT. Monday 09:00 is 13:00 UTC after, 14:00 before.
    assert _holds(text, _utc("2026-03-09T13:00:00+00:00")) is True
    assert _holds(text, _utc("2026-03-09T12:59:00+00:00")) is False
    assert _holds(text, _utc("2026-03-06T14:00:00+00:00")) is True   # Friday, still EST
    assert _holds(text, _utc("2026-03-06T13:30:00+00:00")) is False  # 08:30 EST
    assert _holds(text, _utc("2026-03-06T21:59:00+00:00")) is True   # 16:59 EST
    assert _holds(text, _utc("2026-03-06T22:00:00+00:00")) is False  # 17:00 EST: excluded
    # 2026-11-01: back to EST. Friday 2026-10-30 09:00 EDT is 13:00 UTC; Monday 11-02 09:00 EST is 14:00.
    assert _holds(text, _utc("2026-10-30T13:00:00+00:00")) is True
    assert _holds(text, _utc("2026-11-02T13:00:00+00:00")) is False
    assert _holds(text, _utc("2026-11-02T14:00:00+00:00")) is True
    # Saturday in New York while it is already Saturday in UTC but still Friday there.
    assert _holds(text, _utc("2026-03-07T01:00:00+00:00")) is False  # Friday 20:00 EST: after hours
    without = text.replace("        location: America/New_York\n", "")
    assert _holds(without, _utc("2026-03-09T09:00:00+00:00")) is True  # read in UTC
    assert _holds(without, _utc("2026-03-09T13:00:00+05:00")) is False  # 08:00 UTC, whatever the offset given


def test_lord_howe_half_hour_changes() -> None:
    """Lord Howe Island moves its clocks by 30 minutes: +10:30 in winter, +11:00 in summer (from the
    first Sunday of October, 02:00 -> 02:30; back on the first Sunday of April, 02:00 -> 01:30)."""
    text = """
time_intervals:
  - name: early
    time_intervals:
      - times: [{start_time: '02:00', end_time: '02:30'}]
        location: Australia/Lord_Howe
"""
    # 2026-10-04 02:00 +10:30 is 15:30 UTC the day before: the clocks skip to 02:30, no minute holds.
    skipped = [_dt.datetime(2026, 10, 3, 15, tzinfo=UTC) + _dt.timedelta(minutes=m) for m in range(0, 61)]
    assert [at for at in skipped if _holds(text, at)] == []
    assert _holds(text, _dt.datetime(2026, 10, 2, 15, 45, tzinfo=UTC)) is True  # 02:15 +10:30, two days before
    # 2026-04-05 02:00 +11:00 (15:00 UTC on the 4th) goes back to 01:30: 01:30-02:00 happens twice, and
    # 02:00-02:30 once, at +10:30 only.
    start = _dt.datetime(2026, 4, 4, 14, tzinfo=UTC)
    holding = [m for m in range(0, 180) if _holds(text, start + _dt.timedelta(minutes=m))]
    assert holding == list(range(90, 120))  # 15:30-16:00 UTC, 02:00-02:30 at +10:30
    assert _holds(text, _dt.datetime(2026, 4, 3, 15, 10, tzinfo=UTC)) is True  # 02:10 +11:00, the day before


NEGATIVE = """
time_intervals:
  - name: month-end
    time_intervals:
      - days_of_month: ['-3:-1']
"""


@pytest.mark.parametrize(("year", "first", "last"), [(2027, 26, 28), (2028, 27, 29), (2100, 26, 28), (2000, 27, 29)])
def test_negative_days_across_february(year: int, first: int, last: int) -> None:
    """`-3:-1` is the last three days of the month: 26-28 February, or 27-29 in a leap year (2000 is one,
    2100 is not), and 29-31 in March."""
    days = [day for day in range(1, 30 if last == 29 else 29)
            if _holds(NEGATIVE, _dt.datetime(year, 2, day, 12, tzinfo=UTC))]
    assert days == list(range(first, last + 1))
    march = [day for day in range(1, 32) if _holds(NEGATIVE, _dt.datetime(year, 3, day, 12, tzinfo=UTC))]
    assert march == [29, 30, 31]


def test_ranges_are_clamped_to_the_month() -> None:
    text = "time_intervals: [{name: t, time_intervals: [{days_of_month: ['25:31', '-31:-30']}]}]"
    feb = [day for day in range(1, 29) if _holds(text, _dt.datetime(2027, 2, day, tzinfo=UTC))]
    # 25:31 is clamped to 25-28; -31:-30 starts at day -2 (28 - 31 + 1), clamped there, and ends at day -1:
    # before any day of the month, so it adds nothing (Alertmanager's arithmetic, not a calendar's).
    assert feb == [25, 26, 27, 28]
    text = "time_intervals: [{name: t, time_intervals: [{days_of_month: ['30:31']}]}]"
    assert [d for d in range(1, 29) if _holds(text, _dt.datetime(2027, 2, d, tzinfo=UTC))] == []  # starts after the end
    text = "time_intervals: [{name: t, time_intervals: [{days_of_month: ['1:-1']}]}]"
    assert all(_holds(text, _dt.datetime(2028, 2, d, tzinfo=UTC)) for d in range(1, 30))


def test_the_last_day_of_a_month_whose_clocks_go_forward() -> None:
    """Alertmanager 0.25 counts a month's days as its hours over 24, rounded down: March in Berlin and in
    New York has 743 hours, so 30 days, and `-1` is the 30th; main counts 31 (alertmanager#5447)."""
    for zone, name in ((BERLIN, "Europe/Berlin"), (NEW_YORK, "America/New_York")):
        text = NEGATIVE.replace("'-3:-1'", "'-1'") + f"        location: {name}\n"
        last_025 = [d for d in range(1, 32) if _holds(text, _dt.datetime(2026, 3, d, 12, tzinfo=zone))]
        last_main = [d for d in range(1, 32) if _holds(text, _dt.datetime(2026, 3, d, 12, tzinfo=zone), "main")]
        assert (last_025, last_main) == ([30], [31])
        assert days_in_month(2026, 3, zone) == 30 and days_in_month(2026, 3, zone, "main") == 31
        # The month the clocks go back has 745 hours: still 31 days.
        assert days_in_month(2026, 10 if zone is BERLIN else 11, zone) == (31 if zone is BERLIN else 30)
    assert days_in_month(2026, 10, LORD_HOWE) == 30  # 743.5 hours
    assert days_in_month(2026, 4, LORD_HOWE) == 30  # 720.5 hours
    assert days_in_month(2026, 3, UTC) == 31


def test_every_field_must_hold_and_any_entry() -> None:
    text = """
time_intervals:
  - name: t
    time_intervals:
      - weekdays: [saturday, sunday]
        months: ['december']
        years: ['2026']
      - days_of_month: ['1']
        months: ['January:february']
"""
    assert _holds(text, _dt.datetime(2026, 12, 26, tzinfo=UTC))        # Saturday in December 2026
    assert not _holds(text, _dt.datetime(2027, 12, 25, tzinfo=UTC))    # Saturday, but 2027
    assert not _holds(text, _dt.datetime(2026, 12, 25, tzinfo=UTC))    # Friday
    assert _holds(text, _dt.datetime(2027, 2, 1, tzinfo=UTC))          # the second entry
    assert not _holds(text, _dt.datetime(2027, 3, 1, tzinfo=UTC))


def test_yaml_as_alertmanager_reads_it() -> None:
    """A field written `[]` is one nothing satisfies; a null item is the zero value (Sunday, or a range
    that never holds), unchecked; an entry with no field always holds; `times` written as PyYAML's
    base-60 numbers are read back as written."""
    intervals = _intervals("""
time_intervals:
  - name: never
    time_intervals: [{weekdays: []}]
  - name: sunday
    time_intervals: [{weekdays: [~]}]
  - name: always
    time_intervals: [{}, ~]
  - name: none
  - name: evening
    time_intervals: [{times: [{start_time: 17:00, end_time: 24:00}]}]
""")
    sunday = _dt.datetime(2026, 6, 7, 18, tzinfo=UTC)
    monday = _dt.datetime(2026, 6, 8, 9, tzinfo=UTC)
    assert intervals["evening"][0].times == (TimeRange(1020, 1440),)
    assert intervals["sunday"][0].weekdays == (Range(0, 0),)
    assert [name for name, entries in intervals.items() if interval_holds(entries, sunday)] == [
        "sunday", "always", "evening"]
    assert [name for name, entries in intervals.items() if interval_holds(entries, monday)] == ["always"]


def test_locations_are_found_as_go_finds_them() -> None:
    assert load_location("") == (UTC, None) and load_location("UTC") == (UTC, None)
    zone, problem = load_location("Europe//Berlin")  # Go opens the path as it is
    assert problem is None and zone is not None
    assert _dt.datetime(2026, 7, 1, tzinfo=UTC).astimezone(zone).utcoffset() == _dt.timedelta(hours=2)
    assert load_location("../etc/passwd") == (None, "time: invalid location name")
    assert load_location("/etc/localtime") == (None, "time: invalid location name")
    assert load_location("Mars/Base") == (None, "unknown time zone Mars/Base")
    assert load_location("zone1970.tab")[0] is None  # a file of the database that is not a zone
    assert load_location("Europe")[0] is None  # a folder
    assert load_location("europe/berlin")[0] is None  # names are case-sensitive on Linux
    assert load_location("Local")[1] is None


def test_simulator_reads_the_intervals_of_a_route() -> None:
    config = yaml.safe_load("""
route:
  receiver: a
  routes:
    - {receiver: b, matchers: [x="1"], mute_time_intervals: [weekend, nights], active_time_intervals: []}
    - {receiver: c, matchers: [x="2"], active_time_intervals: [nights]}
receivers: [{name: a}, {name: b}, {name: c}]
mute_time_intervals:
  - name: weekend
    time_intervals: [{weekdays: [saturday, sunday]}]
time_intervals:
  - name: nights
    time_intervals: [{times: [{start_time: '00:00', end_time: '06:00'}]}]
""")
    simulator = Simulator(config)
    assert simulator.problems == [] and simulator.tree is not None
    b, c = simulator.tree.root.children
    saturday_night = _dt.datetime(2026, 6, 6, 3, tzinfo=UTC)
    assert simulator.muting(b, saturday_night) == ("mute_time_intervals", ("weekend", "nights"))
    assert simulator.muting(c, saturday_night) is None
    assert simulator.muting(c, _dt.datetime(2026, 6, 8, 12, tzinfo=UTC)) == ("active_time_intervals", ("nights",))
    assert simulator.muting(b, _dt.datetime(2026, 6, 8, 12, tzinfo=UTC)) is None


def test_problems_are_at_their_positions() -> None:
    text = """\
route:
  receiver: a
  mute_time_intervals: [t]
  routes:
    - receiver: a
      mute_time_intervals: [t, ghost]
receivers: [{name: a}]
time_intervals:
  - name: t
    time_intervals:
      - weekdays: ['friday:monday']
        times:
          - {start_time: '10:00', end_time: '09:00'}
        location: Mars/Base
        weekday: [monday]
  - name: t
"""
    (document,), problems = load_yaml_text("am.yml", text)
    assert problems == []
    found = sorted((d.line, d.column, d.message) for d in alertmanager_records(document) if isinstance(d, Diagnostic))
    assert found == [
        (3, 24, "root route must not have any mute time intervals"),
        (6, 32, 'undefined time interval "ghost" used in route'),
        (11, 20, "start day cannot be before end day"),
        (13, 13, "start time cannot be equal or greater than end time"),
        (14, 19, "unknown time zone Mars/Base"),
        (15, 9, "unknown field 'weekday' in a time interval entry (known: times, weekdays, days_of_month, "
                "months, years, location)"),
        (16, 11, 'time interval "t" is not unique'),
    ]


# --- the differential test against amtool check-config -------------------------------------------------

_BASE = """\
route:
  receiver: a
  routes:
    - receiver: b
      matchers: [team="data"]
{references}
receivers: [{{name: a}}, {{name: b}}]
"""

# Each value as it is written in YAML, those Alertmanager accepts first, then those it refuses: plain,
# quoted, numbers PyYAML reads in base 60 (`17:30`, `1:5`), nulls, and mistakes.
_TIME_PAIRS = [("'00:00'", "'06:00'"), ("09:00", "17:30"), ("'17:30'", "'24:00'"), ("22:00", "24:00"),
               ("'00:00'", "'00:01'"), ("'23:59'", "24:00"), ("08:00", "'09:00'")]
_TIMES = (["'00:00'", "'09:00'", "17:30", "'24:00'"],
          ["'9:00'", "9:00", "'24:01'", "'12:60'", "'25:00'", "''", "~", "noon", "'12:00 '", "1020", "12:00:00"])
_WEEKDAYS = (["monday", "Sunday", "'monday:friday'", "monday:friday", "SATURDAY", "'Tuesday:THURSDAY'",
              "'sunday:saturday'", "~"],
             ["'friday:monday'", "'saturday:sunday'", "funday", "'monday:'", "':friday'", "'monday:tuesday:wednesday'",
              "1", "''", "mon"])
_DAYS = (["1", "31", "-1", "-31", "1:5", "'1:5'", "'-7:-1'", "'1:-1'", "'27:-1'", "'+3'", "'03'", "~", "10:31",
          "'-31:-28'"],
         ["32", "0", "-32", "'28:-1'", "'-1:5'", "'-3:-5'", "'5:1'", "x", "'1:'", "'1.5'", "' 1'"])
_MONTHS = (["january", "'march:may'", "1", "12", "13", "0", "'-5:3'", "~", "'September:december'", "1:3"],
           ["'may:march'", "Jan", "dec", "'12:1'", "'feb:3'", "'0x3'"])
_YEARS = (["2026", "'2020:2030'", "-5", "'+2026'", "~"], ["'2030:2020'", "x", "99999999999999999999", "'2026:'"])
_LOCATIONS = (["Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "UTC", "Local", "''", "'Europe//Berlin'",
               "'./Europe/Berlin'", "Etc/GMT+5", "~", "EST5EDT"],
              ["'../etc/passwd'", "/etc/localtime", "Mars/Base", "europe/berlin", "Europe", "zone1970.tab",
               "'Europe/Berlin '"])
_BAD = 0.04  # the share of values drawn from the refused ones


def _value(rng: random.Random, pool: tuple[list[str], list[str]]) -> str:
    return rng.choice(pool[1] if rng.random() < _BAD else pool[0])


def _items(rng: random.Random, pool: tuple[list[str], list[str]]) -> str:
    """A YAML list of one to three values (rarely none)."""
    if rng.random() < 0.04:
        return "[]"
    return "[" + ", ".join(_value(rng, pool) for _ in range(rng.choice([1, 1, 2, 3]))) + "]"


def _entry(rng: random.Random) -> str:
    """One time interval entry, as YAML lines indented for its place."""
    roll = rng.random()
    if roll < 0.03:
        return "      - ~\n"
    if roll < 0.05:
        return "      - {}\n"
    if roll < 0.06:
        return "      - x\n"
    lines = []
    if rng.random() < 0.5:
        ranges = []
        for _ in range(rng.choice([1, 1, 2])):
            shape = rng.random()
            if shape < 0.04:
                ranges.append("~")
            elif shape < 0.05:
                ranges.append(f"{{start_time: {_value(rng, _TIMES)}}}")
            elif shape < 0.06:
                ranges.append(f"{{start: {_value(rng, _TIMES)}, end_time: {_value(rng, _TIMES)}}}")
            elif shape < 0.85:
                start, end = rng.choice(_TIME_PAIRS)
                ranges.append(f"{{start_time: {start}, end_time: {end}}}")
            else:
                ranges.append(f"{{start_time: {_value(rng, _TIMES)}, end_time: {_value(rng, _TIMES)}}}")
        lines.append("times: [" + ", ".join(ranges) + "]")
    for field, pool, share in (("weekdays", _WEEKDAYS, 0.5), ("days_of_month", _DAYS, 0.35),
                               ("months", _MONTHS, 0.3), ("years", _YEARS, 0.2)):
        if rng.random() < share:
            lines.append(f"{field}: {pool[0][0] if rng.random() < 0.02 else _items(rng, pool)}")
    if rng.random() < 0.35:
        lines.append(f"location: {_value(rng, _LOCATIONS)}")
    if rng.random() < 0.03:
        lines.append("weekday: [monday]")
    if not lines:
        return "      - {}\n"
    return "      - " + "\n        ".join(lines) + "\n"


def interval_config(rng: random.Random) -> str:
    """An Alertmanager configuration whose only possible problems are in its time intervals."""
    names = rng.sample(["nights", "weekend", "office", "maintenance", "1:30"], rng.choice([1, 2, 2, 3]))
    sections: dict[str, list[str]] = {"time_intervals": [], "mute_time_intervals": []}
    for index, name in enumerate(names):
        section = "mute_time_intervals" if rng.random() < 0.2 else "time_intervals"
        roll = rng.random()
        if roll < 0.03:
            sections[section].append("  - ~\n")
            continue
        written = name if name != "1:30" else rng.choice(["1:30", "'1:30'"])
        head = f"  - name: {written}\n" if roll > 0.06 else rng.choice(["  - name: ''\n", "  - name: ~\n"])
        if roll > 0.06 and index and rng.random() < 0.05:
            head = f"  - name: {names[0]}\n"  # defined twice
        body = "    time_intervals:\n" + "".join(_entry(rng) for _ in range(rng.choice([0, 1, 1, 2])))
        if rng.random() < 0.03:
            body = "    time_intervals: monday\n"
        if rng.random() < 0.03:
            body += "    times: [{start_time: '00:00', end_time: '06:00'}]\n"
        sections[section].append(head + body)
    referenced = [rng.choice(names) for _ in range(rng.choice([0, 1, 1, 2]))]
    if rng.random() < 0.05:
        referenced.append("ghost")
    references = ""
    if referenced:
        key = "mute_time_intervals" if rng.random() < 0.6 else "active_time_intervals"
        listed = [name if name != "1:30" else rng.choice(["1:30", "'1:30'"]) for name in referenced]
        references = f"      {key}: [{', '.join(listed)}]"
    text = _BASE.format(references=references).replace("\n\n", "\n")
    if rng.random() < 0.03:
        text = text.replace("  receiver: a\n", "  receiver: a\n  mute_time_intervals: [" + names[0] + "]\n", 1)
    for section, parts in sections.items():
        if parts:
            text += f"{section}:\n" + "".join(parts)
    return text


def _amtool_verdicts(files: list[Path]) -> dict[str, str]:
    """amtool check-config on every file in one run: the file name, and "" or amtool's reason."""
    assert AMTOOL is not None
    result = subprocess.run([AMTOOL, "check-config", *map(str, files)], capture_output=True, text=True,
                            timeout=120, env={**os.environ, "TZ": "UTC"})
    verdicts = {}
    for line in (result.stdout + result.stderr).splitlines():
        if line.startswith("Checking '"):
            name, _, status = line[len("Checking '"):].partition("'")
            status = status.strip()
            verdicts[Path(name).name] = "" if status == "SUCCESS" else status.removeprefix("FAILED: ")
    assert len(verdicts) == len(files), result.stdout[-2000:] + result.stderr[-2000:]
    return verdicts


def _opsbook_errors(name: str, text: str) -> list[str]:
    documents, problems = load_yaml_text(name, text)
    assert problems == [], problems  # the YAML itself is good: the differential is about the intervals
    return [f"{d.line}:{d.column} {d.message}" for d in alertmanager_records(documents[0]) if isinstance(d, Diagnostic)]


@pytest.mark.skipif(AMTOOL is None, reason="amtool is not installed (Debian package prometheus-alertmanager)")
def test_interval_configurations_against_amtool(tmp_path: Path) -> None:
    seed = int(os.environ.get("OPSBOOK_INTERVAL_SEED", "19"))
    rng = random.Random(seed)
    texts = {f"am-{index:03d}.yml": interval_config(rng) for index in range(400)}
    for name, text in texts.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    verdicts = _amtool_verdicts([tmp_path / name for name in texts])
    disagreements = []
    reasons = []  # amtool's reason is among opsbook's messages (Go's own words), where opsbook mirrors it
    for name, text in texts.items():
        ours = _opsbook_errors(name, text)
        if bool(verdicts[name]) != bool(ours):
            disagreements.append((name, verdicts[name], ours, text))
        # Not mirrored: the wording of the YAML library's type errors.
        elif verdicts[name] and not verdicts[name].startswith("yaml:"):
            reasons.append((verdicts[name].strip() in {line.split(" ", 1)[1].strip() for line in ours}, name, ours))
    refused = sum(1 for verdict in verdicts.values() if verdict)
    print(f"amtool interval differential (seed {seed}): {len(texts)} configurations, {refused} refused by amtool, "
          f"{len(disagreements)} disagreements; amtool's reason among opsbook's messages "
          f"{sum(same for same, _, _ in reasons)} of {len(reasons)} times")
    assert 0.25 < refused / len(texts) < 0.75  # both answers are well represented
    assert len({verdict.split(" ")[-1] for verdict in verdicts.values() if verdict}) > 10  # many reasons
    assert disagreements == [], "\n\n".join(f"{n}: amtool {v!r}, opsbook {o}\n{t}" for n, v, o, t in disagreements[:5])
    assert len(reasons) > 100 and [(name, verdicts[name], ours) for same, name, ours in reasons if not same] == []
