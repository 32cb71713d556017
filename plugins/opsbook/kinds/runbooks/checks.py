"""The runbook family's checks: step timeouts (OB041), the scripts steps run (OB045), a readable
results file (OB050).

The step rules the schema states (OB030, OB031) are the runbook kind's schema hook, in `records`;
shellcheck on the steps is in `shellcheck`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from ...checks.freshness import OB041
from ...commands import OB045, missing_scripts
from ...diagnostics import Code, Diagnostic, Severity, make
from ...durations import parse_duration
from ...model import Handbook
from .records import Runbook
from .verification import results_of

__all__ = ["OB050", "check_results", "check_step_scripts", "check_timeouts"]


def check_timeouts(handbook: Handbook) -> Iterator[Diagnostic]:
    """OB041: step timeouts that have the form of a duration but are not one, or are zero."""
    for runbook in handbook.loaded_of(Runbook):
        yield from _invalid_timeouts(runbook)


_DURATION_FORM = re.compile(r"^(\d+(ms|s|m|h|d|w|y))+$")


def _invalid_timeouts(runbook: Runbook) -> Iterator[Diagnostic]:
    for step in runbook.all_steps():
        value = step.expect.get("timeout")
        if isinstance(value, str) and _DURATION_FORM.match(value) and not parse_duration(value):
            line, column = runbook.position(step.section, step.index, "expect", "timeout")
            why = "is zero" if parse_duration(value) == 0 else "is not a duration: each unit once, largest first"
            yield make(OB041, runbook.path, line, column, f"timeout {value!r} {why}")


OB050 = Code("OB050", Severity.WARNING, "Runner results cannot be read",
         "The results file (the `results` option, `.opsbook/results.json` by default) exists but is not a "
         "results file opsbook can read: not JSON, too large, or of another shape. The site then shows no "
         "runbook as verified. Run `opsbook test` again to write it anew.",
         failing="# .opsbook/results.json\n"
                 "{\"version\": 1, \"runbooks\": {\n",
         passing="# .opsbook/results.json\n"
                 "{\"version\": 1, \"runbooks\": {}}\n")


def check_results(handbook: Handbook) -> Iterator[Diagnostic]:
    """OB050: a results file that exists is readable, or the site would silently show nothing verified."""
    problem = results_of(handbook).problem
    if problem is not None:
        yield make(OB050, handbook.config.results, 1, 1, problem)


def check_step_scripts(handbook: Handbook) -> Iterator[Diagnostic]:
    """OB045: every script a runbook step runs is in the repository, unless an earlier step of the
    runbook names it (a setup step that writes, copies or fetches it)."""
    known: dict[str, bool] = {}
    for runbook in handbook.loaded_of(Runbook):
        earlier: list[str] = []  # the commands of the steps before, in the order the runner runs them
        for step in runbook.all_steps():
            if not step.run:
                continue
            for script in missing_scripts(handbook.root, step.run, known):
                if any(script in command for command in earlier):
                    continue  # an earlier step names it: it writes, copies or fetches it (or ran it, reported there)
                where = (*runbook._prefix(), step.section, step.index, "run")
                line, column = runbook.document.position_of_text(where, step.run, script)
                yield make(OB045, runbook.path, line, column,
                           f"step '{step.name}' runs {script}, which is not in the repository")
            earlier.append(step.run)
