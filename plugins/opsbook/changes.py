"""Pull-request mode (`opsbook check --changed-since REF`): the files changed since a git revision, and
the date-driven diagnostics judged by them.

A date-driven code (`Code.date_driven`: a review falls due, a drill grows too old, an action item passes
its date) can appear on a file nobody touched, only because a day went by. On a pull request that would
fail a change unrelated to it; so in this mode such a diagnostic fails only on a file the branch changed
(`git diff REF...HEAD`, plus what is staged, modified or untracked in the work tree). On any other file it
is still reported, as information marked `(not changed since REF: reported, not failing)`, and the full
check, run on a schedule, still fails on it. The MkDocs plugin judges the same way when the environment
variable `OPSBOOK_CHANGED_SINCE` names REF, so that `mkdocs build --strict` on a pull request agrees.

git runs as a list of arguments, in the handbook root, with a timeout; every way it can fail (no git, not a
repository, a revision it cannot resolve, no merge base in a shallow clone) is a `ChangesError` in one line.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from .diagnostics import Code, Diagnostic, Severity

__all__ = ["CHANGED_SINCE_VARIABLE", "GIT_TIMEOUT", "ChangedJudgement", "ChangesError", "changed_files",
           "judge_changed", "marker"]

#: Seconds any one git command may take.
GIT_TIMEOUT = 60
#: The environment variable that puts the MkDocs plugin in pull-request mode (`mkdocs build` has no
#: option of ours): set to REF, the build judges as `opsbook check --changed-since REF`; empty, it does not.
CHANGED_SINCE_VARIABLE = "OPSBOOK_CHANGED_SINCE"


class ChangesError(Exception):
    """The changed files cannot be known; the message is one line, for the user."""


def _git(root: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    # GIT_OPTIONAL_LOCKS=0: reading the status takes no lock a concurrent git command would trip on.
    env = {**os.environ, "GIT_OPTIONAL_LOCKS": "0", "GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C"}
    try:
        return subprocess.run(["git", *args], cwd=root, capture_output=True, timeout=GIT_TIMEOUT, env=env,
                              check=False)
    except FileNotFoundError:
        raise ChangesError("git is not installed (or not on PATH): --changed-since needs it") from None
    except subprocess.TimeoutExpired:
        raise ChangesError(f"git {args[0]} took longer than {GIT_TIMEOUT} s") from None
    except OSError as error:
        raise ChangesError(f"cannot run git: {error.strerror or error}") from None


def _said(result: subprocess.CompletedProcess[bytes]) -> str:
    """git's own complaint, on one line."""
    lines = [line.strip() for line in result.stderr.decode("utf-8", "replace").splitlines() if line.strip()]
    return "; ".join(lines[:3]) or f"git exited with status {result.returncode}"


def _paths(result: subprocess.CompletedProcess[bytes]) -> set[str]:
    return {os.fsdecode(path).replace(os.sep, "/") for path in result.stdout.split(b"\0") if path}


def changed_files(root: Path, ref: str) -> frozenset[str]:
    """The files under `root` changed since `ref`, relative to `root` with `/` separators.

    They are the files the branch changed since it left `ref` (`git diff REF...HEAD`, as a pull request
    shows them) and those staged, modified, deleted or untracked in the work tree.

    Raises:
        ChangesError: git is missing, `root` is not in a git work tree, or git cannot resolve `ref` or
            find where HEAD left it (a shallow clone: check out with `fetch-depth: 0`).
    """
    if not ref or ref.startswith("-"):
        raise ChangesError(f"--changed-since {ref!r}: give a git revision, such as origin/main")
    inside = _git(root, "rev-parse", "--is-inside-work-tree")
    if inside.returncode != 0 or inside.stdout.strip() != b"true":
        raise ChangesError(f"--changed-since needs a git repository, and {root} is not in one "
                           f"({_said(inside) if inside.returncode else 'not a work tree'})")
    resolved = _git(root, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
    if resolved.returncode != 0:
        raise ChangesError(f"--changed-since {ref!r}: git cannot resolve it to a commit (is the branch fetched? "
                           "on GitHub Actions, check out with fetch-depth: 0)")
    commit = resolved.stdout.decode("ascii", "replace").strip()
    diff = ("diff", "--name-only", "-z", "--relative", "--no-renames", "--no-ext-diff")
    found: set[str] = set()
    for args, hint in (((*diff, f"{commit}...HEAD", "--"), " (a shallow clone? check out with fetch-depth: 0)"),
                       ((*diff, "HEAD", "--"), ""),
                       (("ls-files", "-z", "--others", "--exclude-standard"), "")):
        result = _git(root, *args)
        if result.returncode != 0:
            raise ChangesError(f"--changed-since {ref!r}: git {args[0]} failed: {_said(result)}{hint}")
        found |= _paths(result)
    return frozenset(found)


def marker(ref: str) -> str:
    """The words added to a date-driven diagnostic on a file not changed since `ref`."""
    return f"(not changed since {ref}: reported, not failing)"


@dataclass(frozen=True)
class ChangedJudgement:
    """The diagnostics to report, and those of the analysis that do not count toward the exit status."""

    #: Every diagnostic, in the analysis' order; those excused are information, marked with `marker`.
    diagnostics: list[Diagnostic]
    #: The analysis' own diagnostics that are excused: date-driven, on a file not changed.
    excused: frozenset[Diagnostic]


def judge_changed(diagnostics: Sequence[Diagnostic], changed: Iterable[str], codes: Mapping[str, Code],
                  ref: str) -> ChangedJudgement:
    """Downgrade the date-driven diagnostics (`codes[...].date_driven`) on files not in `changed` to
    information, marked as reported and not failing; any other diagnostic stays as it is."""
    touched = frozenset(changed)
    reported: list[Diagnostic] = []
    excused: set[Diagnostic] = set()
    for diagnostic in diagnostics:
        code = codes.get(diagnostic.code)
        if code is not None and code.date_driven and diagnostic.path not in touched:
            excused.add(diagnostic)
            diagnostic = replace(diagnostic, severity=Severity.INFO,
                                 message=f"{diagnostic.message} {marker(ref)}")
        reported.append(diagnostic)
    return ChangedJudgement(reported, frozenset(excused))
