"""The runbook family's checks: step timeouts (OB041), the scripts steps run (OB045), a readable
results file (OB050) that no commit brought (OB051).

The step rules the schema states (OB030, OB031) are the runbook kind's schema hook, in `records`;
shellcheck on the steps is in `shellcheck`.
"""

from __future__ import annotations

from collections.abc import Iterator

from ...checks.freshness import OB041
from ...commands import OB045, missing_scripts
from ...diagnostics import Code, Diagnostic, Severity, make
from ...durations import DURATION_FORM, parse_duration
from ...model import Handbook
from .records import Runbook
from .verification import results_of

__all__ = ["OB050", "OB051", "check_results", "check_step_scripts", "check_timeouts"]


def check_timeouts(handbook: Handbook) -> Iterator[Diagnostic]:
    """OB041: step timeouts that have the form of a duration but are not one, or are zero."""
    for runbook in handbook.loaded_of(Runbook):
        yield from _invalid_timeouts(runbook)




def _invalid_timeouts(runbook: Runbook) -> Iterator[Diagnostic]:
    for step in runbook.all_steps():
        value = step.expect.get("timeout")
        if isinstance(value, str) and DURATION_FORM.match(value) and not parse_duration(value):
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

OB051 = Code("OB051", Severity.WARNING, "Results file committed",
         "The results file (the `results` option, `.opsbook/results.json` by default) is tracked by git. "
         "The results the site shows must come from the run of the runbooks in the job that builds it: a "
         "committed file, which anyone opening a pull request can write, could say that any runbook passed. "
         "opsbook ignores it, and the site shows no runbook as verified. Remove it from git "
         "(`git rm --cached .opsbook/results.json`) and ignore it (`.opsbook/` in `.gitignore`); CI writes "
         "it with `opsbook test` before the build.",
         # No example: whether git tracks a file is a fact of the repository, not of a file's text
         # (tests/test_forgery.py asserts it in a real git repository).
         )


def check_results(handbook: Handbook) -> Iterator[Diagnostic]:
    """OB050: a results file that exists is readable, or the site would silently show nothing verified.
    OB051: the results file is not tracked by git (its results are ignored)."""
    results = results_of(handbook)
    if results.committed:
        yield make(OB051, handbook.config.results, 1, 1,
                   f"{handbook.config.results} is tracked by git: its results are ignored; "
                   "the run in CI writes it before the build")
    elif results.problem is not None:
        yield make(OB050, handbook.config.results, 1, 1, results.problem)


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
                if any(script.written in command or script.path in command for command in earlier):
                    continue  # an earlier step names it: it writes, copies or fetches it (or ran it, reported there)
                where = (*runbook._prefix(), step.section, step.index, "run")
                line, column = runbook.document.position_of_text(where, step.run, script.written)
                yield make(OB045, runbook.path, line, column,
                           f"step '{step.name}' runs {script.path}, which is not in the repository")
            earlier.append(step.run)
