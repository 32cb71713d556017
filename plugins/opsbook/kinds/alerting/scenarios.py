"""Routing scenarios: alerts firing together at one instant, and every notification they must give.

A routing test (`route_tests.py`) asks what `amtool config routes test` answers: which receivers one label
set reaches. A scenario asks what a team needs to know before the night it happens: with these alerts
firing at this instant, which notifications does Alertmanager send (receiver, and the alerts grouped into
each), which alerts does an inhibition rule silence, and which notifications does a time interval hold back.
`notify.simulate` answers; `check_route_scenarios` (OB318) compares its answer with the scenario's.

Scenarios live beside the routing tests, under `scenarios:` of the same file.
"""

from __future__ import annotations

import datetime as _dt
import difflib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, ClassVar

from ...diagnostics import Code, Diagnostic, Severity, make
from ...durations import parse_duration
from ...loader import Document
from ...model import Handbook, Kind, Record
from .alertmanager import written_text
from .links import primary_alertmanager
from .notify import MUTE, Outcome, Simulator
from .timeintervals import resolve_wall_time

__all__ = ["KIND", "RouteScenario", "Verdict", "check_route_scenarios", "judge"]

OB318 = Code("OB318", Severity.ERROR, "Routing scenario failed",
         "A routing scenario's alerts, firing together at its instant, give other notifications than the "
         "scenario expects: another receiver, other alerts grouped together, an alert inhibited or not, a "
         "notification muted by a time interval or not. The message names each difference.",
         failing="# ops/routing-tests.yaml\n"
                 "scenarios:\n"
                 "  - name: the database outage silences the API's errors\n"
                 "    at: 2026-12-05T03:00:00+01:00\n"
                 "    firing:\n"
                 "      db-down: {alertname: OrdersDatabaseDown, team: data, severity: critical}\n"
                 "      api-errors: {alertname: OrdersApiHighErrorRate, team: platform, severity: critical}\n"
                 "    notified:\n"
                 "      - {receiver: data-pager, alerts: [db-down]}\n"
                 "    # but no inhibition rule links the two: platform-pager is paged for api-errors\n"
                 "    inhibited: [api-errors]\n",
         passing="# ops/alertmanager.yml\n"
                 "inhibit_rules:\n"
                 "  - source_matchers: [alertname=\"OrdersDatabaseDown\"]\n"
                 "    target_matchers: [alertname=\"OrdersApiHighErrorRate\"]\n")


@dataclass
class RouteScenario(Record):
    """One routing scenario, under `scenarios:` of a routing-tests file."""

    kind: ClassVar[str] = "route_scenario"

    index: int = 0

    def _prefix(self) -> tuple[str | int, ...]:
        return ("scenarios", self.index)

    @property
    def title(self) -> str:
        name = self.data.get("name")
        return name if isinstance(name, str) and name else f"scenario {self.index + 1} of {self.path}"

    def written(self, path: tuple[str | int, ...], value: object) -> str:
        """A value of the scenario (a label value, a receiver name) as it is written."""
        return written_text(self.document, (*self._prefix(), *path), value)

    @property
    def firing(self) -> dict[str, dict[str, str]]:
        value = self.data.get("firing")
        if not isinstance(value, dict):
            return {}
        return {str(name): {str(k): written_text(self.document, (*self._prefix(), "firing", name, k), v)
                            for k, v in labels.items()}
                for name, labels in value.items() if isinstance(labels, dict)}


@dataclass(frozen=True)
class Verdict:
    """What a scenario gave: its instant, the simulation's outcome, and the differences from what it
    expects (empty when it passes), each with the field it is about."""

    at: _dt.datetime | None
    outcome: Outcome | None
    differences: tuple[tuple[tuple[str | int, ...], str], ...]

    @property
    def passed(self) -> bool:
        return not self.differences


def _names(value: Any) -> list[str]:
    return [str(item) for item in value] if isinstance(value, list) else []


def _joined(names: Any) -> str:
    return ", ".join(sorted(names)) or "none"


def judge(scenario: RouteScenario, simulator: Simulator) -> Verdict:
    """Run a scenario through an Alertmanager configuration (read once into its `Simulator`) and compare
    with what it expects."""
    data = scenario.data
    zone = data.get("timezone")
    at, problem = resolve_wall_time(str(data.get("at")), zone if isinstance(zone, str) else None)
    if at is None:
        where = ("timezone",) if "timezone" in data and "time zone" in (problem or "") else ("at",)
        return Verdict(None, None, ((where, problem or "not an instant"),))
    firing = scenario.firing
    names = list(firing)
    differences: list[tuple[tuple[str | int, ...], str]] = []
    for key in ("notified", "muted"):
        for index, entry in enumerate(data.get(key) or []):
            for position, name in enumerate(_names(entry.get("alerts") if isinstance(entry, dict) else None)):
                if name not in firing:
                    differences.append(((key, index, "alerts", position), f"no alert named {name!r} under firing"))
    for position, name in enumerate(_names(data.get("inhibited"))):
        if name not in firing:
            differences.append((("inhibited", position), f"no alert named {name!r} under firing"))
    known = simulator.tree.receivers if simulator.tree is not None else {}
    for key in ("notified", "muted"):
        for index, entry in enumerate(data.get(key) or []):
            name = scenario.written((key, index, "receiver"), entry.get("receiver")) if isinstance(entry, dict) \
                else ""
            if known and name not in known:
                close = difflib.get_close_matches(name, list(known), n=1)
                hint = f" (did you mean {close[0]}?)" if close else ""
                differences.append(((key, index, "receiver"), f"no receiver named {name!r} in the Alertmanager "
                                                              f"configuration{hint}"))
    if differences:
        return Verdict(at, None, tuple(differences))
    outcome = simulator.run([firing[name] for name in names], at)

    def named(indexes: tuple[int, ...]) -> frozenset[str]:
        return frozenset(names[i] for i in indexes)

    got_sent = [(n.receiver, named(n.alerts)) for n in outcome.notifications]
    expected = data.get("notified") or []
    want_sent = [(scenario.written(("notified", i, "receiver"), e.get("receiver")), frozenset(_names(e.get("alerts"))))
                 for i, e in enumerate(expected)]
    for index, entry in enumerate(expected):
        receiver, alerts = want_sent[index]
        if (receiver, alerts) not in got_sent:
            differences.append((("notified", index),
                                f"expected {receiver} to be notified of {_joined(alerts)}; "
                                f"it is {_notified_text(receiver, got_sent)}"))
            continue
        sent = outcome.notifications[got_sent.index((receiver, alerts))]
        differences.extend(_details(scenario, entry, index, sent))
    for receiver, alerts in got_sent:
        if (receiver, alerts) not in want_sent:
            differences.append((("notified",), f"{receiver} is also notified of {_joined(alerts)}"))

    got_inhibited = {names[i.alert]: i for i in outcome.inhibited}
    want_inhibited = set(_names(data.get("inhibited")))
    for name in sorted(want_inhibited - set(got_inhibited)):
        differences.append((("inhibited",) if "inhibited" in data else ("firing", name),
                            f"{name} is expected to be inhibited, and no inhibition rule silences it"))
    for name in sorted(set(got_inhibited) - want_inhibited):
        cause = got_inhibited[name]
        differences.append((("inhibited",) if "inhibited" in data else ("firing", name),
                            f"{name} is inhibited by inhibit_rules[{cause.rule}] "
                            f"(source: {_joined(named(cause.by))}), which the scenario does not expect"))

    got_muted = {(m.receiver, named(m.alerts)): m for m in outcome.muted}
    want_muted = {(scenario.written(("muted", i, "receiver"), e.get("receiver")), frozenset(_names(e.get("alerts"))))
                  for i, e in enumerate(data.get("muted") or []) if isinstance(e, dict)}
    place: tuple[str | int, ...] = ("muted",) if "muted" in data else ("at",)
    for receiver, alerts in sorted(want_muted - set(got_muted), key=str):
        differences.append((place, f"expected {receiver}'s notification of {_joined(alerts)} to be muted; "
                                   "no time interval holds it back"))
    for held in sorted(set(got_muted) - want_muted, key=str):
        muted = got_muted[held]
        why = ("an interval of mute_time_intervals holds" if muted.reason == MUTE
               else "none of active_time_intervals holds")
        differences.append((place, f"{muted.receiver}'s notification of {_joined(held[1])} is muted "
                                   f"({why}: {', '.join(muted.intervals)}), which the scenario does not expect"))
    return Verdict(at, outcome, tuple(differences))


def _notified_text(receiver: str, sent: list[tuple[str, frozenset[str]]]) -> str:
    groups = [alerts for name, alerts in sent if name == receiver]
    if not groups:
        return "not notified"
    return "notified of " + "; ".join(_joined(alerts) for alerts in groups)


def _details(scenario: RouteScenario, entry: dict[str, Any], index: int,
             sent: Any) -> Iterator[tuple[tuple[str | int, ...], str]]:
    group = entry.get("group")
    if isinstance(group, dict):
        want = {str(k): scenario.written(("notified", index, "group", k), v) for k, v in group.items()}
        if want != sent.group_labels:
            shown = ", ".join(f"{k}={v}" for k, v in sorted(sent.group_labels.items())) or "none"
            yield ("notified", index, "group"), f"the notification's group labels are {shown}"
    for key, got in (("group_wait", sent.group_wait), ("group_interval", sent.group_interval),
                     ("repeat_interval", sent.repeat_interval)):
        if key in entry:
            seconds = parse_duration(entry[key])
            if seconds is None:
                yield ("notified", index, key), f"{entry[key]!r} is not a duration"
            elif seconds != got.total_seconds():
                yield (("notified", index, key),
                       f"{entry[key]} expected, the route gives {_short(got.total_seconds())}")


def _short(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{seconds:g}s"


def scenario_records(document: Document, items: list[Any]) -> Iterator[Record]:
    """The scenarios of a routing-tests file (already validated against its schema)."""
    stem = document.path.rsplit("/", 1)[-1].rsplit(".", 1)[0]
    for index, item in enumerate(items):
        yield RouteScenario(f"{stem}-scenario-{index + 1}", item, document, index=index)


def verdicts(handbook: Handbook) -> list[tuple[RouteScenario, Verdict | None]]:
    """Every scenario with its verdict (None when the handbook has no Alertmanager configuration), judged
    once per handbook: the check and the routing page both read them."""
    def judge_all(hb: Handbook) -> list[tuple[RouteScenario, Verdict | None]]:
        config = primary_alertmanager(hb)
        simulator = config.simulator if config is not None and config.tree is not None else None
        return [(s, judge(s, simulator) if simulator is not None else None) for s in hb.loaded_of(RouteScenario)]
    return handbook.derived("alerting.scenarios", judge_all)


def check_route_scenarios(handbook: Handbook) -> Iterator[Diagnostic]:
    """OB318: every routing scenario gives exactly the notifications it expects."""
    for scenario, verdict in verdicts(handbook):
        if verdict is None:
            line, column = scenario.position()
            yield make(OB318, scenario.path, line, column, "routing scenarios need an Alertmanager configuration")
            return
        for where, message in verdict.differences:
            # A difference about a whole list (a notification not expected) is shown at the list's key.
            line, column = scenario.position(*where, key=where in (("notified",), ("inhibited",), ("muted",)))
            yield make(OB318, scenario.path, line, column, f"{scenario.title}: {message}")


KIND = Kind(name="route_scenario", page_folder="alerts/routing-tests", record_type=RouteScenario, folders=())
