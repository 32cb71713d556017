"""Cron schedules: parsed exactly, and the longest gap between two consecutive runs, over a whole cycle.

A five-field expression (minute, hour, day of month, month, day of week) runs at the same times of
day on every day it runs, so the longest gap is the larger of two: the longest gap between two
times of one day, and, between two consecutive run days `g` days apart, `g` days less the span
between the day's first and last run. Run days are found by walking the 400-year Gregorian cycle
(146,097 days), after which dates and weekdays repeat: irregular schedules such as
`0 2 * * 1-5` (72 h from Friday to Monday) or `0 3 29 2 *` (eight years across 2100) are exact.

The fields are read as Debian's cron reads them (cronie and Vixie cron alike; `cronsim` follows them, and
tests/test_cron.py holds this module to it): a day field whose text starts with `*` (`*`, `*/10`) leaves
the day unrestricted by it, so the day must match both fields; only when neither starts with `*` does a
day run when it matches either. `0 0 */10 * 1` runs on Mondays that are the 1st, 11th, 21st or 31st.
A schedule that can never run (`0 12 31 4 *`, `0 0 30 2 *`) is refused, as cronsim refuses it.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass
from functools import lru_cache

from cron_descriptor import get_description

__all__ = ["CronError", "Schedule", "cron_in_words", "parse_cron"]

_MACROS = {"@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *", "@weekly": "0 0 * * 0",
           "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@hourly": "0 * * * *"}
_MONTHS = {name: number for number, name in enumerate(
    ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], start=1)}
_DAYS = {name: number for number, name in enumerate(["sun", "mon", "tue", "wed", "thu", "fri", "sat"])}
_CYCLE_DAYS = 146_097  # 400 Gregorian years: dates and weekdays repeat
_CYCLE_START = _dt.date(2000, 1, 1)


class CronError(ValueError):
    """A cron expression that cron would refuse."""


def _field(text: str, low: int, high: int, names: dict[str, int] | None, what: str) -> tuple[frozenset[int], bool]:
    """The values a field allows, and whether it restricts the day (its text does not start with `*`:
    Debian's cron reads `*/10` in a day field as unrestricted, like `*`)."""
    values: set[int] = set()
    for part in text.split(","):
        if not part:
            raise CronError(f"empty item in the {what} field {text!r}")
        base, slash, step_text = part.partition("/")
        step = 1
        if slash:
            if not _digits(step_text) or int(step_text) == 0:
                raise CronError(f"step {step_text!r} in the {what} field is not a positive number")
            step = int(step_text)
        if base == "*":
            start, end = low, high
        else:
            first, dash, last = base.partition("-")
            start = _value(first, low, high, names, what)
            end = _value(last, low, high, names, what) if dash else (high if slash else start)
            if end < start:
                raise CronError(f"range {base!r} in the {what} field runs backwards")
        values.update(range(start, end + 1, step))
    return frozenset(values), not text.startswith("*")


def _digits(text: str) -> bool:
    """ASCII digits only (`str.isdigit` also takes `²` and other digits cron does not read)."""
    return bool(text) and all("0" <= character <= "9" for character in text)


def _value(text: str, low: int, high: int, names: dict[str, int] | None, what: str) -> int:
    if names and text.lower() in names:
        return names[text.lower()]
    if not _digits(text):
        raise CronError(f"{text!r} is not a value of the {what} field")
    number = int(text)
    if not low <= number <= high:
        raise CronError(f"{number} is outside {low}-{high} in the {what} field")
    return number


@dataclass(frozen=True)
class Schedule:
    """A parsed cron expression."""

    expression: str
    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]
    days_restricted: bool
    weekdays_restricted: bool

    def runs_on(self, day: _dt.date) -> bool:
        if day.month not in self.months:
            return False
        by_date = day.day in self.days
        by_weekday = (day.isoweekday() % 7) in self.weekdays
        if self.days_restricted and self.weekdays_restricted:
            return by_date or by_weekday  # neither field starts with `*`: either may match
        return by_date and by_weekday  # one starts with `*` (and allows every day it may): both must match

    @property
    def times(self) -> list[int]:
        """Minutes after midnight of every run in a day, in order."""
        return sorted(hour * 60 + minute for hour in self.hours for minute in self.minutes)

    def next_runs(self, after: _dt.datetime, count: int = 3) -> list[_dt.datetime]:
        """The next `count` runs strictly after `after` (naive, UTC)."""
        found: list[_dt.datetime] = []
        day = after.date()
        times = self.times
        for _ in range(_CYCLE_DAYS):
            if self.runs_on(day):
                for minute in times:
                    moment = _dt.datetime.combine(day, _dt.time(minute // 60, minute % 60))
                    if moment > after:
                        found.append(moment)
                        if len(found) == count:
                            return found
            if day == _dt.date.max:
                break  # the calendar ends
            day += _dt.timedelta(days=1)
        return found

    def worst_gap(self, start: _dt.date | None = None) -> tuple[int, _dt.date | None, _dt.date | None]:
        """The longest gap between two consecutive runs, in minutes, and the run days it lies between
        (None for a gap within one day); (-1, None, None) for a schedule that never runs.

        The days are those of the first such gap after `start` (a 400-year cycle from it is searched:
        the gaps repeat with the cycle, so the length is the same from any start)."""
        # The gaps repeat with the cycle: searched from the same day of the base cycle, then moved back
        # by whole cycles (so that no date near the end of the calendar overflows).
        turns, offset = divmod(((start or _CYCLE_START) - _CYCLE_START).days, _CYCLE_DAYS)
        worst, first, last = _worst_gap(self, offset)
        try:
            shift = _dt.timedelta(days=turns * _CYCLE_DAYS)
            return worst, first and first + shift, last and last + shift
        except OverflowError:
            return worst, None, None  # past year 9999: the length holds, the dates cannot be written

    def kept_for(self, count: int) -> int:
        """The shortest time, in minutes, that a run's output lives when only the newest `count` are kept:
        the least span of `count` consecutive gaps between runs (-1 for a schedule that never runs).

        Every run day has the same run times, so a window of `count` gaps that starts at the i-th run of
        a day ends k run days later at the j-th run, (k, j) = divmod(i + count, runs a day): the least
        span is the least distance between run days k apart, plus the times of day, minimised over i."""
        days, _ = _run_days(self)
        times = self.times
        if not days or not times or count < 1:
            return -1
        best = None
        for first in range(len(times)):
            steps, last = divmod(first + count, len(times))
            span = _apart(self, steps) * 1440 + times[last] - times[first]
            best = span if best is None else min(best, span)
        return best if best is not None else -1

    def count_to_keep(self, minutes: int) -> int | None:
        """The fewest runs to keep so that each is kept at least `minutes` (None when none would do)."""
        if self.kept_for(1) < 0:
            return None
        low, high = 1, 1
        while self.kept_for(high) < minutes:
            if high > 10_000_000:
                return None
            low, high = high + 1, high * 2
        while low < high:  # kept_for grows with the count
            middle = (low + high) // 2
            if self.kept_for(middle) >= minutes:
                high = middle
            else:
                low = middle + 1
        return low

    def shortest_gap(self) -> int:
        """The shortest time between two consecutive runs, in minutes (-1 for a schedule that never runs)."""
        return self.kept_for(1)


_ALL_DAYS, _ALL_MONTHS = frozenset(range(1, 32)), frozenset(range(1, 13))


@lru_cache(maxsize=4096)
def _apart(schedule: Schedule, steps: int) -> int:
    """The least distance, in days, between a run day and the run day `steps` run days after it."""
    days, period = _run_days(schedule)
    turns, rest = divmod(steps, len(days))
    shifted = [*days[rest:], *(day + period for day in days[:rest])]
    return min(later - earlier for earlier, later in zip(days, shifted)) + turns * period


@lru_cache(maxsize=16)
def _run_days(schedule: Schedule) -> tuple[list[int], int]:
    """The run days of one period of the schedule (days from the cycle's start), and the period: a week
    when the schedule allows every day of every month (it then depends on the weekday alone, and a week
    gives the same answers and the same earliest dates as the cycle), else the 400-year cycle."""
    weekly = schedule.days == _ALL_DAYS and schedule.months == _ALL_MONTHS
    period = 7 if weekly else _CYCLE_DAYS
    return [offset for offset in range(period) if schedule.runs_on(_CYCLE_START + _dt.timedelta(days=offset))], period


@lru_cache(maxsize=1024)
def _worst_gap(schedule: Schedule, offset: int) -> tuple[int, _dt.date | None, _dt.date | None]:
    """The worst gap, and the run days of its first occurrence from `offset` days into the cycle."""
    days, period = _run_days(schedule)
    times = schedule.times
    if not days or not times:
        return (-1, None, None)
    # The run days of one period, counted from `offset` (the gaps repeat with the period).
    turn = offset % period
    run_days = [day - turn for day in days if day >= turn] + [day + period - turn for day in days if day < turn]
    within = max((b - a for a, b in zip(times, times[1:])), default=0)
    widest, after = 0, run_days[0]
    for previous, current in zip(run_days, [*run_days[1:], run_days[0] + period]):
        if current - previous > widest:  # the first of equal gaps: the earliest dates
            widest, after = current - previous, previous
    across = widest * 1440 - (times[-1] - times[0])
    if within >= across:
        return (within, None, None)
    start = _CYCLE_START + _dt.timedelta(days=offset + after)
    return (across, start, start + _dt.timedelta(days=widest))


def parse_cron(expression: str) -> Schedule:
    """Parse a five-field cron expression (or a macro such as `@daily`)."""
    text = " ".join(str(expression).split())
    text = _MACROS.get(text.lower(), text)
    fields = text.split(" ")
    if len(fields) != 5:
        raise CronError(f"a cron expression has five fields (minute hour day month weekday), not {len(fields)}")
    minutes, _ = _field(fields[0], 0, 59, None, "minute")
    hours, _ = _field(fields[1], 0, 23, None, "hour")
    days, days_restricted = _field(fields[2], 1, 31, None, "day-of-month")
    months, _ = _field(fields[3], 1, 12, _MONTHS, "month")
    weekdays, weekdays_restricted = _field(fields[4], 0, 7, _DAYS, "day-of-week")
    weekdays = frozenset(0 if day == 7 else day for day in weekdays)
    if not (days_restricted and weekdays_restricted) and not any(
            day <= _LONGEST_MONTH[month] for month in months for day in days):
        # Both day fields must match, and no month it names has any of its days: it never runs.
        named = ", ".join(_MONTH_NAMES[month - 1] for month in sorted(months))
        raise CronError(f"it never runs: no month it allows ({named}) has a day "
                        f"{' or '.join(str(day) for day in sorted(days))}")
    return Schedule(str(expression), minutes, hours, days, months, weekdays, days_restricted, weekdays_restricted)


_LONGEST_MONTH = (0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)  # February: 29 in leap years
_MONTH_NAMES = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
                "November", "December")


def cron_in_words(expression: str) -> str:
    """`0 2 * * 1-5` as `At 02:00 AM, Monday through Friday` (the expression itself when it cannot be read)."""
    try:
        return str(get_description(expression))
    except Exception:
        return expression
