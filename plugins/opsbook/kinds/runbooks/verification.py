"""What CI verified: the runner's results matched against the runbooks as they are now.

A step counts as verified when the results file records it as passed in CI mode, for the same
section and position, with the same name and command (compared by SHA-256, since the recorded
command is masked): a step edited since the run is not verified any more. And only a run made in CI
verifies: each runbook's result records where it ran (`place`); a run on a workstation, or from a
file that does not say where (written before opsbook recorded it), is a *local run*: shown as such
(its steps' outcomes kept), or ignored when the `local_results` option is `hide`, never counted as
verified in CI (the runbook pages, the runbooks index, the health figures and `opsbook metrics`
all read `verified` and `coverage`).
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from typing import Any

from ...model import Handbook
from .place import RunPlace, recorded_place
from .records import Runbook, Step
from .results import Results, committed, load_results

__all__ = ["Verification", "results_of", "verification_of", "coverage"]


@dataclass
class Verification:
    """The CI verification of one runbook, from the run the results file records for it.

    Attributes:
        runnable: The runbook's runnable steps (run steps not skipped in CI), as it is now.
        verified: Runnable steps verified in CI: passed in the recorded run, unchanged since, and the
            run was in CI. Always 0 for a run not in CI.
        status: `passed` (every runnable step verified), `failed`, `partial` (some verified, none
            failed) for a run in CI; `local run` for a run shown that was not in CI (on a workstation,
            or from an unknown place): see `outcome` for how it went; `not run` when no run is shown
            (none recorded, one outside CI mode, or a local run the `local_results` option hides).
        outcome: How the recorded run went, wherever it ran: `passed`, `failed`, `partial` or `not run`
            (equal to `status` for a run in CI).
        passed: Runnable steps that passed in the recorded run and are unchanged since, wherever it ran
            (equal to `verified` for a run in CI).
        in_ci: Whether the recorded run was in CI (False when no run is shown).
        place: Where the recorded run was, in words: "GitHub Actions", "GitLab CI", "CI", "a
            workstation", "an unknown place" (a results file that does not say); empty when no run is
            shown (`status` `not run`).
        run_url: The CI run's address, when the CI service gave it (an `http(s)` URL of plain
            characters, safe to link to); None otherwise, and always for a run not in CI.
        started: When the recorded run started (UTC, ISO 8601), or None.
        commit: The commit it ran at, or None.
        duration: How long it took, in seconds, or None.
        steps: The recorded outcome of each step that still matches the runbook, by (section,
            index), for a run in CI and for a local run shown alike: `in_ci` says which.
    """

    runnable: int
    verified: int
    status: str
    started: str | None = None
    commit: str | None = None
    duration: float | None = None
    steps: dict[tuple[str, int], dict[str, Any]] = field(default_factory=dict)
    in_ci: bool = False
    place: str = ""
    run_url: str | None = None
    outcome: str = "not run"
    passed: int = 0

    def step(self, step: Step) -> dict[str, Any] | None:
        return self.steps.get((step.section, step.index))


def results_of(handbook: Handbook) -> Results:
    """The results file at the configured `results` path, read once per build; a file that git tracks
    holds nothing (a pull request could otherwise commit one that says any runbook passed)."""
    return handbook.derived("results", _read_results)


def _read_results(handbook: Handbook) -> Results:
    path = handbook.root / handbook.config.results
    if os.path.lexists(path) and committed(handbook.root, path):
        return Results(committed=True)
    return load_results(path)


def verification_of(handbook: Handbook, runbook: Runbook) -> Verification:
    cache = handbook.derived("verification", lambda hb: {})
    if runbook.id in cache:
        return cache[runbook.id]
    recorded = results_of(handbook).of(runbook.id) or {}
    if recorded.get("mode", "ci") != "ci":
        recorded = {}  # a run outside CI mode (`opsbook test --no-ci`) verifies nothing
    where = recorded_place(recorded) if recorded else RunPlace("unknown")
    if recorded and not where.in_ci and handbook.config.local_results == "hide":
        recorded = {}  # a run not in CI, which the configuration hides
    runnable = [step for step in runbook.all_steps() if step.runnable]
    matched: dict[tuple[str, int], dict[str, Any]] = {}
    for step in runbook.all_steps():
        digest = hashlib.sha256(step.run.encode("utf-8")).hexdigest() if step.run is not None else None
        for entry in recorded.get("steps", []):
            if (entry.get("section"), entry.get("index")) == (step.section, step.index):
                if entry.get("name") == step.name and entry.get("command_sha256") == digest:
                    matched[(step.section, step.index)] = entry
                break
    passed = sum(matched.get((s.section, s.index), {}).get("status") == "passed" for s in runnable)
    failed = any(entry.get("status") in ("failed", "timeout") for entry in matched.values())
    if not recorded:
        outcome = "not run"
    elif failed:
        outcome = "failed"
    elif passed == len(runnable):
        outcome = "passed"
    else:
        outcome = "partial"
    in_ci = bool(recorded) and where.in_ci
    result = Verification(len(runnable), passed if in_ci else 0,
                          outcome if in_ci or not recorded else "local run",
                          recorded.get("started"), recorded.get("commit"), recorded.get("duration"), matched,
                          in_ci=in_ci, place=where.words if recorded else "",
                          run_url=where.run_url if in_ci else None, outcome=outcome, passed=passed)
    cache[runbook.id] = result
    return result


def coverage(handbook: Handbook) -> tuple[int, int]:
    """Runnable steps verified in CI, and runnable steps, over the whole handbook: a step passed in a
    run not made in CI (a local run) is not verified."""
    verified = runnable = 0
    for runbook in handbook.records_of(Runbook):
        found = verification_of(handbook, runbook)
        verified += found.verified
        runnable += found.runnable
    return verified, runnable
