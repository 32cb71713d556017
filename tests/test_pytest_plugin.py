"""The pytest plugin, through pytester: runbooks collected with --runbooks, failures that show the step,
and -k, -x, --junitxml, pytest-xdist and the results file."""

from __future__ import annotations

import json

import pytest

pytest_plugins = ["pytester"]

GOOD = "title: Good\nsteps:\n  - {name: Greet, run: echo hello, expect: {stdout: hello}}\n"
BAD = """\
title: Bad
steps:
  - name: First
    run: echo fine
  - name: Expect a backup
    run: printf 'line one\\nno backup here\\n'
    expect: {stdout: 'orders-\\d+'}
"""


@pytest.fixture
def handbook(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makefile(".yml", opsbook="today: '2026-11-26'\nshellcheck: false\n")
    runbooks = pytester.mkdir("runbooks")
    (runbooks / "good.yaml").write_text(GOOD, encoding="utf-8")
    (runbooks / "bad.yaml").write_text(BAD, encoding="utf-8")
    (runbooks / "other.yaml").write_text(GOOD.replace("Good", "Other"), encoding="utf-8")
    pytester.makepyfile(test_plain="def test_plain():\n    assert True\n")
    return pytester


def test_without_the_flag_runbooks_are_not_collected(handbook: pytest.Pytester) -> None:
    result = handbook.runpytest()
    result.assert_outcomes(passed=1)


def test_runbooks_are_tests_and_failures_show_the_step(handbook: pytest.Pytester) -> None:
    result = handbook.runpytest("--runbooks", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=2, failed=1)
    text = result.stdout.str()
    expected = "\n".join([
        "runbooks/bad.yaml:5:5: steps[2] 'Expect a backup' failed",
        "command:",
        "    printf 'line one\\nno backup here\\n'",
        "expected: exit code 0, stdout matching 'orders-\\\\d+', within 300 s",
    ])
    assert expected in text, text
    for line in ["  - stdout does not match 'orders-\\\\d+'", "output (last 20 lines):", "    line one",
                 "    no backup here"]:
        assert line in text, line
    assert "test_plain" not in result.stdout.str()  # --runbooks alone runs only the runbooks


def test_keyword_and_exitfirst(handbook: pytest.Pytester) -> None:
    handbook.runpytest("--runbooks", "-k", "good or other").assert_outcomes(passed=2)
    result = handbook.runpytest("--runbooks", "-x")
    result.assert_outcomes(failed=1)  # bad.yaml comes first and stops the session


def test_with_explicit_paths_runbooks_join_other_tests(handbook: pytest.Pytester) -> None:
    handbook.runpytest("--runbooks", "test_plain.py", "runbooks").assert_outcomes(passed=3, failed=1)


def test_junitxml_and_results_under_xdist(handbook: pytest.Pytester) -> None:
    result = handbook.runpytest_subprocess("--runbooks", "-n", "2", "--junitxml=report.xml",
                                           "--runbook-results=results.json")
    result.assert_outcomes(passed=2, failed=1)
    report = (handbook.path / "report.xml").read_text(encoding="utf-8")
    assert 'name="bad"' in report and "Expect a backup" in report
    data = json.loads((handbook.path / "results.json").read_text(encoding="utf-8"))
    assert set(data["runbooks"]) == {"good", "bad", "other"}
    assert data["runbooks"]["bad"]["steps"][1]["status"] == "failed"


def test_reportinfo_names_the_runbook(handbook: pytest.Pytester) -> None:
    result = handbook.runpytest("--runbooks", "-v", "-k", "good")
    result.stdout.fnmatch_lines(["runbooks/good.yaml::good PASSED*"])


def test_a_runbook_with_errors_is_not_run(handbook: pytest.Pytester) -> None:
    (handbook.path / "runbooks" / "broken.yaml").write_text(
        "title: Broken\nsteps:\n  - {name: Danger, run: touch ran, ci: {skip: true}}\n", encoding="utf-8")
    result = handbook.runpytest("--runbooks", "-k", "broken")
    result.assert_outcomes(failed=1)
    assert "runbooks/broken.yaml:3:" in result.stdout.str() and "OB031" in result.stdout.str()
    assert not (handbook.path / "ran").exists()
