"""The launcher: the one process between the runner and the steps of a run, which ends everything
each step started.

The runner starts it once per run of a runbook, as `python -I -S launch.py GRACE`, with the steps'
environment as its own (so that `/proc/$PPID/environ` in a step shows nothing the step does not
already have) and a Unix socket as its standard input: the control channel. It imports nothing but
the standard library and nothing of opsbook (`-S` skips the site packages; it is started as a file).
For each step the runner sends a request, `LENGTH\n` and JSON `{"timeout": SECONDS, "argv": [...]}`,
with the write ends of the step's stdout and stderr pipes attached (SCM_RIGHTS); the launcher starts
the command in a session of its own with those as its output, waits for it, ends everything it
started, and answers one line: `exit CODE` or `timeout`. The end of the socket ends the launcher.

Where the runner could give it a PID namespace (`unshare --pid --fork --mount-proc`), it is that
namespace's init (pid 1): every process a step starts, `setsid` daemons included, is in the
namespace, orphans are re-parented to it, it ends them all with `kill(-1, ...)`, and the kernel
kills whatever is left when it exits. It first empties its capability bounding set, so that steps,
root in their user namespace or not, have no capability and cannot unmount the namespace's `/proc`
to look at the runner's processes. Elsewhere on Linux it becomes a child subreaper
(`prctl(PR_SET_CHILD_SUBREAPER)`): orphans are re-parented to it, and it finds every descendant by
walking `/proc`. On other systems it signals the step's process group only.

It ends a step and everything the step started (SIGTERM, then SIGKILL after GRACE seconds to what is
left) when the step's main process exits, when the step's timeout has passed, or when the control
socket reaches its end (the runner is gone or gave up). It ignores SIGTERM, SIGINT and SIGHUP, which
only a step could send it.
"""

from __future__ import annotations

import json
import os
import select
import signal
import socket
import sys
import time

PR_SET_CHILD_SUBREAPER = 36
PR_CAPBSET_DROP = 24
#: Seconds the launcher spends killing before it gives up on a process it cannot end (a process in
#: uninterruptible sleep): it then reports and exits; in a namespace the kernel ends the rest.
KILL_LIMIT = 5.0


def _prctl(option: int, value: int) -> bool:
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        return int(libc.prctl(option, value, 0, 0, 0)) == 0
    except (OSError, AttributeError):
        return False


def _drop_capabilities() -> None:
    """Empty the bounding set: what the launcher executes has no capability, even as root."""
    try:
        with open("/proc/sys/kernel/cap_last_cap", encoding="ascii") as file:
            last = int(file.read())
    except (OSError, ValueError):
        last = 40
    for capability in range(last + 1):
        _prctl(PR_CAPBSET_DROP, capability)


def _ppids() -> dict[int, int]:
    """Every process's parent, from /proc."""
    parents: dict[int, int] = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", encoding="ascii", errors="replace") as file:
                stat = file.read()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[-1].split()
        if len(fields) > 1:
            parents[int(name)] = int(fields[1])
    return parents


def _descendants(ancestor: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for pid, parent in _ppids().items():
        children.setdefault(parent, []).append(pid)
    found, todo = [], [ancestor]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


class Launcher:
    def __init__(self, grace: float) -> None:
        self.grace = grace
        self.init = os.getpid() == 1
        self.linux = sys.platform.startswith("linux") and os.path.isdir("/proc/self")
        self.main_pid = 0
        self.status: int | None = None
        # SIGCHLD wakes the launcher up through this pipe (signal.set_wakeup_fd): no polling.
        self.wakeup, wakeup_write = os.pipe()
        for fd in (self.wakeup, wakeup_write):
            os.set_blocking(fd, False)
        signal.set_wakeup_fd(wakeup_write)
        signal.signal(signal.SIGCHLD, lambda *_: None)
        if self.init:
            _drop_capabilities()
        elif self.linux:
            _prctl(PR_SET_CHILD_SUBREAPER, 1)
        for number in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            # A handler, not SIG_IGN: handlers are reset by exec, so the step gets the default dispositions.
            signal.signal(number, lambda *_: None)

    def start(self, command: list[str], stdout: int, stderr: int) -> None:
        """Start the step's main process, in a session of its own, its output to the pipes it was given."""
        self.status = None
        pid = os.fork()
        if pid == 0:  # the step's main process
            try:
                os.setsid()
                os.dup2(stdout, 1)
                os.dup2(stderr, 2)
                null = os.open(os.devnull, os.O_RDONLY)
                os.dup2(null, 0)
                os.closerange(3, 65536)
                # Python ignores SIGPIPE and friends: the step gets the default dispositions, as from a shell.
                for name in ("SIGPIPE", "SIGXFZ", "SIGXFSZ"):
                    if hasattr(signal, name):
                        signal.signal(getattr(signal, name), signal.SIG_DFL)
                os.execvp(command[0], command)
            except BaseException as error:
                os.write(2, f"opsbook: cannot start {command[0]}: {error}\n".encode())
            finally:
                os._exit(127)
        self.main_pid = pid

    def reap(self) -> bool:
        """Collect every child that ended; False when there is no child left."""
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return False
            if pid == 0:
                return True
            if pid == self.main_pid:
                self.status = os.waitstatus_to_exitcode(status)

    def signal_all(self, number: int) -> None:
        if self.init:
            try:
                os.kill(-1, number)  # every process of the namespace but its init
            except OSError:
                pass
            return
        targets = _descendants(os.getpid()) if self.linux else []
        for pid in targets:
            try:
                os.kill(pid, number)
            except OSError:
                pass
        try:
            os.killpg(self.main_pid, number)
        except OSError:
            pass

    def sleep(self, seconds: float, control: int | None = None) -> bool:
        """Sleep until a child ends or `seconds` pass; False if the control socket reached its end."""
        watched = [self.wakeup] if control is None else [self.wakeup, control]
        ready, _, _ = select.select(watched, [], [], max(seconds, 0))
        if self.wakeup in ready:
            try:
                os.read(self.wakeup, 4096)
            except BlockingIOError:
                pass
        if control in ready:
            try:
                return bool(os.read(control, 4096))
            except BlockingIOError:
                return True
            except OSError:
                return False
        return True

    def settle(self, seconds: float) -> None:
        """Wait up to `seconds` for every child to end."""
        end = time.monotonic() + seconds
        while self.reap() and time.monotonic() < end:
            self.sleep(min(end - time.monotonic(), 0.05))

    def run_step(self, control: int, timeout: float) -> str:
        """Wait for the main process, the timeout or the control socket: `exited`, `timeout` or `control`."""
        end = time.monotonic() + timeout
        while self.status is None:
            self.reap()
            if self.status is not None:
                break
            remaining = end - time.monotonic()
            if remaining <= 0:
                return "timeout"
            if not self.sleep(remaining, control):
                return "control"
        return "exited"

    def end_all(self) -> None:
        """SIGTERM to everything the step started, SIGKILL to what is left after the grace period.

        As init or subreaper, no child left means no process of the step left. Elsewhere the launcher
        cannot tell, and signals the step's process group in any case."""
        if not self.reap() and (self.init or self.linux):
            return
        self.signal_all(signal.SIGTERM)
        self.settle(self.grace)
        end = time.monotonic() + KILL_LIMIT
        while True:
            self.signal_all(signal.SIGKILL)
            if not self.reap() or time.monotonic() >= end:
                break
            time.sleep(0.005)


def _request(control: socket.socket) -> tuple[float, list[str], list[int]] | None:
    """The next step: its timeout, its command and its two output pipes; None when the runner is done."""
    data, fds, _, _ = socket.recv_fds(control, 65536, 2)
    if not data:
        return None
    header, _, body = data.partition(b"\n")
    size = int(header)
    while len(body) < size:
        chunk = control.recv(size - len(body))
        if not chunk:
            return None
        body += chunk
    request = json.loads(body)
    if len(fds) != 2:
        raise ValueError("a request comes with two pipes")
    return float(request["timeout"]), [str(arg) for arg in request["argv"]], fds


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        os.write(2, b"usage: launch.py GRACE (requests on standard input)\n")
        return 2
    launcher = Launcher(float(argv[1]))
    control = socket.socket(fileno=0)
    while True:
        request = _request(control)
        if request is None:
            break
        timeout, command, (stdout, stderr) = request
        launcher.start(command, stdout, stderr)
        os.close(stdout)
        os.close(stderr)
        why = launcher.run_step(0, timeout)
        launcher.end_all()
        if why == "control":  # the runner went away or gave up: nothing to report to
            break
        report = f"exit {launcher.status}" if why == "exited" else "timeout"
        try:
            control.sendall((report + "\n").encode())
        except OSError:
            break
    launcher.end_all()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
