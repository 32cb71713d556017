"""The pytest adapter: with `--runbooks`, every runbook of the handbook is a test.

    pytest --runbooks                      # only the runbooks (when no path is given)
    pytest --runbooks tests/ runbooks/     # the runbooks beside other tests
    pytest --runbooks -k restore -x --junitxml=report.xml -n 2

Each runbook is one test item named by its id; it runs through the same runner as `opsbook test`.
A failure names the failing step by `path:line:col` (where it is written, as diagnostics say it), the
command, what was expected against what happened, and the tail of the output, each line kept on its
line (`reporters.one_line`). `--runbook-results FILE` writes the results file the site
reads, once, in the controller: each process keeps the results of the runbooks it ran; a pytest-xdist
worker hands them over in `config.workeroutput` when its session finishes, and the controller gathers
them in `pytest_testnodedown`. Nothing of a result goes into the test reports, so pytest's
`--junitxml` holds only what pytest writes of any test (valid against Jenkins' `junit-10.xsd` with
pytest's default `junit_family`, xunit2).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from .config import find_root
from .diagnostics import Diagnostic, Severity
from .durations import parse_duration
from .kinds.runbooks.records import Runbook
from .kinds.runbooks.results import ResultsGuard, write_results
from .kinds.runbooks.runner import RunbookResult, RunOptions, StepResult, run_runbook
from .pipeline import Analysis, analyse, load_config
from .reporters import one_line

_ANALYSIS = pytest.StashKey[Analysis]()
#: The results of the runbooks this process ran (as `RunbookResult.to_dict` gives them).
_RAN = pytest.StashKey[list[dict[str, Any]]]()
#: The key of a worker's `config.workeroutput` holding its results, as JSON.
WORKEROUTPUT_KEY = "opsbook_runbook_results"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("opsbook", "opsbook runbooks")
    group.addoption("--runbooks", action="store_true", default=False,
                    help="Collect the handbook's runbooks as tests and run their steps.")
    group.addoption("--handbook", default=None, metavar="DIR",
                    help="The handbook root (default: the folder of mkdocs.yml above the rootdir).")
    group.addoption("--runbook-results", default=None, metavar="FILE",
                    help="Write the runbook results (JSON) that the site shows.")
    group.addoption("--runbook-input", action="append", default=[], metavar="NAME=VALUE",
                    help="Give a runbook input a value (repeatable).")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "runbook: a runbook of the handbook, collected by opsbook's --runbooks")
    if not config.getoption("runbooks"):
        return
    for item in config.getoption("runbook_input"):
        if "=" not in item or item.startswith("="):
            raise pytest.UsageError(f"--runbook-input {item!r}: write NAME=VALUE")
    option = config.getoption("handbook")
    root = Path(option).resolve() if option else find_root(config.rootpath)
    core, _ = load_config(root)
    analysis = analyse(root, core)
    config.stash[_ANALYSIS] = analysis
    config.stash[_RAN] = []
    target = config.getoption("runbook_results")
    if hasattr(config, "workerinput"):  # a pytest-xdist worker: it hands its results to the controller
        config.pluginmanager.register(_WorkerResults(), "opsbook-worker-results")
    else:  # the controller, or the only process: it writes
        guard = ResultsGuard(root / analysis.config.results)
        config.pluginmanager.register(_ResultsWriter(Path(target) if target else None, guard), "opsbook-results")
    # `pytest --runbooks` with no path runs the runbooks, not the test paths of the ini file.
    if config.args_source != pytest.Config.ArgsSource.ARGS:
        files = sorted({(root / rb.path).as_posix() for rb in analysis.handbook.loaded.get("runbook", [])})
        config.args[:] = files or [str(root)]


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    analysis = parent.config.stash.get(_ANALYSIS, None)
    if analysis is None or file_path.suffix not in (".yaml", ".yml"):
        return None
    try:
        relpath = file_path.resolve().relative_to(analysis.config.root).as_posix()
    except ValueError:
        return None
    if any(record.path == relpath for record in analysis.handbook.loaded.get("runbook", [])):
        return RunbookFile.from_parent(parent, path=file_path)
    return None


class RunbookFile(pytest.File):
    """A runbook source file: one test item per runbook it holds."""

    def collect(self) -> Any:
        analysis = self.config.stash[_ANALYSIS]
        relpath = self.path.resolve().relative_to(analysis.config.root).as_posix()
        for record in analysis.handbook.loaded.get("runbook", []):
            if record.path == relpath and isinstance(record, Runbook):
                yield RunbookItem.from_parent(self, name=record.id, runbook=record)


class RunbookFailure(Exception):
    """A runbook whose run failed; carries the result for the report."""

    def __init__(self, result: RunbookResult) -> None:
        super().__init__(result.runbook)
        self.result = result


class RunbookInvalid(Exception):
    """A runbook with errors: it is not run."""

    def __init__(self, errors: list[Diagnostic]) -> None:
        super().__init__(f"{len(errors)} errors")
        self.errors = errors


class RunbookItem(pytest.Item):
    """One runbook, run as a test."""

    def __init__(self, *, runbook: Runbook, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.runbook = runbook
        self.add_marker(pytest.mark.runbook)

    def runtest(self) -> None:
        analysis = self.config.stash[_ANALYSIS]
        errors = [d for d in analysis.diagnostics if d.path == self.runbook.path and d.severity >= Severity.ERROR]
        if errors:  # as `opsbook test` does: a runbook with errors is not run
            raise RunbookInvalid(errors)
        given = {}
        for item in self.config.getoption("runbook_input"):
            name, _, value = item.partition("=")
            given[name] = value
        options = RunOptions(root=analysis.config.root, ci=True, inputs=given,
                             allow_env=analysis.config.allow_env,
                             default_timeout=parse_duration(analysis.config.default_timeout) or 300.0)
        result = run_runbook(self.runbook, options)
        self.config.stash[_RAN].append(result.to_dict())
        if not result.passed:
            raise RunbookFailure(result)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> Any:
        if isinstance(excinfo.value, RunbookInvalid):
            errors = excinfo.value.errors
            return "\n".join(one_line(f"{d.location()}: {d.severity} {d.code} {d.message}") for d in errors)
        if not isinstance(excinfo.value, RunbookFailure):
            return super().repr_failure(excinfo, style=style)
        result = excinfo.value.result
        step = result.failed_step
        assert step is not None
        return "\n".join(one_line(line) for line in describe_failure(result, step))

    def reportinfo(self) -> tuple[Path, int, str]:
        line, _ = self.runbook.position("title")
        return self.path, line - 1, f"runbook {self.runbook.id}"


def describe_failure(result: RunbookResult, step: StepResult) -> list[str]:
    """What a person needs to see about a failed step: where (`path:line:col`), what ran, expected against
    actual, output. Lines of text: the caller keeps each on its line (`one_line`), since names, commands
    and output come from the pull request."""
    lines = [f"{result.location(step)}: {step.section}[{step.index + 1}] {step.name!r} {step.status}"]
    if step.command:
        lines.append("command:")
        lines.extend(f"    {line}" for line in step.command.splitlines())
    expected = step.expected
    if expected:
        wanted = [f"exit code {expected.get('exit_code', 0)}"]
        wanted += [f"{stream} matching {expected[stream]!r}" for stream in ("stdout", "stderr") if stream in expected]
        wanted.append(f"within {expected.get('timeout', 0):g} s")
        lines.append("expected: " + ", ".join(wanted))
    actual = "killed at its timeout" if step.status == "timeout" else f"exit code {step.exit_code}"
    lines.append(f"actual: {actual}, after {step.duration:.2f} s")
    lines.extend(f"  - {problem}" for problem in step.problems)
    tail = step.output_tail(20)
    if tail:
        lines.append("output (last 20 lines):")
        lines.extend(f"    {line}" for line in tail.splitlines())
    return lines


class _WorkerResults:
    """In a pytest-xdist worker: hands the results of the runbooks it ran to the controller, in
    `config.workeroutput`, which xdist sends when the worker's session finishes (after this hook)."""

    @staticmethod
    def pytest_sessionfinish(session: pytest.Session) -> None:
        output = getattr(session.config, "workeroutput", None)
        if isinstance(output, dict):
            output[WORKEROUTPUT_KEY] = json.dumps(session.config.stash[_RAN])


class _ResultsWriter:
    """In the controller (or the only process): gathers the results of the runbooks run here and those
    the pytest-xdist workers hand over as they go down, and writes them once, at the end of the session,
    a new file holding this session's results only; discards a results file that a step wrote (`guard`)."""

    def __init__(self, target: Path | None, guard: ResultsGuard) -> None:
        self.target = target
        self.guard = guard
        self.from_workers: list[dict[str, Any]] = []
        self.lost: list[str] = []  # the workers whose results did not arrive (crashed, killed)
        self.said: list[tuple[str, str]] = []  # lines for the terminal summary, and their colour

    @pytest.hookimpl(optionalhook=True)  # pytest-xdist's hook: the plugin works without xdist
    def pytest_testnodedown(self, node: Any, error: object | None) -> None:
        output = getattr(node, "workeroutput", None)
        name = str(getattr(getattr(node, "gateway", None), "id", "a worker"))
        try:
            results = json.loads(output[WORKEROUTPUT_KEY]) if isinstance(output, dict) else None
        except (KeyError, TypeError, ValueError):
            results = None
        if error is not None or not isinstance(results, list):
            self.lost.append(name + (f" ({error})" if error is not None else ""))
            return
        self.from_workers.extend(result for result in results if isinstance(result, dict))

    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        if self.guard.discard():
            self.said.append((f"opsbook: a step wrote {self.guard.path} during the run; discarded "
                              "(only opsbook writes the results)", "yellow"))
        if self.lost:
            self.said.append((f"opsbook: no runbook results from {', '.join(self.lost)}: the runbooks it ran "
                              "are missing from the results", "red"))
        if self.target is not None:
            try:
                write_results(self.target, [*session.config.stash.get(_RAN, []), *self.from_workers])
            except OSError as error:  # a full disk, a read-only tree: said in a line, the session failed
                self.said.append((f"opsbook: cannot write {self.target}: {error.strerror or error}", "red"))
                session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        """What `pytest_sessionfinish` has to say, each on a line of its own in the summary."""
        for text, colour in self.said:
            terminalreporter.write_line(text, **{colour: True})


def pytest_report_header(config: pytest.Config) -> str | None:
    analysis = config.stash.get(_ANALYSIS, None)
    if analysis is None:
        return None
    count = len(analysis.handbook.loaded.get("runbook", []))
    return f"opsbook: {count} runbooks in {analysis.config.root}"
