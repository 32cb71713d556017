"""Durations (`90d`, `1h30m`, Prometheus' syntax) and calendar dates, parsed only when a check asks."""

from __future__ import annotations

import datetime as _dt
import re

__all__ = ["DURATION_FORM", "parse_duration", "parse_date", "format_duration", "duration_in_words", "parse_instant",
           "instant_in_words", "shift_date"]

_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400, "y": 365 * 86400}
_DURATION = re.compile(r"^(?:(\d+)(ms|s|m|h|d|w|y))+$")
_PART = re.compile(r"(\d+)(ms|s|m|h|d|w|y)")
#: Text shaped like a duration (numbers and units), valid or not: what OB041 judges rather than the schema.
DURATION_FORM = re.compile(r"^(\d+(ms|s|m|h|d|w|y))+$")


def parse_duration(text: object) -> float | None:
    """Seconds in a duration such as `30s`, `15m`, `1h30m`, `90d`; None when it is not one.

    Units are Prometheus' (`ms`, `s`, `m` for minutes, `h`, `d`, `w`, `y`), largest first.
    """
    if not isinstance(text, str) or len(text) > 64 or not _DURATION.match(text):
        return None
    parts = _PART.findall(text)
    seconds = [_UNITS[unit] for _, unit in parts]
    # each unit once, largest first, as Prometheus requires
    if seconds != sorted(seconds, reverse=True) or len(set(seconds)) != len(seconds):
        return None
    return float(sum(int(number) * _UNITS[unit] for number, unit in parts))


def format_duration(seconds: float) -> str:
    """Words for a duration: `3 days`, `24 h`, `15 min`."""
    if seconds >= 2 * 86400 and seconds % 86400 == 0:
        return f"{int(seconds // 86400)} days"
    if seconds >= 3600 and seconds % 3600 == 0:
        return f"{int(seconds // 3600)} h"
    if seconds >= 60 and seconds % 60 == 0:
        return f"{int(seconds // 60)} min"
    return f"{seconds:g} s"


def duration_in_words(seconds: float) -> str:
    """A measured duration, to the minute, as a reader says it: `41 min`, `1 h 20 min`, `2 days 3 h`
    (`under 1 min` below a minute). For figures such as a mean time to resolve, not for exact settings."""
    minutes = round(seconds / 60)
    if minutes < 1:
        return "under 1 min"
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    if days:
        return f"{days} day{'s' if days > 1 else ''}" + (f" {hours} h" if hours else "")
    if hours:
        return f"{hours} h" + (f" {minutes} min" if minutes else "")
    return f"{minutes} min"


def parse_date(text: object) -> _dt.date | None:
    """A calendar date written `YYYY-MM-DD`; None when it is not one."""
    if isinstance(text, _dt.date):
        return text
    if not isinstance(text, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        return None
    try:
        return _dt.date.fromisoformat(text)
    except ValueError:
        return None


def parse_instant(text: object) -> _dt.datetime | None:
    """An instant written in ISO 8601 (`2026-10-03T14:02:00Z`, `2026-10-03 16:02+02:00`), in UTC; one
    written with no offset is read as UTC. None when it is not one."""
    if isinstance(text, _dt.datetime):
        moment = text
    elif isinstance(text, str) and len(text) <= 64 and re.match(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}", text):
        try:
            moment = _dt.datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
        except ValueError:
            return None
    else:
        return None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=_dt.UTC)
    return moment.astimezone(_dt.UTC)


def instant_in_words(text: object) -> str:
    """An instant as a reader reads it, in UTC to the minute (`2026-10-03 14:02 UTC`, seconds only when
    they are not zero); text that is not an instant is returned as it is."""
    moment = parse_instant(text)
    if moment is None:
        return "" if text is None else str(text)
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC" if moment.second else "%Y-%m-%d %H:%M UTC")


def shift_date(day: _dt.date, seconds: float) -> _dt.date:
    """The date `seconds` after (or, negative, before) `day`, held to the calendar's ends: a review
    interval of 9,000 years, or a window before year 1, is a date at the edge, not an overflow."""
    try:
        return day + _dt.timedelta(seconds=seconds)
    except OverflowError:
        return _dt.date.max if seconds > 0 else _dt.date.min
