"""Who is notified, of which alerts together, and what stays silent: Alertmanager's notification pipeline,
simulated offline for alerts firing together at one instant.

`simulate(config, alerts, at)` answers, for alerts that all start firing at the same time, what
Alertmanager sends when it flushes their groups at the instant `at`: each notification (receiver,
route, group labels, the alerts in it and its timings), each group muted by a time interval, and each
alert inhibited by another. Each rule follows a file of Alertmanager's source (0.25, Debian's):

- `dispatch/dispatch.go` (`Dispatcher.processAlert`, `getGroupLabels`): an alert joins, on every route
  it matches (`routing.Route.match`), the aggregation group of that route named by its values of the
  route's `group_by` labels (the labels it has; all of them with `group_by: ['...']`); those values are
  the notification's group labels, the webhook's `groupLabels`. Alerts with the same label set are one
  alert to Alertmanager, and a label with an empty value is no label (`api/v2/api.go` drops them,
  `removeEmptyLabels`, as alerts are posted).
- `dispatch/route.go`: the timings of the group, inherited down the tree (`routing.build_tree`); the
  first notification is flushed `group_wait` after the alerts start, then the group is flushed every
  `group_interval`.
- `notify/notify.go` (`PipelineBuilder.New`): each flush passes the group's alerts through the stages
  in this order: inhibition drops the inhibited alerts (`inhibition.py`); then, when the route has
  `active_time_intervals` and none holds, or has `mute_time_intervals` and one holds
  (`timeintervals.py`), the whole group is dropped: what is muted is the route's group, not the alert
  elsewhere; then silences (none here); what remains is sent. A group all of whose alerts are inhibited
  sends nothing and is not reported as muted, as the time stages never see it. `DedupStage`: an
  unchanged group is notified again at the first flush more than `repeat_interval` after the last
  notification.

The time intervals are evaluated at `at`, the instant of the flush: to ask about the first
notification of alerts that start at T, pass T + group_wait. Notifications are listed in the order of
the routing tree, then of the first alert of each group (Alertmanager sends them concurrently).
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .inhibition import InhibitRule, inhibitions, read_inhibit_rules
from .routing import Route, RouteProblem, RoutingTree, TextAt, build_tree, go_text, integrations_of
from .timeintervals import TimeIntervals, holding, read_time_intervals, route_interval_problems

__all__ = ["Notification", "Muted", "Inhibited", "Outcome", "Simulator", "simulate", "MUTE", "NOT_ACTIVE"]

#: `Muted.reason` when a mute time interval holds at the instant.
MUTE = "mute_time_intervals"
#: `Muted.reason` when the route has active time intervals and none holds at the instant.
NOT_ACTIVE = "active_time_intervals"


@dataclass(frozen=True)
class Notification:
    """One notification: a route's aggregation group that reaches its receiver."""

    receiver: str
    route: Route
    #: Exactly as Alertmanager's webhook payload's `groupLabels`.
    group_labels: dict[str, str]
    #: Indexes into the alerts given: firing, not inhibited, in the group.
    alerts: tuple[int, ...]
    group_wait: _dt.timedelta
    group_interval: _dt.timedelta
    repeat_interval: _dt.timedelta
    #: The receiver's integrations (`email`, `webhook`, ...); none for a receiver that sends nothing.
    integrations: tuple[str, ...] = ()

    @property
    def repeat_every(self) -> _dt.timedelta:
        """How long after one notification the same, unchanged one is sent again: the first flush more
        than `repeat_interval` later (with the defaults, 4 h 5 min, not 4 h)."""
        return (self.repeat_interval // self.group_interval + 1) * self.group_interval


@dataclass(frozen=True)
class Muted:
    """A route's group that matched and would notify, held back by the route's time intervals."""

    alerts: tuple[int, ...]
    route: Route
    receiver: str
    #: The mute time intervals that hold at the instant, or every active time interval of the route.
    intervals: tuple[str, ...]
    #: `MUTE` (an interval holds at the instant) or `NOT_ACTIVE` (none of the active ones holds).
    reason: str
    group_labels: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Inhibited:
    """An alert that an inhibition rule silences."""

    alert: int
    #: Its index in `inhibit_rules`: the first rule that inhibits it.
    rule: int
    #: The source alerts that inhibit it under that rule.
    by: tuple[int, ...]


@dataclass
class Outcome:
    """What Alertmanager does with the alerts at the instant."""

    notifications: list[Notification] = field(default_factory=list)
    muted: list[Muted] = field(default_factory=list)
    inhibited: list[Inhibited] = field(default_factory=list)

    @property
    def receivers(self) -> list[str]:
        """The receivers notified, in the order of the notifications (repeats kept)."""
        return [notification.receiver for notification in self.notifications]


class Simulator:
    """One Alertmanager configuration, read once, to simulate any number of alert sets and instants.

    `problems` lists what Alertmanager would refuse in it (routes, time intervals, inhibition rules),
    each at its path; a simulation reads past them: a route with a bad matcher matches nothing, an
    interval entry or inhibition rule with a problem is left out, an interval no one defines never holds.
    `text` gives the scalar at a path as written (`alertmanager.as_written`), which Alertmanager reads
    wherever it reads a string: matcher values, `group_by`, `equal`, names of receivers and intervals.
    """

    def __init__(self, config: Mapping[str, Any], *, version: str = "0.25", text: TextAt | None = None) -> None:
        self.version = version
        tree, problems = build_tree(config, version=version, text=text)
        self.tree: RoutingTree | None = tree
        self.intervals: TimeIntervals
        self.intervals, interval_problems = read_time_intervals(config, text=text)
        self.rules: list[InhibitRule]
        self.rules, rule_problems = read_inhibit_rules(config, text=text)
        self.problems: list[RouteProblem] = [
            *problems, *interval_problems,
            *(route_interval_problems(tree.root, self.intervals) if tree is not None else ()), *rule_problems]
        self._order = {id(route): index for index, route in enumerate(tree.root.walk())} if tree else {}

    def muting(self, route: Route, at: _dt.datetime) -> tuple[str, tuple[str, ...]] | None:
        """Why the route's notifications are held back at `at` (`NOT_ACTIVE` or `MUTE`, and the
        intervals), or None when they go out. The active intervals are asked first, as Alertmanager does."""
        if route.active_time_intervals and not holding(self.intervals, route.active_time_intervals, at,
                                                      self.version):
            return NOT_ACTIVE, tuple(dict.fromkeys(route.active_time_intervals))
        held = holding(self.intervals, route.mute_time_intervals, at, self.version)
        return (MUTE, held) if held else None

    def run(self, alerts: Sequence[Mapping[str, str]], at: _dt.datetime) -> Outcome:
        """What Alertmanager sends for `alerts` (label sets, all firing since the same time) when their
        groups are flushed at `at` (an aware datetime)."""
        if at.tzinfo is None or at.utcoffset() is None:
            raise ValueError("the instant must carry its time zone (an aware datetime)")
        outcome = Outcome()
        if self.tree is None:
            return outcome
        # Alertmanager drops empty labels and holds one alert per label set: each distinct set once, with
        # all its indexes.
        same: dict[frozenset[tuple[str, str]], list[int]] = {}
        for index, labels in enumerate(alerts):
            pairs = ((str(name), go_text(value)) for name, value in labels.items())
            same.setdefault(frozenset((name, value) for name, value in pairs if value), []).append(index)
        distinct = [dict(key) for key in same]
        indexes = list(same.values())
        inhibited = inhibitions(distinct, self.rules)
        for alert, why in sorted(inhibited.items()):
            by = tuple(sorted(i for source in why.by for i in indexes[source]))
            outcome.inhibited.extend(Inhibited(i, why.rule, by) for i in indexes[alert])
        outcome.inhibited.sort(key=lambda entry: entry.alert)
        groups: dict[tuple[Route, tuple[tuple[str, str], ...]], list[int]] = {}
        for alert, labels in enumerate(distinct):
            for route in self.tree.routes_for(labels):
                groups.setdefault((route, tuple(sorted(route.group_labels(labels).items()))), []).append(alert)
        ordered = sorted(groups.items(), key=lambda item: (self._order.get(id(item[0][0]), 0), item[1][0]))
        for (route, key), members in ordered:
            kept = tuple(sorted(i for alert in members if alert not in inhibited for i in indexes[alert]))
            if not kept:
                continue  # every alert inhibited: the time stages never see the group
            muting = self.muting(route, at)
            if muting is not None:
                outcome.muted.append(Muted(kept, route, route.receiver, muting[1], muting[0], dict(key)))
                continue
            receiver = self.tree.receivers.get(route.receiver, {})
            outcome.notifications.append(Notification(
                route.receiver, route, dict(key), kept, route.group_wait, route.group_interval,
                route.repeat_interval, tuple(integrations_of(receiver))))
        return outcome


def simulate(config: Mapping[str, Any], alerts: Sequence[Mapping[str, str]], at: _dt.datetime, *,
             version: str = "0.25", text: TextAt | None = None) -> Outcome:
    """What Alertmanager (`version`, 0.25 by default, or `main`) sends for `alerts` firing together
    under `config` (a parsed configuration, as `yaml.safe_load` gives it) when their groups are flushed
    at the instant `at`: notifications, muted groups, inhibited alerts. `text` gives the scalar at a path
    as written (`alertmanager.as_written`); without it, PyYAML's numbers and booleans are read back
    as `routing.go_text` reads them (`1.10` is `1.1`, `yes` is `true`), not as Alertmanager reads them."""
    return Simulator(config, version=version, text=text).run(alerts, at)
