"""The runner: executes a runbook's steps the way CI verifies them, and records what happened.

Order: `setup`, `steps`, `verify`; then `cleanup`, always, after a failure or a timeout too. A
failure stops the sections before cleanup; the steps it skips are recorded as not run. `setup` and
`cleanup` build and tear down the CI sandbox, so they run only in CI mode.

Each `run` step is executed by bash (`bash --noprofile --norc -eo pipefail -c RUN`) from the handbook
root, under its timeout, below a launcher (`launch.py`, the `Launcher` here): a small Python process,
one per run of a runbook, started with the steps' environment as its only environment, that starts
each step, ends everything the step started and reports to the runner. Steps see a minimal
environment: PATH (with the running Python's folder first, so that `opsbook` in a step is the one
running it), HOME (a folder of the run's own, removed after it), LANG, the runbook's inputs (their
`ci` values in CI, their defaults elsewhere, or what the caller gives), and only the caller's
variables that the configuration allows. Output is captured up to a
bound. The value of every secret input, and of every variable whose name contains TOKEN, SECRET,
PASSWORD or KEY, is masked in everything the runner returns. `expect.stdout` and `expect.stderr` are
RE2 patterns (linear time; `opsbook check` reports one RE2 refuses as OB032).

Each runbook's result records where the run happened (`where`, `place.detect_place` from the caller's
environment, `RunOptions.environ`): CI, with the run's address when the CI service gives one, or a
workstation. Only a run in CI verifies steps on the site. (`ci` is CI *mode* — the sandbox, the
inputs' `ci` values — which `opsbook test` uses on a workstation too; it is not where the run was.)

Isolation, strongest first; the runner takes the first the machine allows (probed once per process
with `unshare`; `OPSBOOK_NO_NAMESPACES=1` or `RunOptions(namespaces=False)` skips the namespace):

- **PID namespace** (Linux with `unshare` from util-linux, and user namespaces allowed, or opsbook
  running as root): `unshare --user --map-current-user --pid --fork --mount-proc` gives each run a
  PID namespace and a `/proc` of its own, whose init (pid 1) is the launcher (the steps of a run
  share it; each step's processes are ended before the next starts). A step sees only its own
  processes and the launcher: not the runner's pid, environment or command line (`/proc/*/environ`,
  `kill`, `pkill` reach nothing outside); the launcher's environment holds only what the step may
  see, and as the namespace's init it receives no signal it does not handle. The launcher empties
  its capability bounding set before it starts a step, so the step, root in its user namespace or
  not, has no capability there and cannot unmount that `/proc`. Every process the
  step starts, `setsid` daemons and double forks included, stays in the namespace; when the
  launcher exits, the kernel kills what is left.
- **Subreaper** (Linux without namespaces: many containers and CI runners): the launcher becomes a
  child subreaper (`prctl(PR_SET_CHILD_SUBREAPER)`), so that orphans, `setsid` daemons included,
  are re-parented to it, and it finds every descendant by walking `/proc`. `/proc/$PPID/environ`
  is the launcher's, which holds only what the step may see.
- **Process group** (other systems, such as macOS): the step's session is signalled; a process that
  leaves it (`setsid`) escapes the kill.

When the step's main process exits, when its timeout expires, or when the runner goes away, the
launcher sends SIGTERM to every process the step started, then SIGKILL a second later (KILL_GRACE)
to what is left: nothing outlives its step, and a step ends within its timeout plus about a second.
The runner reads the output pipes with a deadline (select), never waiting on a pipe that an escaped
process holds: the launcher's report is due by the timeout plus the grace period (plus BACKSTOP
seconds, after which the runner kills the launcher itself), and output is read for at most DRAIN
seconds after the launcher ends.

What a step can still do, in every mode: it runs with the rights of the user running opsbook
(run `opsbook test` on outsiders' pull requests as an unprivileged user, in a throwaway machine or
container, with no secrets in its environment): it can read every file that user can read and write
every file that user can write, outside the handbook too (the repository, `/tmp`, the real home
folder by its path); it can use the network; it can use CPU, memory and disk up to the timeout (no
cgroup limits); what it writes to its output is shown, masked, in the results and the log. Without
a PID namespace, in addition: it can see the runner's processes, read their environment through
`/proc/PID/environ` (same user), and signal them (`pkill -f opsbook`); a step that kills its
launcher with SIGKILL before starting a `setsid` daemon leaves that daemon running (the run does
not wait for it: the step fails with "the step's launcher ended without a report"). With the
process-group fallback, a `setsid` daemon escapes the kill.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import os
import re
import selectors
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .place import RunPlace, detect_place
from .records import SECTIONS, Runbook, Step, expect_pattern

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
        environ: The caller's environment (os.environ by default): the variables `allow_env` passes
            through, and where the run happens (CI or a workstation, `place.detect_place`).
        namespaces: Run each step in a PID namespace of its own: None where the machine allows
            (the default), False never, True always (an error where it cannot).
    """

    root: Path
    ci: bool = True
    inputs: Mapping[str, str] = field(default_factory=dict)
    allow_env: Iterable[str] = ()
    default_timeout: float = DEFAULT_TIMEOUT
    max_output: int = 256 * 1024
    environ: Mapping[str, str] | None = None
    namespaces: bool | None = None


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
    #: The step's column in the runbook file (1-based, as in diagnostics), with `line`: where it starts.
    column: int = 0

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
    #: Where the run happened (CI, with its address, or a workstation); None: not said (not written).
    where: RunPlace | None = None

    @property
    def passed(self) -> bool:
        return all(step.ok for step in self.steps)

    @property
    def failed_step(self) -> StepResult | None:
        return next((step for step in self.steps if not step.ok), None)

    def location(self, step: StepResult) -> str:
        """Where the step is written, `path:line:col` as diagnostics say it: the runbook's file, the line
        and column the step starts at."""
        return f"{self.path}:{step.line}:{step.column}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "runbook": self.runbook, "path": self.path, "passed": self.passed, "started": self.started,
            "commit": self.commit, "duration": round(self.duration, 3), "mode": "ci" if self.ci else "local",
            **({"where": self.where.to_dict()} if self.where is not None else {}),
            "steps": [_step_dict(step) for step in self.steps],
        }


def _step_dict(step: StepResult) -> dict[str, Any]:
    fields = asdict(step)
    data = {name: fields[name] for name in ("runbook", "section", "index", "name", "status", "line", "column")}
    data.update(fields)  # the column beside the line, the other fields in their order
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


def step_environment(runbook: Runbook, options: RunOptions,
                     home: Path | None = None) -> tuple[dict[str, str], _Masker]:
    """The environment a step runs in, and the masker for everything it prints.

    HOME is `home`, a folder of the run's own (the runner makes one, and removes it after the run),
    never the caller's: a step cannot read or plant the caller's dotfiles through it."""
    caller = dict(options.environ if options.environ is not None else os.environ)
    # The folder of the running Python first: `opsbook` in a step is the opsbook running the runbook.
    scripts = os.path.dirname(sys.executable)
    env = {
        "PATH": os.pathsep.join([scripts, caller.get("PATH", os.defpath)]),
        "HOME": str(home if home is not None else options.root),
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


class _Capture:
    """What one pipe gave, keeping at most `limit` bytes (the tail) and counting what it drops."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.kept = bytearray()
        self.dropped = 0

    def add(self, chunk: bytes) -> None:
        self.kept += chunk
        if len(self.kept) > self.limit:
            excess = len(self.kept) - self.limit
            del self.kept[:excess]
            self.dropped += excess

    def text(self) -> str:
        body = self.kept.decode("utf-8", errors="replace")
        return (f"[... {self.dropped} bytes dropped ...]\n" + body) if self.dropped else body


LAUNCHER = str(Path(__file__).with_name("launch.py"))
#: Seconds the runner waits, beyond a step's timeout and grace period, before it kills the launcher
#: itself (the launcher ends the step; this is for a launcher that was stopped or killed).
BACKSTOP = 3.0
#: Seconds the runner keeps reading a step's output after its launcher ended: a process that escaped
#: (possible only without a PID namespace) may hold the pipe open, and is not waited for.
DRAIN = 0.5
#: The `unshare` options tried, in order, for a PID namespace of the step's own.
_UNSHARE = (
    ("--user", "--map-current-user"),
    ("--user", "--map-root-user"),
    (),  # root without user namespaces
)
_namespace_prefix: list[list[str] | None] = []


def namespace_prefix() -> list[str] | None:
    """The command that gives a step a PID namespace of its own here, or None where it cannot.

    Probed once per process: `unshare` must exist, and the kernel must allow it (a user namespace
    unless opsbook runs as root; many CI runners and containers allow neither)."""
    if not _namespace_prefix:
        _namespace_prefix.append(_probe_namespaces())
    return _namespace_prefix[0]


def _probe_namespaces() -> list[str] | None:
    if not sys.platform.startswith("linux") or os.environ.get("OPSBOOK_NO_NAMESPACES"):
        return None
    unshare = shutil.which("unshare")
    if unshare is None:
        return None
    for extra in _UNSHARE:
        if not extra and os.geteuid() != 0:
            continue
        prefix = [unshare, *extra, "--pid", "--fork", "--mount-proc", "--kill-child"]
        try:
            probe = subprocess.run([*prefix, "sh", "-c", "test $$ = 1"], capture_output=True, timeout=10,
                                   check=False, stdin=subprocess.DEVNULL)
        except (OSError, subprocess.SubprocessError):
            continue
        if probe.returncode == 0:
            return prefix
    return None


@dataclass
class Execution:
    """What one command did: exit code (None after a timeout), output, seconds, and how it was isolated."""

    exit_code: int | None
    stdout: str
    stderr: str
    duration: float
    timed_out: bool
    isolation: str
    problems: list[str] = field(default_factory=list)


class Launcher:
    """The launcher of one run: a process started with the step environment, in a PID namespace of its
    own where the machine allows, that runs the run's steps one after the other (`run`) and ends
    everything each step started before it reports. Started on the first step; `close` ends it."""

    def __init__(self, env: Mapping[str, str], cwd: Path, namespaces: bool | None = None) -> None:
        self.env, self.cwd = dict(env), cwd
        self.prefix = namespace_prefix() if namespaces is not False else None
        if namespaces is True and self.prefix is None:
            raise RuntimeError("PID namespaces are not available here (unshare --pid --fork --mount-proc)")
        self.isolation = "pid-namespace" if self.prefix is not None else (
            "subreaper" if sys.platform.startswith("linux") else "process-group")
        self.process: subprocess.Popen[bytes] | None = None
        self.control: socket.socket | None = None

    def _start(self) -> tuple[subprocess.Popen[bytes], socket.socket]:
        if self.process is not None and self.control is not None:
            return self.process, self.control
        control, theirs = socket.socketpair()
        try:
            self.process = subprocess.Popen(
                [*(self.prefix or []), sys.executable, "-I", "-S", LAUNCHER, repr(KILL_GRACE)],
                cwd=self.cwd, env=self.env, stdin=theirs.fileno(), stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL, start_new_session=True)
        except BaseException:
            control.close()
            raise
        finally:
            theirs.close()
        self.control = control
        return self.process, control

    def run(self, command: str, timeout: float, max_output: int) -> Execution:
        """Run one command through bash: what it did, its output, and whether it timed out."""
        started = time.perf_counter()
        process, control = self._start()
        out_read, out_write = os.pipe()
        err_read, err_write = os.pipe()
        request = json.dumps({"timeout": timeout, "argv": ["bash", "--noprofile", "--norc", "-eo", "pipefail",
                                                          "-c", command]}).encode()
        try:
            try:
                control.sendall(b"")  # raises at once if the launcher is gone
                socket.send_fds(control, [f"{len(request)}\n".encode() + request], [out_write, err_write])
            finally:
                os.close(out_write)
                os.close(err_write)
            report, out, err, problems = _collect(process, control, out_read, err_read, timeout, max_output)
        except OSError as error:
            report, out, err, problems = "", _Capture(0), _Capture(0), [f"the step's launcher is gone: {error}"]
        finally:
            os.close(out_read)
            os.close(err_read)
        duration = time.perf_counter() - started
        if report.startswith("exit "):
            return Execution(int(report.split()[1]), out.text(), err.text(), duration, False, self.isolation,
                             problems)
        # Without a report the launcher is of no further use: the next step gets a new one.
        returncode = self.close()
        if report == "timeout" or duration >= timeout:
            return Execution(None, out.text(), err.text(), duration, True, self.isolation, problems)
        # No report: the launcher was killed (by the step: only possible without a PID namespace).
        problems.append(f"the step's launcher ended without a report (exit code {returncode})")
        return Execution(returncode, out.text(), err.text(), duration, False, self.isolation, problems)

    def close(self) -> int | None:
        """End the launcher (closing the control socket tells it to) and what it still runs."""
        process, control = self.process, self.control
        self.process = self.control = None
        if control is not None:
            control.close()
        if process is None:
            return None
        end = time.monotonic() + KILL_GRACE + 1
        while not _ended(process) and time.monotonic() < end:
            time.sleep(0.005)
        # Its process group, before it is reaped (a reaped pid may be reused): with a PID namespace,
        # `unshare` and the launcher, the namespace's init.
        _kill_launcher(process)
        return process.wait()


def execute(command: str, env: Mapping[str, str], cwd: Path, timeout: float, max_output: int,
            namespaces: bool | None = None) -> Execution:
    """Run one command through bash under a launcher of its own (`Launcher`), in a PID namespace of its own
    where the machine allows (`namespaces=None`: where available; False: never; True: required)."""
    launcher = Launcher(env, cwd, namespaces)
    try:
        return launcher.run(command, timeout, max_output)
    finally:
        launcher.close()


def _collect(process: subprocess.Popen[bytes], control: socket.socket, out_fd: int, err_fd: int, timeout: float,
             max_output: int) -> tuple[str, _Capture, _Capture, list[str]]:
    """Read the step's output and the launcher's report, never past a deadline: the report is due by the
    timeout plus the grace period (plus BACKSTOP); after it, output is read for at most DRAIN seconds."""
    out, err = _Capture(max_output), _Capture(max_output)
    report = bytearray()
    problems: list[str] = []
    streams: dict[int, _Capture | None] = {out_fd: out, err_fd: err, control.fileno(): None}
    deadline = time.monotonic() + timeout + KILL_GRACE + BACKSTOP
    drain: float | None = None
    with selectors.DefaultSelector() as selector:
        for fd in streams:
            selector.register(fd, selectors.EVENT_READ)
        while selector.get_map():
            now = time.monotonic()
            if drain is None and (b"\n" in report or control.fileno() not in selector.get_map()):
                if control.fileno() in selector.get_map():
                    selector.unregister(control.fileno())  # the report is in: the rest is the next step's
                drain = now + DRAIN
                continue
            limit = drain if drain is not None else deadline
            if now >= limit:
                if drain is None:  # the launcher is stuck or stopped: kill it, and with it the namespace
                    problems.append("the step's launcher did not end in time and was killed")
                    _kill_launcher(process)
                    drain = now + DRAIN
                    continue
                break
            for key, _ in selector.select(timeout=min(limit - now, 0.1)):
                fd = int(key.fd)
                try:
                    chunk = os.read(fd, 65536) if fd != control.fileno() else control.recv(256)
                except OSError:
                    chunk = b""
                if not chunk:
                    selector.unregister(fd)
                    continue
                capture = streams[fd]
                if capture is None:
                    report += chunk
                else:
                    capture.add(chunk)
    return report.decode("ascii", "replace").strip(), out, err, problems


def _ended(process: subprocess.Popen[bytes]) -> bool:
    """Whether the launcher ended, without reaping it: its pid, and its process group, stay reserved."""
    if process.returncode is not None:
        return True
    if not hasattr(os, "waitid"):  # macOS: no waitid, the launcher is reaped
        return process.poll() is not None
    try:
        return os.waitid(os.P_PID, process.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None
    except ChildProcessError:
        return True


def _kill_launcher(process: subprocess.Popen[bytes]) -> None:
    for kill in (lambda: os.killpg(process.pid, signal.SIGKILL), process.kill):
        try:
            kill()
        except OSError:
            pass


def _check_expectations(step: Step, exit_code: int, stdout: str, stderr: str) -> list[str]:
    problems = []
    expected_code = step.expect.get("exit_code", 0)
    if exit_code != expected_code:
        problems.append(f"exit code {exit_code}, expected {expected_code}")
    for stream, text in (("stdout", stdout), ("stderr", stderr)):
        pattern = step.expect.get(stream)
        if isinstance(pattern, str):
            compiled = expect_pattern(pattern)
            if isinstance(compiled, str):
                problems.append(f"{stream} pattern {pattern!r} is not a regular expression RE2 accepts: {compiled}")
            elif compiled.search(text) is None:
                problems.append(f"{stream} does not match {pattern!r}")
    return problems


def run_runbook(runbook: Runbook, options: RunOptions,
                on_step: Callable[[StepResult], None] | None = None) -> RunbookResult:
    """Run a runbook's sections in order, cleanup always, and return what happened to every step."""
    home = Path(tempfile.mkdtemp(prefix="opsbook-home-"))
    try:
        return _run_sections(runbook, options, home, on_step)
    finally:
        shutil.rmtree(home, ignore_errors=True)


def _run_sections(runbook: Runbook, options: RunOptions, home: Path,
                  on_step: Callable[[StepResult], None] | None) -> RunbookResult:
    env, mask = step_environment(runbook, options, home)
    launcher = Launcher(env, options.root, options.namespaces)
    try:
        return _run_with(runbook, options, launcher, mask, on_step)
    finally:
        launcher.close()


def _run_with(runbook: Runbook, options: RunOptions, launcher: Launcher, mask: _Masker,
              on_step: Callable[[StepResult], None] | None) -> RunbookResult:
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
                result = _run_step(runbook, step, launcher, mask, options)
                failed = failed or not result.ok
            results.append(result)
            if on_step is not None:
                on_step(result)
    return RunbookResult(runbook.id, runbook.path, results, started_at, git_commit(options.root),
                         time.perf_counter() - started, ci=options.ci,
                         where=detect_place(options.environ if options.environ is not None else os.environ))


def _record(runbook: Runbook, step: Step, status: str, mask: _Masker | None = None, **extra: Any) -> StepResult:
    line, column = runbook.position(step.section, step.index)
    command = mask(step.run) if mask is not None and step.run is not None else step.run
    digest = hashlib.sha256(step.run.encode("utf-8")).hexdigest() if step.run is not None else None
    return StepResult(runbook.id, step.section, step.index, step.name, status, line, command=command,
                      command_sha256=digest, column=column, **extra)


def _run_step(runbook: Runbook, step: Step, launcher: Launcher, mask: _Masker,
              options: RunOptions) -> StepResult:
    if step.manual is not None and step.run is None:
        return _record(runbook, step, "manual")
    if step.run is None:
        return _record(runbook, step, "failed", problems=["the step has neither run nor manual"])
    if step.skip_reason is not None and options.ci:
        return _record(runbook, step, "skipped", mask, reason=step.skip_reason)
    timeout = step.timeout if step.timeout is not None else options.default_timeout
    done = launcher.run(step.run, timeout, options.max_output)
    exit_code, duration, timed_out = done.exit_code, done.duration, done.timed_out
    stdout, stderr = mask(done.stdout), mask(done.stderr)
    expected: dict[str, Any] = {"exit_code": step.expect.get("exit_code", 0), "timeout": timeout,
                **{k: step.expect[k] for k in ("stdout", "stderr") if k in step.expect}}
    if timed_out:
        return _record(runbook, step, "timeout", mask, duration=duration, stdout=stdout, stderr=stderr,
                       expected=expected, problems=[f"killed after its timeout of {timeout:g} s", *done.problems])
    assert exit_code is not None
    problems = [*done.problems, *_check_expectations(step, exit_code, stdout, stderr)]
    return _record(runbook, step, "failed" if problems else "passed", mask, duration=duration, exit_code=exit_code,
                   stdout=stdout, stderr=stderr, expected=expected, problems=problems)
