"""Shell commands as opsbook reads them: which repository scripts a command runs, and which of those
are missing (OB045, yielded for runbook steps by the runbooks family and for backup scripts by the
recovery family).

A script is a command word that is a relative path, or the script an interpreter runs. Commands are
parsed with bashlex and read as a shell runs them: commands run from the handbook root (a workflow
step from its working directory), and a path is relative to the folder the `cd`s before it lead to;
after a `cd` opsbook cannot follow, paths are not read.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import bashlex  # type: ignore[import-untyped]

from .diagnostics import Code, Severity

__all__ = ["OB045", "Invocation", "in_repository", "invocations", "join_path", "missing_scripts", "scripts_in"]

OB045 = Code("OB045", Severity.ERROR, "Script not in the repository",
         "A runbook step's `run`, or a backup policy's `script`, invokes a script by a path inside the "
         "repository (`scripts/restart.sh`, `python tools/drain.py`), and no file is there. Whoever "
         "follows the runbook in an incident gets `No such file or directory`. Add the script, or correct "
         "the path. Paths are relative to the handbook root, where steps run.",
         failing="# runbooks/orders-db-restore.yaml\n"
                 "steps:\n"
                 "  - name: Restore the last backup\n"
                 "    run: scripts/orders-db.sh restore   # no scripts/orders-db.sh\n",
         passing="# runbooks/orders-db-restore.yaml\n"
                 "steps:\n"
                 "  - name: Restore the last backup\n"
                 "    run: scripts/orders-db.sh restore\n"
                 "# scripts/orders-db.sh\n"
                 "#!/bin/sh\n")


# A `cd` (or `pushd`) moves the step elsewhere: without the parser, the paths after it are not read.
_MOVES = re.compile(r"(?:^|[;&|(\n])\s*(?:cd|pushd)(?:\s|$)")


_EXPRESSION = re.compile(r"\$\{\{(.*?)\}\}", re.S)
_SEPARATORS = re.compile(r"&&|\|\||[;|`]|\$\(|\bthen\b|\bdo\b|\belse\b")
_INTERPRETERS = {"bash", "sh", "zsh", "dash", "python", "python3", "node", "ruby", "perl", "pwsh", "deno", "source",
                 "."}
_SCRIPT_SUFFIXES = (".sh", ".bash", ".py", ".rb", ".pl", ".js", ".mjs", ".ts", ".ps1")
#: Folders whose files are scripts even without a suffix.
_SCRIPT_DIRS = ("scripts/", "bin/", "tools/", "ci/", "hack/", ".github/")
_PATH = re.compile(r"(?:\./)?[A-Za-z0-9_][A-Za-z0-9_.-]*(?:/[A-Za-z0-9_.-]+)+|(?:\./)?[A-Za-z0-9_.-]+")


@dataclass(frozen=True)
class Invocation:
    """A repository script a command runs: `written` as the command writes it (where a diagnostic is
    placed), `path` the file it names, relative to the folder the command starts in, after the `cd`s
    before it (`join_path`: normalised after a `cd`, `../x.sh` being outside that folder)."""

    written: str
    path: str


_UNKNOWN = None  # the current folder, once a `cd` went somewhere opsbook cannot follow
_DYNAMIC = re.compile(r"[$`~*?\[\]{}]")


def _candidate(words: list[str]) -> str | None:
    """The script a simple command's words run, as written (today's rules on one command)."""
    words = [w for w in words if w and not re.match(r"^[A-Za-z_][A-Za-z0-9_]*=", w)]  # VAR=value
    if not words:
        return None
    candidate = None
    if words[0] in _INTERPRETERS:
        rest = [w for w in words[1:] if not w.startswith("-")]
        if rest and (rest[0].endswith(_SCRIPT_SUFFIXES) or "/" in rest[0]):
            candidate = rest[0]
    elif "/" in words[0]:
        candidate = words[0]
    if candidate is None or not _PATH.fullmatch(candidate):
        return None
    path = candidate.removeprefix("./")
    return path if path.endswith(_SCRIPT_SUFFIXES) or path.startswith(_SCRIPT_DIRS) else None


def _regex_reading(command: str) -> list[Invocation]:
    """The reading without a shell parser: words between separators, up to the first `cd`."""
    found: list[Invocation] = []
    moved = _MOVES.search(command)
    text = (command[: moved.start()] if moved else command).replace("\\\n", " ")
    for line in text.splitlines():
        if line.lstrip().startswith("#"):
            continue
        for part in _SEPARATORS.split(line):
            path = _candidate([w.strip("'\"()") for w in part.split()])
            if path is not None:
                found.append(Invocation(path, posixpath.normpath(path)))
    return found


class _Shell:
    """Walks bashlex's tree as a shell runs it, keeping the current folder (relative to the start,
    or `_UNKNOWN`) and the `pushd` stack."""

    def __init__(self) -> None:
        self.found: list[Invocation] = []

    def walk(self, node: Any, folder: str | None, stack: list[str | None]) -> str | None:
        """Runs `node` from `folder`; returns the folder after it."""
        kind = node.kind
        if kind == "list":
            return self._list(node.parts, folder, stack)
        if kind == "pipeline":  # each command of a pipeline runs in a subshell
            for part in node.parts:
                if part.kind != "pipe":
                    self.walk(part, folder, list(stack))
            return folder
        if kind == "command":
            return self._command(node, folder, stack)
        if kind == "compound":
            subshell = any(p.kind == "reservedword" and p.word == "(" for p in node.list)
            after = self._list(node.list, folder, list(stack) if subshell else stack)
            return folder if subshell else after
        if kind in ("if", "for", "while", "until"):  # bodies that may run, or not, or again
            after = self._list(node.parts, folder, list(stack))
            return folder if after == folder else _UNKNOWN
        if kind == "function":  # defined here, run later from wherever it is called
            self.walk(node.body, folder, list(stack))
            return folder
        return folder

    def _list(self, parts: list[Any], folder: str | None, stack: list[str | None]) -> str | None:
        conditional = uncertain = False  # after `&&` or `||`; a `cd` there may not have run
        for part in parts:
            if part.kind == "operator":
                if part.op in ("&&", "||"):
                    conditional = True
                else:  # `;`, `&`, a new line: the end of an and-or list
                    if uncertain:
                        folder = _UNKNOWN
                    conditional = uncertain = False
            elif part.kind not in ("reservedword", "word", "pipe"):
                before = folder
                folder = self.walk(part, folder, stack)
                uncertain = uncertain or (conditional and folder != before)
        return _UNKNOWN if uncertain else folder

    def _substitutions(self, node: Any, folder: str | None, stack: list[str | None]) -> None:
        for part in getattr(node, "parts", None) or []:
            if part.kind in ("commandsubstitution", "processsubstitution"):
                self.walk(part.command, folder, list(stack))
            else:
                self._substitutions(part, folder, stack)
        for attr in ("output", "input"):
            child = getattr(node, attr, None)
            if child is not None and hasattr(child, "kind"):
                self._substitutions(child, folder, stack)

    def _command(self, node: Any, folder: str | None, stack: list[str | None]) -> str | None:
        self._substitutions(node, folder, stack)
        words = [_literal(p) for p in node.parts if p.kind == "word"]
        if not words:
            return folder
        if words[0] in ("cd", "pushd", "popd"):
            if words[0] == "popd":
                return stack.pop() if stack else _UNKNOWN
            arguments = [w for w in words[1:] if w is None or w == "-" or not w.startswith("-")]
            if words[0] == "pushd":
                stack.append(folder)
            if len(arguments) != 1:
                return _UNKNOWN  # `cd` alone (home), `pushd` alone (a swap)
            return _moved(folder, arguments[0])
        if folder is not None:  # after a `cd` opsbook cannot follow, no path is read
            script = _candidate([w if w is not None else "$" for w in words])  # "$": computed at run time
            if script is not None:
                self.found.append(Invocation(script, join_path(folder, script)))
        return folder


def join_path(folder: str, path: str) -> str:
    """`path` from `folder`, normalised when `folder` is not `.` (a path in the folder a command starts
    in is named as written)."""
    return path if folder == "." else posixpath.normpath(posixpath.join(folder, path))


def _literal(word: Any) -> str | None:
    """A word's text when the shell would not change it at run time, else None."""
    text = str(word.word)
    if getattr(word, "parts", None) or _DYNAMIC.search(text):
        return None
    return text


def _moved(folder: str | None, target: str | None) -> str | None:
    """The folder after `cd target` from `folder` (relative to the start), or `_UNKNOWN`."""
    if folder is None or target is None or target in ("", "-") or target.startswith("/"):
        return _UNKNOWN  # a computed target, the previous folder, or a path outside the repository's tree
    return posixpath.normpath(posixpath.join(folder, target))


def invocations(command: str) -> list[Invocation]:
    """The repository scripts a shell command runs, in order, each once, read as a shell would: a
    command word that is a relative path (`scripts/deploy.sh`, `./tools/check`), or the script an
    interpreter runs (`python tools/x.py`, `. ./env.sh`), each relative to the folder the `cd`s,
    `pushd`s and `popd`s before it lead to, from the folder the command starts in. A `cd` in a subshell
    or a pipeline does not move the rest; a `cd` whose target is computed at run time, absolute, `-`
    or home, or one that may not run (in an `if` body, after `&&`), ends the reading: nothing after it
    is read. GitHub expressions (`${{ }}`) are values computed at run time. A command bashlex cannot
    parse is read without it, up to its first `cd`."""
    text = _EXPRESSION.sub("${__opsbook_expression}", command)
    shell = _Shell()
    try:
        folder: str | None = "."
        for tree in bashlex.parse(text):
            folder = shell.walk(tree, folder, [])
        found = shell.found
    except Exception:  # bashlex does not parse every shell, and its errors are of many types
        found = _regex_reading(_EXPRESSION.sub(" ", command))
    unique: list[Invocation] = []
    for invocation in found:
        if invocation.path not in [i.path for i in unique]:
            unique.append(invocation)
    return unique


def scripts_in(command: str) -> list[str]:
    """Paths of repository scripts a shell command invokes (see `invocations`), relative to the folder
    the command starts in."""
    return [invocation.path for invocation in invocations(command)]


def in_repository(root: Path, path: str) -> bool:
    """Whether `path` (relative to `root`) is a file of the repository at `root`: not one a `..` or a
    link leads to outside it, whose existence is not this check's business (nor anyone's who reads its
    output)."""
    target = (root / path).resolve()
    return target.is_relative_to(root.resolve()) and target.is_file()


def missing_scripts(root: Path, command: str, known: dict[str, bool]) -> Iterator[Invocation]:
    """The scripts `command` runs (from `root`) that are not files of the repository at `root`; `known`
    remembers each path's answer across calls (many steps run the same few scripts)."""
    for invocation in invocations(command):
        if invocation.path not in known:
            known[invocation.path] = in_repository(root, invocation.path)
        if not known[invocation.path]:
            yield invocation
