"""What CI verified: the runner's results matched against the runbooks as they are now.

A step counts as verified when the results file records it as passed in CI mode, for the same
section and position, with the same name and command (compared by SHA-256, since the recorded
command is masked): a step edited since the run is not verified any more.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from typing import Any

from ...model import Handbook
from .records import Runbook, Step
from .results import Results, committed, load_results

__all__ = ["Verification", "results_of", "verification_of", "coverage"]


@dataclass
class Verification:
    """The CI verification of one runbook."""

    runnable: int
    verified: int
    status: str  # passed, failed, not run, partial
    started: str | None = None
    commit: str | None = None
    duration: float | None = None
    steps: dict[tuple[str, int], dict[str, Any]] = field(default_factory=dict)

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
    runnable = [step for step in runbook.all_steps() if step.runnable]
    matched: dict[tuple[str, int], dict[str, Any]] = {}
    for step in runbook.all_steps():
        digest = hashlib.sha256(step.run.encode("utf-8")).hexdigest() if step.run is not None else None
        for entry in recorded.get("steps", []):
            if (entry.get("section"), entry.get("index")) == (step.section, step.index):
                if entry.get("name") == step.name and entry.get("command_sha256") == digest:
                    matched[(step.section, step.index)] = entry
                break
    verified = sum(matched.get((s.section, s.index), {}).get("status") == "passed" for s in runnable)
    failed = any(entry.get("status") in ("failed", "timeout") for entry in matched.values())
    if not recorded:
        status = "not run"
    elif failed:
        status = "failed"
    elif verified == len(runnable):
        status = "passed"
    else:
        status = "partial"
    result = Verification(len(runnable), verified, status, recorded.get("started"), recorded.get("commit"),
                          recorded.get("duration"), matched)
    cache[runbook.id] = result
    return result


def coverage(handbook: Handbook) -> tuple[int, int]:
    """Runnable steps verified in CI, and runnable steps, over the whole handbook."""
    verified = runnable = 0
    for runbook in handbook.records_of(Runbook):
        found = verification_of(handbook, runbook)
        verified += found.verified
        runnable += found.runnable
    return verified, runnable
