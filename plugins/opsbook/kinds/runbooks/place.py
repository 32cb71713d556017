"""Where a run of the runbooks happened: in CI (GitHub Actions, GitLab CI or another CI service), or
on a workstation. The runner records it in each runbook's result (`where`), from the environment it
is given, and the build reads it back: only a run recorded as made in CI verifies steps.

Nothing that names the machine or the person is recorded: a workstation is just "a workstation".
The run's address is kept only when it is an `http(s)` URL made of the CI service's own variables
(a page links to it), never any other text from the environment.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["PLACES", "RunPlace", "detect_place", "recorded_place"]

#: The places a results file may record, and how a page says each; `unknown` is never written (it is a
#: result without `where`, from a file written before opsbook recorded the place).
PLACES = {
    "github-actions": "GitHub Actions",
    "gitlab-ci": "GitLab CI",
    "ci": "CI",
    "workstation": "a workstation",
    "unknown": "an unknown place",
}
CI_PLACES = frozenset({"github-actions", "gitlab-ci", "ci"})
#: An address a page may link to: http(s), then only letters, digits and `._~:/?#@!$&*+,;=%-` (no space,
#: quote, bracket, parenthesis, backslash or control character), bounded; as the results schema says.
_URL = re.compile(r"https?://[A-Za-z0-9._~:/?#@!$&*+,;=%-]+")
_MAX_URL = 2048
_REPOSITORY = re.compile(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+", re.ASCII)
_NUMBER = re.compile(r"[0-9]{1,20}", re.ASCII)
_TRUE = frozenset({"true", "1", "yes"})


@dataclass(frozen=True)
class RunPlace:
    """Where a run happened.

    Attributes:
        place: `github-actions`, `gitlab-ci`, `ci` (another CI service), `workstation`, or `unknown`.
        run_url: The CI run's (or job's) address, when the CI service gives one.
    """

    place: str
    run_url: str | None = None

    @property
    def in_ci(self) -> bool:
        return self.place in CI_PLACES

    @property
    def words(self) -> str:
        """The place as a page says it: "GitHub Actions", "a workstation"."""
        return PLACES.get(self.place, PLACES["unknown"])

    def to_dict(self) -> dict[str, Any]:
        """The `where` of a runbook's result in the results file."""
        data: dict[str, Any] = {"place": self.place}
        if self.run_url is not None:
            data["run_url"] = self.run_url
        return data


def _url(value: str | None) -> str | None:
    """The value when it is an address a page may link to, else None."""
    if value is None or len(value) > _MAX_URL or not _URL.fullmatch(value):
        return None
    return value


def _set(environ: Mapping[str, str], name: str) -> bool:
    return environ.get(name, "").strip().lower() in _TRUE


def detect_place(environ: Mapping[str, str]) -> RunPlace:
    """Where a run with this environment happens: GitHub Actions (`GITHUB_ACTIONS=true`, the run's
    address from `GITHUB_SERVER_URL`, `GITHUB_REPOSITORY`, `GITHUB_RUN_ID` and `GITHUB_RUN_ATTEMPT`),
    GitLab CI (`GITLAB_CI`, the job's address `CI_JOB_URL`), another CI service (`CI=true`), else a
    workstation. A variable that does not have the form its service gives it leaves the address out."""
    if environ.get("GITHUB_ACTIONS", "").strip().lower() == "true":
        server = _url(environ.get("GITHUB_SERVER_URL", "").rstrip("/"))
        repository, run_id = environ.get("GITHUB_REPOSITORY", ""), environ.get("GITHUB_RUN_ID", "")
        address = None
        if server and _REPOSITORY.fullmatch(repository) and _NUMBER.fullmatch(run_id):
            address = f"{server}/{repository}/actions/runs/{run_id}"
            attempt = environ.get("GITHUB_RUN_ATTEMPT", "")
            if _NUMBER.fullmatch(attempt):
                address += f"/attempts/{attempt}"
        return RunPlace("github-actions", _url(address))
    if environ.get("GITLAB_CI", "").strip():
        return RunPlace("gitlab-ci", _url(environ.get("CI_JOB_URL")))
    if _set(environ, "CI"):
        return RunPlace("ci")
    return RunPlace("workstation")


def recorded_place(result: Mapping[str, Any] | None) -> RunPlace:
    """Where the run of a runbook's result (as the results file holds it) happened; `unknown` without
    `where`. An address is kept only for a CI place, and only when a page may link to it."""
    where = (result or {}).get("where")
    if not isinstance(where, Mapping) or where.get("place") not in PLACES or where.get("place") == "unknown":
        return RunPlace("unknown")
    place = str(where["place"])
    address = where.get("run_url")
    return RunPlace(place, _url(address) if place in CI_PLACES and isinstance(address, str) else None)
