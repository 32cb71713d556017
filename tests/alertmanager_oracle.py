"""A real Alertmanager as the oracle of opsbook's notification engine (issue #19, item 6): test support.

`run_scenarios` starts Debian's Alertmanager 0.25 (`/usr/bin/prometheus-alertmanager`) on loopback, with no
gossip (`--cluster.listen-address=`) and its own storage folder, on one configuration built from many
scenarios, posts their alerts with the v2 API and reads what it really did:

* **notifications**: every receiver's integrations are replaced by one `webhook_config` to `Webhook`, a
  threaded `http.server` in the test process, with the receiver's name in the URL path; each notification
  gives the receiver, `groupLabels` and the alerts' labels;
* **inhibited**: `GET /api/v2/alerts`, `status.inhibitedBy` (0.25 names one inhibiting alert, found by the
  first rule that inhibits);
* **muted**: 0.25 shows muting by time intervals only as a notification not sent (`mutedBy` in the API is
  newer: alertmanager#3797), and logs it at debug level without naming the group. So the aggregation
  groups come from `GET /api/v2/alerts/groups` (receiver, group labels, alerts), and a group with an alert
  not inhibited whose flush sent no notification is muted. Which of the two lists muted it comes from a
  second Alertmanager, run at the same time on the same configuration without the routes'
  `mute_time_intervals`: the pipeline (notify.go, `MultiStage{..., inhibit, TimeActiveStage,
  TimeMuteStage, ...}`) tries `active_time_intervals` first, so a group muted there is muted by
  `active_time_intervals`, and the others by `mute_time_intervals`.

Scenarios cannot interact: each scenario's alerts carry `oracle_scenario="<k>"`, its route tree hangs
under a child of the root matching that label (the scenario's root, now a child, matches every alert of
the scenario and falls back to itself exactly as a root does), its receivers and time intervals are
renamed `s<k>-<name>`, and each inhibition rule gets `oracle_scenario="<k>"` added to both of its sides
(so a rule sees only its scenario's alerts; an alert of the scenario matches the target side with it
exactly when it matched without it, which keeps the rule's two-sided exclusion as it was). The label is
not added to any `group_by` or `equal`; it shows in the group labels of a `group_by: ['...']` route and in
every alert's labels, from which it is removed before comparing.

**Time.** Alertmanager evaluates time intervals at its own clock: the time its aggregation group's timer
fired (dispatch.go `aggrGroup.run`, `notify.WithNow`), at the location of each interval, loaded by Go's
`time.LoadLocation`, which reads the folder named by the `ZONEINFO` environment variable before the
system's. To evaluate a scenario at an arbitrary instant T, every interval of the scenario gets, as its
location, a zone written here (`tzif`, `Zones`): the interval's real zone Z shifted in time, so that
Alertmanager's wall clock at the expected moment of evaluation (`anchor`) reads as Z's at T: each of Z's
offsets plus T - anchor, each of its changes of offset at its instant minus T - anchor (at the anchor,
offset = T + offset_Z(T) - anchor). An interval without a location (UTC) gets such a zone too, for UTC.
Instants are chosen at hh:mm:30, so that up to 25 seconds between the anchor and the real evaluation
(checked on the flush times of Alertmanager's debug log) cannot change the minute, the finest unit of an
interval. Go reads a TZif zone's offsets and (version 1) transition times as int32 seconds
(zoneinfo_read.go `LoadLocationFromTZData`: `int(int32(n))`), so T may lie up to 68 years from now.

The zone carries Z's changes of offset, not only the one offset in force at T, because 0.25's
`daysInMonth` counts the hours of the month in the interval's zone from its first midnight and divides by
24: in a zone whose clocks spring forward that month, the month is one day short (March in Berlin has 30
days for a negative `days_of_month`; fixed after 0.25 by alertmanager#5447, `time.Date(y, m+1, 0, ...)`).
With one fixed offset every month would have its calendar length, and the oracle would answer as the
fix, not as 0.25.
"""

from __future__ import annotations

import calendar
import copy
import functools
import json
import math
import os
import random
import re
import shutil
import socket
import struct
import subprocess
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml

ALERTMANAGER = "/usr/bin/prometheus-alertmanager"
AMTOOL = "/usr/bin/amtool"
SCENARIO_LABEL = "oracle_scenario"
UNMATCHED = "oracle-unmatched"
#: group_wait of every route: alerts posted together are in their group's first notification.
GROUP_WAIT = 1.0
#: How far the real evaluation may be from the anchor: less than the 30 seconds that would change the minute.
SLACK = 25.0
#: Seconds from writing the zones to the expected evaluation (start, post, group_wait).
LEAD = 1.6


def available() -> str | None:
    """Why Alertmanager cannot be the oracle here, or None when it can."""
    if not os.access(ALERTMANAGER, os.X_OK):
        return f"{ALERTMANAGER} is not installed (Debian package prometheus-alertmanager)"
    return None


class OracleError(RuntimeError):
    """Alertmanager did not run as the oracle needs (a refused configuration, a late evaluation...)."""


class Late(OracleError):
    """A group flushed before Alertmanager had taken in every alert (a machine too busy for group_wait):
    the run is repeated with a longer group_wait."""


# --- Zones --------------------------------------------------------------------------------------------


def tzif(offset: int, changes: Sequence[tuple[int, int]] = (), abbreviation: str = "ORACLE") -> bytes:
    """A TZif file (RFC 8536, version 1): the zone is at UTC `offset` (seconds) until the first of
    `changes`, (Unix second, offset from then on) in order. Each local time type is its own, and the
    first is used by no transition: Go's `lookupFirstZone` then takes it for the times before the first
    change (and Go builds a fake transition covering all time for a zone without changes, as for
    `Etc/GMT+1`). Transition times and offsets are int32, as version 1 stores them."""
    offsets = [offset, *(after for _, after in changes)]
    if any(not -(2**31) < value < 2**31 for value in [*offsets, *(when for when, _ in changes)]):
        raise ValueError(f"a version 1 TZif holds int32 seconds: {offset}, {list(changes)}")
    names = abbreviation.encode("ascii") + b"\0"
    # magic, version 1 (NUL), 15 reserved bytes; then isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt
    data = b"TZif" + b"\0" * 16 + struct.pack(">6l", 0, 0, 0, len(changes), len(offsets), len(names))
    data += b"".join(struct.pack(">l", when) for when, _ in changes)
    data += bytes(range(1, len(changes) + 1))
    data += b"".join(struct.pack(">lBB", value, 0, 0) for value in offsets)
    return data + names


def offset_changes(zone: ZoneInfo, start: int, end: int) -> tuple[int, list[tuple[int, int]]]:
    """The zone's UTC offset at the Unix second `start`, and each change after it up to `end`: (the second
    from which it holds, the new offset)."""
    changes = [change for year in range(datetime.fromtimestamp(start, UTC).year,
                                        datetime.fromtimestamp(end, UTC).year + 1)
               for change in _year_changes(zone, year) if start < change[0] <= end]
    return _offset_at(zone, start), changes


def _offset_at(zone: ZoneInfo, second: int) -> int:
    shift = datetime.fromtimestamp(second, zone).utcoffset()
    assert shift is not None
    return int(shift.total_seconds())


@functools.lru_cache(maxsize=1024)
def _year_changes(zone: ZoneInfo, year: int) -> list[tuple[int, int]]:
    """The changes of the zone's offset in a year (UTC), found by stepping a day at a time and bisecting
    to the second."""
    start = int(datetime(year, 1, 1, tzinfo=UTC).timestamp())
    end = int(datetime(year + 1, 1, 1, tzinfo=UTC).timestamp())
    current = _offset_at(zone, start - 1)
    changes = []
    for low in range(start - 1, end, 86400):
        high = min(low + 86400, end - 1)
        if _offset_at(zone, high) == current:
            continue
        while high - low > 1:  # the offset at low is `current`, at high another
            middle = (low + high) // 2
            if _offset_at(zone, middle) == current:
                low = middle
            else:
                high = middle
        current = _offset_at(zone, high)
        changes.append((high, current))
    return changes


class Zones:
    """A ZONEINFO folder of zones shifted in time: for each (scenario instant T, real zone Z), a zone
    whose wall clock at the instant `anchor` + s is Z's at T + s, for s within 62 days either side:
    Z's offsets, each plus T - anchor, changing at Z's instants of change, each minus T - anchor.
    Alertmanager's clock at its evaluation then reads, in that zone, as Z's at T; and so does every
    computation Alertmanager makes in the zone around it (`daysInMonth` of 0.25 counting the month's
    hours from its first midnight, `time.Date` in a skipped or repeated hour) - nothing in
    timeinterval.go can tell the shifted zone from Z itself."""

    WINDOW = 62 * 86400

    def __init__(self, folder: Path, anchor: int) -> None:
        self.folder = folder
        self.anchor = anchor
        self.names: dict[tuple[str, int], str] = {}

    def zone_for(self, at: datetime, location: str | None) -> str:
        """The shifted zone for the real zone `location` (UTC when None or empty) at the instant `at`."""
        real = location or "UTC"
        instant = int(at.timestamp())
        if instant != at.timestamp():
            raise ValueError(f"the instant must be a whole second: {at}")
        delta = instant - self.anchor
        key = (real, delta)
        if key not in self.names:
            first, changes = offset_changes(ZoneInfo(real), instant - self.WINDOW, instant + self.WINDOW)
            data = tzif(first + delta, [(when - delta, offset + delta) for when, offset in changes])
            name = f"Oracle/Z{len(self.names)}"
            path = self.folder / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
            self.names[key] = name
        return self.names[key]


# --- The webhook receiver -----------------------------------------------------------------------------


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    # Alertmanager flushes hundreds of groups at once: with the default backlog of 5 connections the
    # kernel drops the others' SYNs, and their notifications wait for TCP's retransmissions (1 s, 3 s, 7 s...).
    request_queue_size = 1024


class Webhook:
    """A small HTTP server on loopback collecting Alertmanager's webhook notifications: (receiver named in
    the URL path, the JSON payload)."""

    def __init__(self) -> None:
        self.received: list[tuple[str, dict[str, Any]]] = []
        self.arrivals: list[float] = []  # time.monotonic() of each, in the same order
        self._lock = threading.Lock()
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = min(int(self.headers.get("Content-Length") or 0), 64 << 20)
                payload = json.loads(self.rfile.read(length))
                receiver = urllib.parse.unquote(self.path.lstrip("/"))
                with sink._lock:
                    sink.received.append((receiver, payload))
                    sink.arrivals.append(time.monotonic())
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *_: object) -> None:
                pass

        self.server = _Server(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def url(self, receiver: str) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/{urllib.parse.quote(receiver, safe='')}"

    def count(self) -> int:
        with self._lock:
            return len(self.received)

    def __enter__(self) -> Webhook:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.server.shutdown()
        self.server.server_close()


# --- One Alertmanager process -------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Alertmanager:
    """Debian's Alertmanager on loopback: no gossip, its own storage, debug logs in JSON."""

    def __init__(self, folder: Path, config: Mapping[str, Any] | str, zoneinfo: Path | None = None) -> None:
        """`config`: a mapping (written as JSON, which is YAML) or the text of a YAML file."""
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self.config_file = folder / "alertmanager.yml"
        self.config_file.write_text(config if isinstance(config, str) else json.dumps(config), encoding="utf-8")
        self.log_file = folder / "alertmanager.log"
        self.zoneinfo = zoneinfo
        self.process: subprocess.Popen[bytes] | None = None
        self.port = 0
        self._read = 0
        self._lines: list[dict[str, Any]] = []

    def start(self) -> None:
        # A fresh storage each time: the notification log of an earlier run would deduplicate this run's
        # notifications (same group key, receiver and alerts, within repeat_interval) into silence.
        shutil.rmtree(self.folder / "data", ignore_errors=True)
        for _attempt in range(3):  # another process may take the free port between the probe and the bind
            self.port = _free_port()
            env = {key: value for key, value in os.environ.items() if key != "ZONEINFO"}
            if self.zoneinfo is not None:
                env["ZONEINFO"] = str(self.zoneinfo)
            with self.log_file.open("wb") as log:
                self.process = subprocess.Popen(
                    [ALERTMANAGER, f"--config.file={self.config_file}", f"--storage.path={self.folder / 'data'}",
                     f"--web.listen-address=127.0.0.1:{self.port}", "--cluster.listen-address=",
                     "--log.level=debug", "--log.format=json"],
                    stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=log, env=env)
            deadline = time.monotonic() + 15
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    break
                try:
                    with urllib.request.urlopen(f"{self.base}/-/ready", timeout=2) as answer:
                        if answer.status == 200:
                            return
                except OSError:
                    time.sleep(0.02)
            self.stop()
            tail = self.log_file.read_text(encoding="utf-8", errors="replace")[-3000:]
            if "address already in use" not in tail:
                raise OracleError(f"Alertmanager did not start:\n{tail}")
        raise OracleError("Alertmanager found no free port")

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def post_alerts(self, alerts: Sequence[Mapping[str, Any]]) -> None:
        request = urllib.request.Request(f"{self.base}/api/v2/alerts", data=json.dumps(list(alerts)).encode(),
                                         headers={"Content-Type": "application/json"}, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:
                answer.read()
        except urllib.error.HTTPError as error:
            raise OracleError(f"Alertmanager refused the alerts: {error.code} {error.read()[:500]!r}") from None

    def get(self, path: str) -> Any:
        with urllib.request.urlopen(f"{self.base}{path}", timeout=30) as answer:
            return json.load(answer)

    def log(self) -> list[dict[str, Any]]:
        """The JSON log lines written so far."""
        with self.log_file.open("rb") as handle:
            handle.seek(self._read)
            data = handle.read()
        complete = data.rfind(b"\n") + 1
        self._read += complete
        for line in data[:complete].splitlines():
            try:
                self._lines.append(json.loads(line))
            except ValueError:
                self._lines.append({"msg": line.decode("utf-8", "replace")})
        return self._lines

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


# --- Scenarios and what was observed ------------------------------------------------------------------

Labels = frozenset[tuple[str, str]]
#: A notification: (receiver, group labels, indices of its alerts).
Sent = tuple[str, Labels, frozenset[int]]
#: A muted group: (receiver, indices of its alerts that are not inhibited, reason).
Silenced = tuple[str, frozenset[int], str]


@dataclass
class Scenario:
    """A configuration, the alerts firing together and the instant at which they are evaluated."""

    name: str
    config: dict[str, Any]
    alerts: list[dict[str, str]]
    at: datetime


@dataclass
class Observed:
    """What one side (Alertmanager or opsbook) says of a scenario, in comparable form."""

    notifications: Counter[Sent] = field(default_factory=Counter)
    #: alert → the alerts that may inhibit it (Alertmanager names one)
    inhibited: dict[int, frozenset[int]] = field(default_factory=dict)
    muted: Counter[Silenced] = field(default_factory=Counter)


@dataclass
class Run:
    """What a batch run measured."""

    observed: list[Observed]
    seconds: float
    alerts: int
    groups: int
    evaluated_within: float  # the largest distance, in seconds, between an evaluation and the anchor
    group_wait: float  # the group_wait it took (doubled after each batch a busy machine spoilt)


def _walk_routes(route: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield route
    for child in route.get("routes") or []:
        if isinstance(child, dict):
            yield from _walk_routes(child)


def oracle_config(scenarios: Sequence[Scenario], webhook: Webhook, zones: Zones, *,
                  timing: Callable[[str, Any], Any] | None = None, group_wait: float = GROUP_WAIT) -> dict[str, Any]:
    """One Alertmanager configuration in which the scenarios run side by side without interacting.

    `timing(key, value)` gives a route's `group_wait`/`group_interval`/`repeat_interval` in the oracle
    (None drops it); by default every route inherits the root's: `group_wait` (1 s), the others 1 h.
    """
    receivers: list[dict[str, Any]] = [{"name": UNMATCHED, "webhook_configs": [{"url": webhook.url(UNMATCHED)}]}]
    children: list[dict[str, Any]] = []
    inhibit_rules: list[dict[str, Any]] = []
    intervals: list[dict[str, Any]] = []
    for k, scenario in enumerate(scenarios):
        config = json.loads(json.dumps(scenario.config))  # a copy, faster than copy.deepcopy
        prefix = f"s{k}-"
        tag = f'{SCENARIO_LABEL}="{k}"'
        for receiver in config.get("receivers") or []:
            name = prefix + str(receiver["name"])
            receivers.append({"name": name, "webhook_configs": [{"url": webhook.url(name), "send_resolved": False}]})
        root = config["route"]
        root.pop("continue", None)
        for route in _walk_routes(root):
            if route.get("receiver"):
                route["receiver"] = prefix + str(route["receiver"])
            for key in ("group_wait", "group_interval", "repeat_interval"):
                value = route.pop(key, None)
                if timing is not None and (given := timing(key, value)) is not None:
                    route[key] = given
            for key in ("mute_time_intervals", "active_time_intervals"):
                if key in route:
                    route[key] = [prefix + str(name) for name in route[key] or []]
        root["matchers"] = [tag]
        children.append(root)
        for rule in config.get("inhibit_rules") or []:
            rule = dict(rule)
            for side in ("source_matchers", "target_matchers"):
                rule[side] = [*(rule.get(side) or []), tag]
            inhibit_rules.append(rule)
        for key in ("time_intervals", "mute_time_intervals"):
            for named in config.get(key) or []:
                entries = []
                for entry in named.get("time_intervals") or []:
                    entry = dict(entry or {})
                    entry["location"] = zones.zone_for(scenario.at, entry.get("location"))
                    entries.append(entry)
                intervals.append({"name": prefix + str(named["name"]), "time_intervals": entries})
    oracle: dict[str, Any] = {
        "route": {"receiver": UNMATCHED, "group_wait": f"{int(group_wait * 1000)}ms", "group_interval": "1h",
                  "repeat_interval": "1h", "routes": children},
        "receivers": receivers,
    }
    if inhibit_rules:
        oracle["inhibit_rules"] = inhibit_rules
    if intervals:
        oracle["time_intervals"] = intervals
    return oracle


def _quote_meta(text: str) -> str:
    """Go's `regexp.QuoteMeta`, which Alertmanager applies to the receiver's name in the payload."""
    return re.sub(r"([\\.+*?()|\[\]{}^$])", r"\\\1", text)


def held(labels: Mapping[str, str]) -> dict[str, str]:
    """The labels Alertmanager holds of an alert posted with these: those with a value."""
    return {name: value for name, value in labels.items() if value != ""}


def _alert_key(labels: Mapping[str, str]) -> tuple[int, Labels]:
    rest = {name: value for name, value in labels.items() if name != SCENARIO_LABEL}
    return int(labels[SCENARIO_LABEL]), frozenset(rest.items())


class _Decoder:
    """Maps Alertmanager's names (receivers, labels, fingerprints) back to each scenario's."""

    def __init__(self, scenarios: Sequence[Scenario]) -> None:
        # Alertmanager drops a label with an empty value when it takes an alert in.
        self.index = {(k, frozenset(held(alert).items())): i for k, scenario in enumerate(scenarios)
                      for i, alert in enumerate(scenario.alerts)}

    def alert(self, labels: Mapping[str, str]) -> tuple[int, int]:
        k, key = _alert_key(labels)
        return k, self.index[(k, key)]

    @staticmethod
    def receiver(name: str) -> tuple[int, str]:
        found = re.fullmatch(r"s(\d+)-(.*)", name, re.S)
        if not found:
            raise OracleError(f"a notification for {name!r}, no scenario's receiver")
        return int(found.group(1)), found.group(2)

    @staticmethod
    def group_labels(labels: Mapping[str, str]) -> Labels:
        return frozenset((name, value) for name, value in labels.items() if name != SCENARIO_LABEL)


@dataclass
class _Pass:
    am: Alertmanager
    webhook: Webhook
    flushes: int = 0
    outcomes: int = 0


_MUTE_MESSAGES = ("Notifications not sent, route is within mute time",
                  "Notifications not sent, route is not within active time")


def _settled(one: _Pass, api_groups: list[dict[str, Any]], posted: int) -> bool:
    """The dispatcher has received every alert, every aggregation group has flushed once, and each flush
    has ended: in a notification (`Notify success`, and the webhook has it), a muting message, or nothing
    because each of the group's alerts is inhibited."""
    lines = one.am.log()
    failed = [line for line in lines if line.get("msg") == "Notify for alerts failed"]
    if failed:
        raise OracleError(f"Alertmanager failed to notify: {failed[:3]}")
    count = Counter(line.get("msg") for line in lines)
    groups = [group for group in api_groups if group["alerts"]]
    grouped = {alert["fingerprint"] for group in groups for alert in group["alerts"]}
    all_inhibited = sum(1 for group in groups if all(alert["status"]["inhibitedBy"] for alert in group["alerts"]))
    sent = count["Notify success"]
    return (count["Received alert"] >= posted and len(grouped) >= posted and count["flushing"] >= len(groups)
            and sent + sum(count[message] for message in _MUTE_MESSAGES) + all_inhibited >= len(groups)
            and one.webhook.count() >= sent)


def _observe(one: _Pass, scenarios: Sequence[Scenario], decoder: _Decoder) -> tuple[list[Observed], int, list]:
    alerts = one.am.get("/api/v2/alerts")
    groups = one.am.get("/api/v2/alerts/groups")
    observed = [Observed() for _ in scenarios]
    fingerprints = {alert["fingerprint"]: decoder.alert(alert["labels"]) for alert in alerts}
    if len(fingerprints) != sum(len(scenario.alerts) for scenario in scenarios):
        raise OracleError(f"Alertmanager holds {len(fingerprints)} alerts, "
                          f"{sum(len(s.alerts) for s in scenarios)} were posted")
    for alert in alerts:
        k, i = fingerprints[alert["fingerprint"]]
        by = [fingerprints[fp] for fp in alert["status"]["inhibitedBy"]]
        if by:
            if any(source_k != k for source_k, _ in by):
                raise OracleError(f"an alert of scenario {k} inhibited by another scenario's: {alert}")
            observed[k].inhibited[i] = frozenset(j for _, j in by)
    for receiver, payload in one.webhook.received:
        if payload.get("receiver") != _quote_meta(receiver):  # template.go: `regexp.QuoteMeta(recv)`
            raise OracleError(f"a notification for {payload.get('receiver')!r} sent to {receiver!r}")
        k, name = decoder.receiver(receiver)
        members = [decoder.alert(alert["labels"]) for alert in payload["alerts"]]
        if any(alert_k != k for alert_k, _ in members) or payload.get("status") != "firing":
            raise OracleError(f"an unexpected notification: {payload}")
        observed[k].notifications[(name, decoder.group_labels(payload["groupLabels"]),
                                   frozenset(i for _, i in members))] += 1
    unmuted: list[Counter[Sent]] = [Counter() for _ in scenarios]
    for group in groups:
        if not group["alerts"]:
            continue
        k, name = decoder.receiver(group["receiver"]["name"])
        members = {fingerprints[alert["fingerprint"]] for alert in group["alerts"]}
        if any(alert_k != k for alert_k, _ in members):
            raise OracleError(f"a group mixing scenarios: {group}")
        live = frozenset(i for _, i in members if i not in observed[k].inhibited)
        if live:
            unmuted[k][(name, decoder.group_labels(group["labels"]), live)] += 1
    muted: list[Counter[tuple[str, frozenset[int]]]] = []
    for k, scenario_observed in enumerate(observed):
        if stray := scenario_observed.notifications - unmuted[k]:
            raise Late(f"scenario {k}: notifications of no group (or of alerts inhibited by then): {stray}")
        silent: Counter[tuple[str, frozenset[int]]] = Counter()
        for (receiver, _, members), count in (unmuted[k] - scenario_observed.notifications).items():
            silent[(receiver, members)] += count
        muted.append(silent)
    # Each muted group logged one muting message (without naming the group): the count must be the same.
    logged = sum(1 for line in one.am.log() if line.get("msg") in _MUTE_MESSAGES)
    if logged != sum(sum(counter.values()) for counter in muted):
        raise Late(f"{logged} groups muted by Alertmanager's log, "
                          f"{sum(sum(counter.values()) for counter in muted)} found silent")
    return observed, len(groups), muted


def run_scenarios(scenarios: Sequence[Scenario], folder: Path, *, timeout: float = 60.0,
                  group_wait: float = GROUP_WAIT, attempts: int = 3) -> Run:
    """Every scenario through Alertmanager in one batch (two processes side by side: with and without the
    routes' `mute_time_intervals`). When a group flushed before every alert was taken in, the batch runs
    again with twice the group_wait."""
    if (reason := available()) is not None:
        raise OracleError(reason)
    for attempt in range(attempts):
        try:
            return _run_once(scenarios, folder, timeout, group_wait * 2**attempt)
        except Late:
            if attempt == attempts - 1:
                raise
    raise AssertionError("unreachable")


def _run_once(scenarios: Sequence[Scenario], folder: Path, timeout: float, group_wait: float) -> Run:
    started = time.monotonic()
    folder.mkdir(parents=True, exist_ok=True)
    zoneinfo = folder / "zoneinfo"
    shutil.rmtree(zoneinfo, ignore_errors=True)
    zoneinfo.mkdir()
    anchor = math.ceil(time.time() + LEAD - GROUP_WAIT + group_wait)
    zones = Zones(zoneinfo, anchor)
    decoder = _Decoder(scenarios)
    posted = [{"labels": {**alert, SCENARIO_LABEL: str(k)}} for k, scenario in enumerate(scenarios)
              for alert in scenario.alerts]
    if len({json.dumps(held(alert["labels"]), sort_keys=True) for alert in posted}) != len(posted):
        raise OracleError("two alerts of one scenario have the same labels (Alertmanager would hold one)")
    with ExitStack() as stack:
        passes = []
        full_webhook = stack.enter_context(Webhook())
        full = oracle_config(scenarios, full_webhook, zones, group_wait=group_wait)
        active_webhook = stack.enter_context(Webhook())
        # The same configuration, to another webhook, without the routes' mute_time_intervals.
        active_only = json.loads(json.dumps(full).replace(json.dumps(full_webhook.url(""))[1:-1],
                                                          json.dumps(active_webhook.url(""))[1:-1]))
        for route in _walk_routes(active_only["route"]):
            route.pop("mute_time_intervals", None)
        for name, config, webhook in (("full", full, full_webhook), ("active-only", active_only, active_webhook)):
            am = Alertmanager(folder / name, config, zoneinfo)
            stack.callback(am.stop)
            am.start()
            passes.append(_Pass(am, webhook))
        for one in passes:
            one.am.post_alerts(posted)
        deadline = time.monotonic() + timeout
        time.sleep(group_wait)
        for one in passes:
            before = None
            while True:
                # The log is read at each turn; the groups (a large answer from a busy process) only once
                # it has stopped growing.
                count = Counter(line.get("msg") for line in one.am.log())
                now = (count["Received alert"], count["flushing"], count["Notify success"], one.webhook.count(),
                       *(count[message] for message in _MUTE_MESSAGES))
                if now == before and _settled(one, one.am.get("/api/v2/alerts/groups"), len(posted)):
                    break
                before = now
                if time.monotonic() > deadline:
                    raise OracleError(f"Alertmanager did not flush every group within {timeout} s "
                                      f"(log: {one.am.log_file})")
                time.sleep(0.05)
        flush_times = []
        for one in passes:
            times = {message: [datetime.fromisoformat(line["ts"]).timestamp() for line in one.am.log()
                               if line.get("msg") == message] for message in ("Received alert", "flushing")}
            if max(times["Received alert"]) >= min(times["flushing"]):
                raise Late(f"a group flushed {max(times['Received alert']) - min(times['flushing']):.3f} s before "
                           f"Alertmanager had taken in the last alert (group_wait {group_wait} s)")
            flush_times += times["flushing"]
        results = [_observe(one, scenarios, decoder) for one in passes]
    within = max((abs(moment - anchor) for moment in flush_times), default=0.0)
    if within > SLACK:
        raise OracleError(f"Alertmanager evaluated {within:.1f} s from the anchor (more than {SLACK} s): "
                          "the instants it saw may be off by a minute")
    (observed, group_count, muted), (_, _, muted_active) = results
    for k, scenario_observed in enumerate(observed):
        active = muted[k] & muted_active[k]
        for (receiver, members), count in active.items():
            scenario_observed.muted[(receiver, members, "active_time_intervals")] += count
        for (receiver, members), count in (muted[k] - muted_active[k]).items():
            scenario_observed.muted[(receiver, members, "mute_time_intervals")] += count
    return Run(observed, time.monotonic() - started, len(posted), group_count, within, group_wait)


# --- A configuration as written ----------------------------------------------------------------------

#: In a configuration given as text: the webhook's address, and a time interval's real zone (`ZONE:name`).
WEBHOOK = "WEBHOOK/"
_ZONE = re.compile(r"ZONE:([A-Za-z_/+-]+)")


def run_text(text: str, alerts: Sequence[dict[str, str]], at: datetime, folder: Path,
             group_wait: float = GROUP_WAIT) -> Observed:
    """One configuration, as written, through Alertmanager: the file it reads is `text` itself, with
    `WEBHOOK/` the webhook's address and each `ZONE:<name>` the zone `name` shifted to the instant `at`.
    Receivers are named `s0-...`, each with `webhook_configs: [{url: WEBHOOK/<its name>}]` and routes set
    their own group_wait. One Alertmanager, so muted groups have no reason (`?`)."""
    if (reason := available()) is not None:
        raise OracleError(reason)
    scenario = Scenario(folder.name, {}, list(alerts), at)
    zoneinfo = folder / "zoneinfo"
    shutil.rmtree(zoneinfo, ignore_errors=True)
    zoneinfo.mkdir(parents=True)
    zones = Zones(zoneinfo, math.ceil(time.time() + LEAD - GROUP_WAIT + group_wait))
    with ExitStack() as stack:
        webhook = stack.enter_context(Webhook())
        written = _ZONE.sub(lambda found: zones.zone_for(at, found.group(1)), text.replace(WEBHOOK, webhook.url("")))
        am = Alertmanager(folder / "as-written", written, zoneinfo)
        stack.callback(am.stop)
        am.start()
        one = _Pass(am, webhook)
        posted = [{"labels": {**alert, SCENARIO_LABEL: "0"}} for alert in alerts]
        am.post_alerts(posted)
        deadline = time.monotonic() + 30
        time.sleep(group_wait)
        while not _settled(one, am.get("/api/v2/alerts/groups"), len(posted)):
            if time.monotonic() > deadline:
                raise OracleError(f"Alertmanager did not flush every group within 30 s (log: {am.log_file})")
            time.sleep(0.05)
        [found], _, [muted] = _observe(one, [scenario], _Decoder([scenario]))
    # The receivers by their names in the text (the decoder took their `s0-` away).
    observed = Observed(inhibited=found.inhibited)
    for (receiver, group, members), count in found.notifications.items():
        observed.notifications[("s0-" + receiver, group, members)] += count
    for (receiver, members), count in muted.items():
        observed.muted[("s0-" + receiver, members, "?")] += count
    return observed


def as_written_text(text: str) -> str:
    """The configuration text as opsbook reads it: the real zones, any webhook address."""
    return _ZONE.sub(lambda found: found.group(1), text.replace(WEBHOOK, "http://127.0.0.1:9/"))


# --- Timings -----------------------------------------------------------------------------------------


@dataclass
class Timed:
    """A notification and when it came, in seconds after the first alerts were posted."""

    scenario: int
    sent: Sent
    seconds: float


def run_timed(scenarios: Sequence[Scenario], late: Sequence[dict[str, str]], folder: Path,
              durations: Mapping[str, Mapping[str, float]], late_after: float, wait: float) -> list[Timed]:
    """The scenarios' alerts posted at once, then scenario k's alert `late[k]` posted `late_after` seconds
    later; every notification sent within `wait` seconds, with its time. The routes' `group_wait` and
    `group_interval` are scaled by `durations` (for each, the written value to seconds in the oracle):
    what comes when keeps their order. The scenarios have no time intervals."""
    if (reason := available()) is not None:
        raise OracleError(reason)
    decoder = _Decoder([Scenario(s.name, s.config, [*s.alerts, extra], s.at) for s, extra in zip(scenarios, late)])

    def timing(key: str, value: Any) -> Any:
        if value is None:
            return None
        if key == "repeat_interval":
            return "1h"
        return f"{int(durations[key][str(value)] * 1000)}ms"

    with ExitStack() as stack:
        webhook = stack.enter_context(Webhook())
        zones = Zones(folder / "zoneinfo", int(time.time()))
        am = Alertmanager(folder / "timed", oracle_config(scenarios, webhook, zones, timing=timing))
        stack.callback(am.stop)
        am.start()
        start = time.monotonic()
        am.post_alerts([{"labels": {**alert, SCENARIO_LABEL: str(k)}} for k, scenario in enumerate(scenarios)
                        for alert in scenario.alerts])
        time.sleep(max(0.0, start + late_after - time.monotonic()))
        am.post_alerts([{"labels": {**alert, SCENARIO_LABEL: str(k)}} for k, alert in enumerate(late)])
        time.sleep(max(0.0, start + wait - time.monotonic()))
        timed = []
        for (receiver, payload), arrival in zip(list(webhook.received), list(webhook.arrivals)):
            k, name = decoder.receiver(receiver)
            members = frozenset(decoder.alert(alert["labels"])[1] for alert in payload["alerts"])
            timed.append(Timed(k, (name, decoder.group_labels(payload["groupLabels"]), members), arrival - start))
    return timed


# --- opsbook's answer ---------------------------------------------------------------------------------


def opsbook_observed(scenario: Scenario) -> Observed:
    """opsbook's `simulate` for the scenario, in the form compared with Alertmanager's."""
    from opsbook.kinds.alerting.notify import simulate

    return outcome_observed(simulate(scenario.config, scenario.alerts, scenario.at))


def outcome_observed(outcome: Any, *, reasons: bool = True) -> Observed:
    """An `Outcome` of opsbook's in the form compared with Alertmanager's (without the reasons of muting
    when Alertmanager was not asked for them)."""
    observed = Observed()
    for inhibited in outcome.inhibited:
        observed.inhibited[inhibited.alert] = frozenset(inhibited.by)
    for notification in outcome.notifications:
        observed.notifications[(notification.receiver, frozenset(notification.group_labels.items()),
                                frozenset(notification.alerts))] += 1
    for muted in outcome.muted:
        # Alertmanager inhibits before it looks at time intervals: what muting hides is the alerts
        # inhibition left.
        live = frozenset(i for i in muted.alerts if i not in observed.inhibited)
        if live:
            observed.muted[(muted.receiver, live, muted.reason if reasons else "?")] += 1
    return observed


def differences(scenario: Scenario, oracle: Observed, ours: Observed) -> list[str]:
    """What opsbook says differently from Alertmanager, each as a readable line (empty: they agree)."""
    def show(members: Iterable[int]) -> str:
        return ", ".join(f"#{i} {_labels(scenario.alerts[i])}" for i in sorted(members))

    found = []
    for label, theirs, mine in (("notification", oracle.notifications, ours.notifications),):
        for (receiver, group, members), count in (theirs - mine).items():
            found.append(f"Alertmanager sends, opsbook does not: {label} to {receiver!r} group {_labels(dict(group))}"
                         f" of [{show(members)}]" + (f" x{count}" if count > 1 else ""))
        for (receiver, group, members), count in (mine - theirs).items():
            found.append(f"opsbook sends, Alertmanager does not: {label} to {receiver!r} group {_labels(dict(group))}"
                         f" of [{show(members)}]" + (f" x{count}" if count > 1 else ""))
    for i in sorted(set(oracle.inhibited) - set(ours.inhibited)):
        found.append(f"Alertmanager inhibits #{i} {_labels(scenario.alerts[i])} (by {show(oracle.inhibited[i])}),"
                     " opsbook does not")
    for i in sorted(set(ours.inhibited) - set(oracle.inhibited)):
        found.append(f"opsbook inhibits #{i} {_labels(scenario.alerts[i])} (by {show(ours.inhibited[i])}),"
                     " Alertmanager does not")
    for i in sorted(set(ours.inhibited) & set(oracle.inhibited)):
        if not oracle.inhibited[i] <= ours.inhibited[i]:
            found.append(f"#{i}: Alertmanager's inhibiting alert {show(oracle.inhibited[i])} is not among "
                         f"opsbook's [{show(ours.inhibited[i])}]")
    for (receiver, members, reason), _count in (oracle.muted - ours.muted).items():
        found.append(f"Alertmanager mutes ({reason}) for {receiver!r} [{show(members)}], opsbook does not")
    for (receiver, members, reason), _count in (ours.muted - oracle.muted).items():
        found.append(f"opsbook mutes ({reason}) for {receiver!r} [{show(members)}], Alertmanager does not")
    return found


def _labels(labels: Mapping[str, str]) -> str:
    return "{" + ", ".join(f"{name}={value!r}" for name, value in sorted(labels.items())) + "}"


def describe(scenario: Scenario) -> str:
    """The scenario, to read: its instant, its alerts, its configuration."""
    lines = [f"scenario {scenario.name} at {scenario.at.isoformat()} "
             f"({scenario.at.astimezone(UTC).strftime('%Y-%m-%d %H:%M:%S')} UTC, "
             f"{scenario.at.strftime('%A')})"]
    lines += [f"  alert #{i}: {_labels(alert)}" for i, alert in enumerate(scenario.alerts)]
    locations = sorted({entry.get("location") or "UTC" for key in ("time_intervals", "mute_time_intervals")
                        for named in scenario.config.get(key) or [] for entry in named.get("time_intervals") or []})
    for location in locations:
        local = scenario.at.astimezone(ZoneInfo(location))
        lines.append(f"  in {location}: {local.strftime('%Y-%m-%d %H:%M:%S %Z %A')}")
    lines.append("  configuration:")
    text = yaml.safe_dump(scenario.config, sort_keys=False, default_flow_style=None, width=110)
    lines += ["    " + line for line in text.splitlines()]
    return "\n".join(lines)


# --- Generated scenarios -----------------------------------------------------------------------------

NAMES = ("alertname", "severity", "team", "service", "env", "cluster")
VALUES: dict[str, tuple[str, ...]] = {
    "alertname": ("DiskFull", "HighLatency", "InstanceDown", "Watchdog"),
    "severity": ("critical", "warning", "info"),
    "team": ("db", "api"),
    "service": ("db", "api", "files", "a b", 'x"y', "é\n"),
    "env": ("prod", "staging"),
    "cluster": ("eu1", "us1"),
}
#: A label no generated alert has: matchers, group_by and equal on it see the empty value.
ABSENT = "owner"
#: Zones with DST in either hemisphere (Santiago's at midnight), half- and quarter-hour offsets, and none.
ZONES = ("Europe/Berlin", "America/New_York", "Australia/Sydney", "Pacific/Auckland", "Asia/Kolkata",
         "Asia/Kathmandu", "America/St_Johns", "Pacific/Chatham", "America/Santiago", "Asia/Tokyo", "UTC")
WEEKDAYS = ("sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday")
MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
          "november", "december")


class Generator:
    """Seeded random Alertmanager configurations (0.25's syntax) with alerts and an instant."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self._transitions: dict[tuple[str, int], list[datetime]] = {}

    # Instants

    def transitions(self, zone: str, year: int) -> list[datetime]:
        """The UTC instants at which the zone's offset changes in the year."""
        key = (zone, year)
        if key not in self._transitions:
            tz = ZoneInfo(zone)
            found = []
            moment = datetime(year, 1, 1, tzinfo=UTC)
            before = moment.astimezone(tz).utcoffset()
            while moment.year == year:
                after = (moment + timedelta(days=1)).astimezone(tz).utcoffset()
                if after != before:
                    low, high = moment, moment + timedelta(days=1)
                    while high - low > timedelta(minutes=1):
                        middle = low + (high - low) / 2
                        if middle.astimezone(tz).utcoffset() == before:
                            low = middle
                        else:
                            high = middle
                    found.append(high.replace(second=0, microsecond=0))
                    before = after
                moment += timedelta(days=1)
            self._transitions[key] = found
        return self._transitions[key]

    def instant(self) -> datetime:
        """An instant at hh:mm:30 (UTC), often near a DST change, a month's end or a year's end."""
        rng = self.rng
        zone = rng.choice(ZONES)
        tz = ZoneInfo(zone)
        year = rng.randint(2021, 2031)
        mode = rng.random()
        changes = self.transitions(zone, year)
        if mode < 0.35 and changes:
            moment = rng.choice(changes) + timedelta(minutes=rng.choice([-61, -60, -59, -31, -1, 0, 1, 30, 59, 60,
                                                                          61, rng.randint(-300, 300)]))
        elif mode < 0.55:
            month = rng.randint(1, 12)
            last = calendar.monthrange(year, month)[1]
            local = datetime(year, month, rng.choice([last, last - 1, 1, 28, 29 if last >= 29 else 1]),
                             rng.choice([0, 23, rng.randint(0, 23)]), rng.randint(0, 59), tzinfo=tz)
            moment = local.astimezone(UTC)
        else:
            moment = datetime(year, 1, 1, tzinfo=UTC) + timedelta(minutes=rng.randrange(365 * 24 * 60))
        moment = moment.astimezone(UTC).replace(second=30, microsecond=0)
        return moment.astimezone(tz)

    # Matchers

    def _value(self, name: str) -> str:
        return self.rng.choice(VALUES.get(name, ("x",)))

    def _regex(self, name: str) -> str:
        rng = self.rng
        values = VALUES.get(name, ("x", "y"))
        value = rng.choice(values)
        return rng.choice(["|".join(rng.sample(values, rng.randint(1, len(values)))), value[:2] + ".*",
                           ".*", ".+", "", value, f"(?i){value.upper()}", f"^{value}$", f"[{value[0]}].*",
                           f"{value}|", f"(?s){value[:1]}.*"])

    def matcher(self, names: Sequence[str] = (*NAMES, ABSENT)) -> str:
        rng = self.rng
        name = rng.choice(names)
        op = rng.choice(["=", "=", "=", "!=", "=~", "!~"])
        if op in ("=", "!="):
            value = self._value(name) if rng.random() < 0.9 else ""
        else:
            value = self._regex(name)
        if re.fullmatch(r"[a-z0-9|.*+]+", value) and rng.random() < 0.3:
            return f"{name} {op} {value}"  # unquoted, spaced: the value is the rest of the string
        escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
        return f'{name}{op}"{escaped}"'

    def matchers(self, route: dict[str, Any], key: str = "matchers", names: Sequence[str] = (*NAMES, ABSENT),
                 legacy: tuple[str, str] = ("match", "match_re")) -> None:
        """One or two matchers, written as a `matchers` list or, sometimes, the old `match`/`match_re`."""
        rng = self.rng
        if rng.random() < 0.2:
            name = rng.choice(names)
            if rng.random() < 0.6:
                route[legacy[0]] = {name: self._value(name)}
            else:
                route[legacy[1]] = {name: self._regex(name) or ".*"}
            return
        route[key] = [self.matcher(names) for _ in range(rng.choice([1, 1, 1, 2]))]

    # Routes

    def group_by(self) -> list[str] | None:
        rng = self.rng
        roll = rng.random()
        if roll < 0.35:
            return None
        if roll < 0.45:
            return []
        if roll < 0.6:
            return ["..."]
        return rng.sample([*NAMES, ABSENT], rng.randint(1, 2))

    def route(self, depth: int, receivers: Sequence[str], intervals: Sequence[str]) -> dict[str, Any]:
        rng = self.rng
        route: dict[str, Any] = {}
        if depth == 0 or rng.random() < 0.7:
            route["receiver"] = rng.choice(receivers)
        if depth > 0:
            self.matchers(route)
            if rng.random() < 0.35:
                route["continue"] = True
            if intervals and rng.random() < 0.35:
                route["mute_time_intervals"] = rng.sample(intervals, rng.randint(1, min(2, len(intervals))))
            if intervals and rng.random() < 0.3:
                route["active_time_intervals"] = rng.sample(intervals, rng.randint(1, min(2, len(intervals))))
        group_by = self.group_by()
        if group_by is not None:
            route["group_by"] = group_by
        if rng.random() < 0.3:
            route["group_wait"] = rng.choice(["10s", "30s", "1m"])
        count = rng.randint(1, 4) if depth == 0 else rng.choice([0, 0, 0, 1, 2, 3]) if depth < 3 else 0
        children: list[dict[str, Any]] = []
        seen: set[str] = set()
        for _ in range(count):
            child = self.route(depth + 1, receivers, intervals)
            signature = json.dumps({key: child.get(key) for key in ("matchers", "match", "match_re")}, sort_keys=True)
            if signature not in seen:  # siblings with the same matchers share a group key in 0.25 (see below)
                seen.add(signature)
                children.append(child)
        if children:
            route["routes"] = children
        return route

    # Time intervals, drawn around the scenario's instant so that both sides of each edge come up

    def _times(self, local: datetime) -> list[dict[str, str]]:
        rng = self.rng
        minute = local.hour * 60 + local.minute

        def clock(value: int) -> str:
            return f"{value // 60:02d}:{value % 60:02d}"

        ranges = []
        if rng.random() < 0.6 or minute == 0 or minute == 1439:  # one containing the minute
            start = rng.choice([minute, minute, rng.randint(0, minute)])
            end = rng.choice([minute + 1, minute + 1, rng.randint(minute + 1, 1440), 1440])
        elif rng.random() < 0.5:  # one ending where the minute starts: excluded
            start, end = rng.randint(0, minute - 1), minute
        else:  # one starting the minute after
            start, end = minute + 1, rng.randint(minute + 2, 1440) if minute < 1438 else 1440
        ranges.append({"start_time": clock(start), "end_time": clock(end)})
        if rng.random() < 0.2:
            start = rng.randint(0, 1439)
            ranges.append({"start_time": clock(start), "end_time": clock(rng.randint(start + 1, 1440))})
        return ranges

    def _range(self, low: int, high: int, around: int, names: Sequence[str] | None = None) -> str:
        rng = self.rng
        choices = [value for value in (around - 1, around, around, around + 1, rng.randint(low, high))
                   if low <= value <= high]
        begin, end = sorted((rng.choice(choices), rng.choice(choices)))

        def text(value: int) -> str:
            if names is None or (low > 0 and rng.random() < 0.3):  # months by number too
                return str(value)
            name = names[value - low]
            return rng.choice([name, name, name.capitalize(), name.upper()])  # read in any case

        return text(begin) if begin == end else f"{text(begin)}:{text(end)}"

    def _days(self, local: datetime) -> str:
        rng = self.rng
        day = local.day
        last = calendar.monthrange(local.year, local.month)[1]
        pool = [day, day - 1, day + 1, day - last - 1, day - last, day - last - 2, rng.randint(1, 31),
                -rng.randint(1, 31), 28, 29, 30, 31, -31, -30, -29, -1, 1]
        for _ in range(50):
            begin, end = rng.choice(pool), rng.choice(pool)
            if rng.random() < 0.3:
                end = begin
            if not (-31 <= begin <= 31 and -31 <= end <= 31) or 0 in (begin, end) or (begin < 0 < end):
                continue
            if (28 + begin if begin < 0 else begin) > (28 + end if end < 0 else end):
                continue
            return str(begin) if begin == end else f"{begin}:{end}"
        return str(day)

    def interval(self, at: datetime) -> dict[str, Any]:
        rng = self.rng
        location = rng.choice(ZONES)
        local = at.astimezone(ZoneInfo(location))
        entry: dict[str, Any] = {}
        if rng.random() < 0.55:
            entry["times"] = self._times(local)
        if rng.random() < 0.35:
            entry["weekdays"] = [self._range(0, 6, (local.weekday() + 1) % 7, WEEKDAYS)]
        if rng.random() < 0.4:
            entry["days_of_month"] = [self._days(local) for _ in range(rng.choice([1, 1, 2]))]
        if rng.random() < 0.3:
            entry["months"] = [self._range(1, 12, local.month, MONTHS)]
        if rng.random() < 0.2:
            entry["years"] = [self._range(local.year - 2, local.year + 2, local.year)]
        for part in list(entry):
            roll = rng.random()
            if roll < 0.03:
                entry[part] = []  # a field given empty: nothing satisfies it
            elif roll < 0.05:
                entry[part] = [*entry[part], None]  # a null item: the zero value, not checked (Sunday, 0...)
        entry["location"] = location
        return entry

    # Alerts and inhibition

    def alert(self) -> dict[str, str]:
        rng = self.rng
        alert = {"alertname": self._value("alertname")}
        for name in NAMES[1:]:
            if rng.random() < 0.6:
                # now and then an empty value, which Alertmanager holds as no label at all
                alert[name] = self._value(name) if rng.random() < 0.95 else ""
        return alert

    def alerts(self) -> list[dict[str, str]]:
        rng = self.rng
        alerts: list[dict[str, str]] = []
        keys: set[frozenset[tuple[str, str]]] = set()
        for _ in range(rng.randint(2, 7)):
            if alerts and rng.random() < 0.45:  # a neighbour of an alert: one label changed or dropped
                alert = dict(rng.choice(alerts))
                name = rng.choice(NAMES)
                if name != "alertname" and name in alert and rng.random() < 0.4:
                    del alert[name]
                else:
                    alert[name] = self._value(name)
            else:
                alert = self.alert()
            if frozenset(held(alert).items()) not in keys:
                keys.add(frozenset(held(alert).items()))
                alerts.append(alert)
        return alerts

    def inhibit_rule(self) -> dict[str, Any]:
        rng = self.rng
        rule: dict[str, Any] = {}
        favoured = ("severity", "severity", "alertname", *NAMES, ABSENT)
        self.matchers(rule, "source_matchers", favoured, ("source_match", "source_match_re"))
        self.matchers(rule, "target_matchers", favoured, ("target_match", "target_match_re"))
        if rng.random() < 0.8:
            rule["equal"] = rng.sample([*NAMES, ABSENT], rng.randint(1, 3))
        return rule

    def scenario(self, name: str) -> Scenario:
        rng = self.rng
        at = self.instant()
        receivers = [rng.choice(["team-{}", "web.hook{}", "on call {}", "pager|{}"]).format(i)
                     for i in range(rng.randint(2, 4))]
        names = [f"window-{i}" for i in range(rng.randint(0, 3))]
        config: dict[str, Any] = {}
        intervals = [{"name": interval, "time_intervals": [self.interval(at) for _ in range(rng.choice([1, 1, 2]))]}
                     for interval in names]
        if intervals:
            # The old top-level `mute_time_intervals` defines intervals as `time_intervals` does.
            config["mute_time_intervals" if rng.random() < 0.15 else "time_intervals"] = intervals
        config["route"] = self.route(0, receivers, names)
        if rng.random() < 0.8:
            config["inhibit_rules"] = [self.inhibit_rule() for _ in range(rng.randint(1, 3))]
        config["receivers"] = [{"name": receiver} for receiver in receivers]
        return Scenario(name, config, self.alerts(), at)


# --- Shrinking a disagreement -------------------------------------------------------------------------


def _referenced_intervals(config: Mapping[str, Any]) -> set[str]:
    return {str(name) for route in _walk_routes(config["route"])
            for key in ("mute_time_intervals", "active_time_intervals") for name in route.get(key) or []}


def _referenced_receivers(config: Mapping[str, Any]) -> set[str]:
    return {str(route["receiver"]) for route in _walk_routes(config["route"]) if route.get("receiver")}


def _tidy(config: dict[str, Any]) -> dict[str, Any]:
    """The configuration without the time intervals and receivers no route names."""
    changed = copy.deepcopy(config)
    used = _referenced_intervals(changed)
    for key in ("time_intervals", "mute_time_intervals"):
        if key in changed:
            changed[key] = [named for named in changed[key] or [] if str(named["name"]) in used]
            if not changed[key]:
                del changed[key]
    routed = _referenced_receivers(changed)
    changed["receivers"] = [receiver for receiver in changed.get("receivers") or [] if str(receiver["name"]) in routed]
    return changed


def smaller(scenario: Scenario) -> Iterator[Scenario]:
    """Scenarios one step smaller than this one, each still a configuration Alertmanager accepts: the
    large steps first (no inhibition at all, no time intervals at all, the unused definitions gone),
    then one alert, route, rule, label, route option or interval field at a time."""
    def variant(config: dict[str, Any] | None = None, alerts: list[dict[str, str]] | None = None) -> Scenario:
        return Scenario(scenario.name, config if config is not None else scenario.config,
                        alerts if alerts is not None else scenario.alerts, scenario.at)

    config = scenario.config
    if config.get("inhibit_rules"):
        yield variant({key: value for key, value in config.items() if key != "inhibit_rules"})
    if _referenced_intervals(config):
        changed = copy.deepcopy(config)
        for route in _walk_routes(changed["route"]):
            route.pop("mute_time_intervals", None)
            route.pop("active_time_intervals", None)
        yield variant(_tidy(changed))
    if _tidy(config) != config:
        yield variant(_tidy(config))
    paths: list[tuple[int, ...]] = []

    def collect(route: dict[str, Any], path: tuple[int, ...]) -> None:
        for index, child in enumerate(route.get("routes") or []):
            paths.append((*path, index))
            collect(child, (*path, index))

    collect(config["route"], ())
    for path in paths:
        changed = copy.deepcopy(config)
        parent = changed["route"]
        for index in path[:-1]:
            parent = parent["routes"][index]
        del parent["routes"][path[-1]]
        if not parent["routes"]:
            del parent["routes"]
        yield variant(changed)
    alerts = scenario.alerts
    for i in range(len(alerts)):
        if len(alerts) > 1:
            yield variant(alerts=alerts[:i] + alerts[i + 1:])
    for i in range(len(config.get("inhibit_rules") or [])):
        changed = copy.deepcopy(config)
        del changed["inhibit_rules"][i]
        yield variant(changed)
    for i, alert in enumerate(alerts):
        for name in sorted(alert):
            fewer = {key: value for key, value in alert.items() if key != name}
            others = [frozenset(held(other).items()) for j, other in enumerate(alerts) if j != i]
            if held(fewer) and frozenset(held(fewer).items()) not in others:
                yield variant(alerts=[*alerts[:i], fewer, *alerts[i + 1:]])
    for path in [(), *paths]:
        for key in ("mute_time_intervals", "active_time_intervals", "continue", "group_by", "group_wait",
                    "matchers", "match", "match_re"):
            changed = copy.deepcopy(config)
            route = changed["route"]
            for index in path:
                route = route["routes"][index]
            if key in route and (path or key not in ("matchers", "match", "match_re")):
                del route[key]
                yield variant(changed)
    for key in ("time_intervals", "mute_time_intervals"):
        for i, named in enumerate(config.get(key) or []):
            for j, entry in enumerate(named.get("time_intervals") or []):
                if len(named["time_intervals"]) > 1:
                    changed = copy.deepcopy(config)
                    del changed[key][i]["time_intervals"][j]
                    yield variant(changed)
                for part in sorted(entry or {}):
                    if part != "location":
                        changed = copy.deepcopy(config)
                        del changed[key][i]["time_intervals"][j][part]
                        yield variant(changed)


def shrink(scenarios: Sequence[Scenario], disagrees: Callable[[list[Scenario]], list[bool]],
           rounds: int = 20) -> list[Scenario]:
    """Smaller scenarios on which opsbook and Alertmanager still disagree: each round tries every
    one-step-smaller variant of every scenario in one batch, and keeps, for each, the first variant that
    still disagrees."""
    current = list(scenarios)
    active = set(range(len(current)))
    for _ in range(rounds):
        candidates = {index: list(smaller(current[index])) for index in sorted(active)}
        batch = [candidate for index in sorted(candidates) for candidate in candidates[index]]
        if not batch:
            break
        verdicts = iter(disagrees(batch))
        for index in sorted(candidates):
            found = [candidate for candidate, bad in zip(candidates[index], verdicts) if bad]
            if found:
                current[index] = found[0]
            else:
                active.discard(index)
        if not active:
            break
    return current


# --- Scenarios from real configurations ---------------------------------------------------------------


def _matcher_texts(config: Mapping[str, Any]) -> Iterator[tuple[str, str, str]]:
    """(name, operator, value) of every matcher of the routes and inhibition rules, in any syntax."""
    from opsbook.kinds.alerting.routing import MatcherError, parse_matchers

    holders = [*_walk_routes(config["route"]), *(config.get("inhibit_rules") or [])]
    for holder in holders:
        for prefix in ("", "source_", "target_"):
            for key, op in (("match", "="), ("match_re", "=~")):
                for name, value in (holder.get(prefix + key) or {}).items():
                    yield str(name), op, str(value)
            for line in holder.get(prefix + "matchers") or []:
                try:
                    for matcher in parse_matchers(str(line)):
                        yield matcher.name, matcher.op, matcher.value
                except MatcherError:
                    continue


def _candidates(op: str, value: str) -> set[str]:
    if op in ("=", "!="):
        return {value, value + "x"} if value else {"x"}
    found = {"zz"}
    for alternative in value.strip("^$()").split("|"):
        literal = re.sub(r"\.\*|\.\+", "z", alternative)
        if re.fullmatch(r"[A-Za-z0-9_.:-]+", literal):
            found.add(literal)
    return found


def _satisfying(rule: Mapping[str, Any], side: str, rng: random.Random) -> dict[str, str]:
    """Labels that match one side of an inhibition rule (a value its regular expressions accept, read
    with Python's `re`, is good enough to draw test data)."""
    labels: dict[str, str] = {}
    for label, op, value in _matcher_texts({"route": {}, "inhibit_rules": [{
            key: rule[key] for key in rule if key.startswith(side)}]}):
        if op == "=":
            labels[label] = value
        elif op == "=~":
            try:
                fitting = [v for v in sorted(_candidates(op, value)) if re.fullmatch(value, v)]
            except re.error:
                continue
            if fitting:
                labels[label] = rng.choice(fitting)
    return labels


def corpus_scenarios(name: str, config: dict[str, Any], rng: random.Random, count: int) -> list[Scenario]:
    """Scenarios for a real configuration: alerts whose labels take the values its matchers name (and
    others), at instants on either side of each edge of its time intervals and at random."""
    values: dict[str, set[str]] = {}
    for label, op, value in _matcher_texts(config):
        values.setdefault(label, set()).update(_candidates(op, value))
    for rule in config.get("inhibit_rules") or []:
        for label in rule.get("equal") or []:
            values.setdefault(str(label), set()).update({"a", "b"})
    for route in _walk_routes(config["route"]):
        for label in route.get("group_by") or []:
            if label != "...":
                values.setdefault(str(label), set()).update({"g1", "g2"})
    names = sorted(values)
    instants: list[datetime] = []
    for key in ("time_intervals", "mute_time_intervals"):
        for named in config.get(key) or []:
            for entry in named.get("time_intervals") or []:
                zone = ZoneInfo(entry.get("location") or "UTC")
                for day in (date(2026, 12, 4), date(2026, 12, 5), date(2027, 3, 29), date(2027, 10, 31)):
                    for span in entry.get("times") or [{"start_time": "12:00", "end_time": "12:00"}]:
                        for edge in (span["start_time"], span["end_time"]):
                            hours, minutes = (int(part) for part in str(edge).split(":"))
                            moment = datetime(day.year, day.month, day.day, tzinfo=zone) + timedelta(
                                minutes=hours * 60 + minutes)
                            instants += [moment - timedelta(seconds=30), moment + timedelta(seconds=30)]
    generator = Generator(rng)
    scenarios = []
    for index in range(count):
        at = rng.choice(instants) if instants and rng.random() < 0.8 else generator.instant()
        at = at.astimezone(UTC).replace(microsecond=0)
        alerts: list[dict[str, str]] = []
        keys: set[frozenset[tuple[str, str]]] = set()
        drafts = [{label: rng.choice(sorted(values[label])) for label in names if rng.random() < 0.6}
                  for _ in range(rng.randint(2, 6))]
        rules = config.get("inhibit_rules") or []
        if rules and rng.random() < 0.6:  # a source and a target of one rule, alike in its `equal` labels
            rule = rng.choice(rules)
            shared = {str(label): rng.choice(["a", "b"]) for label in rule.get("equal") or [] if rng.random() < 0.8}
            drafts[:2] = [{**drafts[0], **shared, **_satisfying(rule, "source_", rng)},
                          {**drafts[1], **shared, **_satisfying(rule, "target_", rng)}]
        for alert in drafts:
            alert.setdefault("alertname", rng.choice(sorted(values.get("alertname", {"Probe"}))))
            if frozenset(alert.items()) not in keys:
                keys.add(frozenset(alert.items()))
                alerts.append(alert)
        scenarios.append(Scenario(f"{name} #{index}", config, alerts, at))
    return scenarios
