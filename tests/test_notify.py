"""The notification pipeline simulated offline (`notify.simulate`): inhibition as `inhibit/inhibit.go`
decides it, grouping and timings as `dispatch/` does, muting per route as `notify/notify.go` orders it;
and the route and inhibition settings held to `amtool check-config` on generated configurations.

The comparison with a running Alertmanager (what it really sends) is `test_alertmanager_oracle.py`'s.
"""

from __future__ import annotations

import datetime as _dt
import os
import random
import shutil
import time
from pathlib import Path

import pytest
import yaml
from test_time_intervals import _amtool_verdicts, _opsbook_errors

from opsbook.kinds.alerting.alertmanager import as_written
from opsbook.kinds.alerting.notify import MUTE, NOT_ACTIVE, Simulator, simulate
from opsbook.kinds.alerting.routing import TextAt
from opsbook.loader import load_yaml_text

AMTOOL = shutil.which("amtool")
AT = _dt.datetime(2026, 12, 25, 3, 0, tzinfo=_dt.UTC)  # a Friday


def _config(text: str) -> dict:
    config = yaml.safe_load(text)
    assert Simulator(config).problems == []
    return config


def _inhibited(config: dict, alerts: list[dict[str, str]]) -> dict[int, tuple[int, tuple[int, ...]]]:
    return {entry.alert: (entry.rule, entry.by) for entry in simulate(config, alerts, AT).inhibited}


ROOT = "route: {receiver: r}\nreceivers: [{name: r}]\n"


# --- inhibition ------------------------------------------------------------------------------------------

def test_equal_labels_missing_on_both_sides_are_equal() -> None:
    config = _config(ROOT + """
inhibit_rules:
  - source_matchers: [severity="critical"]
    target_matchers: [severity="warning"]
    equal: [cluster, zone]
""")
    alerts = [{"alertname": "Down", "severity": "critical", "cluster": "a"},
              {"alertname": "Slow", "severity": "warning", "cluster": "a"},             # zone missing on both
              {"alertname": "Slow", "severity": "warning", "cluster": "a", "zone": "1"},  # zone only here
              {"alertname": "Slow", "severity": "warning", "cluster": "b"},
              {"alertname": "Slow", "severity": "warning", "cluster": "a", "zone": ""}]   # empty is missing
    assert _inhibited(config, alerts) == {1: (0, (0,)), 4: (0, (0,))}


def test_an_alert_matching_both_sides() -> None:
    """An alert that matches the target and the source side is inhibited only by a source alert that
    does not match the target side too; two such alerts do not silence each other."""
    config = _config(ROOT + """
inhibit_rules:
  - source_matchers: [alertname=~"Db.*"]
    target_matchers: [team="data"]
""")
    both = [{"alertname": "DbDown", "team": "data"}, {"alertname": "DbSlow", "team": "data"}]
    assert _inhibited(config, both) == {}
    source_only = {"alertname": "DbMaintenance", "team": "infra"}
    assert _inhibited(config, [*both, source_only]) == {0: (0, (2,)), 1: (0, (2,))}
    target_only = {"alertname": "ApiSlow", "team": "data"}
    # A target that does not match the source side is inhibited by any source, two-sided ones included.
    assert _inhibited(config, [*both, target_only]) == {2: (0, (0, 1))}
    # An alert never inhibits itself.
    assert _inhibited(config, [{"alertname": "DbDown", "team": "data"}]) == {}


def test_older_matcher_forms_and_the_first_rule() -> None:
    config = _config(ROOT + """
inhibit_rules:
  - source_match: {alertname: NodeDown}
    source_match_re: {instance: 'db-.*'}
    target_match_re: {alertname: 'Db.*|Disk.*'}
    target_match: {severity: warning}
    equal: [instance]
  - source_matchers: ['alertname="NodeDown"']
    target_matchers: ['severity=~"warning|info"']
""")
    alerts = [{"alertname": "NodeDown", "instance": "db-1"},
              {"alertname": "DbSlow", "instance": "db-1", "severity": "warning"},
              {"alertname": "DbSlow", "instance": "db-2", "severity": "warning"},   # equal fails: rule 1
              {"alertname": "XDbSlow", "instance": "db-1", "severity": "warning"},  # regex is anchored: rule 1
              {"alertname": "DbSlow", "instance": "db-1", "severity": "page"},     # neither rule
              {"alertname": "NodeDown", "instance": "web-1"}]
    assert _inhibited(config, alerts) == {1: (0, (0,)), 2: (1, (0, 5)), 3: (1, (0, 5))}


def test_an_inhibited_alert_still_inhibits() -> None:
    config = _config(ROOT + """
inhibit_rules:
  - {source_matchers: [level="1"], target_matchers: [level="2"]}
  - {source_matchers: [level="2"], target_matchers: [level="3"]}
""")
    alerts = [{"level": "1"}, {"level": "2"}, {"level": "3"}]
    assert _inhibited(config, alerts) == {1: (0, (0,)), 2: (1, (1,))}


def test_same_label_sets_are_one_alert() -> None:
    """Alertmanager holds one alert per label set, and drops labels whose value is empty as they are posted."""
    config = _config(ROOT.replace("{receiver: r}", "{receiver: r, group_by: [c]}")
                     + "inhibit_rules: [{source_matchers: [a=\"1\"], target_matchers: [b=\"1\"]}]\n")
    alerts = [{"a": "1"}, {"b": "1"}, {"b": "1", "c": ""}, {"a": "1", "c": ""}]
    outcome = simulate(config, alerts, AT)
    assert [(entry.alert, entry.by) for entry in outcome.inhibited] == [(1, (0, 3)), (2, (0, 3))]
    (notification,) = outcome.notifications
    assert (notification.alerts, notification.group_labels) == ((0, 3), {})


# --- grouping and timings --------------------------------------------------------------------------------

GROUPING = """
route:
  receiver: default
  group_by: [alertname]
  group_wait: 1m
  routes:
    - matchers: [team="data"]
      receiver: data
      group_by: [alertname, cluster]
      repeat_interval: 1h
      group_interval: 7m
      routes:
        - {matchers: [severity="critical"], receiver: data-pager, group_wait: 5s}
    - matchers: [team="web"]
      receiver: web
      group_by: ['...']
      routes:
        - {matchers: [severity="critical"], receiver: web-pager, group_by: [cluster]}
        - {matchers: [severity="info"], receiver: web-info}
    - matchers: [team="empty"]
      receiver: empty
      group_by: []
receivers: [{name: default}, {name: data}, {name: data-pager, webhook_configs: [{url: 'http://127.0.0.1:9/'}]},
            {name: web}, {name: web-pager}, {name: web-info}, {name: empty}]
"""


def _groups(outcome) -> list[tuple[str, dict[str, str], tuple[int, ...]]]:
    return [(n.receiver, n.group_labels, n.alerts) for n in outcome.notifications]


def test_group_by_labels_and_missing_labels() -> None:
    config = _config(GROUPING)
    alerts = [{"alertname": "Disk", "team": "data", "cluster": "a"},
              {"alertname": "Disk", "team": "data", "cluster": "a", "instance": "2"},
              {"alertname": "Disk", "team": "data", "cluster": "b"},
              {"alertname": "Disk", "team": "data"},                                # no cluster: not in the label set
              {"alertname": "Cpu", "team": "ops"},
              {"alertname": "Cpu", "team": "ops", "instance": "9"},
              {"team": "ops"}]
    assert _groups(simulate(config, alerts, AT)) == [
        ("default", {"alertname": "Cpu"}, (4, 5)),
        ("default", {}, (6,)),
        ("data", {"alertname": "Disk", "cluster": "a"}, (0, 1)),
        ("data", {"alertname": "Disk", "cluster": "b"}, (2,)),
        ("data", {"alertname": "Disk"}, (3,)),
    ]


def test_group_by_all_labels_and_a_child_that_names_its_own() -> None:
    config = _config(GROUPING)
    alerts = [{"alertname": "Down", "team": "web", "cluster": "a", "instance": "1"},
              {"alertname": "Down", "team": "web", "cluster": "a", "instance": "2"},
              {"alertname": "Down", "team": "web", "cluster": "a", "instance": "1", "severity": "critical"},
              {"alertname": "Down", "team": "web", "cluster": "a", "instance": "2", "severity": "critical"},
              {"alertname": "Noise", "team": "web", "severity": "info"}]
    assert _groups(simulate(config, alerts, AT)) == [
        ("web", alerts[0], (0,)),
        ("web", alerts[1], (1,)),
        ("web-pager", {"cluster": "a"}, (2, 3)),
        ("web-info", alerts[4], (4,)),  # inherits grouping by every label
    ]


def test_an_empty_group_by_in_0_25_and_on_main() -> None:
    """0.25 reads `group_by: []` as absent, so the route inherits `[alertname]`; main groups everything."""
    config = _config(GROUPING)
    alerts = [{"alertname": "A", "team": "empty"}, {"alertname": "B", "team": "empty"}]
    assert _groups(simulate(config, alerts, AT)) == [("empty", {"alertname": "A"}, (0,)),
                                                     ("empty", {"alertname": "B"}, (1,))]
    assert _groups(simulate(config, alerts, AT, version="main")) == [("empty", {}, (0, 1))]


def test_timings_are_inherited() -> None:
    config = _config(GROUPING)
    alerts = [{"alertname": "A", "team": "ops"}, {"alertname": "A", "team": "data"},
              {"alertname": "A", "team": "data", "severity": "critical"}]
    timings = {n.receiver: (n.group_wait, n.group_interval, n.repeat_interval, n.repeat_every, n.integrations)
               for n in simulate(config, alerts, AT).notifications}
    minute = _dt.timedelta(minutes=1)
    assert timings == {
        "default": (minute, 5 * minute, 240 * minute, 245 * minute, ()),  # 4 h is repeated at the flush after it
        "data": (minute, 7 * minute, 60 * minute, 63 * minute, ()),
        "data-pager": (_dt.timedelta(seconds=5), 7 * minute, 60 * minute, 63 * minute, ("webhook",)),
    }
    defaults = simulate(yaml.safe_load(ROOT), [{"a": "1"}], AT).notifications[0]
    assert (defaults.group_wait, defaults.group_interval, defaults.repeat_interval) == (
        _dt.timedelta(seconds=30), 5 * minute, 4 * 60 * minute)


# --- muting, per route -----------------------------------------------------------------------------------

MUTING = """
route:
  receiver: default
  group_by: [alertname]
  routes:
    - {matchers: [team="data"], receiver: pager, continue: true, mute_time_intervals: [nights, holidays]}
    - {matchers: [team="data"], receiver: chat, active_time_intervals: [office]}
    - {matchers: [team="web"], receiver: pager}
receivers: [{name: default}, {name: pager}, {name: chat}]
time_intervals:
  - name: nights
    time_intervals: [{times: [{start_time: '22:00', end_time: '24:00'}, {start_time: '00:00', end_time: '06:00'}],
                      location: Europe/Berlin}]
  - name: holidays
    time_intervals: [{months: [december], days_of_month: ['24:26']}]
  - name: office
    time_intervals: [{weekdays: ['monday:friday'], times: [{start_time: '08:00', end_time: '18:00'}],
                      location: Europe/Berlin}]
inhibit_rules:
  - {source_matchers: [alertname="Outage"], target_matchers: [alertname="Slow"]}
"""


def test_muted_per_route_and_by_which_interval() -> None:
    config = _config(MUTING)
    alerts = [{"alertname": "Down", "team": "data"}, {"alertname": "Down", "team": "web"}]
    outcome = simulate(config, alerts, AT)  # 04:00 in Berlin on Christmas day
    assert _groups(outcome) == [("pager", {"alertname": "Down"}, (1,))]
    assert [(m.receiver, m.alerts, m.reason, m.intervals) for m in outcome.muted] == [
        ("pager", (0,), MUTE, ("nights", "holidays")),
        ("chat", (0,), NOT_ACTIVE, ("office",)),
    ]
    working_day = _dt.datetime(2026, 12, 22, 9, 0, tzinfo=_dt.UTC)  # Tuesday, 10:00 in Berlin
    assert _groups(simulate(config, alerts, working_day)) == [
        ("pager", {"alertname": "Down"}, (0,)), ("chat", {"alertname": "Down"}, (0,)),
        ("pager", {"alertname": "Down"}, (1,))]


def test_a_group_all_inhibited_is_neither_sent_nor_muted() -> None:
    """Inhibition comes first in the pipeline: a group left with no alert never reaches the time stages."""
    config = _config(MUTING)
    alerts = [{"alertname": "Slow", "team": "data"}, {"alertname": "Outage", "team": "web"}]
    outcome = simulate(config, alerts, AT)
    assert [(entry.alert, entry.rule, entry.by) for entry in outcome.inhibited] == [(0, 0, (1,))]
    assert outcome.muted == [] and _groups(outcome) == [("pager", {"alertname": "Outage"}, (1,))]


def test_the_instant_must_be_aware() -> None:
    with pytest.raises(ValueError, match="time zone"):
        simulate(_config(MUTING), [{"a": "1"}], _dt.datetime(2026, 12, 25, 3))


def test_many_scenarios_are_quick() -> None:
    """The oracle and the scenarios run hundreds of simulations: each reads the configuration again."""
    config = yaml.safe_load(MUTING)
    rng = random.Random(3)
    scenarios = [([{"alertname": rng.choice(["Down", "Slow", "Outage"]), "team": rng.choice(["data", "web", "x"])}
                   for _ in range(rng.randint(1, 6))],
                  AT + _dt.timedelta(minutes=rng.randint(0, 7 * 24 * 60))) for _ in range(250)]
    started = time.perf_counter()
    outcomes = [simulate(config, alerts, at) for alerts, at in scenarios]
    print(f"{len(scenarios)} scenarios simulated in {time.perf_counter() - started:.3f} s")
    assert sum(len(o.notifications) for o in outcomes) > 100 and sum(len(o.muted) for o in outcomes) > 50


# --- scalars as written -----------------------------------------------------------------------------------
# Alertmanager (yaml.v2 into Go strings) reads `on`, `yes`, `1.10`, `0x1F` as written; PyYAML makes booleans and
# numbers of them. The document's text (`as_written`) is what opsbook reads.

AS_WRITTEN = """\
route:
  receiver: r
  group_by: [on]
  routes:
    - {match: {v: 1.10}, receiver: one-ten, group_by: [yes, off]}
inhibit_rules:
  - source_match: {severity: on}
    target_match: {severity: off}
    equal: [yes]
  - source_match_re: {code: 0x1F}
    target_match_re: {code: 12:30}
receivers: [{name: r}, {name: one-ten}]
"""


def _written(text: str) -> tuple[dict, TextAt]:
    """A configuration as `opsbook check` reads it: its values, and its scalars as written."""
    (document,), problems = load_yaml_text("alertmanager.yml", text)
    assert problems == []
    return document.data, lambda path: as_written(document, path)


def test_group_by_and_inhibition_rules_are_read_as_written() -> None:
    """`group_by: [on]` groups by the label `on` (PyYAML: True, read back as `true`); `source_match:
    {severity: on}` is `severity="on"`, not `"true"`; `equal: [yes]` names the label `yes`; `0x1F` and
    `12:30` in `*_match_re` are those texts, not 31 and 750."""
    config, text = _written(AS_WRITTEN)
    simulator = Simulator(config, text=text)
    assert simulator.problems == []
    assert [[str(m) for m in rule.source + rule.target] for rule in simulator.rules] == [
        ['severity="on"', 'severity="off"'], ['code=~"0x1F"', 'code=~"12:30"']]
    assert simulator.rules[0].equal == ("yes",)
    alerts = [{"alertname": "A", "on": "x"}, {"alertname": "B", "on": "x"}, {"alertname": "C", "on": "y"},
              {"v": "1.10", "yes": "1"}, {"v": "1.1", "yes": "1"},
              {"severity": "on", "yes": "a"}, {"severity": "off", "yes": "a"}, {"severity": "off", "yes": "b"},
              {"severity": "true", "yes": "b"}, {"severity": "false", "yes": "b"},
              {"code": "0x1F"}, {"code": "12:30"}, {"code": "31"}, {"code": "750"}]
    outcome = simulate(config, alerts, AT, text=text)
    assert [(entry.alert, entry.rule, entry.by) for entry in outcome.inhibited] == [(6, 0, (5,)), (11, 1, (10,))]
    assert ("r", {"on": "x"}, (0, 1)) in _groups(outcome) and ("r", {"on": "y"}, (2,)) in _groups(outcome)
    assert ("one-ten", {"yes": "1"}, (3,)) in _groups(outcome)
    assert [n.receiver for n in outcome.notifications if 4 in n.alerts] == ["r"]  # `1.1` is not `1.10`
    # Without the document's text, the values are PyYAML's read back: `true`, `1.1`, `31`.
    plain = Simulator(config)
    assert plain.tree is not None and plain.tree.root.group_by == ["true"]
    assert [str(m) for m in plain.rules[0].source + plain.rules[1].source] == ['severity="true"', 'code=~"31"']


def test_group_by_and_equal_as_written_against_amtool(tmp_path: Path) -> None:
    """The same configuration, and one whose `group_by` and `equal` hold `1.10` and `0x1F`, under
    `amtool check-config` and `opsbook check`: accepted, then refused for the names as written."""
    if AMTOOL is None:
        pytest.skip("amtool is not installed (Debian package prometheus-alertmanager)")
    texts = {"good.yml": AS_WRITTEN,
             "group-by.yml": AS_WRITTEN.replace("group_by: [on]", "group_by: [on, 1.10]"),
             "equal.yml": AS_WRITTEN.replace("equal: [yes]", "equal: [yes, 0x1F]")}
    for name, text in texts.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    verdicts = _amtool_verdicts([tmp_path / name for name in texts])
    assert verdicts == {"good.yml": "", "group-by.yml": 'invalid label name "1.10" in group_by list',
                        "equal.yml": '"0x1F" is not a valid label name'}
    assert _opsbook_errors("good.yml", texts["good.yml"]) == []
    assert _opsbook_errors("group-by.yml", texts["group-by.yml"]) == [
        "3:18 invalid label name '1.10' in group_by list"]
    assert _opsbook_errors("equal.yml", texts["equal.yml"]) == ["9:18 '0x1F' is not a valid label name"]


# --- route and inhibition settings against amtool --------------------------------------------------------

# YAML 1.1 forms among them: `[on, yes]` are label names as written (PyYAML: booleans); `00`, `0x0` and `0_0`
# durations Alertmanager refuses (PyYAML: 0, which is one).
_GROUP_BY = (["[alertname]", "[alertname, cluster]", "['...']", "[]", "~", "[cluster, job]", "[on, yes]"],
             ["[alertname, alertname]", "['...', cluster]", "[a-b]", "[1x]", "alertname", "[~]", "[1.10]"])
_DURATIONS = (["30s", "5m", "1h30m", "0", "1d", "2w", "500ms", "1y", "~"],
              ["30", "5 m", "1h 30m", "-5m", "1m1h", "''", "0s", "0m", "1.5h", "[1m]", "00", "0x0", "0_0"])
_CONTINUE = (["true", "false", "~", "n", "Y", "off", "yes"], ["1", "'true'", "x", "[true]"])
_MATCHERS = (["['alertname=\"Down\"']", "['severity=~\"critical|page\"', 'team!=\"x\"']", "[]",
              "['{a=\"1\", b=~\"2.*\"}']"],
             ["['a=\"(\"']", "['a=~\"(\"']", "['9a=\"1\"']", "['a']", "a=\"1\""])
_MATCH = (["{alertname: Down}", "{severity: critical, team: data}", "{x: ~}", "{}", "{v: 1.10, on: yes}"],
          ["{a-b: x}", "[x]", "{'9x': y}"])
_MATCH_RE = (["{alertname: 'Db.*'}", "{severity: 'critical|page'}"],
             ["{alertname: '(unclosed'}", "{a: ~}", "{a-b: x}"])
_EQUAL = (["[cluster]", "[cluster, instance]", "[]", "~", "[~]", "[on, off]"],
          ["[a-b]", "['9']", "cluster", "[[x]]", "[0x1F]"])
_SHARE = 0.06


def _pick(rng: random.Random, pool: tuple[list[str], list[str]]) -> str:
    return rng.choice(pool[1] if rng.random() < _SHARE else pool[0])


def settings_config(rng: random.Random) -> str:
    """A configuration whose possible problems are in its routes' grouping and timings and in its
    inhibition rules."""
    lines = ["route:", "  receiver: a"]
    if rng.random() < 0.5:
        lines.append(f"  group_by: {_pick(rng, _GROUP_BY)}")
    for key in ("group_wait", "group_interval", "repeat_interval"):
        if rng.random() < 0.3:
            lines.append(f"  {key}: {_pick(rng, _DURATIONS)}")
    lines.append("  routes:")
    for _ in range(rng.randint(1, 3)):
        lines.append("    - receiver: b")
        lines.append(f"      matchers: {_pick(rng, _MATCHERS)}")
        if rng.random() < 0.3:
            lines.append(f"      continue: {_pick(rng, _CONTINUE)}")
        if rng.random() < 0.5:
            lines.append(f"      group_by: {_pick(rng, _GROUP_BY)}")
        for key in ("group_wait", "group_interval", "repeat_interval"):
            if rng.random() < 0.3:
                lines.append(f"      {key}: {_pick(rng, _DURATIONS)}")
    lines.append("receivers: [{name: a}, {name: b}]")
    if rng.random() < 0.8:
        lines.append("inhibit_rules:")
        for _ in range(rng.randint(1, 2)):
            if rng.random() < 0.03:
                lines.append("  - {source_matchers: [a=\"1\"], target: [b=\"1\"]}")
                continue
            parts = []
            for side in ("source", "target"):
                shape = rng.random()
                if shape < 0.5:
                    parts.append(f"{side}_matchers: {_pick(rng, _MATCHERS)}")
                elif shape < 0.75:
                    parts.append(f"{side}_match: {_pick(rng, _MATCH)}")
                else:
                    parts.append(f"{side}_match_re: {_pick(rng, _MATCH_RE)}")
            if rng.random() < 0.7:
                parts.append(f"equal: {_pick(rng, _EQUAL)}")
            lines.append("  - {" + ", ".join(parts) + "}")
    return "\n".join(lines) + "\n"


@pytest.mark.skipif(AMTOOL is None, reason="amtool is not installed (Debian package prometheus-alertmanager)")
def test_route_and_inhibition_settings_against_amtool(tmp_path: Path) -> None:
    seed = int(os.environ.get("OPSBOOK_SETTINGS_SEED", "19"))
    rng = random.Random(seed)
    texts = {f"am-{index:03d}.yml": settings_config(rng) for index in range(300)}
    for name, text in texts.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    verdicts = _amtool_verdicts([tmp_path / name for name in texts])
    disagreements = [(name, verdicts[name], ours, text) for name, text in texts.items()
                     if bool(verdicts[name]) != bool(ours := _opsbook_errors(name, text))]
    refused = sum(1 for verdict in verdicts.values() if verdict)
    print(f"amtool settings differential (seed {seed}): {len(texts)} configurations, {refused} refused by amtool, "
          f"{len(disagreements)} disagreements")
    assert 0.25 < refused / len(texts) < 0.75
    assert disagreements == [], "\n\n".join(f"{n}: amtool {v!r}, opsbook {o}\n{t}" for n, v, o, t in disagreements[:5])
