"""Who is paged when: for every alert that must page, the times of the week at which it reaches a paging
receiver, and the times at which it reaches none.

An alert's routes are fixed by its labels (`routing.py`); what changes with time is whether each route
notifies: a route is silent while one of its `mute_time_intervals` holds, or while none of its
`active_time_intervals` does (`notify.route_is_open`). Whether an interval holds changes only at a few
instants: a local midnight, a `times` boundary, or a change of UTC offset, in the interval's `location`.
So the year is cut at those instants into spans in which nothing changes, each judged once, instead of
minute by minute (half a million instants a year).

The year looked at is 53 weeks from the Monday of the build's week (`today`), in the team's time zone, so
that it holds both sides of every daylight-saving change and every month and day of the month an interval
can name. The findings and the week map are read in that zone: each of the 10,080 minutes of a week says in
how many of the 53 weeks it reached a pager, and whom.
"""

from __future__ import annotations

import datetime as _dt
import difflib
import html
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from zoneinfo import available_timezones

from markupsafe import Markup

from ...diagnostics import Code, Diagnostic, Severity, make
from ...model import Handbook, Record
from .alertmanager import AlertmanagerConfig
from .links import primary_alertmanager, teams_for_receiver
from .routing import Route
from .rules import AlertRule
from .timeintervals import load_location

__all__ = ["WEEK_MINUTES", "Coverage", "WeekMap", "alert_coverage", "check_paging_coverage", "coverage_of",
           "check_time_zones", "heat_map", "paged_when", "schedule_text", "team_coverage"]

OB319 = Code("OB319", Severity.ERROR, "Paging alert reaches no pager at some hours",
         "An alert with a paging severity (`paging_severities`) reaches no paging receiver (one with an "
         "integration of `paging_integrations`: PagerDuty, Opsgenie, VictorOps, Pushover by default) at some "
         "times of the week: every route that would page is muted then by its `mute_time_intervals`, or not "
         "active by its `active_time_intervals`. The message names the times, in the team's time zone "
         "(`timezone` of the team whose receivers the alert reaches, UTC otherwise), judged over 53 weeks so "
         "that both sides of a daylight-saving change count. Checked once some receiver pages.",
         failing="# ops/alertmanager.yml\n"
                 "route:\n"
                 "  receiver: fallback\n"
                 "  routes:\n"
                 "    - matchers: [team=\"data\"]\n"
                 "      receiver: data-pager\n"
                 "      active_time_intervals: [office-hours]   # and nobody at night\n"
                 "time_intervals:\n"
                 "  - name: office-hours\n"
                 "    time_intervals:\n"
                 "      - weekdays: [\"monday:friday\"]\n"
                 "        times: [{start_time: \"09:00\", end_time: \"17:00\"}]\n",
         passing="# ops/alertmanager.yml\n"
                 "route:\n"
                 "  receiver: fallback\n"
                 "  routes:\n"
                 "    - matchers: [team=\"data\"]\n"
                 "      receiver: data-pager\n"
                 "      active_time_intervals: [office-hours]\n"
                 "      continue: true\n"
                 "    - matchers: [team=\"data\"]\n"
                 "      receiver: data-night-pager\n"
                 "      mute_time_intervals: [office-hours]\n"
                 "time_intervals:\n"
                 "  - name: office-hours\n"
                 "    time_intervals:\n"
                 "      - weekdays: [\"monday:friday\"]\n"
                 "        times: [{start_time: \"09:00\", end_time: \"17:00\"}]\n"
                 "receivers:\n"
                 "  - name: fallback\n"
                 "    slack_configs: [{channel: \"#ops\", api_url: \"https://chat.example/hook\"}]\n"
                 "  - name: data-pager\n"
                 "    pagerduty_configs: [{routing_key: abc}]\n"
                 "  - name: data-night-pager\n"
                 "    pagerduty_configs: [{routing_key: def}]\n"
                 "# ops/teams/team-data.yaml\n"
                 "receivers: [data-pager, data-night-pager, fallback]\n")

WEEK_MINUTES = 7 * 24 * 60
WEEKS = 53
DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
#: The most instants a coverage is judged at: a configuration whose intervals cut a year finer is not judged
#: (a hostile file cannot make a check run for minutes).
MAX_POINTS = 200_000
_UTC = _dt.UTC


@dataclass
class WeekMap:
    """A week in one time zone, minute by minute: in how many of the weeks looked at each minute occurred
    (`seen`: 53, or 52 or 54 around a daylight-saving change), in how many it reached a pager (`covered`),
    and which paging receivers it reached (minutes by receiver set)."""

    zone: str
    weeks: int
    seen: list[int] = field(default_factory=lambda: [0] * WEEK_MINUTES)
    covered: list[int] = field(default_factory=lambda: [0] * WEEK_MINUTES)
    reached: dict[tuple[int, int], dict[tuple[str, ...], int]] = field(default_factory=dict)
    #: The local dates on which some minute reached no pager, by minute of the week (for rare gaps).
    gap_dates: dict[int, list[_dt.date]] = field(default_factory=dict)

    def uncovered_runs(self) -> list[tuple[int, int, int]]:
        """The runs of minutes of the week at which a pager was not reached in some week: (first minute,
        minute after the last, how many weeks at most)."""
        runs: list[tuple[int, int, int]] = []
        start = None
        worst = 0
        for minute in range(WEEK_MINUTES + 1):
            missing = self.seen[minute] - self.covered[minute] if minute < WEEK_MINUTES else 0
            if missing > 0:
                if start is None:
                    start, worst = minute, 0
                worst = max(worst, missing)
            elif start is not None:
                runs.append((start, minute, worst))
                start = None
        if len(runs) > 1 and runs[0][0] == 0 and runs[-1][1] == WEEK_MINUTES:
            # Sunday night into Monday morning is one run.
            last = runs.pop()
            first = runs.pop(0)
            runs.append((last[0], first[1] + WEEK_MINUTES, max(last[2], first[2])))
        return runs

    def cell(self, day: int, hour: int) -> tuple[float, dict[tuple[str, ...], int]]:
        """The share of an hour's minutes, over the weeks, that reached a pager, and who was reached."""
        first = day * 1440 + hour * 60
        seen = sum(self.seen[first:first + 60])
        covered = sum(self.covered[first:first + 60])
        return (covered / seen if seen else 1.0), self.reached.get((day, hour), {})

    def most_reached(self, day: int, hour: int) -> tuple[str, ...]:
        """The paging receivers reached in most of an hour's minutes over the weeks (none: no pager)."""
        sets = self.reached.get((day, hour), {})
        return max(sets.items(), key=lambda item: item[1])[0] if sets else ()


@dataclass
class Coverage:
    """The coverage of some alerts: the week map, and the alerts it is about."""

    alerts: list[str]
    week: WeekMap


def year_start(today: _dt.date, zone: _dt.tzinfo) -> _dt.datetime:
    """Monday 00:00 of the week holding `today`, in `zone`, as a UTC instant."""
    monday = today - _dt.timedelta(days=today.weekday())
    return _dt.datetime.combine(monday, _dt.time(0, 0), tzinfo=zone).astimezone(_UTC)


def change_points(start: _dt.datetime, end: _dt.datetime,
                  boundaries: Mapping[_dt.tzinfo, Iterable[int]]) -> list[_dt.datetime] | None:
    """The instants in [start, end) at which a time interval in one of the zones may change its answer:
    each local midnight and `times` boundary (minutes of the day), and each change of UTC offset. None
    when there are more than MAX_POINTS."""
    points = {start}
    for zone, minutes in boundaries.items():
        marks = sorted({0, *(m for m in minutes if 0 < m < 1440)})
        day = start.astimezone(zone).date() - _dt.timedelta(days=1)
        last = end.astimezone(zone).date() + _dt.timedelta(days=1)
        while day <= last:
            for mark in marks:
                wall = _dt.datetime.combine(day, _dt.time(mark // 60, mark % 60))
                for fold in (0, 1):
                    instant = wall.replace(tzinfo=zone, fold=fold).astimezone(_UTC)
                    if start < instant < end:
                        points.add(instant)
            if len(points) > MAX_POINTS:
                return None
            day += _dt.timedelta(days=1)
        points.update(offset_changes(start, end, zone))
    return sorted(points)


def offset_changes(start: _dt.datetime, end: _dt.datetime, zone: _dt.tzinfo) -> list[_dt.datetime]:
    """The instants in (start, end) at which `zone` changes its UTC offset, to the minute."""
    found = []
    hour = _dt.timedelta(hours=1)
    moment = start
    offset = moment.astimezone(zone).utcoffset()
    while moment < end:
        later = min(moment + hour, end)
        next_offset = later.astimezone(zone).utcoffset()
        if next_offset != offset:
            low, high = moment, later  # the change is in (low, high]: halve to the minute
            while high - low > _dt.timedelta(minutes=1):
                middle = low + (high - low) / 2
                middle = middle.replace(second=0, microsecond=0)
                if middle <= low:
                    break
                if middle.astimezone(zone).utcoffset() == offset:
                    low = middle
                else:
                    high = middle
            found.append(high)
            offset = next_offset
        moment = later
    return found


def coverage_of(alerts: Sequence[str],
                open_receivers: Callable[[int, _dt.datetime], tuple[str, ...]],
                boundaries: Mapping[_dt.tzinfo, Iterable[int]],
                zone: _dt.tzinfo, zone_name: str, today: _dt.date) -> Coverage | None:
    """The week map of some alerts (by name), given, for the alert at an index and an instant, the paging
    receivers it reaches then (`open_receivers`). None when the intervals cut the year too fine to judge."""
    start = year_start(today, zone)
    end = start + _dt.timedelta(weeks=WEEKS)
    cuts = {**boundaries}
    cuts.setdefault(zone, [])  # the map's own midnights and offset changes cut spans too
    points = change_points(start, end, cuts)
    if points is None:
        return None
    week = WeekMap(zone_name, WEEKS)
    seen_diff = [0] * (WEEK_MINUTES + 1)
    covered_diff = [0] * (WEEK_MINUTES + 1)
    for index, first in enumerate(points):
        last = points[index + 1] if index + 1 < len(points) else end
        reached: set[str] = set()
        every = True
        for number in range(len(alerts)):
            receivers = open_receivers(number, first)
            reached.update(receivers)
            every = every and bool(receivers)
        local = first.astimezone(zone)
        begin = local.weekday() * 1440 + local.hour * 60 + local.minute
        length = int((last - first).total_seconds() // 60)
        if length <= 0:
            continue
        stop = min(begin + length, WEEK_MINUTES)  # spans are cut at local midnights: within one day
        seen_diff[begin] += 1
        seen_diff[stop] -= 1
        if every:
            covered_diff[begin] += 1
            covered_diff[stop] -= 1
        else:
            for minute in (begin, stop - 1):
                dates = week.gap_dates.setdefault(minute, [])
                if local.date() not in dates and len(dates) < 60:
                    dates.append(local.date())
        key = tuple(sorted(reached))
        minute = begin
        while minute < stop:
            hour_end = min((minute // 60 + 1) * 60, stop)
            cell = week.reached.setdefault((minute // 1440, (minute % 1440) // 60), {})
            cell[key] = cell.get(key, 0) + hour_end - minute
            minute = hour_end
    seen = covered = 0
    for minute in range(WEEK_MINUTES):
        seen += seen_diff[minute]
        covered += covered_diff[minute]
        week.seen[minute] = seen
        week.covered[minute] = covered
    return Coverage(list(alerts), week)


def _clock(minute: int) -> str:
    minute %= WEEK_MINUTES
    return f"{DAYS[minute // 1440]} {minute % 1440 // 60:02d}:{minute % 60:02d}"


def _days_text(days: list[int]) -> str:
    """Consecutive days of the week: `Mon`, `Mon–Fri`."""
    return DAYS[days[0]] if len(days) == 1 else f"{DAYS[days[0]]}–{DAYS[days[-1]]}"


def runs_text(week: WeekMap, limit: int = 6) -> str:
    """The runs of the week with no pager, as a reader reads them: the same hours on following days once
    (`Mon–Thu 18:00–09:00 next day`), a run of days as it is (`Fri 18:00–Mon 09:00`), with how many of the
    weeks when not all, and the dates when they are few."""
    runs = week.uncovered_runs()
    if runs and runs[0][1] - runs[0][0] >= WEEK_MINUTES:
        worst = runs[0][2]
        return "at every hour of the week" + (f" (in {worst} of {week.weeks} weeks)" if worst < week.weeks - 1
                                              else "") + f" ({week.zone})"
    shaped: list[tuple[int, tuple[object, ...], str]] = []  # (day, shape, text without the day)
    for first, after, worst in runs:
        suffix = ""
        if worst < week.weeks - 1:
            dates = sorted({d for m in (first % WEEK_MINUTES, (after - 1) % WEEK_MINUTES)
                            for d in week.gap_dates.get(m, [])})
            suffix = (f" (on {', '.join(d.isoformat() for d in dates)})" if 0 < len(dates) <= 3
                      else f" (in {worst} of {week.weeks} weeks)")
        start, length = first % 1440, after - first
        if length <= 1440:
            end = start + length
            clock = f"{start // 60:02d}:{start % 60:02d}–{end % 1440 // 60:02d}:{end % 60:02d}"
            if end == 1440:
                clock = clock[:-5] + "24:00"
            elif end > 1440:
                clock += " next day"
            shaped.append(((first // 1440) % 7, (start, length, suffix), clock + suffix))
        else:
            end_text = _clock(after) if after % WEEK_MINUTES else "Mon 00:00"
            shaped.append(((first // 1440) % 7, (first, after), f"{_clock(first)}–{end_text}{suffix}"))
    parts: list[tuple[list[int], str, bool]] = []  # (days, text, whether the text names its own days)
    previous_shape: tuple[object, ...] | None = None
    for day, shape, text in shaped:
        own_days = len(shape) == 2
        if not own_days and parts and shape == previous_shape and parts[-1][0][-1] == day - 1:
            parts[-1][0].append(day)
        else:
            parts.append(([day], text, own_days))
        previous_shape = shape
    texts = []
    for days, text, own_days in parts[:limit]:
        if own_days:
            texts.append(text)
        else:
            texts.append(f"{_days_text(days)} {text}")
    if len(parts) > limit:
        texts.append(f"and {len(parts) - limit} more")
    return ", ".join(texts) + f" ({week.zone})"


def schedule_text(week: WeekMap) -> str:
    """Who is paged when, in one line: each set of paging receivers with the hours of the week it is the
    one reached, most hours first (`platform-pager Mon–Fri 09:00–18:00; platform-night at other times`)."""
    hours: dict[tuple[str, ...], list[tuple[int, int]]] = {}
    for day, hour in sorted(week.reached):
        hours.setdefault(week.most_reached(day, hour), []).append((day, hour))
    if not hours:
        return "no alert to page for"
    ordered = sorted(hours.items(), key=lambda item: -len(item[1]))
    parts = []
    for number, (receivers, cells) in enumerate(ordered):
        who = " and ".join(receivers) or "no pager"
        when = "at all hours" if len(cells) == 7 * 24 else ("at other times" if number == len(ordered) - 1
                                                            and number > 0 else _cells_text(cells))
        parts.append(f"{who} {when}")
    return "; ".join(parts) + f" ({week.zone})"


def paged_when(coverage: Coverage | None) -> str:
    """Who is paged when, and when nobody is, in one line; empty when there is nothing to say."""
    if coverage is None:
        return ""
    gaps = coverage.week.uncovered_runs()
    text = schedule_text(coverage.week)
    if not gaps or "no pager" in text:
        return text  # the gaps are named there already, by the hours they hold
    return f"{text}; no pager in some weeks: {runs_text(coverage.week)}"


def _cells_text(cells: list[tuple[int, int]]) -> str:
    """Hours of the week as day ranges with hour ranges: `Mon–Fri 09:00–18:00, Sat 10:00–12:00`."""
    by_day: dict[int, list[tuple[int, int]]] = {}
    for day, hour in cells:
        spans = by_day.setdefault(day, [])
        if spans and spans[-1][1] == hour:
            spans[-1] = (spans[-1][0], hour + 1)
        else:
            spans.append((hour, hour + 1))
    groups: list[tuple[list[int], list[tuple[int, int]]]] = []
    for day in sorted(by_day):
        if groups and groups[-1][1] == by_day[day] and groups[-1][0][-1] == day - 1:
            groups[-1][0].append(day)
        else:
            groups.append(([day], by_day[day]))
    texts = []
    for days, spans in groups:
        hours = ", ".join("all day" if (a, b) == (0, 24) else f"{a:02d}:00–{b:02d}:00" for a, b in spans)
        texts.append(f"{_days_text(days)} {hours}")
    return ", ".join(texts)


#: Colours of the sets of receivers reached (distinct for colour-blind readers too), then of the gaps.
_PALETTE = ("#1565c0", "#6a1b9a", "#00838f", "#4e342e", "#ad1457", "#37474f")
_SOME_WEEKS = "#f9a825"
_NOBODY = "#c62828"


def _colour(index: int) -> str:
    return _PALETTE[index % len(_PALETTE)]


def heat_map(title: str, week: WeekMap) -> Markup:
    """The week as a grid of hours (rows: days; columns: hours, in the map's zone), each cell coloured by
    the paging receivers it reaches (one colour per set of receivers), amber where some weeks reach no
    pager, red where none does; titled with who is reached, with a legend. An inline SVG, titled for
    screen readers, each cell carrying its figures (`data-day`, `data-hour`, `data-share`, `data-who`)."""
    cell, left, top = 22, 40, 18
    sets: list[tuple[str, ...]] = []
    cells = []
    for day in range(7):
        for hour in range(24):
            share, reached = week.cell(day, hour)
            main = week.most_reached(day, hour)
            if share >= 1 and main not in sets:
                sets.append(main)
            cells.append((day, hour, share, main, reached))
    legend = [(_colour(index), " and ".join(who) or "no pager") for index, who in enumerate(sets)]
    legend += [(_SOME_WEEKS, "no pager in some weeks"), (_NOBODY, "no pager")]
    width = left + 24 * cell + 4
    height = top + 7 * cell + 8 + 18 * len(legend)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="11">',
             f"<title>{html.escape(title)}</title>"]
    for hour in range(0, 24, 3):
        parts.append(f'<text x="{left + hour * cell}" y="12">{hour:02d}</text>')
    for day in range(7):
        parts.append(f'<text x="0" y="{top + day * cell + 15}">{DAYS[day]}</text>')
    for day, hour, share, main, reached in cells:
        if share <= 0:
            fill, state = _NOBODY, "no pager"
        elif share < 1:
            fill, state = _SOME_WEEKS, f"no pager in some weeks ({share:.0%} of the time reached)"
        else:
            fill, state = _colour(sets.index(main)), " and ".join(main)
        who = "; ".join(" and ".join(k) or "no pager" for k, _ in sorted(reached.items(), key=lambda i: -i[1]))
        label = f"{DAYS[day]} {hour:02d}:00–{hour + 1:02d}:00: {state}"
        if len(reached) > 1:  # not the same all year (summer time, a date): every answer, most minutes first
            label += f" (not in every week: {who})"
        parts.append(f'<rect class="opsbook-hour" data-day="{day}" data-hour="{hour}" data-share="{share:.3f}" '
                     f'data-who="{html.escape(who)}" x="{left + hour * cell}" y="{top + day * cell}" '
                     f'width="{cell - 2}" height="{cell - 2}" fill="{fill}"><title>{html.escape(label)}</title></rect>')
    for index, (colour, text) in enumerate(legend):
        y = top + 7 * cell + 8 + index * 18
        parts.append(f'<rect x="{left}" y="{y}" width="12" height="12" fill="{colour}"/>'
                     f'<text x="{left + 18}" y="{y + 10}">{html.escape(text)}</text>')
    parts.append("</svg>")
    return Markup('<div class="opsbook-chart" style="overflow-x: auto">' + "".join(parts) + "</div>")


OB321 = Code("OB321", Severity.ERROR, "Unknown time zone",
         "A team's `timezone` names no time zone of the system's database (found as Alertmanager finds a time "
         "interval's `location`): the week of who is paged when, and the hours OB319 names, would be read in "
         "UTC instead. Names are IANA names, with their capitals: `Europe/Berlin`, `America/New_York`.",
         failing="# ops/teams/team-data.yaml\n"
                 "timezone: Europe/Berln\n",
         passing="# ops/teams/team-data.yaml\n"
                 "timezone: Europe/Berlin\n")


def check_time_zones(handbook: Handbook) -> Iterator[Diagnostic]:
    """OB321: every team's `timezone` is a time zone."""
    for team in handbook.all("team"):
        zone = team.data.get("timezone")
        if not isinstance(zone, str) or load_location(zone)[0] is not None:
            continue
        line, column = team.position("timezone")
        known = {name.lower(): name for name in available_timezones()}
        close = difflib.get_close_matches(zone.lower(), list(known), n=1)
        yield make(OB321, team.path, line, column, f"{zone!r} is not a time zone",
                   hint=f"did you mean '{known[close[0]]}'?" if close else None)


# --- the handbook's alerts --------------------------------------------------------------------------------


def paging_receivers(config: AlertmanagerConfig, integrations: Iterable[str]) -> set[str]:
    """The receivers of the configuration that page a person: those with one of the integrations."""
    wanted = set(integrations)
    tree = config.tree
    if tree is None:
        return set()
    return {name for name, receiver in tree.receivers.items()
            if any(key.removesuffix("_configs") in wanted and value for key, value in receiver.items())}


def _boundaries(config: AlertmanagerConfig) -> dict[_dt.tzinfo, set[int]]:
    """Every time zone the intervals are read in, with the minutes of the day their `times` start and end."""
    found: dict[_dt.tzinfo, set[int]] = {}
    simulator = config.simulator
    for entries in (simulator.intervals.values() if simulator else ()):
        for entry in entries:
            zone = entry.location.zone if entry.location else _UTC
            minutes = found.setdefault(zone, set())
            for span in entry.times or ():
                minutes.update((span.start, span.end))
    return found


def _paged_config(handbook: Handbook) -> tuple[AlertmanagerConfig, set[str]] | None:
    """The Alertmanager configuration and its paging receivers, once per handbook; None when there is no
    routing tree or no receiver pages (coverage is then not judged)."""
    def find(hb: Handbook) -> tuple[AlertmanagerConfig, set[str]] | None:
        config = primary_alertmanager(hb)
        if config is None or config.tree is None:
            return None
        pagers = paging_receivers(config, hb.config.paging_integrations)
        return (config, pagers) if pagers else None
    return handbook.derived("alerting.pagers", find)


def _paging_routes(config: AlertmanagerConfig, pagers: set[str], alert: AlertRule) -> tuple[Route, ...]:
    tree = config.tree
    routes = tree.routes_for(alert.routing_labels()) if tree is not None else []
    return tuple(route for route in routes if route.receiver in pagers)


def _coverage(handbook: Handbook, config: AlertmanagerConfig, routes_of: list[tuple[Route, ...]],
              names: list[str], zone_name: str) -> Coverage | None:
    """The week map of alerts that take these paging routes, in the zone, computed once per handbook for
    each set of routes and zone (alerts that take the same routes share it)."""
    cache = handbook.derived("alerting.coverage", lambda hb: {})
    distinct = sorted(set(routes_of), key=lambda routes: [id(route) for route in routes])
    key = (tuple(tuple(id(route) for route in routes) for routes in distinct), zone_name)
    if key not in cache:
        zone = load_location(zone_name)[0] or _UTC
        simulator = config.simulator

        def open_receivers(index: int, at: _dt.datetime) -> tuple[str, ...]:
            if simulator is None:
                return tuple(route.receiver for route in distinct[index])
            return tuple(route.receiver for route in distinct[index] if simulator.muting(route, at) is None)

        cache[key] = coverage_of([str(i) for i in range(len(distinct))], open_receivers, _boundaries(config),
                                 zone, zone_name, handbook.config.today_date)
    found = cache[key]
    return None if found is None else Coverage(names, found.week)


def _zone_of(team: Record | None) -> str:
    value = team.data.get("timezone") if team is not None else None
    return value if isinstance(value, str) and load_location(value)[0] is not None else "UTC"


def _must_page(handbook: Handbook, alert: AlertRule) -> bool:
    return alert.severity in set(handbook.config.paging_severities)


def _team_of(handbook: Handbook, config: AlertmanagerConfig, alert: AlertRule) -> Record | None:
    """The team an alert pages: the first team claiming a receiver the alert is routed to, whatever the time."""
    tree = config.tree
    for route in tree.routes_for(alert.routing_labels()) if tree is not None else []:
        teams = teams_for_receiver(handbook, route.receiver)
        if teams:
            return teams[0]
    return None


def alert_coverage(handbook: Handbook, alert: AlertRule) -> Coverage | None:
    """Who is paged when for one alert, in its team's zone; None when the handbook has no paging receiver,
    or the alert's severity does not page."""
    paged = _paged_config(handbook)
    if paged is None or not _must_page(handbook, alert):
        return None
    config, pagers = paged
    return _coverage(handbook, config, [_paging_routes(config, pagers, alert)], [alert.id],
                     _zone_of(_team_of(handbook, config, alert)))


def team_coverage(handbook: Handbook, team: Record) -> Coverage | None:
    """Who is paged when for the paging alerts routed to a team's receivers, in the team's zone."""
    paged = _paged_config(handbook)
    if paged is None:
        return None
    config, pagers = paged
    alerts = [a for a in handbook.loaded_of(AlertRule)
              if _must_page(handbook, a) and _team_of(handbook, config, a) is team]
    if not alerts:
        return None
    return _coverage(handbook, config, [_paging_routes(config, pagers, a) for a in alerts],
                     sorted({a.id for a in alerts}), _zone_of(team))


def check_paging_coverage(handbook: Handbook) -> Iterator[Diagnostic]:
    """OB319: every alert that must page reaches a paging receiver at every minute of the week."""
    paged = _paged_config(handbook)
    if paged is None:
        return
    config, pagers = paged
    groups: dict[tuple[str, str, str], list[AlertRule]] = {}
    for alert in handbook.loaded_of(AlertRule):
        if not _must_page(handbook, alert):
            continue
        team = _team_of(handbook, config, alert)
        key = (team.title if team is not None else "", str(alert.severity), _zone_of(team))
        groups.setdefault(key, []).append(alert)
    for (team_name, severity, zone), alerts in sorted(groups.items()):
        coverage = _coverage(handbook, config, [_paging_routes(config, pagers, a) for a in alerts],
                             sorted({a.id for a in alerts}), zone)
        first = alerts[0]
        line, column = first.position("alert")
        if coverage is None:
            yield make(OB319, first.path, line, column,
                       f"the time intervals cut the year into more than {MAX_POINTS:,} spans: coverage not judged")
            continue
        if not coverage.week.uncovered_runs():
            continue
        names = sorted({a.id for a in alerts})
        shown = ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
        whose = f"{team_name}'s" if team_name else "no team's"
        yield make(OB319, first.path, line, column,
                   f"{whose} {severity} alerts ({shown}) reach no paging receiver {runs_text(coverage.week)}")
