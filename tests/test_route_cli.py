"""`opsbook route` reads its arguments as `amtool config routes test` does (issue #16, item 4): the
command prints what `route_answer` (`parse_labels`, then the tree) gives, which
`test_alertmanager.test_labels_are_read_as_amtool_reads_them` holds to amtool, with amtool's status."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from test_alertmanager import _ISSUE_ARGUMENTS, AMTOOL, OWN, amtool_answers, argument_sets, arguments_tree, route_answer

from opsbook.cli import main


def test_route_prints_what_amtool_would(tmp_path: Path) -> None:
    config, tree = arguments_tree(tmp_path)
    runner = CliRunner()
    for arguments in argument_sets(520, seed=16):
        result = runner.invoke(main, ["route", "--config", str(config), *arguments])
        assert result.exception is None or isinstance(result.exception, SystemExit), (arguments, result.exception)
        assert (result.stdout, result.exit_code) == route_answer(tree, arguments), arguments


@pytest.mark.skipif(AMTOOL is None, reason="amtool is not installed (Debian package prometheus-alertmanager)")
def test_the_issue_shapes_against_amtool(tmp_path: Path) -> None:
    config, _ = arguments_tree(tmp_path)
    runner = CliRunner()
    ours = [(r.stdout, r.exit_code) for r in (runner.invoke(main, ["route", "--config", str(config), *arguments])
                                              for arguments in _ISSUE_ARGUMENTS)]
    assert ours == amtool_answers(config, _ISSUE_ARGUMENTS)


def test_refusal_and_the_empty_set() -> None:
    refused = CliRunner().invoke(main, ["route", "--config", str(OWN / "tricky.yml"), "not a label"])
    assert (refused.exit_code, refused.stdout) == (1, "")  # amtool's status for a label it cannot read
    assert refused.stderr == "opsbook: error: Failed to parse labels: bad matcher format: not a label\n"
    regex = CliRunner().invoke(main, ["route", "--config", str(OWN / "tricky.yml"), "env=~gprd"])
    assert (regex.exit_code, regex.stderr) == (1, "opsbook: error: Failed to parse labels: labels must be "
                                                  "specified as key=value pairs\n")
    empty = CliRunner().invoke(main, ["route", "--config", str(OWN / "tricky.yml")])
    assert (empty.exit_code, empty.stdout) == (0, "empty-label\n")  # no labels: the empty set is routed


_TIMED = """\
route:
  receiver: fallback
  routes:
    - matchers: [team="data", severity=~"critical|page"]
      receiver: data-pager
      continue: true
    - matchers: [team="data"]
      receiver: data-chat
      mute_time_intervals: [nights]
      continue: true
    - matchers: [team="data"]
      receiver: office-desk
      active_time_intervals: [office-hours]
receivers: [{name: fallback}, {name: data-pager}, {name: data-chat}, {name: office-desk}]
time_intervals:
  - name: nights
    time_intervals:
      - times: [{start_time: '22:00', end_time: '24:00'}, {start_time: '00:00', end_time: '07:00'}]
        location: Europe/Berlin
  - name: office-hours
    time_intervals:
      - weekdays: ['monday:friday']
        times: [{start_time: '09:00', end_time: '17:00'}]
        location: Europe/Berlin
"""


def _timed(tmp_path: Path, *arguments: str) -> tuple[int, str, str]:
    config = tmp_path / "alertmanager.yml"
    config.write_text(_TIMED, encoding="utf-8")
    result = CliRunner().invoke(main, ["route", "--config", str(config), *arguments])
    return result.exit_code, result.stdout, result.stderr


def test_route_at_an_instant(tmp_path: Path) -> None:
    labels = ["team=data", "severity=critical"]
    assert _timed(tmp_path, *labels)[:2] == (0, "data-pager,data-chat,office-desk\n")  # no --at: as amtool
    assert _timed(tmp_path, "--at", "2026-12-25T03:00", "--tz", "Europe/Berlin", *labels)[:2] == (0, (
        "data-pager\n"
        "muted: data-chat by mute_time_intervals nights\n"
        "muted: office-desk outside active_time_intervals office-hours\n"))
    assert _timed(tmp_path, "--at", "2026-12-23T10:00", "--tz", "Europe/Berlin", "-v", *labels)[:2] == (0, (
        "data-pager,data-chat,office-desk\n"
        '  root -> {team="data", severity=~"critical|page"} => data-pager\n'
        '  root -> {team="data"} => data-chat\n'
        '  root -> {team="data"} => office-desk\n'))
    # The same wall clock without --tz is UTC: 03:00 UTC is 04:00 in Berlin, still night.
    code, out, _ = _timed(tmp_path, "--at", "2026-12-23T06:30", "-v", "team=data")
    assert (code, out) == (0, "data-chat\n  root -> {team=\"data\"} => data-chat\n"
                              "muted: office-desk outside active_time_intervals office-hours\n"
                              "  root -> {team=\"data\"} => office-desk\n")
    # With an offset, --at is that instant: 06:30 in Berlin, muted; the first line, no receiver, is empty.
    assert _timed(tmp_path, "--at", "2026-12-23T05:30Z", "team=data")[1].splitlines()[:2] == [
        "", "muted: data-chat by mute_time_intervals nights"]


@pytest.mark.parametrize(("at", "chat"), [
    # Berlin's clocks go forward on 2026-03-29 at 02:00 CET (01:00 UTC), back on 2026-10-25 at 03:00 CEST.
    ("2026-03-29T04:59Z", False), ("2026-03-29T05:00Z", True),   # 06:59 and 07:00 CEST
    ("2026-03-28T05:59Z", False), ("2026-03-28T06:00Z", True),   # 06:59 and 07:00 CET, the day before
    ("2026-10-25T05:59Z", False), ("2026-10-25T06:00Z", True),   # 06:59 and 07:00 CET
    ("2026-10-24T04:59Z", False), ("2026-10-24T05:00Z", True),   # 06:59 and 07:00 CEST, the day before
    ("2026-10-25T01:30+01:00", False), ("2026-10-25T02:30+02:00", False),  # in the hour that happens twice
])
def test_route_at_both_sides_of_a_daylight_saving_change(tmp_path: Path, at: str, chat: bool) -> None:
    code, out, _ = _timed(tmp_path, "--at", at, "team=data")
    assert code == 0 and (out.splitlines()[0] == "data-chat") is chat, out


def test_route_at_a_wall_clock_that_is_not_one_instant(tmp_path: Path) -> None:
    code, _, err = _timed(tmp_path, "--at", "2026-03-29T02:30", "--tz", "Europe/Berlin", "team=data")
    assert code == 2 and "does not exist in Europe/Berlin" in err
    assert "2026-03-29T02:30:00+01:00 (2026-03-29T01:30Z) or 2026-03-29T02:30:00+02:00 (2026-03-29T00:30Z)" in err
    code, _, err = _timed(tmp_path, "--at", "2026-10-25T02:30", "--tz", "Europe/Berlin", "team=data")
    assert code == 2 and "happens twice in Europe/Berlin" in err
    assert "2026-10-25T02:30:00+02:00 (2026-10-25T00:30Z) or 2026-10-25T02:30:00+01:00 (2026-10-25T01:30Z)" in err
    code, _, err = _timed(tmp_path, "--at", "2026-10-04T02:10", "--tz", "Australia/Lord_Howe", "team=data")
    assert code == 2 and "+10:30 (2026-10-03T15:40Z) or 2026-10-04T02:10:00+11:00 (2026-10-03T15:10Z)" in err
    assert _timed(tmp_path, "--tz", "Europe/Berlin", "team=data")[0] == 2  # --tz alone
    assert _timed(tmp_path, "--at", "Christmas", "team=data")[0] == 2
    assert _timed(tmp_path, "--at", "9999-12-31T23:00", "--tz", "America/New_York", "team=data")[0] == 2
    code, _, err = _timed(tmp_path, "--at", "2026-12-25T03:00", "--tz", "Mars/Base", "team=data")
    assert code == 2 and "unknown time zone Mars/Base" in err and "--tz: " in err  # named by its option


def test_a_configuration_amtool_refuses_for_its_intervals(tmp_path: Path) -> None:
    """Without --at too: amtool refuses a configuration whose time intervals it cannot read, and so does
    opsbook, each problem at its line and column."""
    config = tmp_path / "alertmanager.yml"
    config.write_text(_TIMED.replace("'monday:friday'", "'monday:fryday'"), encoding="utf-8")
    result = CliRunner().invoke(main, ["route", "--config", str(config), "team=data"])
    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == "alertmanager.yml:22:20: error OB320 fryday is not a valid weekday\n"
    if AMTOOL is not None:
        assert amtool_answers(config, [["team=data"]]) == [("", 1)]
