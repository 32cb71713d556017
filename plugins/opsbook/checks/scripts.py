"""Scripts that runbook steps and backup policies run exist in the repository (OB045).

The same reading of a shell command as for workflows (`kinds.workflows.scripts_in`): a command word
that is a relative path, or the script an interpreter runs. Runbook steps run from the handbook root
(the runner's working folder), so paths are relative to it.
"""

from __future__ import annotations

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


def _missing(root: Path, command: str) -> Iterator[str]:
    for script in scripts_in(command):
        target = root / script
        if not (target.is_file() or target.is_dir()):
            yield script


def check_scripts(handbook: Handbook) -> Iterator[Diagnostic]:
    """OB045: every script a runbook step or a backup policy runs is in the repository."""
    root = handbook.root
    for runbook in handbook.loaded.get("runbook", []):
        for step in runbook.all_steps():  # type: ignore[attr-defined]
            if not step.run:
                continue
            for script in _missing(root, step.run):
                where = (*runbook._prefix(), step.section, step.index, "run")
                line, column = runbook.document.position_of_text(where, step.run, script)
                yield make("OB045", runbook.path, line, column,
                           f"step '{step.name}' runs {script}, which is not in the repository")
    for backup in handbook.loaded.get("backup", []):
        command = backup.data.get("script")
        if not isinstance(command, str):
            continue
        for script in _missing(root, command):
            where = (*backup._prefix(), "script")
            line, column = backup.document.position_of_text(where, command, script)
            yield make("OB045", backup.path, line, column,
                       f"backup {backup.id} is taken by {script}, which is not in the repository")
