"""Alertmanager's time intervals, read, checked and evaluated at an instant as Alertmanager does.

Each rule follows a file of Alertmanager's source (0.25, Debian's, unless said otherwise):

- `timeinterval/timeinterval.go`: the fields of one entry and how each is read (`times` as `HH:MM`
  from `00:00` to `24:00` with the end excluded; `weekdays` by name, `days_of_month` with negative days
  counted from the month's end, `months` by name or number, `years`, each a value or a `begin:end`
  range, names in any case; `location` loaded as Go's `time.LoadLocation` loads it, from the system's
  time zone database), the messages of what it refuses, and `ContainsTime`: an entry holds at an
  instant when every field it gives holds there, in its `location` (UTC without one); a negative day
  is counted in the month's length and a range is clamped to the month.
- `config/config.go`: the top-level `time_intervals` and the older `mute_time_intervals` lists (a
  name each, unique across both), and routes naming only intervals that exist, none on the root route.
- `notify/notify.go` (`inTimeIntervals`): a named interval holds when any of its entries holds, the
  instant read in UTC.

YAML is read as Alertmanager's YAML library reads it: a field written as `[]` is a field that nothing
satisfies, a null list item is the zero value (a null weekday is Sunday) and is not checked, and a
scalar is its text. PyYAML reads `17:00` as the number 1020 (YAML 1.1's base 60); where the text as
written is available (`text`, from the document) it is used, otherwise such a number is read back as
the `H:MM` it was written as.

Where Alertmanager's main branch differs, `version="main"` follows it: 0.25 counts the days of a month
as the hours from its first midnight to the next month's divided by 24, rounded down, so in a zone
whose clocks go forward that month it is one day short (March in Europe/Berlin has 30 days for
`days_of_month: ['-1']`); main counts the calendar's days (alertmanager#5447).
"""

from __future__ import annotations

import calendar
import datetime as _dt
import functools
import os
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from .routing import Route, RouteProblem, TextAt, go_text

__all__ = ["IntervalEntry", "Location", "Range", "TimeRange", "TimeIntervals", "read_time_intervals",
           "load_location", "interval_holds", "holding", "route_interval_problems", "days_in_month",
           "resolve_wall_time"]

Path = tuple[str | int, ...]

_WEEKDAYS = {name: number for number, name in enumerate(
    ("sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"))}
_MONTHS = {name: number for number, name in enumerate(
    ("january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
     "november", "december"), start=1)}
_MONTH_NAMES = {number: name for name, number in _MONTHS.items()}
# `validTime` of timeinterval.go; Go's `$` without (?m) is the end of the text.
_VALID_TIME = re.compile(r"(?:[01][0-9]|2[0-3]):[0-5][0-9]\Z|24:00\Z")
_GO_INT = re.compile(r"[+-]?[0-9]+\Z")
_ENTRY_FIELDS = ("times", "weekdays", "days_of_month", "months", "years", "location")
# Go's platformZoneSources on Unix; Alertmanager does not embed Go's own copy of the database.
_ZONE_SOURCES = ("/usr/share/zoneinfo/", "/usr/share/lib/zoneinfo/", "/usr/lib/locale/TZ/")
_MAX_ZONE_FILE = 10 << 20


@dataclass(frozen=True)
class Range:
    """An inclusive range of numbers (`monday:friday` is 1 to 5, Sunday being 0)."""

    begin: int
    end: int


@dataclass(frozen=True)
class TimeRange:
    """Minutes of the day, from `start` included to `end` excluded (`17:00`-`24:00` is 1020 to 1440)."""

    start: int
    end: int


@dataclass(frozen=True)
class Location:
    """A `location`: its name as written and the time zone it loaded."""

    name: str
    zone: _dt.tzinfo


@dataclass(frozen=True)
class IntervalEntry:
    """One entry of a named time interval (Alertmanager's `timeinterval.TimeInterval`). A field is None
    when it is not given (it then always holds); given, even empty, one of its ranges must hold."""

    times: tuple[TimeRange, ...] | None = None
    weekdays: tuple[Range, ...] | None = None
    days_of_month: tuple[Range, ...] | None = None
    months: tuple[Range, ...] | None = None
    years: tuple[Range, ...] | None = None
    location: Location | None = None

    def holds(self, at: _dt.datetime, version: str = "0.25") -> bool:
        """Whether the entry holds at the instant `at` (an aware datetime): `ContainsTime`."""
        local = at.astimezone(self.location.zone if self.location else _dt.UTC)
        if self.times is not None:
            minute = local.hour * 60 + local.minute
            if not any(span.start <= minute < span.end for span in self.times):
                return False
        if self.days_of_month is not None:
            length = days_in_month(local.year, local.month, local.tzinfo, version)
            if not any(_day_in(span, local.day, length) for span in self.days_of_month):
                return False
        if self.months is not None and not any(span.begin <= local.month <= span.end for span in self.months):
            return False
        weekday = local.isoweekday() % 7  # Go's time.Weekday: Sunday is 0
        if self.weekdays is not None and not any(span.begin <= weekday <= span.end for span in self.weekdays):
            return False
        return self.years is None or any(span.begin <= local.year <= span.end for span in self.years)


#: Named time intervals: each name with its entries.
TimeIntervals = dict[str, tuple[IntervalEntry, ...]]


def _day_in(span: Range, day: int, length: int) -> bool:
    begin = length + span.begin + 1 if span.begin < 0 else span.begin
    end = length + span.end + 1 if span.end < 0 else span.end
    if begin > length:  # the range starts after this month's end
        return False
    begin, end = _clamp(begin, -length, length), _clamp(end, -length, length)
    return begin <= day <= end


def _clamp(number: int, low: int, high: int) -> int:
    return low if number <= low else high if number >= high else number


def days_in_month(year: int, month: int, zone: _dt.tzinfo | None, version: str = "0.25") -> int:
    """The length of a month as `daysInMonth` of timeinterval.go counts it: on main the calendar's
    days; in 0.25 the hours from the month's first midnight in `zone` to the next month's, over 24,
    rounded down (one short in a month whose clocks go forward)."""
    if version == "main" or zone is None or zone is _dt.UTC:
        return calendar.monthrange(year, month)[1]
    return _days_by_hours(year, month, zone)


@functools.lru_cache(maxsize=4096)
def _days_by_hours(year: int, month: int, zone: _dt.tzinfo) -> int:
    start = _go_date(zone, year, month, 1, 0, 0)
    wall = _dt.datetime.fromtimestamp(start, zone)
    # monthStart.AddDate(0, 1, 0): the same wall clock a month later, through time.Date again
    end = _go_date(zone, wall.year, wall.month + 1, wall.day, wall.hour, wall.minute)
    return int((end - start) / 3600 / 24)


def _offset(zone: _dt.tzinfo, unix: int) -> int:
    offset = _dt.datetime.fromtimestamp(unix, zone).utcoffset()
    return int(offset.total_seconds()) if offset is not None else 0


def _go_date(zone: _dt.tzinfo, year: int, month: int, day: int, hour: int, minute: int) -> int:
    """The Unix second Go's `time.Date` gives a wall clock in `zone`, months past December carried into
    the next year. Go looks up the offset at the wall clock read as UTC, then again at the instant that
    gives: a wall clock the zone skips or passes twice resolves as Go resolves it."""
    year, month = year + (month - 1) // 12, (month - 1) % 12 + 1
    unix = calendar.timegm((year, month, 1, hour, minute, 0)) + (day - 1) * 86400
    first = _offset(zone, unix)
    return unix - _offset(zone, unix - first) if first else unix


def interval_holds(entries: Sequence[IntervalEntry], at: _dt.datetime, version: str = "0.25") -> bool:
    """A named interval holds at `at` when any of its entries does."""
    return any(entry.holds(at, version) for entry in entries)


def holding(intervals: Mapping[str, Sequence[IntervalEntry]], names: Sequence[str], at: _dt.datetime,
            version: str = "0.25") -> tuple[str, ...]:
    """Those of `names` whose interval holds at `at`, each once, in order (a name no interval has holds
    never: Alertmanager refuses such a configuration)."""
    found: list[str] = []
    for name in names:
        if name not in found and interval_holds(intervals.get(name, ()), at, version):
            found.append(name)
    return tuple(found)


# --- loading time zones as Go's time.LoadLocation does -------------------------------------------------


def load_location(name: str) -> tuple[_dt.tzinfo | None, str | None]:
    """The time zone `name` names, as Go's `time.LoadLocation` (Go 1.19) finds it, and None or Go's
    reason for refusing it: `""` and `UTC` are UTC, `Local` the machine's zone; any other name is a
    file of the system's database (under `$ZONEINFO` first when set), never a path outside it."""
    if name in ("", "UTC"):
        return _dt.UTC, None
    if name == "Local":
        return _local_zone(), None
    if ".." in name or name.startswith(("/", "\\")):
        return None, "time: invalid location name"
    return _zone_file(name, os.environ.get("ZONEINFO", ""))


@functools.lru_cache(maxsize=256)
def _zone_file(name: str, zoneinfo: str) -> tuple[_dt.tzinfo | None, str | None]:
    """Go's `loadLocation`: the first source holding the zone; failing that, the first error other than
    a missing file, else `unknown time zone`."""
    sources = ([zoneinfo.rstrip("/") + "/"] if zoneinfo and os.path.isdir(zoneinfo) else []) + list(_ZONE_SOURCES)
    first_error = None
    for source in sources:
        zone, error = _read_zone(source + name, name)
        if zone is not None:
            return zone, None
        first_error = first_error or error
    return None, first_error or f"unknown time zone {name}"


def _read_zone(file: str, key: str) -> tuple[_dt.tzinfo | None, str | None]:
    """The zone in a TZif file, or None and Go's error (the system's bare reason, as Go's `time` package
    reads the file; None when the file does not exist)."""
    try:
        with open(file, "rb") as handle:
            if os.fstat(handle.fileno()).st_size > _MAX_ZONE_FILE:
                return None, "file too large"
            try:
                return ZoneInfo.from_file(handle, key=key), None
            except Exception:  # whatever a file that is not TZif makes the parser raise
                return None, "malformed time zone information"
    except FileNotFoundError:
        return None, None
    except OSError as error:  # a folder, a path through a file, no permission
        reason = error.strerror or "invalid argument"
        return None, reason[:1].lower() + reason[1:]
    except ValueError:  # a NUL in the name
        return None, "invalid argument"


@functools.lru_cache(maxsize=1)
def _local_zone() -> _dt.tzinfo:
    """Go's `time.Local`: `$TZ` (empty is UTC; `:` before it is dropped; a path or a name in the
    database), else /etc/localtime; UTC when it cannot be read."""
    setting = os.environ.get("TZ")
    if setting == "":
        return _dt.UTC
    if setting is None:
        files = ["/etc/localtime"]
    else:
        setting = setting.removeprefix(":")
        files = [setting] if setting.startswith("/") else [source + setting for source in _ZONE_SOURCES]
    for file in files:
        zone, _ = _read_zone(file, "Local")
        if zone is not None:
            return zone
    return _dt.UTC


def resolve_wall_time(text: str, zone_name: str | None = None) -> tuple[_dt.datetime | None, str | None]:
    """The instant a date and time names (`2026-12-25T03:00`), and None or why it names none. With a UTC
    offset (`+01:00`, `Z`) it is that instant; without one it is a wall clock in the zone `zone_name`
    (found as a time interval's `location` is), UTC when none is given. A wall clock the zone skips or
    passes twice as its clocks change names no single instant: the reason names the two it could be."""
    moment = None
    if len(text) <= 64 and re.match(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}", text):
        try:
            moment = _dt.datetime.fromisoformat(text)
        except ValueError:
            moment = None
    if moment is None:
        return None, f"{text!r} is not a date and time such as 2026-12-25T03:00"
    if not 1 < moment.year < 9999:  # a day of margin: read in any zone, the instant stays a datetime
        return None, f"{text!r} is not between the years 2 and 9998"
    if moment.tzinfo is not None:
        return moment, None
    zone, reason = load_location(zone_name or "UTC")
    if zone is None:
        return None, f"{zone_name!r} is not a time zone: {reason}"
    earlier, later = moment.replace(tzinfo=zone, fold=0), moment.replace(tzinfo=zone, fold=1)
    if earlier.utcoffset() == later.utcoffset():
        return earlier, None
    choices = " or ".join(
        f"{moment.replace(tzinfo=_dt.timezone(offset)).isoformat()} "
        f"({moment.replace(tzinfo=_dt.timezone(offset)).astimezone(_dt.UTC):%Y-%m-%dT%H:%MZ})"
        for offset in (earlier.utcoffset(), later.utcoffset()) if offset is not None)
    if earlier.astimezone(_dt.UTC).astimezone(zone).replace(tzinfo=None) != moment:
        return None, (f"{text} does not exist in {zone_name}: the clocks skip it; it could be {choices}. "
                      "Give the time with the offset meant")
    return None, (f"{text} happens twice in {zone_name}, as the clocks go back: {choices}. "
                  "Give the time with the offset meant")


# --- reading the configuration ------------------------------------------------------------------------


class _Reader:
    """Reads the time interval sections as Alertmanager's YAML decoding and checks do, noting problems."""

    def __init__(self, text: TextAt | None) -> None:
        self.text = text
        self.problems: list[RouteProblem] = []

    def problem(self, path: Path, message: str, *, key: bool = False) -> None:
        self.problems.append(RouteProblem(path, message, key=key))

    def scalar(self, value: Any, path: Path, kind: str) -> str | None:
        """The text of a scalar (None after noting the problem when the value is a list or mapping)."""
        if isinstance(value, (dict, list)):
            shape = "mapping" if isinstance(value, dict) else "list"
            self.problem(path, f"{kind} must be a single value, not a {shape}")
            return None
        if value is None:
            return ""
        written = self.text(path) if self.text is not None else None
        if written is not None:
            return written
        return _as_written(value, kind)

    def mapping(self, value: Any, path: Path, kind: str, fields: Sequence[str]) -> dict[str, Any] | None:
        if not isinstance(value, dict):
            self.problem(path, f"{kind} must be a mapping")
            return None
        for name in value:
            if name not in fields:
                self.problem((*path, name), f"unknown field '{name}' in {kind} (known: {', '.join(fields)})",
                             key=True)
        return value

    def entries(self, value: Any, path: Path) -> tuple[IntervalEntry, ...]:
        if value is None:
            return ()
        if not isinstance(value, list):
            self.problem(path, "time_intervals must be a list of time interval entries")
            return ()
        found = []
        for index, item in enumerate(value):
            entry = self.entry(item, (*path, index))
            if entry is not None:
                found.append(entry)
        return tuple(found)

    def entry(self, value: Any, path: Path) -> IntervalEntry | None:
        if value is None:
            return IntervalEntry()  # the zero value: every field absent, so it always holds
        data = self.mapping(value, path, "a time interval entry", _ENTRY_FIELDS)
        if data is None:
            return None
        before = len(self.problems)
        fields: dict[str, Any] = {}
        for name, read in (("times", self.time_range), ("weekdays", self.weekday), ("days_of_month", self.day),
                           ("months", self.month), ("years", self.year)):
            raw = data.get(name)
            if raw is None:
                continue
            if not isinstance(raw, list):
                self.problem((*path, name), f"{name} must be a list")
                continue
            items = [read(item, (*path, name, index)) for index, item in enumerate(raw)]
            fields[name] = tuple(item for item in items if item is not None)
        if data.get("location") is not None:
            text = self.scalar(data["location"], (*path, "location"), "location")
            if text is not None:
                zone, reason = load_location(text)
                if zone is None:
                    self.problem((*path, "location"), reason or f"unknown time zone {text}")
                else:
                    fields["location"] = Location(text, zone)
        return IntervalEntry(**fields) if len(self.problems) == before else None

    def time_range(self, value: Any, path: Path) -> TimeRange | None:
        if value is None:
            return TimeRange(0, 0)  # never holds
        data = self.mapping(value, path, "a time range", ("start_time", "end_time"))
        if data is None:
            return None
        start_text = self.scalar(data.get("start_time"), (*path, "start_time"), "start_time")
        end_text = self.scalar(data.get("end_time"), (*path, "end_time"), "end_time")
        if start_text is None or end_text is None:
            return None
        if not start_text or not end_text:
            self.problem(path, "both start and end times must be provided")
            return None
        start = self.minutes(start_text, (*path, "start_time"))
        end = self.minutes(end_text, (*path, "end_time"))
        if start is None or end is None:
            return None
        if start >= end:
            self.problem(path, "start time cannot be equal or greater than end time")
            return None
        return TimeRange(start, end)

    def minutes(self, text: str, path: Path) -> int | None:
        if not _VALID_TIME.match(text):
            self.problem(path, f"couldn't parse timestamp {text}, invalid format")
            return None
        hours, minutes = text.split(":")
        return int(hours) * 60 + int(minutes)

    def span(self, value: Any, path: Path, kind: str, member: Callable[[str], int | str],
             check: Callable[[int, int], str | None]) -> Range | None:
        """A `begin:end` range or a single value, as `stringableRangeFromString` reads it (in lower case),
        then checked by `check` (a message, or None when the range is good)."""
        text = self.scalar(value, path, kind)
        if text is None:
            return None
        text = text.lower()
        parts = text.split(":") if ":" in text else [text, text]
        if len(parts) != 2:
            self.problem(path, f"couldn't parse range {text}, invalid format")
            return None
        begin, end = member(parts[0]), member(parts[1])
        if isinstance(begin, str) or isinstance(end, str):
            self.problem(path, begin if isinstance(begin, str) else str(end))
            return None
        message = check(begin, end)
        if message is not None:
            self.problem(path, message)
            return None
        return Range(begin, end)

    def weekday(self, value: Any, path: Path) -> Range | None:
        if value is None:
            return Range(0, 0)  # the zero value: Sunday
        return self.span(value, path, "a weekday", lambda text: _WEEKDAYS.get(text, f"{text} is not a valid weekday"),
                         lambda begin, end: "start day cannot be before end day" if begin > end else None)

    def day(self, value: Any, path: Path) -> Range | None:
        if value is None:
            return Range(0, 0)  # never holds
        return self.span(value, path, "a day of the month", _atoi, _day_problem)

    def month(self, value: Any, path: Path) -> Range | None:
        if value is None:
            return Range(0, 0)  # never holds
        return self.span(value, path, "a month", _month_number,
                         lambda begin, end: (f"end month {_MONTH_NAMES.get(end, '')} is before start month "
                                             f"{_MONTH_NAMES.get(begin, '')}") if begin > end else None)

    def year(self, value: Any, path: Path) -> Range | None:
        if value is None:
            return Range(0, 0)  # never holds
        return self.span(value, path, "a year", _atoi,
                         lambda begin, end: f"end year {end} is before start year {begin}" if begin > end else None)


def _day_problem(begin: int, end: int) -> str | None:
    """`DayOfMonthRange.UnmarshalYAML`: days within ±31, not 0; a negative start needs a negative end;
    and the end not before the start in a month of 28 days."""
    if begin == 0 or not -31 <= begin <= 31:
        return f"{begin} is not a valid day of the month: out of range"
    if end == 0 or not -31 <= end <= 31:
        return f"{end} is not a valid day of the month: out of range"
    if begin < 0 < end:
        return "end day must be negative if start day is negative"
    if (28 + begin if begin < 0 else begin) > (28 + end if end < 0 else end):
        return f"end day {end} is always before start day {begin}"
    return None


def _atoi(text: str) -> int | str:
    """Go's `strconv.Atoi`: ASCII digits with an optional sign, within 64 bits; else Go's message."""
    if not _GO_INT.match(text):
        return f'strconv.Atoi: parsing "{text}": invalid syntax'
    number = int(text)
    if not -(2**63) <= number < 2**63:
        return f'strconv.Atoi: parsing "{text}": value out of range'
    return number


def _month_number(text: str) -> int | str:
    if text in _MONTHS:
        return _MONTHS[text]
    number = _atoi(text)
    return f"{text} is not a valid month" if isinstance(number, str) else number


def _as_written(value: Any, kind: str) -> str:
    """The text a scalar was most likely written as, when only PyYAML's value is at hand: a number of
    60 or more where a time, a day or a month is read came from base 60 (`17:00`, `1:5`)."""
    if isinstance(value, int) and not isinstance(value, bool) and value >= 60 and kind in (
            "start_time", "end_time", "a day of the month", "a month"):
        hours, minutes = divmod(value, 60)
        return f"{hours}:{minutes:02d}" if kind in ("start_time", "end_time") else f"{hours}:{minutes}"
    return go_text(value)


def read_time_intervals(config: Mapping[str, Any], *, text: TextAt | None = None,
                        base: Path = ()) -> tuple[TimeIntervals, list[RouteProblem]]:
    """The named time intervals of a configuration (`time_intervals` and the older
    `mute_time_intervals`), and what Alertmanager would refuse in them, each at its path. An entry
    with a problem is left out of its interval. `text` gives the scalar at a path as written."""
    reader = _Reader(text)
    intervals: TimeIntervals = {}
    for key in ("mute_time_intervals", "time_intervals"):  # Alertmanager reads the older list first
        declared = config.get(key)
        if declared is None:
            continue
        if not isinstance(declared, list):
            reader.problem((*base, key), f"{key} must be a list of named time intervals")
            continue
        for index, item in enumerate(declared):
            path = (*base, key, index)
            entries: tuple[IntervalEntry, ...] = ()
            if item is None:  # the zero value: named "", never checked for a name
                name = ""
            else:
                data = reader.mapping(item, path, "a named time interval", ("name", "time_intervals"))
                if data is None:
                    continue
                name = reader.scalar(data.get("name"), (*path, "name"), "name") or ""
                if not name and not isinstance(data.get("name"), (dict, list)):
                    which = "mute time interval" if key == "mute_time_intervals" else "time interval"
                    reader.problem(path, f"missing name in {which}")
                entries = reader.entries(data.get("time_intervals"), (*path, "time_intervals"))
            if name in intervals:
                which = "mute time interval" if key == "mute_time_intervals" else "time interval"
                reader.problem((*path, "name") if item is not None else path, f'{which} "{name}" is not unique')
                continue
            intervals[name] = entries
    return intervals, reader.problems


def route_interval_problems(root: Route, names: Iterable[str]) -> list[RouteProblem]:
    """Routes naming time intervals: none on the root route, and only names that are defined."""
    defined = set(names)
    problems: list[RouteProblem] = []
    for route in root.walk():
        for key in ("mute_time_intervals", "active_time_intervals"):
            listed: list[str] = getattr(route, key)
            if route.parent is None and listed:
                kind = "mute" if key == "mute_time_intervals" else "active"
                problems.append(RouteProblem((*route.path, key), f"root route must not have any {kind} time intervals"))
                continue
            for index, name in enumerate(listed):
                if name not in defined:
                    problems.append(RouteProblem((*route.path, key, index),
                                                 f'undefined time interval "{name}" used in route'))
    return problems

