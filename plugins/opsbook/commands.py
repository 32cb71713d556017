"""Shell commands as opsbook reads them: which repository scripts a command runs, and which of those
are missing (OB045, yielded for runbook steps by the runbooks family and for backup scripts by the
recovery family).

A script is a command word that is a relative path, or the script an interpreter runs. Commands run
from the handbook root, so paths are relative to it; after a `cd` they are not, and are not read.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from .diagnostics import Code, Severity

__all__ = ["OB045", "missing_scripts", "scripts_in"]

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


_EXPRESSION = re.compile(r"\$\{\{(.*?)\}\}", re.S)
_SEPARATORS = re.compile(r"&&|\|\||[;|`]|\$\(|\bthen\b|\bdo\b|\belse\b")
_INTERPRETERS = {"bash", "sh", "zsh", "dash", "python", "python3", "node", "ruby", "perl", "pwsh", "deno", "source",
                 "."}
_SCRIPT_SUFFIXES = (".sh", ".bash", ".py", ".rb", ".pl", ".js", ".mjs", ".ts", ".ps1")
#: Folders whose files are scripts even without a suffix.
_SCRIPT_DIRS = ("scripts/", "bin/", "tools/", "ci/", "hack/", ".github/")
_PATH = re.compile(r"(?:\./)?[A-Za-z0-9_][A-Za-z0-9_.-]*(?:/[A-Za-z0-9_.-]+)+|(?:\./)?[A-Za-z0-9_.-]+")


def scripts_in(command: str) -> list[str]:
    """Paths of repository scripts a shell command invokes: a command word that is a relative path
    (`scripts/deploy.sh`, `./tools/check`), or the script an interpreter runs (`python tools/x.py`)."""
    found: list[str] = []
    text = _EXPRESSION.sub(" ", command).replace("\\\n", " ")  # ${{ }} and line continuations
    for line in text.splitlines():
        if line.lstrip().startswith("#"):
            continue
        for part in _SEPARATORS.split(line):
            words = [w.strip("'\"()") for w in part.split()]
            words = [w for w in words if w and not re.match(r"^[A-Za-z_][A-Za-z0-9_]*=", w)]  # VAR=value
            if not words:
                continue
            candidate = None
            if words[0] in _INTERPRETERS:
                rest = [w for w in words[1:] if not w.startswith("-")]
                if rest and (rest[0].endswith(_SCRIPT_SUFFIXES) or "/" in rest[0]):
                    candidate = rest[0]
            elif "/" in words[0]:
                candidate = words[0]
            if candidate is None or not _PATH.fullmatch(candidate):
                continue
            path = candidate.removeprefix("./")
            if path.endswith(_SCRIPT_SUFFIXES) or path.startswith(_SCRIPT_DIRS):
                if path not in found:
                    found.append(path)
    return found


# A `cd` (or `pushd`) moves the step elsewhere: the paths after it are not relative to the root.
_MOVES = re.compile(r"(?:^|[;&|(\n])\s*(?:cd|pushd)(?:\s|$)")


def missing_scripts(root: Path, command: str, known: dict[str, bool]) -> Iterator[str]:
    """The scripts `command` runs before any `cd` that are not files of the repository at `root`;
    `known` remembers each path's answer across calls (many steps run the same few scripts)."""
    moved = _MOVES.search(command)
    for script in scripts_in(command[: moved.start()] if moved else command):
        if script not in known:  # many steps run the same few scripts
            target = (root / script).resolve()
            # A file of the repository: not one a `..` or a link leads to outside it, whose existence is
            # not this check's business (nor anyone's who reads its output).
            known[script] = target.is_relative_to(root.resolve()) and target.is_file()
        if not known[script]:
            yield script
