"""Scripts that runbook steps and backup policies run exist in the repository (OB045).

The same reading of a shell command as for workflows (`kinds.workflows.scripts_in`): a command word
that is a relative path, or the script an interpreter runs. Runbook steps run from the handbook root
(the runner's working folder), so paths are relative to it. A script that an earlier step of the same
runbook names (a setup step that writes or fetches it) is not required in the repository.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from ..diagnostics import Diagnostic, Severity, make, register
from ..kinds.workflows import scripts_in
from ..model import Handbook

register("OB045", Severity.ERROR, "Script not in the repository",
         "A runbook step's `run`, or a backup policy's `script`, invokes a script by a path inside the "
         "repository (`scripts/restart.sh`, `python tools/drain.py`), and no file is there. Whoever "
         "follows the runbook in an incident gets `No such file or directory`. Add the script, or correct "
         "the path. Paths are relative to the handbook root, where steps run.",
         failing="run: scripts/orders-api.sh rolling-restart   # no scripts/orders-api.sh\n",
         passing="run: scripts/orders-api.sh rolling-restart   # scripts/orders-api.sh is committed\n")


# A `cd` (or `pushd`) moves the step elsewhere: the paths after it are not relative to the root.
_MOVES = re.compile(r"(?:^|[;&|(\n])\s*(?:cd|pushd)(?:\s|$)")


def _missing(root: Path, command: str, known: dict[str, bool]) -> Iterator[str]:
    moved = _MOVES.search(command)
    for script in scripts_in(command[: moved.start()] if moved else command):
        if script not in known:  # many steps run the same few scripts
            target = (root / script).resolve()
            # A file of the repository: not one a `..` or a link leads to outside it, whose existence is
            # not this check's business (nor anyone's who reads its output).
            known[script] = target.is_relative_to(root.resolve()) and target.is_file()
        if not known[script]:
            yield script


def check_scripts(handbook: Handbook) -> Iterator[Diagnostic]:
    """OB045: every script a runbook step or a backup policy runs is in the repository."""
    root = handbook.root
    known: dict[str, bool] = {}
    for runbook in handbook.loaded.get("runbook", []):
        earlier: list[str] = []  # the commands of the steps before, in the order the runner runs them
        for step in runbook.all_steps():  # type: ignore[attr-defined]
            if not step.run:
                continue
            for script in _missing(root, step.run, known):
                if any(script in command for command in earlier):
                    continue  # an earlier step names it: it writes, copies or fetches it (or ran it, reported there)
                where = (*runbook._prefix(), step.section, step.index, "run")
                line, column = runbook.document.position_of_text(where, step.run, script)
                yield make("OB045", runbook.path, line, column,
                           f"step '{step.name}' runs {script}, which is not in the repository")
            earlier.append(step.run)
    for backup in handbook.loaded.get("backup", []):
        command = backup.data.get("script")
        if not isinstance(command, str):
            continue
        for script in _missing(root, command, known):
            where = (*backup._prefix(), "script")
            line, column = backup.document.position_of_text(where, command, script)
            yield make("OB045", backup.path, line, column,
                       f"backup {backup.id} is taken by {script}, which is not in the repository")
