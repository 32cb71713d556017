"""opsbook's notification engine (`notify.simulate`: grouping, inhibition, muting by time intervals) against
Debian's Alertmanager 0.25 running on loopback (issue #19, item 6). `alertmanager_oracle.py` runs many
scenarios through one Alertmanager (two, side by side, to tell the reasons of muting), each at its own
instant through zones shifted in time; every scenario is also given to `simulate`, and every difference is
shrunk and printed. The generated scenarios are seeded (the seed is printed; OPSBOOK_AM_SEED replays it).
"""

from __future__ import annotations

import os
import random
import subprocess
from collections import Counter
from datetime import UTC, datetime, timedelta
from io import BytesIO
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml
from alertmanager_oracle import (
    AMTOOL,
    Generator,
    Observed,
    OracleError,
    Run,
    Scenario,
    Zones,
    as_written_text,
    available,
    corpus_scenarios,
    describe,
    differences,
    held,
    offset_changes,
    opsbook_observed,
    outcome_observed,
    run_scenarios,
    run_text,
    run_timed,
    shrink,
    tzif,
)

from opsbook.kinds.alerting.inhibition import read_inhibit_rules
from opsbook.kinds.alerting.notify import Simulator

CORPUS = Path(__file__).parent.parent.parent / "shared" / "corpus" / "alertmanager"
SEED = int(os.environ.get("OPSBOOK_AM_SEED") or random.SystemRandom().randrange(2**32))
GENERATED = 250
REASON = available()
needs_alertmanager = pytest.mark.skipif(REASON is not None, reason=REASON or "")


# --- The zones, read back by Python -------------------------------------------------------------------


def test_tzif_reads_back_as_written() -> None:
    """Python's zoneinfo reads the files `tzif` writes with the offsets and changes written (within a day
    of UTC: Python's `utcoffset` can hold no more; Go, which reads int32 offsets, is shown the larger ones
    through Alertmanager below); an offset beyond int32 cannot be written."""
    probes = [-10**9, 999_999, 1_000_000, 1_999_999, 2_000_000, 2**31 - 2]
    for offset, changes in [(0, []), (86399, []), (-86399, []), (-3 * 3600 - 17, []),
                            (3600, [(1_000_000, 7200), (2_000_000, 3600)])]:
        zone = ZoneInfo.from_file(BytesIO(tzif(offset, changes)), key="Oracle/Test")
        expected = [offset if not changes or second < 1_000_000 else 7200 if second < 2_000_000 else 3600
                    for second in probes]
        assert [datetime.fromtimestamp(second, zone).utcoffset() for second in probes] == \
            [timedelta(seconds=value) for value in expected]
    with pytest.raises(ValueError, match="int32"):
        tzif(2**31, [])


@pytest.mark.parametrize(("zone", "instant"), [
    ("Europe/Berlin", "2027-03-28T00:59:30+00:00"),   # the minute before clocks go forward
    ("Europe/Berlin", "2027-10-31T00:59:30+00:00"),   # 02:59:30 CEST, the last minute before they go back
    ("Pacific/Chatham", "2030-04-06T14:14:30+00:00"),
    ("America/Santiago", "2026-09-06T03:59:30+00:00"),  # midnight skipped
    ("UTC", "2091-05-01T00:00:30+00:00"),
    ("America/Santiago", "2026-04-05T02:59:30+00:00"),  # 23:59:30 the second time
])
def test_shifted_zone_reads_as_the_real_one(tmp_path: Path, zone: str, instant: str) -> None:
    """The zone written for (Z, T) reads, at anchor + s, as Z at T + s, for s across Z's changes of
    offset within 62 days; and one of Z's changes of offset is found to the second. (The anchor is
    three hours from T here, so that Python can hold the offsets.)"""
    at = datetime.fromisoformat(instant)
    anchor = int(at.timestamp()) + 3 * 3600 + 17
    zones = Zones(tmp_path, anchor)
    name = zones.zone_for(at, zone)
    shifted = ZoneInfo.from_file(BytesIO((tmp_path / name).read_bytes()), key=name)
    real = ZoneInfo(zone)
    for seconds in (-60 * 86400, -3 * 86400, -3600, -31, -1, 0, 1, 29, 30, 31, 3600, 86400, 60 * 86400):
        ours = datetime.fromtimestamp(anchor + seconds, shifted).replace(tzinfo=None)
        theirs = datetime.fromtimestamp(at.timestamp() + seconds, real).replace(tzinfo=None)
        assert ours == theirs, (zone, instant, seconds)
    first, changes = offset_changes(real, int(at.timestamp()) - 86400, int(at.timestamp()) + 86400)
    for when, after in changes:
        assert datetime.fromtimestamp(when, real).utcoffset() == timedelta(seconds=after)
        assert datetime.fromtimestamp(when - 1, real).utcoffset() != timedelta(seconds=after)
    if zone != "UTC":
        assert changes, "each instant above is within a day of a change of offset"


# --- The time shift, through Alertmanager -------------------------------------------------------------

WEEKDAYS = ("sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday")
MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
          "november", "december")


def _probe_scenario(name: str, at: datetime, zone: str, probes: dict[str, dict[str, Any]]) -> Scenario:
    """One route per probe, muted by an interval of one entry (the probe's fields, in `zone`), and one
    alert per probe: the alert is muted exactly when the entry holds at `at`."""
    intervals = [{"name": probe, "time_intervals": [{**fields, "location": zone}]} for probe, fields in probes.items()]
    routes = [{"matchers": [f'probe="{probe}"'], "receiver": "probe", "mute_time_intervals": [probe]}
              for probe in probes]
    config = {"time_intervals": intervals, "route": {"receiver": "probe", "routes": routes},
              "receivers": [{"name": "probe"}]}
    return Scenario(name, config, [{"alertname": "Probe", "probe": probe} for probe in probes], at)


def _held(scenario: Scenario, observed: Observed) -> dict[str, bool]:
    """Which probes Alertmanager muted (their interval held) and which it notified."""
    muted = {i for _, members, _ in observed.muted for i in members}
    sent = {i for _, _, members in observed.notifications for i in members}
    assert muted.isdisjoint(sent) and muted | sent == set(range(len(scenario.alerts))), (muted, sent)
    return {alert["probe"]: i in muted for i, alert in enumerate(scenario.alerts)}


def _probes(local: datetime) -> tuple[dict[str, dict[str, Any]], dict[str, bool]]:
    """Entries that hold at the wall clock `local` and entries that hold only a minute, a day, a month
    or a year away, with what each should give."""
    minute = local.hour * 60 + local.minute

    def times(start: int, end: int) -> dict[str, Any]:
        return {"times": [{"start_time": f"{start // 60:02d}:{start % 60:02d}",
                           "end_time": f"{end // 60:02d}:{end % 60:02d}"}]}

    weekday = local.isoweekday() % 7
    probes = {
        "this-minute": times(minute, minute + 1),
        "this-weekday": {"weekdays": [WEEKDAYS[weekday]]},
        "next-weekday": {"weekdays": [WEEKDAYS[(weekday + 1) % 7]]},
        "this-day": {"days_of_month": [str(local.day)]},
        "other-day": {"days_of_month": [str(local.day % 28 + 1)]},
        "this-month": {"months": [MONTHS[local.month - 1]]},
        "next-month": {"months": [str(local.month % 12 + 1)]},
        "this-year": {"years": [str(local.year)]},
        "last-year": {"years": [str(local.year - 1)]},
    }
    if minute > 0:
        probes["minute-before"] = times(minute - 1, minute)
    if minute < 1439:
        probes["minute-after"] = times(minute + 1, minute + 2)
    expected = {name: name.startswith("this-") for name in probes}
    return probes, expected


@needs_alertmanager
def test_alertmanager_sees_the_instant_the_zones_shift_it_to(tmp_path: Path) -> None:
    """The trick itself, before any comparison with opsbook: at instants on both sides of DST changes,
    in zones of half and three-quarter hours, and 66 years away either side (offsets near the int32
    limit of a TZif file, which Go reads), Alertmanager mutes exactly the routes whose interval holds
    at the wall clock Python gives for the real zone at the instant, to the minute. And 0.25's month
    length by hours comes through: in Europe/Berlin, March 2027 (clocks forward on the 28th) has 30
    days for `days_of_month: ['-1']`, so -1 holds on the 30th and not on the 31st."""
    now = datetime.now(UTC).replace(second=30, microsecond=0)
    cases = [
        ("Europe/Berlin", datetime(2027, 3, 28, 0, 59, 30, tzinfo=UTC)),   # 01:59:30 CET
        ("Europe/Berlin", datetime(2027, 3, 28, 1, 0, 30, tzinfo=UTC)),    # 03:00:30 CEST
        ("Europe/Berlin", datetime(2027, 10, 31, 0, 59, 30, tzinfo=UTC)),  # 02:59:30 CEST
        ("Europe/Berlin", datetime(2027, 10, 31, 1, 0, 30, tzinfo=UTC)),   # 02:00:30 CET, the second time
        ("Pacific/Chatham", datetime(2027, 12, 31, 10, 59, 30, tzinfo=UTC)),
        ("Asia/Kathmandu", datetime(2026, 2, 28, 18, 14, 30, tzinfo=UTC)),
        ("America/St_Johns", now),
        ("Australia/Sydney", now + timedelta(days=int(66.4 * 365.25))),
        ("America/New_York", now - timedelta(days=int(66.4 * 365.25))),
    ]
    scenarios, expectations = [], []
    for zone, at in cases:
        probes, expected = _probes(at.astimezone(ZoneInfo(zone)))
        scenarios.append(_probe_scenario(f"{zone} {at.isoformat()}", at, zone, probes))
        expectations.append(expected)
    for day, holds in ((30, True), (31, False)):
        at = datetime(2027, 3, day, 12, 0, 30, tzinfo=ZoneInfo("Europe/Berlin"))
        scenarios.append(_probe_scenario(f"0.25 month of hours, March {day}", at, "Europe/Berlin",
                                         {"last-day": {"days_of_month": ["-1"]}}))
        expectations.append({"last-day": holds})
    run = run_scenarios(scenarios, tmp_path)
    print(f"time shift: {len(scenarios)} instants, evaluated within {run.evaluated_within:.1f} s of the anchor")
    for scenario, observed, expected in zip(scenarios, run.observed, expectations):
        assert _held(scenario, observed) == expected, scenario.name


# --- Generated scenarios and the corpus against opsbook -----------------------------------------------


def _disagreements(scenarios: list[Scenario], run: Run) -> list[tuple[Scenario, list[str]]]:
    found = []
    for scenario, theirs in zip(scenarios, run.observed):
        lines = differences(scenario, theirs, opsbook_observed(scenario))
        if lines:
            found.append((scenario, lines))
    return found


def _report(found: list[tuple[Scenario, list[str]]], folder: Path) -> str:
    """The first disagreements, each shrunk (in batches through Alertmanager) to a readable scenario."""
    def disagrees(candidates: list[Scenario]) -> list[bool]:
        run = run_scenarios(candidates, folder)
        return [bool(differences(c, theirs, opsbook_observed(c))) for c, theirs in zip(candidates, run.observed)]

    first = [scenario for scenario, _ in found[:3]]
    try:
        small = shrink(first, disagrees)
    except OracleError as error:  # shown unshrunk
        small, note = first, f" (not shrunk: {error})"
    else:
        note = ""
    parts = [f"{len(found)} scenarios disagree{note}; the first, shrunk:"]
    for scenario in small:
        run = run_scenarios([scenario], folder)
        lines = differences(scenario, run.observed[0], opsbook_observed(scenario)) or ["(agree once shrunk?)"]
        parts += [describe(scenario), *("  ! " + line for line in lines), ""]
    return "\n".join(parts)


def _inhibition_cases(scenario: Scenario) -> set[str]:
    """Which of the subtle cases of inhibition the scenario holds: an alert inhibited under `equal` labels
    that it (and its source) lacks; an alert on both sides of a rule, with a source for it that is on both
    sides too, which does not count."""
    rules, _ = read_inhibit_rules(scenario.config)
    alerts = [held(alert) for alert in scenario.alerts]
    found = set()
    for rule in rules:
        for target in alerts:
            if not rule.targets(target):
                continue
            sources = [source for source in alerts if source is not target and rule.sources(source)
                       and all(source.get(name, "") == target.get(name, "") for name in rule.equal)]
            if sources and any(name not in target for name in rule.equal):
                found.add("equal on a missing label")
            if rule.sources(target) and any(rule.targets(source) for source in sources):
                found.add("both sides")
    return found


def _coverage(run: Run, scenarios: list[Scenario]) -> Counter[str]:
    counts: Counter[str] = Counter()
    for scenario, observed in zip(scenarios, run.observed):
        counts.update(_inhibition_cases(scenario))
        counts["inhibition"] += bool(observed.inhibited)
        counts["muting"] += bool(observed.muted)
        for reason in {reason for _, _, reason in observed.muted}:
            counts[reason] += 1
        counts["grouping"] += any(len(members) > 1 for _, _, members in observed.notifications)
    return counts


@needs_alertmanager
def test_generated_scenarios_agree_with_alertmanager(tmp_path: Path, record_property: Any) -> None:
    """Seeded random configurations (routing trees with continue, group_by with '...' and [], matchers in
    every syntax, inhibition rules with `equal` on labels some alerts lack and alerts on both sides,
    time intervals of every field around the instant, in ten zones, muting and active intervals) and
    alerts, at instants often beside a DST change or a month's end: opsbook sends, inhibits and mutes
    what Alertmanager does."""
    print(f"seed {SEED} (OPSBOOK_AM_SEED={SEED} replays it)")
    generator = Generator(random.Random(SEED))
    scenarios = [generator.scenario(f"seed {SEED} #{index}") for index in range(GENERATED)]
    run = run_scenarios(scenarios, tmp_path)
    found = _disagreements(scenarios, run)
    coverage = _coverage(run, scenarios)
    print(f"Alertmanager differential: {len(scenarios)} generated scenarios, {run.alerts} alerts, {run.groups} "
          f"groups; inhibition in {coverage['inhibition']}, muting in {coverage['muting']} "
          f"({coverage['mute_time_intervals']} by mute, {coverage['active_time_intervals']} by active intervals), "
          f"grouped notifications in {coverage['grouping']}; an alert on both sides of a rule in "
          f"{coverage['both sides']}, `equal` on a missing label in {coverage['equal on a missing label']}; "
          f"{len(found)} disagreements; "
          f"Alertmanager {run.seconds:.1f} s, evaluated within {run.evaluated_within:.1f} s of the anchor")
    record_property("fuzz_cases", {"Alertmanager scenarios": len(scenarios)})
    assert not found, f"seed {SEED}: " + _report(found, tmp_path / "shrink")
    # Not vacuous: each behaviour comes up in many scenarios.
    for behaviour in ("inhibition", "mute_time_intervals", "active_time_intervals", "grouping", "both sides",
                      "equal on a missing label"):
        assert coverage[behaviour] >= 15, (behaviour, coverage)


def _corpus() -> list[Path]:
    """The corpus configurations with time intervals or inhibition rules."""
    found = []
    for file in sorted(CORPUS.glob("*.y*ml")) if CORPUS.is_dir() else []:
        try:
            config = yaml.safe_load(file.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, yaml.YAMLError):
            continue  # not a configuration to compare
        if isinstance(config, dict) and any(key in config for key in
                                            ("inhibit_rules", "time_intervals", "mute_time_intervals")):
            found.append(file)
    return found


def _refused_by_0_25(file: Path) -> str | None:
    """amtool 0.25's reason for refusing the configuration, or None when it accepts it."""
    check = subprocess.run([AMTOOL, "check-config", str(file)], capture_output=True, text=True, timeout=60)
    if check.returncode == 0:
        return None
    found = [line.strip() for line in check.stdout.splitlines() if "not found" in line]
    return "; ".join(found) or (check.stdout + check.stderr).strip()[-300:]


@needs_alertmanager
def test_corpus_configurations_agree_with_alertmanager(tmp_path: Path) -> None:
    """Real configurations with time intervals or inhibition rules (the shared corpus), each with alerts
    taking the values its matchers name, at instants on both sides of its intervals' edges."""
    files = _corpus()
    if not files:
        pytest.skip(f"no corpus configuration with time intervals or inhibition rules in {CORPUS}")
    accepted = [file for file in files if _refused_by_0_25(file) is None]
    rng = random.Random(SEED)
    scenarios = []
    for file in accepted:
        config = yaml.safe_load(file.read_text(encoding="utf-8"))
        scenarios += corpus_scenarios(file.name, config, rng, 24)
    run = run_scenarios(scenarios, tmp_path)
    found = _disagreements(scenarios, run)
    coverage = _coverage(run, scenarios)
    print(f"corpus: seed {SEED}, {len(accepted)} of {len(files)} configurations with intervals or inhibition "
          f"(the others newer than 0.25: see the skipped tests), {len(scenarios)} scenarios; inhibition in "
          f"{coverage['inhibition']}, muting in {coverage['muting']}, grouped notifications in "
          f"{coverage['grouping']}; {len(found)} disagreements")
    assert not found, f"seed {SEED}: " + _report(found, tmp_path / "shrink")
    assert coverage["inhibition"] and coverage["muting"] and coverage["grouping"], coverage


@needs_alertmanager
@pytest.mark.parametrize("file", _corpus(), ids=lambda file: file.name)
def test_corpus_configuration_accepted_alike(file: Path) -> None:
    """What Alertmanager 0.25 accepts, opsbook reads without a problem. A configuration 0.25 refuses for
    a feature newer than it (`tracing`, route `labels`) cannot be compared: skipped, naming the feature."""
    reason = _refused_by_0_25(file)
    if reason is not None:
        pytest.skip(f"Alertmanager 0.25 refuses {file.name}, for a feature newer than 0.25: {reason}")
    problems = Simulator(yaml.safe_load(file.read_text(encoding="utf-8"))).problems
    assert problems == [], problems


# --- `opsbook route --at` on both sides of a DST change -----------------------------------------------

DST_CONFIG = """\
time_intervals:
  - name: berlin-night                 # the hour before the spring change, gone the next day
    time_intervals: [{times: [{start_time: "01:00", end_time: "02:00"}], location: Europe/Berlin}]
  - name: berlin-three-to-four
    time_intervals: [{times: [{start_time: "03:00", end_time: "04:00"}], location: Europe/Berlin}]
  - name: berlin-two-to-three          # skipped in spring, twice in autumn
    time_intervals: [{times: [{start_time: "02:00", end_time: "03:00"}], location: Europe/Berlin}]
  - name: utc-one-to-two               # no location: UTC, an hour apart from Berlin's winter, two from summer
    time_intervals: [{times: [{start_time: "01:00", end_time: "02:00"}]}]
  - name: berlin-last-day              # 0.25 counts March in Berlin as 30 days (clocks forward on the 28th)
    time_intervals: [{days_of_month: ["-1"], location: Europe/Berlin}]
  - name: berlin-weekend
    time_intervals: [{weekdays: [saturday, sunday], location: Europe/Berlin}]
route:
  receiver: default
  routes:
    - {matchers: [service="db"], receiver: night-mute, mute_time_intervals: [berlin-night], continue: true}
    - {matchers: [service="db"], receiver: night-active, active_time_intervals: [berlin-night], continue: true}
    - {matchers: [service="db"], receiver: three-mute, mute_time_intervals: [berlin-three-to-four], continue: true}
    - {matchers: [service="db"], receiver: two-active, active_time_intervals: [berlin-two-to-three], continue: true}
    - {matchers: [service="db"], receiver: utc-mute, mute_time_intervals: [utc-one-to-two], continue: true}
    - {matchers: [service="db"], receiver: utc-active, active_time_intervals: [utc-one-to-two], continue: true}
    - {matchers: [service="db"], receiver: last-day-mute, mute_time_intervals: [berlin-last-day], continue: true}
    - {matchers: [service="db"], receiver: weekday-pager, mute_time_intervals: [berlin-weekend],
       active_time_intervals: [berlin-night, berlin-three-to-four, berlin-two-to-three]}
receivers: [{name: default}, {name: night-mute}, {name: night-active}, {name: three-mute}, {name: two-active},
  {name: utc-mute}, {name: utc-active}, {name: last-day-mute}, {name: weekday-pager}]
"""

# (--at as given, --tz, the instant meant): a minute either side of the spring and autumn changes of
# 2027 (28 March, 31 October) in Europe/Berlin, autumn's repeated hour both times (with the offset,
# as a wall clock alone names no single instant), and 0.25's short March.
DST_INSTANTS = [
    ("2027-03-28T01:59:30", "Europe/Berlin", "2027-03-28T00:59:30+00:00"),
    ("2027-03-28T03:00:30", "Europe/Berlin", "2027-03-28T01:00:30+00:00"),
    ("2027-10-31T01:59:30", "Europe/Berlin", "2027-10-30T23:59:30+00:00"),
    ("2027-10-31T02:00:30+02:00", None, "2027-10-31T00:00:30+00:00"),
    ("2027-10-31T02:59:30+02:00", None, "2027-10-31T00:59:30+00:00"),
    ("2027-10-31T02:00:30+01:00", None, "2027-10-31T01:00:30+00:00"),
    ("2027-10-31T03:00:30", "Europe/Berlin", "2027-10-31T02:00:30+00:00"),
    ("2027-10-31T01:00:30", "UTC", "2027-10-31T01:00:30+00:00"),
    ("2027-03-30T12:00:30", "Europe/Berlin", "2027-03-30T10:00:30+00:00"),
    ("2027-03-31T12:00:30", "Europe/Berlin", "2027-03-31T10:00:30+00:00"),
]


def _route_answer(output: str) -> tuple[Counter[str], set[tuple[str, str]]]:
    """`opsbook route --at`'s answer: the receivers notified, and (receiver, reason) of each muted route."""
    lines = output.splitlines()
    notified = Counter(receiver for receiver in lines[0].split(",") if receiver) if lines else Counter[str]()
    muted = set()
    for line in lines[1:]:
        receiver, how = line.removeprefix("muted: ").split(" ", 1)
        muted.add((receiver, "mute_time_intervals" if how.startswith("by mute") else "active_time_intervals"))
    return notified, muted


@needs_alertmanager
def test_route_at_agrees_with_alertmanager_across_dst(tmp_path: Path) -> None:
    """`opsbook route --at ... --tz Europe/Berlin` says which receivers an alert reaches and which routes are
    muted, as Alertmanager does, on both sides of the spring and autumn changes."""
    from click.testing import CliRunner

    from opsbook.cli import main

    file = tmp_path / "alertmanager.yml"
    file.write_text(DST_CONFIG, encoding="utf-8")
    config = yaml.safe_load(DST_CONFIG)
    scenarios = [Scenario(f"--at {given} --tz {zone}", config, [{"service": "db"}], datetime.fromisoformat(meant))
                 for given, zone, meant in DST_INSTANTS]
    run = run_scenarios(scenarios, tmp_path / "oracle")
    runner = CliRunner()
    answers = []
    for (given, zone, meant), theirs in zip(DST_INSTANTS, run.observed):
        arguments = ["route", "--config", str(file), "--at", given, *(["--tz", zone] if zone else []), "service=db"]
        result = runner.invoke(main, arguments)
        assert result.exit_code == 0, (arguments, result.output)
        ours = _route_answer(result.stdout)
        expected = (Counter(receiver for receiver, _, _ in theirs.notifications.elements()),
                    {(receiver, reason) for receiver, _, reason in theirs.muted})
        assert ours == expected, f"{given} {zone or ''} ({meant}):\nopsbook {ours}\nAlertmanager {expected}"
        answers.append(ours)
    # Not vacuous: the answers change across each change of offset.
    assert answers[0] != answers[1] and answers[4] != answers[5] and answers[8] != answers[9]
    refused = runner.invoke(main, ["route", "--config", str(file), "--at", "2027-10-31T02:30",
                                   "--tz", "Europe/Berlin", "service=db"])
    assert refused.exit_code == 2 and "happens twice" in refused.output


# --- Timings ------------------------------------------------------------------------------------------

# The values the routes are given, and the seconds each is in Alertmanager: the order is kept, the
# spacing is a second, and every first flush comes before the late alerts, every later one after.
GROUP_WAITS = {"10s": 1.0, "30s": 2.0, "1m": 3.0, "5m": 4.0}
GROUP_INTERVALS = {"1m": 1.0, "5m": 2.0, "10m": 3.0}
LATE = 4.5
TOLERANCE = 0.4


def _seconds(text: str) -> timedelta:
    return timedelta(seconds=int(text[:-1]) * {"s": 1, "m": 60}[text[-1]])


def _timing_scenarios(rng: random.Random, count: int) -> list[tuple[Scenario, dict[str, str]]]:
    """Generated scenarios without time intervals or inhibition, each route with a group_wait and a
    group_interval of its own or inherited, and one of each scenario's alerts held back to come late."""
    generator = Generator(rng)
    found = []
    while len(found) < count:
        scenario = generator.scenario(f"timing #{len(found)}")
        if len(scenario.alerts) < 2:
            continue
        config = {"route": scenario.config["route"], "receivers": scenario.config["receivers"]}
        for route in _routes(config["route"]):
            for key in ("mute_time_intervals", "active_time_intervals", "group_wait", "group_interval"):
                route.pop(key, None)
            if rng.random() < 0.4 or route is config["route"]:
                route["group_wait"] = rng.choice(sorted(GROUP_WAITS))
            if rng.random() < 0.4 or route is config["route"]:
                route["group_interval"] = rng.choice(sorted(GROUP_INTERVALS))
        *alerts, late = scenario.alerts
        found.append((Scenario(scenario.name, config, alerts, scenario.at), late))
    return found


def _routes(route: dict[str, Any]) -> list[dict[str, Any]]:
    return [route, *(child for sub in route.get("routes") or [] for child in _routes(sub))]


@needs_alertmanager
def test_group_wait_and_group_interval_agree_with_alertmanager(tmp_path: Path) -> None:
    """When Alertmanager sends: each group's first notification `group_wait` after its alerts start, and
    an alert that joins a group already notified at the group's next tick (`group_interval`s after the
    first), one that starts a group `group_wait` after it comes - with the route's own or inherited
    values, as opsbook's notifications say (scaled: the values become seconds, in the same order)."""
    rng = random.Random(SEED)
    cases = _timing_scenarios(rng, 40)
    scale = {"group_wait": GROUP_WAITS, "group_interval": GROUP_INTERVALS}
    waits = {_seconds(text): value for text, value in GROUP_WAITS.items()}
    intervals = {_seconds(text): value for text, value in GROUP_INTERVALS.items()}
    expected: list[tuple[int, Any, float]] = []
    for k, (scenario, late) in enumerate(cases):
        simulator = Simulator(scenario.config)
        first = simulator.run(scenario.alerts, scenario.at)
        both = simulator.run([*scenario.alerts, late], scenario.at)
        notified = {(n.route.path, tuple(sorted(n.group_labels.items()))) for n in first.notifications}
        for n in first.notifications:
            expected.append((k, (n.receiver, frozenset(n.group_labels.items()), frozenset(n.alerts)),
                             waits[n.group_wait]))
        for n in both.notifications:
            if len(scenario.alerts) not in n.alerts:
                continue
            wait, interval = waits[n.group_wait], intervals[n.group_interval]
            if (n.route.path, tuple(sorted(n.group_labels.items()))) in notified:  # the group's next tick
                when = wait + interval * -(-(LATE - wait) // interval)
            else:  # a new group
                when = LATE + wait
            expected.append((k, (n.receiver, frozenset(n.group_labels.items()), frozenset(n.alerts)), when))
    timed = run_timed([scenario for scenario, _ in cases], [late for _, late in cases], tmp_path, scale, LATE,
                      wait=max(when for _, _, when in expected) + TOLERANCE + 0.3)
    unmatched = list(timed)
    missing = []
    for k, sent, when in expected:
        match = next((t for t in unmatched
                      if t.scenario == k and t.sent == sent and abs(t.seconds - when) <= TOLERANCE), None)
        if match is None:
            missing.append((k, sent, when))
        else:
            unmatched.remove(match)
    late_ones = sum(1 for _, _, when in expected if when > LATE)
    print(f"timings: seed {SEED} (OPSBOOK_AM_SEED replays it), {len(cases)} scenarios, {len(expected)} "
          f"notifications ({late_ones} after the late alerts) "
          f"at the times opsbook's group_wait and group_interval give, within {TOLERANCE} s")
    assert not missing and not unmatched, (
        f"seed {SEED}: opsbook expects, Alertmanager did not send then:\n"
        + "\n".join(f"  {cases[k][0].name}: {sent} at {when:.1f} s" for k, sent, when in missing)
        + "\nAlertmanager sent, opsbook did not expect:\n"
        + "\n".join(f"  {cases[t.scenario][0].name}: {t.sent} at {t.seconds:.2f} s" for t in unmatched))
    assert late_ones >= 10 and len(expected) - late_ones >= 40


# --- A configuration as written -----------------------------------------------------------------------
# Alertmanager reads its file with Go's yaml.v2, which hands a string field the scalar as written; PyYAML
# (YAML 1.1) turns `1.10`, `yes`, `0x1F`, `12:30` and `017` into numbers and booleans first. Here the file
# itself is what Alertmanager reads, and opsbook reads it as `opsbook route` does (the document, and the
# scalars as written where it asks for them).

RECEIVER = "  - {{name: s0-{0}, webhook_configs: [{{url: 'WEBHOOK/s0-{0}'}}]}}\n"
AS_WRITTEN_MATCHERS = """\
route:
  receiver: s0-root
  group_by: [alertname]
  group_wait: 1s
  group_interval: 1h
  routes:
    - {match: {v: 1.10}, receiver: s0-one-ten, continue: true}
    - {match: {flag: yes}, receiver: s0-flag-yes, continue: true}
    - {match: {code: 0x1F}, receiver: s0-code-hex, continue: true}
    - {match: {t: 12:30}, receiver: s0-clock, continue: true}
    - {match: {big: 1_000}, receiver: s0-underscore, continue: true}
    - {match_re: {o: 017|x}, receiver: s0-octal, continue: true}
    - {matchers: [v="1.10"], receiver: s0-quoted, group_by: [on]}
inhibit_rules:
  - {source_match: {severity: on}, target_match: {severity: off}, equal: [zone]}
receivers:
""" + "".join(RECEIVER.format(name) for name in ("root", "one-ten", "flag-yes", "code-hex", "clock", "underscore",
                                                  "octal", "quoted"))
AS_WRITTEN_MATCHERS_ALERTS = [
    {"alertname": "A", "v": "1.10", "on": "x"}, {"alertname": "B", "v": "1.1", "on": "y"},
    {"alertname": "C", "flag": "yes"}, {"alertname": "D", "flag": "true"},
    {"alertname": "E", "code": "0x1F"}, {"alertname": "F", "code": "31"},
    {"alertname": "G", "t": "12:30"}, {"alertname": "H", "t": "750"},
    {"alertname": "I", "big": "1_000"}, {"alertname": "J", "big": "1000"},
    {"alertname": "K", "o": "017"}, {"alertname": "L", "o": "15"},
    {"alertname": "M", "severity": "on", "zone": "eu"}, {"alertname": "N", "severity": "off", "zone": "eu"},
    {"alertname": "O", "severity": "true", "zone": "us"}, {"alertname": "P", "severity": "false", "zone": "us"},
]

AS_WRITTEN_INTERVALS = """\
time_intervals:
  - name: lunch
    time_intervals: [{times: [{start_time: 12:00, end_time: 13:00}], location: ZONE:Europe/Berlin}]
  - name: early-in-the-year
    time_intervals: [{days_of_month: [1:10], months: [1:6], years: [2020:2030], location: ZONE:Europe/Berlin}]
  - name: 2027
    time_intervals: [{years: [2027], location: ZONE:Europe/Berlin}]
route:
  receiver: s0-root
  group_wait: 1s
  group_interval: 1h
  routes:
    - {match: {x: a}, receiver: s0-not-at-lunch, mute_time_intervals: [lunch]}
    - {match: {x: b}, receiver: s0-early, active_time_intervals: [early-in-the-year]}
    - {match: {x: c}, receiver: s0-in-2027, active_time_intervals: [2027]}
receivers:
""" + "".join(RECEIVER.format(name) for name in ("root", "not-at-lunch", "early", "in-2027"))
AS_WRITTEN_INTERVALS_ALERTS = [{"x": "a"}, {"x": "b"}, {"x": "c"}]


def _as_written(text: str, alerts: list[dict[str, str]], at: datetime, folder: Path) -> list[str]:
    from opsbook.kinds.alerting.alertmanager import as_written
    from opsbook.loader import load_yaml_text

    (document,), problems = load_yaml_text("alertmanager.yml", as_written_text(text))
    assert problems == []
    simulator = Simulator(document.data, text=lambda path: as_written(document, path))
    assert simulator.problems == [], simulator.problems
    ours = outcome_observed(simulator.run(alerts, at), reasons=False)
    theirs = run_text(text, alerts, at, folder)
    return differences(Scenario(folder.name, document.data, alerts, at), theirs, ours)


@needs_alertmanager
def test_matchers_as_written_agree_with_alertmanager(tmp_path: Path) -> None:
    """Unquoted values that YAML 1.1 reads as numbers or booleans, in `match`, `match_re`, inhibition
    rules, `group_by` and `equal`, are the text written, for Alertmanager."""
    found = _as_written(AS_WRITTEN_MATCHERS, AS_WRITTEN_MATCHERS_ALERTS, datetime(2026, 12, 1, 12, 0, 30, tzinfo=UTC),
                        tmp_path)
    assert not found, "\n".join(found)


@needs_alertmanager
def test_time_intervals_as_written_agree_with_alertmanager(tmp_path: Path) -> None:
    """Unquoted `12:00`, `1:10`, `2020:2030` and an interval named `2027` (numbers to PyYAML) in time
    intervals mean for opsbook what they mean for Alertmanager, at instants either side of their edges
    (an Alertmanager each, side by side)."""
    from concurrent.futures import ThreadPoolExecutor

    instants = ["2027-03-05T12:30:30+01:00", "2027-03-05T13:00:30+01:00", "2031-01-05T12:59:30+01:00",
                "2027-07-01T11:59:30+02:00", "2027-06-10T11:59:30+02:00"]
    with ThreadPoolExecutor(len(instants)) as pool:
        found = list(pool.map(lambda pair: _as_written(AS_WRITTEN_INTERVALS, AS_WRITTEN_INTERVALS_ALERTS,
                                                       datetime.fromisoformat(pair[1]), tmp_path / str(pair[0])),
                              enumerate(instants)))
    assert not any(found), "\n".join(f"{instant}: {line}" for instant, lines in zip(instants, found) for line in lines)
