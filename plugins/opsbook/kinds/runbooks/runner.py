"""The runner: executes a runbook's steps the way CI verifies them, and records what happened.

Order: `setup`, `steps`, `verify`; then `cleanup`, always, after a failure or a timeout too. A
failure stops the sections before cleanup; the steps it skips are recorded as not run. `setup` and
`cleanup` build and tear down the CI sandbox, so they run only in CI mode.

Each `run` step is executed by bash (`bash --noprofile --norc -eo pipefail -c RUN`) in its own
process group, from the handbook root, under its timeout; when the timeout expires the whole group
is sent SIGTERM, then SIGKILL a second later, so the step and everything it started end within the
timeout plus about a second. Steps see a minimal environment: PATH (with the running Python's folder
first, so that `opsbook` in a step is the one running it), HOME, LANG, the runbook's inputs
(their `ci` values in CI, their defaults elsewhere, or what the caller gives), and only the caller's
variables that the configuration allows. Output is captured up to a bound. The value of every secret
input, and of every variable whose name contains TOKEN, SECRET, PASSWORD or KEY, is masked in
everything the runner returns.

What it does not protect against: a step runs with the rights of the user running opsbook and can
read any file that user can read; a process that leaves its process group (`setsid`) escapes the
timeout; the network is not restricted. Run untrusted runbooks in a sandbox of their own.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .records import SECTIONS, Runbook, Step

__all__ = ["RunOptions", "RunbookResult", "StepResult", "run_runbook", "git_commit", "MASK"]

MASK = "***"
SECRET_NAME = re.compile(r"TOKEN|SECRET|PASSWORD|KEY", re.I)
DEFAULT_TIMEOUT = 300.0
KILL_GRACE = 1.0
#: Values shorter than this are not masked: masking every "1" or "ok" would garble all output.
MIN_SECRET_LENGTH = 3


@dataclass
class RunOptions:
    """How runbooks are run.

    Attributes:
        root: The handbook root, the working directory of every step.
        ci: Use the inputs' `ci` values and run the `setup` steps (True in CI and in `opsbook test`).
        inputs: Values given by the caller, overriding the runbook's.
        allow_env: Names of the caller's environment variables passed through to the steps.
        default_timeout: Seconds a step may run when its `expect` names no timeout.
        max_output: Bytes of stdout and of stderr kept per step (the tail is kept).
        environ: The caller's environment (os.environ by default).
    """

    root: Path
    ci: bool = True
    inputs: Mapping[str, str] = field(default_factory=dict)
    allow_env: Iterable[str] = ()
    default_timeout: float = DEFAULT_TIMEOUT
    max_output: int = 256 * 1024
    environ: Mapping[str, str] | None = None


@dataclass
class StepResult:
    """What happened to one step.

    `status` is one of `passed`, `failed`, `timeout`, `skipped` (ci.skip, with its reason), `manual`
    (instructions for people, never run) and `not-run` (after an earlier failure).
    """

    runbook: str
    section: str
    index: int
    name: str
    status: str
    line: int
    command: str | None = None
    command_sha256: str | None = None
    duration: float = 0.0
    exit_code: int | None = None
    reason: str | None = None
    stdout: str = ""
    stderr: str = ""
    expected: dict[str, Any] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.status not in ("failed", "timeout")

    def output_tail(self, lines: int = 20) -> str:
        text = (self.stdout + ("\n" if self.stdout and self.stderr else "") + self.stderr).rstrip("\n")
        return "\n".join(text.splitlines()[-lines:])


@dataclass
class RunbookResult:
    """What happened to one runbook."""

    runbook: str
    path: str
    steps: list[StepResult]
    started: str
    commit: str | None
    duration: float
    ci: bool = True

    @property
    def passed(self) -> bool:
        return all(step.ok for step in self.steps)

    @property
    def failed_step(self) -> StepResult | None:
        return next((step for step in self.steps if not step.ok), None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "runbook": self.runbook, "path": self.path, "passed": self.passed, "started": self.started,
            "commit": self.commit, "duration": round(self.duration, 3), "mode": "ci" if self.ci else "local",
            "steps": [_step_dict(step) for step in self.steps],
        }


def _step_dict(step: StepResult) -> dict[str, Any]:
    data = asdict(step)
    data["duration"] = round(step.duration, 3)
    data["output_tail"] = step.output_tail()
    del data["stdout"], data["stderr"]
    return data


def git_commit(root: Path) -> str | None:
    """The commit the handbook is at, when it is a git checkout."""
    try:
        result = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True,
                                timeout=10, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return result.stdout.strip() or None if result.returncode == 0 else None


class _Masker:
    """Replaces secret values in text, longest first so that one secret inside another is masked whole."""

    def __init__(self, values: Iterable[str]) -> None:
        secrets = sorted({v for v in values if len(v) >= MIN_SECRET_LENGTH}, key=len, reverse=True)
        self.pattern = re.compile("|".join(re.escape(v) for v in secrets)) if secrets else None

    def __call__(self, text: str) -> str:
        return self.pattern.sub(MASK, text) if self.pattern and text else text


def _input_values(runbook: Runbook, options: RunOptions) -> tuple[dict[str, str], set[str]]:
    values: dict[str, str] = {}
    secret: set[str] = set()
    for name, spec in runbook.inputs.items():
        chosen = spec.get("ci") if options.ci and "ci" in spec else spec.get("default")
        if name in options.inputs:
            chosen = options.inputs[name]
        if chosen is not None:
            values[name] = _text(chosen)
        if spec.get("secret") is True or SECRET_NAME.search(name):
            secret.add(name)
    return values, secret


def _text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def step_environment(runbook: Runbook, options: RunOptions) -> tuple[dict[str, str], _Masker]:
    """The environment a step runs in, and the masker for everything it prints."""
    caller = dict(options.environ if options.environ is not None else os.environ)
    # The folder of the running Python first: `opsbook` in a step is the opsbook running the runbook.
    scripts = os.path.dirname(sys.executable)
    env = {
        "PATH": os.pathsep.join([scripts, caller.get("PATH", os.defpath)]),
        "HOME": caller.get("HOME", str(options.root)),
        "LANG": "C.UTF-8",
        "OPSBOOK_RUNBOOK": runbook.id,
        "OPSBOOK_CI": "1" if options.ci else "0",
    }
    for name in options.allow_env:
        if name in caller:
            env[name] = caller[name]
    inputs, secret_inputs = _input_values(runbook, options)
    env.update(inputs)
    # Only what the step can see can leak through it: its secret inputs, and secret-named variables.
    secrets = [inputs[name] for name in secret_inputs if name in inputs]
    secrets += [value for name, value in env.items() if SECRET_NAME.search(name)]
    return env, _Masker(secrets)


class _Capture(threading.Thread):
    """Reads a pipe to its end, keeping at most `limit` bytes (the tail) and counting what it drops."""

    def __init__(self, stream: Any, limit: int) -> None:
        super().__init__(daemon=True)
        self.stream = stream
        self.limit = limit
        self.kept = bytearray()
        self.dropped = 0

    def run(self) -> None:
        while chunk := self.stream.read(65536):
            self.kept += chunk
            if len(self.kept) > self.limit:
                excess = len(self.kept) - self.limit
                del self.kept[:excess]
                self.dropped += excess

    def text(self) -> str:
        body = self.kept.decode("utf-8", errors="replace")
        return (f"[... {self.dropped} bytes dropped ...]\n" + body) if self.dropped else body


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(process.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        process.wait(timeout=KILL_GRACE)
    except subprocess.TimeoutExpired:
        pass
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def execute(command: str, env: Mapping[str, str], cwd: Path, timeout: float,
            max_output: int) -> tuple[int | None, str, str, float, bool]:
    """Run one command through bash in a process group of its own: exit code, stdout, stderr, seconds, timed out."""
    started = time.perf_counter()
    process = subprocess.Popen(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", command],
        cwd=cwd, env=dict(env), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        start_new_session=True,
    )
    out, err = _Capture(process.stdout, max_output), _Capture(process.stderr, max_output)
    out.start()
    err.start()
    timed_out = False
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        timed_out = True
    finally:
        # Also ends what the step left running in the background: nothing outlives its step.
        _kill_group(process)
        process.wait()
    out.join(timeout=5)
    err.join(timeout=5)
    for stream in (process.stdout, process.stderr):
        if stream is not None:
            stream.close()
    return (None if timed_out else process.returncode, out.text(), err.text(),
            time.perf_counter() - started, timed_out)


def _check_expectations(step: Step, exit_code: int, stdout: str, stderr: str) -> list[str]:
    problems = []
    expected_code = step.expect.get("exit_code", 0)
    if exit_code != expected_code:
        problems.append(f"exit code {exit_code}, expected {expected_code}")
    for stream, text in (("stdout", stdout), ("stderr", stderr)):
        pattern = step.expect.get(stream)
        if isinstance(pattern, str):
            try:
                if re.search(pattern, text, re.M) is None:
                    problems.append(f"{stream} does not match {pattern!r}")
            except re.error as error:
                problems.append(f"{stream} pattern {pattern!r} is not a regular expression: {error}")
    return problems


def run_runbook(runbook: Runbook, options: RunOptions,
                on_step: Callable[[StepResult], None] | None = None) -> RunbookResult:
    """Run a runbook's sections in order, cleanup always, and return what happened to every step."""
    env, mask = step_environment(runbook, options)
    started_at = _dt.datetime.now(_dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    started = time.perf_counter()
    results: list[StepResult] = []
    failed = False
    # Setup builds a sandbox and cleanup tears it down: outside CI they would act on the real thing.
    sections = [name for name in SECTIONS if options.ci or name not in ("setup", "cleanup")]
    for section in sections:
        for step in runbook.section(section):
            if failed and section != "cleanup":
                result = _record(runbook, step, "not-run", mask, reason="an earlier step failed")
            else:
                result = _run_step(runbook, step, env, mask, options)
                failed = failed or not result.ok
            results.append(result)
            if on_step is not None:
                on_step(result)
    return RunbookResult(runbook.id, runbook.path, results, started_at, git_commit(options.root),
                         time.perf_counter() - started, ci=options.ci)


def _record(runbook: Runbook, step: Step, status: str, mask: _Masker | None = None, **extra: Any) -> StepResult:
    line, _ = runbook.position(step.section, step.index)
    command = mask(step.run) if mask is not None and step.run is not None else step.run
    digest = hashlib.sha256(step.run.encode("utf-8")).hexdigest() if step.run is not None else None
    return StepResult(runbook.id, step.section, step.index, step.name, status, line, command=command,
                      command_sha256=digest, **extra)


def _run_step(runbook: Runbook, step: Step, env: Mapping[str, str], mask: _Masker,
              options: RunOptions) -> StepResult:
    if step.manual is not None and step.run is None:
        return _record(runbook, step, "manual")
    if step.run is None:
        return _record(runbook, step, "failed", problems=["the step has neither run nor manual"])
    if step.skip_reason is not None and options.ci:
        return _record(runbook, step, "skipped", mask, reason=step.skip_reason)
    timeout = step.timeout if step.timeout is not None else options.default_timeout
    exit_code, stdout, stderr, duration, timed_out = execute(step.run, env, options.root, timeout,
                                                             options.max_output)
    stdout, stderr = mask(stdout), mask(stderr)
    expected: dict[str, Any] = {"exit_code": step.expect.get("exit_code", 0), "timeout": timeout,
                **{k: step.expect[k] for k in ("stdout", "stderr") if k in step.expect}}
    if timed_out:
        return _record(runbook, step, "timeout", mask, duration=duration, stdout=stdout, stderr=stderr,
                       expected=expected, problems=[f"killed after its timeout of {timeout:g} s"])
    assert exit_code is not None
    problems = _check_expectations(step, exit_code, stdout, stderr)
    return _record(runbook, step, "failed" if problems else "passed", mask, duration=duration, exit_code=exit_code,
                   stdout=stdout, stderr=stderr, expected=expected, problems=problems)
