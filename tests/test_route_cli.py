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
