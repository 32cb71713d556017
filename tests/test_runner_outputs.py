"""What the runner hands to people and to CI (#16, item 8): `opsbook test` names a failed step by its
`path:line:col`; its JUnit XML is valid against Jenkins' `junit-10.xsd` (checked with xmlschema, over
real runs) whatever the steps print; the pytest plugin passes the results of pytest-xdist workers to
the controller through `workeroutput`, and pytest's own `--junitxml` stays lean and valid.

The schema is the file `OPSBOOK_TEST_JUNIT_XSD` names (`.ci/run` takes it from pytest's sdist), else
`.ci/cache/junit-10.xsd`; without it the schema tests are skipped, saying so."""

from __future__ import annotations

import json
import os
import xml.etree.ElementTree as ET
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from opsbook.cli import main
from opsbook.kinds.runbooks.results import JUNIT_MAX_OUTPUT

pytest_plugins = ["pytester"]

REPO = Path(__file__).resolve().parent.parent
XSD_ENV = "OPSBOOK_TEST_JUNIT_XSD"


def junit_xsd() -> Path | None:
    """The JUnit schema, where `OPSBOOK_TEST_JUNIT_XSD` says or in `.ci/cache/`; None when absent."""
    given = os.environ.get(XSD_ENV)
    path = Path(given) if given else REPO / ".ci" / "cache" / "junit-10.xsd"
    return path if path.is_file() else None


@cache
def _schema(path: Path) -> Any:
    import xmlschema

    return xmlschema.XMLSchema(str(path))


def junit_errors(report: Path) -> list[str] | None:
    """What junit-10.xsd finds wrong in the report (empty when valid), or None without the schema or
    xmlschema: for tests whose other assertions stand without it."""
    path = junit_xsd()
    try:
        schema = _schema(path) if path is not None else None
    except ImportError:
        return None
    if schema is None:
        return None
    return [f"{error.path}: {error.reason}" for error in schema.iter_errors(str(report))]


@pytest.fixture
def validate() -> Callable[[Path], list[str]]:
    """`junit_errors`, or the test skipped with the reason."""
    pytest.importorskip("xmlschema", reason="xmlschema is not installed (pip install -e '.[test]')")
    if junit_xsd() is None:
        pytest.skip(f"no junit-10.xsd: {XSD_ENV} is unset or names no file, and .ci/cache/junit-10.xsd is "
                    "missing (.ci/run puts it there, from pytest's source distribution)")

    def errors(report: Path) -> list[str]:
        found = junit_errors(report)
        assert found is not None
        return found

    return errors


def _where(text: str, marker: str) -> str:
    """`line:col` (1-based) of the first occurrence of marker in text: where a step starts, found here
    independently of opsbook's loader."""
    at = text.index(marker)
    return f"{text.count(chr(10), 0, at) + 1}:{at - text.rfind(chr(10), 0, at)}"


EVERYTHING = """\
title: Everything a step can do
setup:
  - {name: Prepare, run: echo preparing}
steps:
  - name: Odd output
    run: printf 'esc \\033[31mred\\033[0m ctl \\001\\002\\013\\014 cdata ]]> amp & lt < quote " bad \\377 end\\n'
  - name: Huge output
    run: head -c 3000000 /dev/zero | tr '\\0' 'x'; echo; echo tail-marker
  - name: Tell someone
    manual: Tell the channel.
  - name: Production only
    run: 'true'
    ci: {skip: 'needs production ]]> & <credentials>'}
  -   name: "Hangs, with a \\a bell and ]]> in its name"
      run: echo before; printf '\\033]0;title\\007'; sleep 5
      expect: {timeout: 1s}
  - name: Never reached
    run: 'true'
cleanup:
  - name: Clean up, and fail
    run: printf 'oops \\013\\014\\n' >&2; exit 4
"""
FINE = "title: Fine\nsteps:\n  - {name: Greet, run: echo hello, expect: {stdout: hello}}\n"
MISMATCH = """\
title: Mismatch
steps:
  - name: First
    run: echo fine
  -     name: Expect a backup
        run: echo no backup here
        expect: {stdout: 'orders-\\d+'}
"""


HANGS = "runbooks/everything.yaml:" + _where(EVERYTHING, 'name: "Hangs')
CLEAN = "runbooks/everything.yaml:" + _where(EVERYTHING, "name: Clean up")
EXPECT = "runbooks/mismatch.yaml:" + _where(MISMATCH, "name: Expect a backup")


@pytest.fixture
def ran(make_handbook: Callable[..., Path], tmp_path: Path) -> tuple[Path, Any, Path]:
    """`opsbook test --junit` over three runbooks: one passing, one failing on its output, one with
    every status and hostile output. (root, the CliRunner result, the JUnit file)."""
    root = make_handbook({"runbooks/everything.yaml": EVERYTHING, "runbooks/fine.yaml": FINE,
                          "runbooks/mismatch.yaml": MISMATCH}, shellcheck=False)
    junit = tmp_path / "out" / "junit.xml"
    run = CliRunner().invoke(main, ["test", "--dir", str(root), "--results", str(tmp_path / "results.json"),
                                    "--junit", str(junit)])
    return root, run, junit


def test_opsbook_test_names_each_failed_step_by_file_line_and_column(ran: tuple[Path, Any, Path]) -> None:
    _, run, _ = ran
    assert run.exit_code == 1, run.output
    hangs, clean, mismatch = HANGS, CLEAN, EXPECT
    assert hangs.endswith(":14:7") and mismatch.endswith(":5:9")  # the fixture is what the test means
    lines = run.output.splitlines()
    # Beside the step's name as it runs: the location and how it ended, then its problems and output.
    failing = [line for line in lines if line.startswith(("  FAIL ", "  TIMEOUT "))]
    assert len(failing) == 3, run.output
    assert failing[0].startswith("  TIMEOUT steps[5] Hangs, with a ") and failing[0].endswith(
        f"s at {hangs}, killed at its timeout"), failing[0]
    assert failing[1].startswith("  FAIL    cleanup[1] Clean up, and fail ") and failing[1].endswith(
        f"s at {clean}, exit code 4"), failing[1]
    assert failing[2].startswith("  FAIL    steps[2] Expect a backup ") and failing[2].endswith(
        f"s at {mismatch}, exit code 0"), failing[2]
    at = lines.index(failing[2])
    assert lines[at + 1:at + 3] == ["          stdout does not match 'orders-\\\\d+'", "          no backup here"]
    # And after the summary, a line per failed step, its location first.
    summary = lines[lines.index("failed: everything, mismatch") + 1:]
    assert summary[0].startswith(f"{hangs}: steps[5] 'Hangs, with a ")
    assert summary[0].endswith("' timeout: killed after its timeout of 1 s")
    assert summary[1:] == [f"{clean}: cleanup[1] 'Clean up, and fail' failed: exit code 4, expected 0",
                           f"{mismatch}: steps[2] 'Expect a backup' failed: stdout does not match 'orders-\\\\d+'"]


def test_junit_is_valid_against_junit_10_xsd(ran: tuple[Path, Any, Path], validate: Callable[[Path], list[str]]) -> None:
    _, _, junit = ran
    assert validate(junit) == []


def test_junit_counts_statuses_and_locates_failures(ran: tuple[Path, Any, Path]) -> None:
    _, _, junit = ran
    tree = ET.parse(junit).getroot()
    assert tree.tag == "testsuites"
    suites = {suite.get("name"): suite for suite in tree.findall("testsuite")}
    assert set(suites) == {"everything", "fine", "mismatch"}
    counts = {name: {k: suite.get(k) for k in ("tests", "failures", "errors", "skipped")} for name, suite in suites.items()}
    assert counts == {"everything": {"tests": "8", "failures": "2", "errors": "0", "skipped": "3"},
                      "fine": {"tests": "1", "failures": "0", "errors": "0", "skipped": "0"},
                      "mismatch": {"tests": "2", "failures": "1", "errors": "0", "skipped": "0"}}
    assert (tree.get("tests"), tree.get("failures"), tree.get("errors")) == ("11", "3", "0")
    assert suites["everything"].get("file") == "runbooks/everything.yaml"
    cases = {case.get("name"): case for case in suites["everything"].findall("testcase")}
    hangs = next(case for name, case in cases.items() if name and name.startswith("steps[5]"))
    failure = hangs.find("failure")
    assert failure is not None and failure.get("type") == "timeout"
    assert failure.get("message") == f"{HANGS}: killed after its timeout of 1 s"
    assert hangs.get("name") == "steps[5] Hangs, with a \\x07 bell and ]]> in its name"  # escaped, visibly
    cleanup = cases["cleanup[1] Clean up, and fail"].find("failure")
    assert cleanup is not None and cleanup.get("type") == "failed"
    assert cleanup.get("message") == f"{CLEAN}: exit code 4, expected 0"
    assert cleanup.text is not None and cleanup.text.startswith(f"{CLEAN}: cleanup[1] Clean up, and fail\n$ printf 'oops")
    assert cases["cleanup[1] Clean up, and fail"].findtext("system-err") == "oops \\x0b\\x0c\n"
    mismatch = suites["mismatch"].find("testcase[2]/failure")
    assert mismatch is not None and mismatch.get("message", "") == f"{EXPECT}: stdout does not match 'orders-\\\\d+'"
    skipped = {name: (case.find("skipped").get("type"), case.find("skipped").get("message"))  # type: ignore[union-attr]
               for name, case in cases.items() if case.find("skipped") is not None}
    assert skipped == {"steps[3] Tell someone": ("manual", "a manual step, for people: not run"),
                       "steps[4] Production only": ("skipped", "needs production ]]> & <credentials>"),
                       "steps[6] Never reached": ("not-run", "an earlier step failed")}
    for case in suites["fine"].findall("testcase"):
        assert case.find("failure") is None and case.find("skipped") is None
        assert set(case.attrib) == {"name", "classname", "time"}


def test_junit_escapes_and_bounds_untrusted_output(ran: tuple[Path, Any, Path]) -> None:
    _, _, junit = ran
    raw = junit.read_bytes()
    assert not any(byte < 0x20 and byte not in b"\t\n\r" for byte in raw)
    assert b"]]>" not in raw  # no CDATA, and `>` escaped
    cases = {case.get("name"): case for case in ET.parse(junit).getroot().iter("testcase")}
    odd = cases["steps[1] Odd output"].findtext("system-out")
    assert odd == 'esc \\x1b[31mred\\x1b[0m ctl \\x01\\x02\\x0b\\x0c cdata ]]> amp & lt < quote " bad \ufffd end\n'
    huge = cases["steps[2] Huge output"].findtext("system-out") or ""
    assert huge.startswith("[... ") and huge.endswith("tail-marker\n")
    assert len(huge) <= JUNIT_MAX_OUTPUT + 100
    assert len(raw) < 4 * JUNIT_MAX_OUTPUT  # 3 MB printed; the runner kept 256 KiB; the report keeps less


def test_the_schema_refuses_what_the_old_writer_wrote(tmp_path: Path, validate: Callable[[Path], list[str]]) -> None:
    """The validator can fail: the shape opsbook wrote before (no `errors`, `file` and `line` on a test case)."""
    old = tmp_path / "old.xml"
    old.write_text('<?xml version="1.0"?><testsuites name="opsbook"><testsuite name="r" tests="1" failures="0" '
                   'skipped="0" time="0.100"><testcase classname="runbooks/r.yaml" name="steps[1] A" time="0.1" '
                   'file="runbooks/r.yaml" line="3"/></testsuite></testsuites>', encoding="utf-8")
    errors = validate(old)
    assert any("errors" in error for error in errors) and any("file" in error for error in errors), errors


# --- The pytest plugin ----------------------------------------------------------------------------------

# Each runbook says which process ran it (`PYTEST_XDIST_WORKER`, passed through by `allow_env`) and
# prints 300 lines, which the results file keeps the tail of and pytest's report must not hold.
RUNBOOK = """\
title: Runbook {n}
steps:
  - name: Say who ran it
    run: seq 1 300; echo "worker=${{PYTEST_XDIST_WORKER:-none}}"
  - name: Tell someone
    manual: Tell the channel.
  - name: Check
    run: {check}
"""
RUNBOOKS = 6


@pytest.fixture
def plugin_handbook(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    monkeypatch.delenv("PYTEST_XDIST_WORKER", raising=False)  # this suite may itself run under xdist
    monkeypatch.delenv("PYTEST_ADDOPTS", raising=False)
    pytester.makefile(".yml", opsbook="today: '2026-11-26'\nshellcheck: false\nallow_env: [PYTEST_XDIST_WORKER]\n")
    runbooks = pytester.mkdir("runbooks")
    for n in range(RUNBOOKS):
        check = "printf 'bad \\033[1m\\001 ]]> <&>\\n::warning::planted\\n'; exit 2" if n == 2 else "echo ok"
        (runbooks / f"r{n}.yaml").write_text(RUNBOOK.format(n=n, check=check), encoding="utf-8")
    return pytester


def _workers(results: dict[str, Any]) -> dict[str, str]:
    """Which process ran each runbook, as its first step printed it."""
    return {rb: entry["steps"][0]["output_tail"].rpartition("worker=")[2] for rb, entry in results["runbooks"].items()}


@pytest.mark.parametrize("mode", [["-n", "2"], ["-p", "no:xdist"]], ids=["xdist", "no-xdist"])
def test_plugin_results_reach_the_controller_and_junitxml_stays_lean(
        plugin_handbook: pytest.Pytester, mode: list[str]) -> None:
    result = plugin_handbook.runpytest_subprocess("--runbooks", "-p", "no:cacheprovider", *mode,
                                                  "--junitxml=report.xml", "--runbook-results=out/results.json")
    result.assert_outcomes(passed=RUNBOOKS - 1, failed=1)
    check = "runbooks/r2.yaml:" + _where(RUNBOOK.format(n=2, check="x"), "name: Check")
    result.stdout.fnmatch_lines([f"{check}: steps[3] 'Check' failed"])
    # The output shows, each line on its own, read by no CI as a command.
    result.stdout.fnmatch_lines(["    bad \\x1b[1m\\x01 ]]> <&>", "    \\x3a:warning::planted"])
    data = json.loads((plugin_handbook.path / "out" / "results.json").read_text(encoding="utf-8"))
    # Complete: every runbook, every step, from whichever process ran it.
    assert sorted(data["runbooks"]) == [f"r{n}" for n in range(RUNBOOKS)]
    assert [[s["status"] for s in data["runbooks"][f"r{n}"]["steps"]] for n in range(RUNBOOKS)] == [
        ["passed", "manual", "failed" if n == 2 else "passed"] for n in range(RUNBOOKS)]
    assert data["runbooks"]["r2"]["steps"][2]["line"] == int(check.split(":")[1])
    assert data["runbooks"]["r2"]["steps"][2]["column"] == int(check.split(":")[2])
    ran_by = set(_workers(data).values())
    assert ran_by == ({"gw0", "gw1"} if "-n" in mode else {"none"}), _workers(data)
    # pytest's report: what pytest writes of any test, no results, no output of passing steps.
    report = plugin_handbook.path / "report.xml"
    text = report.read_text(encoding="utf-8")
    assert "<properties" not in text and "opsbook_runbook_result" not in text and "\n299\n" not in text
    assert len(text.encode()) < 3000, len(text.encode())
    failure = ET.parse(report).getroot().find("testsuite/testcase[@name='r2']/failure")
    assert failure is not None and failure.get("message", "").startswith(f"{check}: steps[3] 'Check' failed")
    errors = junit_errors(report)
    assert errors in (None, []), errors


def test_plugin_junitxml_is_valid_against_junit_10_xsd(plugin_handbook: pytest.Pytester,
                                                       validate: Callable[[Path], list[str]]) -> None:
    for name, mode in (("xdist", ["-n", "2"]), ("one", ["-p", "no:xdist"])):
        plugin_handbook.runpytest_subprocess("--runbooks", "-p", "no:cacheprovider", *mode,
                                             f"--junitxml={name}.xml").assert_outcomes(passed=RUNBOOKS - 1, failed=1)
        assert validate(plugin_handbook.path / f"{name}.xml") == [], name


def test_plugin_says_when_a_worker_went_down_with_its_results(plugin_handbook: pytest.Pytester) -> None:
    """A worker that crashes takes the results of the runbooks it ran with it: the controller says so
    and writes what it has (the crash fails the session)."""
    plugin_handbook.makepyfile(test_crash="import os\n\ndef test_crash():\n    os._exit(3)\n")
    result = plugin_handbook.runpytest_subprocess("--runbooks", "-p", "no:cacheprovider", "-n", "1",
                                                  "runbooks", "test_crash.py", "--runbook-results=results.json")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["*opsbook: no runbook results from gw0 (*): the runbooks it ran are missing from the results"])
    data = json.loads((plugin_handbook.path / "results.json").read_text(encoding="utf-8"))
    assert data["runbooks"] == {}
