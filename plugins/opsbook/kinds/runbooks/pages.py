"""Pages of the runbook kind: one page per runbook and the runbooks index."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from itertools import groupby

from markupsafe import Markup

from ...checks.freshness import freshness_of
from ...durations import format_duration, instant_in_words
from ...model import Handbook
from ...render import Page, Renderer
from ...render.markdown import inline_code, md_inline, web_link
from ...render.sections import section
from .records import SECTIONS, SEVERITIES, Runbook, Step
from .verification import Verification, coverage, verification_of

#: The sections a person follows, in order, with their titles and notes; `setup` and `cleanup` build and
#: remove CI's sandbox and are shown apart, folded, after them (`SANDBOX_SECTIONS`).
_SECTION_TITLES = {
    "steps": ("Steps", ""),
    "verify": ("Verify", "These steps prove the service is healthy again."),
}
SANDBOX_SECTIONS = ("setup", "cleanup")


@dataclass
class _Section:
    title: str
    note: str
    steps: list[Step]


@dataclass
class _Counts:
    total: int
    runnable: int
    manual: int
    skipped: int


def count_steps(runbook: Runbook, sections: tuple[str, ...] = SECTIONS) -> _Counts:
    """The steps of these sections (all by default): how many, run in CI, manual, skipped in CI."""
    steps = [step for name in sections for step in runbook.section(name)]
    return _Counts(
        total=len(steps),
        runnable=sum(step.runnable for step in steps),
        manual=sum(step.manual is not None for step in steps),
        skipped=sum(step.run is not None and step.skip_reason is not None for step in steps),
    )


def expectations(step: Step) -> Markup:
    """What a run step must produce, in words, each value verbatim in a code span."""
    expect = step.expect
    items = []
    if "exit_code" in expect:
        items.append(Markup("exit code ") + inline_code(expect["exit_code"]))
    for stream in ("stdout", "stderr"):
        if isinstance(expect.get(stream), str):
            items.append(Markup(f"{stream} matches ") + inline_code(expect[stream]))
    if step.timeout is not None:
        items.append(Markup("timeout ") + md_inline(format_duration(step.timeout)))
    return Markup(" · ").join(items)


def _when(verification: Verification) -> Markup:
    """`, <date>, commit <sha>` of the run a verification comes from, as much as is known, and a link to
    the CI run when the CI service gave its address."""
    parts = Markup("")
    if verification.started:
        parts += Markup(", ") + md_inline(instant_in_words(verification.started))
    if verification.commit:
        parts += Markup(", commit ") + inline_code(verification.commit[:12])
    if verification.in_ci and verification.run_url:
        parts += Markup(", ") + web_link(verification.run_url, f"{verification.place} run")
    return parts


def _where(verification: Verification) -> str:
    """Where the run shown was: `in CI`, or `in a local run (a workstation), not in CI`."""
    return "in CI" if verification.in_ci else f"in a local run ({verification.place}), not in CI"


def verified_line(verification: Verification) -> Markup:
    """The header's answer to "is this runbook proven?": how many of its runnable steps passed in CI, and
    when; a run outside CI (shown when `local_results` is `show`) is said to be one, and proves nothing."""
    if verification.runnable == 0:
        return Markup("nothing to run in CI (every step is manual or skipped in CI)")
    if verification.status == "not run":
        return Markup(f"not run in CI yet (0 of {verification.runnable} runnable steps)")
    if not verification.in_ci:
        return (Markup(f"not verified in CI: {verification.passed} of {verification.runnable} runnable steps "
                       f"passed ") + md_inline(_where(verification)) + _when(verification))
    words = {"passed": "passed in CI", "failed": "failed in CI", "partial": "partly verified in CI"}
    return (Markup(f"**{verification.verified} of {verification.runnable}** runnable steps passed in CI "
                   f"({words.get(verification.status, verification.status)})") + _when(verification))


def step_mark(verification: Verification) -> Callable[[Step], Markup]:
    """The mark under each step: passed, failed, not run (and why) or manual, with the run's date and
    commit, and where it ran when that was not CI."""

    def mark(step: Step) -> Markup:
        if step.manual is not None:
            return Markup("*Manual step: done by a person, not run in CI.*")
        if step.skip_reason is not None:
            return Markup("*Not run in CI:* ") + md_inline(step.skip_reason)
        outcome = verification.step(step)
        status = outcome.get("status") if outcome else None
        where = md_inline(_where(verification))
        if status == "passed":
            return Markup("✓ **Passed** ") + where + _when(verification) + Markup(".")
        if status in ("failed", "timeout"):
            problems = [str(p) for p in outcome.get("problems", []) if p] if outcome else []
            reason = md_inline(f" ({status}: {'; '.join(problems)})" if problems else f" ({status})")
            return Markup("✗ **Failed** ") + where + reason + _when(verification) + Markup(".")
        if status == "not-run":
            return Markup("*Not run: an earlier step failed* ") + where + _when(verification) + Markup(".")
        return Markup("*Not verified in CI yet.*")

    return mark


def _review(handbook: Handbook, runbook: Runbook) -> str:
    """The review line: `freshness_of`'s dates, overdue exactly when OB040 says so."""
    if runbook.last_reviewed is None:
        return "never"
    found = freshness_of(runbook.data)
    if found.due is None:
        return runbook.last_reviewed
    today = handbook.config.today_date
    days = found.days_ago(today)
    when = "today" if days == 0 else f"{days} days ago"
    state = (f"overdue since {found.due.isoformat()}" if found.overdue(today)
             else f"next review by {found.due.isoformat()}")
    return f"{runbook.last_reviewed}, {when} ({state})"


def runbook_pages(handbook: Handbook, renderer: Renderer) -> Iterator[Page]:
    runbooks = handbook.records_of(Runbook)
    for runbook in runbooks:
        uri = renderer.uri_of(runbook)
        sections = [_Section(*_SECTION_TITLES[name], runbook.section(name))
                    for name in _SECTION_TITLES if runbook.section(name)]
        sandbox = [step for name in SANDBOX_SECTIONS for step in runbook.section(name)]
        verification = verification_of(handbook, runbook)
        referrers = sorted(handbook.referrers(runbook), key=lambda r: (r.ref.label, r.source.id))
        backrefs = [(label, list(group)) for label, group in groupby(referrers, key=lambda r: r.ref.label)]
        alerts = [(name, sorted({getattr(v, "severity", None) or "" for v in handbook.variants("alert", name)} - {""}))
                  for name in runbook.alerts]
        service = handbook.get("component", runbook.service) if runbook.service else None
        queries = [(r.source, q) for r in (handbook.referrers(service, "log") if service else [])
                   for q in getattr(r.source, "queries", [])]
        text = renderer.render("runbook.md.j2", uri, runbook=runbook, sections=sections, backrefs=backrefs,
                               queries=queries,
                               alerts=alerts, sandbox=sandbox, verified_line=verified_line(verification),
                               step_mark=step_mark(verification),
                               counts=count_steps(runbook, tuple(_SECTION_TITLES)), review=_review(handbook, runbook),
                               expectations=expectations)
        yield Page(uri, text, source=runbook.path, title=runbook.title)

    uri = renderer.index_uri("runbook")
    yield Page(uri, "# Runbooks\n\n" + runbooks_index(handbook, renderer, uri), title="Runbooks", in_nav=True)


@section("runbooks", "The runbooks, with their coverage in CI, by severity, service and owner.")
def runbooks_index(handbook: Handbook, renderer: Renderer, uri: str) -> str:
    runbooks = handbook.records_of(Runbook)
    ordered = sorted(runbooks, key=lambda rb: (rb.title.lower(), rb.id))

    def grouped(key: str, order: list[str] | None = None) -> list[tuple[str, list[Runbook]]]:
        groups: dict[str, list[Runbook]] = {}
        for runbook in ordered:
            groups.setdefault(getattr(runbook, key) or "not set", []).append(runbook)
        names = sorted(groups, key=lambda n: (order.index(n) if order and n in order else len(order or []), n))
        return [(name, groups[name]) for name in names]

    groupings = [("By severity", grouped("severity", list(SEVERITIES))), ("By service", grouped("service")),
                 ("By owner", grouped("owner"))]
    counts = [count_steps(rb) for rb in runbooks]
    verified, runnable = coverage(handbook)
    return renderer.render("runbooks_index.md.j2", uri, runbooks=ordered, groupings=groupings,
                           verification=lambda rb: verification_of(handbook, rb), verified=verified,
                           runnable=runnable,
                           total_steps=sum(c.total for c in counts), runnable_steps=sum(c.runnable for c in counts))



@section("symptoms", "A symptom → runbook index: every symptom the runbooks list, with the runbook to follow.")
def symptoms_section(handbook: Handbook, renderer: Renderer, uri: str) -> str:
    rows = sorted(((symptom, runbook) for runbook in handbook.records_of(Runbook) for symptom in runbook.symptoms),
                  key=lambda row: row[0].lower())
    return renderer.render("symptoms.md.j2", uri, rows=rows)
