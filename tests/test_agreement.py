"""Every fact a page states and a check judges comes from one function: here the rendered Markdown is
read back and held against the diagnostics, for the reference handbook (at several `today`s), every
fixture, and handbooks built for the cases where a page and a check once disagreed.

- DR plan: a restore or verify runbook shown as proven (a plain date under *Next due*) ⇔ no OB603 for it.
- Backup pages and the `backups` section: the worst gap shown over the RPO ⇔ OB601, with the same gap;
  the schedule shown as invalid or never running ⇔ OB600.
- Runbook pages: *Last reviewed* says overdue ⇔ OB040 on that runbook, since the same date.
- The personal data register and component pages: not encrypted, no retention, no deletion runbook ⇔
  OB610, OB611, OB612.
- The health dashboard: DR runbooks overdue and runbooks overdue for review, as the pages count them.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import hashlib
import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest

from opsbook.diagnostics import Diagnostic
from opsbook.pipeline import Analysis, analyse, load_config

TESTS = Path(__file__).parent
REPO = TESTS.parent
FIXTURES = sorted(p.name for p in (TESTS / "fixtures").iterdir() if p.is_dir())
DATE = r"\d{4}-\d{2}-\d{2}"


# --- Reading the rendered Markdown back -------------------------------------------------------------------


def _rows(text: str) -> list[list[str]]:
    """The body rows of the Markdown tables in `text`, as cells."""
    rows = []
    for line in text.splitlines():
        if line.startswith("| ") and not line.startswith("|---"):
            rows.append([cell.strip() for cell in line.strip()[1:-1].split(" | ")])
    return rows


def _between(text: str, start: str, end: str | None = None) -> str:
    assert start in text, f"{start!r} not on the page"
    rest = text.split(start, 1)[1]
    return rest.split(end, 1)[0] if end and end in rest else rest


def _field(text: str, name: str) -> str:
    """The value of a fact on a page: a `- **Name:** value` item of its facts list, or a `| Name | value |`
    row of a table of figures."""
    for line in text.splitlines():
        if line.startswith(f"- **{name}:** "):
            return line[len(f"- **{name}:** "):].strip()
    for cells in _rows(text):
        if cells[0] == name:
            return " | ".join(cells[1:])
    raise AssertionError(f"no fact {name!r} on the page")


def _target(cell: str) -> str:
    """The file name a Markdown link in a cell points at (`orders-db-restore.md`)."""
    found = re.search(r"\]\(([^)]+)\)", cell)
    assert found, f"no link in {cell!r}"
    return found.group(1).rsplit("/", 1)[-1].split("#")[0]


def _day(text: str) -> _dt.date:
    return _dt.date.fromisoformat(text)


class Built:
    """A handbook analysed and rendered."""

    def __init__(self, analysis: Analysis) -> None:
        self.analysis = analysis
        self.handbook = analysis.handbook
        self.today = analysis.config.today_date
        self.diagnostics: list[Diagnostic] = analysis.diagnostics
        self.pages = {page.uri: page for page in analysis.pages()}

    def text(self, uri: str) -> str:
        return self.pages[uri].text

    def page_of(self, record: object) -> str:
        """The uri of a record's own page."""
        found = [p.uri for p in self.pages.values()
                 if p.source == record.path and p.uri.startswith(_folder(self, record))]  # type: ignore[attr-defined]
        assert len(found) == 1, (record, found)
        return found[0]

    def codes(self, code: str, path: str | None = None) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.code == code and (path is None or d.path == path)]


def _folder(built: Built, record: object) -> str:
    return built.handbook.kinds[record.kind].page_folder  # type: ignore[attr-defined]


def _build(root: Path, today: str | None = None) -> Built:
    config, problems = load_config(root)
    assert not problems, problems
    if today is not None:
        config = dataclasses.replace(config, today=today)
    return Built(analyse(root, config))


# --- The agreements ----------------------------------------------------------------------------------------


def dr_plan_agrees(built: Built) -> list[tuple[str, bool]]:
    """Each DR plan row is proven exactly when OB603 is silent about its runbook; (runbook page, proven)."""
    flagged = set()
    for diagnostic in built.codes("OB603"):
        found = re.match(r"(restore|verify) runbook (\S+) has neither passed in CI nor been drilled",
                         diagnostic.message)
        assert found, diagnostic.message
        flagged.add(found.group(2))
    index = "recovery/backups/index.md"
    if index not in built.pages:
        assert not flagged
        return []
    plan = _between(built.text(index), "## DR testing plan")
    runbooks = {Path(built.page_of(rb)).name: rb.id for rb in built.handbook.all("runbook")}
    shown = []
    for cells in _rows(plan)[1:] if _rows(plan) and _rows(plan)[0][0] == "Runbook" else _rows(plan):
        runbook_id = runbooks[_target(cells[0])]
        last_drill, last_ci, due = cells[2], cells[3], cells[4]
        proven = re.fullmatch(DATE, due) is not None
        assert proven == (runbook_id not in flagged), (runbook_id, due, flagged)
        if proven:
            assert _day(due) >= built.today, (runbook_id, due)  # a proof still counts on its due day
        else:
            assert due == "now" or re.fullmatch(f"{DATE} \\(OVERDUE\\)", due), due
            if due != "now":
                assert _day(due[:10]) < built.today
        # The last drill shown has happened; a later one is shown as not counting, and OB613 says so.
        happened, *later = last_drill.split("; ")
        assert happened == "never" or _day(happened[:10]) <= built.today, last_drill
        for note in later:
            assert note.endswith("is dated after today and does not count"), note
            assert _day(note[:10]) > built.today
            assert any(note[:10] in d.message for d in built.codes("OB613"))
        assert last_ci == "never" or re.fullmatch(DATE, last_ci)
        shown.append((runbook_id, proven))
    assert flagged <= {runbook_id for runbook_id, _ in shown}, (flagged, shown)
    return shown


def backups_agree(built: Built) -> list[tuple[str, str]]:
    """Each backup page and `backups` row states the gap OB601 judges; (backup id, gap cell)."""
    found = []
    index = built.text("recovery/backups/index.md") if "recovery/backups/index.md" in built.pages else ""
    section = _rows(_between(index, "## Backup policies", "## DR testing plan")) if index else []
    for backup in built.handbook.all("backup"):
        page = built.text(built.page_of(backup))
        cell = _field(page, "Worst gap between runs")
        over, within = ", over the RPO of " in cell, ", within the RPO of " in cell
        gap = re.split(r", (?:over|within) the RPO of ", cell)[0]
        ob601 = built.codes("OB601", backup.path)
        assert over == bool(ob601), (backup.id, cell, ob601)
        if ob601:
            assert f"is {gap}" in ob601[0].message and ": more than the RPO" in ob601[0].message, (cell, ob601)
        assert (gap in ("invalid schedule", "never runs")) == bool(built.codes("OB600", backup.path)), (cell,)
        if within:
            assert not ob601 and not built.codes("OB600", backup.path)
        rows = [cells for cells in section if cells and cells[0] != "Policy" and _target(cells[0]) ==
                Path(built.page_of(backup)).name]
        assert len(rows) == 1, (backup.id, section)
        assert rows[0][4].startswith(gap) and rows[0][4].endswith(" (over the RPO)") == over, (rows[0][4], cell)
        found.append((backup.id, cell))
    return found


def reviews_agree(built: Built) -> list[tuple[str, str]]:
    """Each runbook page says its review is overdue exactly when OB040 does, since the same date."""
    found = []
    for runbook in built.handbook.all("runbook"):
        cell = _field(built.text(built.page_of(runbook)), "Last reviewed")
        ob040 = built.codes("OB040", runbook.path)
        overdue = re.search(f"overdue since ({DATE})", cell)
        assert bool(overdue) == bool(ob040), (runbook.id, cell, ob040)
        if overdue:
            assert f"so by {overdue.group(1)} " in ob040[0].message, (cell, ob040[0].message)
            assert _day(overdue.group(1)) < built.today
        upcoming = re.search(f"next review by ({DATE})", cell)
        if upcoming:
            assert _day(upcoming.group(1)) >= built.today
        found.append((runbook.id, cell))
    return found


def personal_data_agrees(built: Built) -> list[list[str]]:
    """The register of personal data, and each holder's page, state what OB610–OB612 judge."""
    uri = "architecture/components/personal-data.md"
    rows = []
    for component in built.handbook.all("component"):
        if not getattr(component, "holds_pii", False):
            continue
        register = [cells for cells in _rows(built.text(uri)) if cells[0] != "Datastore"
                    and _target(cells[0]) == Path(built.page_of(component)).name]
        assert len(register) == 1
        cells = register[0]
        messages = [d.message for d in built.codes("OB610", component.path)]
        for column, words in ((4, "at rest"), (5, "in transit")):
            flagged = any(m.endswith(f"encryption {words}") for m in messages)
            assert (cells[column] == "NO") == flagged, (component.id, words, cells, messages)
        assert (cells[3] == "NOT SET") == bool(built.codes("OB611", component.path))
        assert (cells[6] == "NONE") == bool(built.codes("OB612", component.path))
        page = _field(built.text(built.page_of(component)), "Encryption")
        assert page == f"at rest: {'no' if cells[4] == 'NO' else 'yes'}, in transit: " \
                       f"{'no' if cells[5] == 'NO' else 'yes'}", (page, cells)
        rows.append(cells)
    return rows


def dashboard_agrees(built: Built, plan: list[tuple[str, bool]], reviews: list[tuple[str, str]]) -> None:
    """The health dashboard counts what the DR plan and the runbook pages show."""
    if "health.md" not in built.pages:
        return
    text = built.text("health.md")
    overdue = sum("overdue since" in cell for _, cell in reviews)
    assert _field(text, "Runbooks overdue for review") == f"{overdue} of {len(reviews)}"
    if plan:
        drills = re.fullmatch(r"(\d+) of (\d+)", _field(text, "DR runbooks overdue for a drill"))
        assert drills and int(drills.group(1)) == sum(not proven for _, proven in plan), (drills, plan)


def everything_agrees(built: Built) -> dict[str, list]:
    plan = dr_plan_agrees(built)
    reviews = reviews_agree(built)
    dashboard_agrees(built, plan, reviews)
    return {"plan": plan, "backups": backups_agree(built), "reviews": reviews,
            "personal": personal_data_agrees(built)}


# --- The reference handbook and the fixtures --------------------------------------------------------------

# The drills are dated 2026-10-14 (restore, pass) and 2026-11-26 (verify, pass); a window of 180 days.
@pytest.mark.parametrize(("today", "proven"), [
    ("2026-11-30", {"orders-db-restore": True, "orders-db-backup-verify": True}),
    ("2026-10-01", {"orders-db-restore": False, "orders-db-backup-verify": False}),  # both drills lie ahead
    ("2026-11-01", {"orders-db-restore": True, "orders-db-backup-verify": False}),
    ("2027-04-12", {"orders-db-restore": True, "orders-db-backup-verify": True}),    # the restore's last day
    ("2027-04-13", {"orders-db-restore": False, "orders-db-backup-verify": True}),
    ("2028-01-01", {"orders-db-restore": False, "orders-db-backup-verify": False}),
])
def test_the_reference_handbook_agrees(today: str, proven: dict[str, bool]) -> None:
    built = _build(REPO, today)
    found = everything_agrees(built)
    assert dict(found["plan"]) == proven
    assert found["backups"] and found["reviews"] and found["personal"]
    if today == "2028-01-01":  # every review has fallen due
        assert all("overdue since" in cell for _, cell in found["reviews"])


def test_the_reference_dr_plan_does_not_count_a_drill_that_has_not_happened() -> None:
    """The bug: with the drills dated after `today`, the plan said 'next due 2027-05-25' while OB603 said
    the runbook was never drilled."""
    built = _build(REPO, "2026-10-01")
    plan = _between(built.text("recovery/backups/index.md"), "## DR testing plan")
    assert "2027-05-25" not in plan and "2027-04-12" not in plan
    assert "never; 2026-11-26 (pass) is dated after today and does not count | never | now |" in plan
    assert len(built.codes("OB603")) == 2 and len(built.codes("OB613")) == 2


@pytest.mark.parametrize("name", FIXTURES)
@pytest.mark.parametrize("today", [None, "2027-12-01"])
def test_the_fixtures_agree(name: str, today: str | None) -> None:
    everything_agrees(_build(TESTS / "fixtures" / name, today))


# --- Handbooks built for the cases where a page and a check disagreed --------------------------------------

TEAM = "name: Data\n"
RESTORE = "title: Restore\nsteps: [{name: Restore, manual: Restore it.}]\n"
RUN_RESTORE = "title: Restore\nsteps: [{name: Restore, run: 'true'}]\n"


def _drill(day: str, outcome: str = "pass", runbook: str = "restore") -> str:
    return f"runbook: {runbook}\ndate: {day}\noutcome: {outcome}\n"


def _files(rpo: str = "1d", schedule: str = "0 2 * * *", data: str = "", **extra: str) -> dict[str, str]:
    return {"teams/data.yaml": TEAM,
            "components/db.yaml": f"name: DB\nkind: datastore\nowner: data\nrpo: {rpo}\n{data}",
            "backups/db.yaml": f"datastore: db\nschedule: \"{schedule}\"\nretention: {{count: 500}}\n"
                               "restore_runbook: restore\n",
            "runbooks/restore.yaml": RESTORE, **extra}


def _ci(started: str, place: str | None = "github-actions") -> str:
    """A results file in which runbook `restore` (RUN_RESTORE) passed in CI mode on `started`, at `place`
    (None: a file that does not say where, as before opsbook recorded it)."""
    step = {"section": "steps", "index": 0, "name": "Restore", "status": "passed", "duration": 0.01,
            "command_sha256": hashlib.sha256(b"true").hexdigest()}
    where = {"where": {"place": place}} if place is not None else {}
    return json.dumps({"version": 1, "runbooks": {"restore": {"mode": "ci", "started": f"{started}T10:00:00Z",
                                                             "commit": "0123456789abcdef", **where,
                                                             "steps": [step]}}})


PII = ("data:\n  classification: pii\n  retention: 1y\n  deletion_runbook: restore\n  pii_fields: [users.email]\n"
       "  encryption: {at_rest: %s, in_transit: true}\n")

# name → (files, options, the DR plan's proven runbooks, codes that must be among the diagnostics)
CASES: dict[str, tuple[dict[str, str], dict[str, object], dict[str, bool], set[str]]] = {
    "a passing drill dated after today": (
        _files(**{"drills/d.yaml": _drill("2027-01-01")}), {}, {"restore": False}, {"OB603", "OB613"}),
    "a passing drill today": (_files(**{"drills/d.yaml": _drill("2026-11-26")}), {}, {"restore": True}, set()),
    "a failed drill after a pass": (
        _files(**{"drills/a.yaml": _drill("2026-10-01"), "drills/b.yaml": _drill("2026-11-01", "fail")}), {},
        {"restore": True}, set()),
    "only failed and partial drills": (
        _files(**{"drills/a.yaml": _drill("2026-10-01", "fail"), "drills/b.yaml": _drill("2026-11-01", "partial")}),
        {}, {"restore": False}, {"OB603"}),
    "a pass on the window's first day": (
        _files(**{"drills/d.yaml": _drill("2026-05-30")}), {}, {"restore": True}, set()),
    "a pass the day before the window": (
        _files(**{"drills/d.yaml": _drill("2026-05-29")}), {}, {"restore": False}, {"OB603"}),
    "a window in hours": (
        _files(**{"drills/d.yaml": _drill("2026-11-24")}), {"drill_window": "36h"}, {"restore": True}, set()),
    "a window in hours, passed": (
        _files(**{"drills/d.yaml": _drill("2026-11-23")}), {"drill_window": "36h"}, {"restore": False}, {"OB603"}),
    "verified in CI long ago": (
        _files(**{"runbooks/restore.yaml": RUN_RESTORE, ".opsbook/results.json": _ci("2026-01-05")}), {},
        {"restore": False}, {"OB603"}),
    "verified in CI lately": (
        _files(**{"runbooks/restore.yaml": RUN_RESTORE, ".opsbook/results.json": _ci("2026-11-20")}), {},
        {"restore": True}, set()),
    "passed on a workstation lately": (
        _files(**{"runbooks/restore.yaml": RUN_RESTORE, ".opsbook/results.json": _ci("2026-11-20", "workstation")}),
        {}, {"restore": False}, {"OB603"}),
    "passed lately, the place not recorded": (
        _files(**{"runbooks/restore.yaml": RUN_RESTORE, ".opsbook/results.json": _ci("2026-11-20", None)}), {},
        {"restore": False}, {"OB603"}),
    "a verify runbook never drilled": (
        _files(**{"drills/d.yaml": _drill("2026-10-01"),
                  "backups/db.yaml": "datastore: db\nschedule: \"0 2 * * *\"\nretention: {count: 500}\n"
                                     "restore_runbook: restore\nverify_runbook: verify\n",
                  "runbooks/verify.yaml": "title: Verify\nsteps: [{name: Verify, manual: Check it.}]\n"}), {},
        {"restore": True, "verify": False}, {"OB603"}),
    "a gap over the RPO": (
        _files("24h", "0 2 * * 1-5", **{"drills/d.yaml": _drill("2026-10-01")}), {}, {"restore": True}, {"OB601"}),
    "a gap within the RPO": (
        _files("1h", "0 * * * *", **{"drills/d.yaml": _drill("2026-10-01")}), {}, {"restore": True}, set()),
    "a gap of years": (
        _files("1d", "0 3 29 2 *", **{"drills/d.yaml": _drill("2026-10-01")}), {}, {"restore": True}, {"OB601"}),
    "a gap within a day over the RPO": (
        _files("1h", "0 2,14 * * *", **{"drills/d.yaml": _drill("2026-10-01")}), {}, {"restore": True}, {"OB601"}),
    "an invalid schedule": (
        _files("1d", "every night", **{"drills/d.yaml": _drill("2026-10-01")}), {}, {"restore": True}, {"OB600"}),
    "a schedule that never runs": (
        _files("1d", "0 0 30 2 *", **{"drills/d.yaml": _drill("2026-10-01")}), {}, {"restore": True}, {"OB600"}),
    "a blank schedule": (
        _files("1d", "", **{"drills/d.yaml": _drill("2026-10-01")}), {}, {"restore": True}, set()),
    "a review without an interval, long ago": (
        _files(**{"drills/d.yaml": _drill("2026-10-01"),
                  "runbooks/restore.yaml": RESTORE + "last_reviewed: 2026-01-01\n"}), {}, {"restore": True},
        {"OB040"}),
    "a review due today": (
        _files(**{"drills/d.yaml": _drill("2026-10-01"),
                  "runbooks/restore.yaml": RESTORE + "last_reviewed: 2026-10-27\nreview_every: 30d\n"}), {},
        {"restore": True}, set()),
    "a review due yesterday": (
        _files(**{"drills/d.yaml": _drill("2026-10-01"),
                  "runbooks/restore.yaml": RESTORE + "last_reviewed: 2026-10-26\nreview_every: 30d\n"}), {},
        {"restore": True}, {"OB040"}),
    "personal data encrypted": (
        _files(data=PII % "true", **{"drills/d.yaml": _drill("2026-10-01")}), {}, {"restore": True}, set()),
    "personal data 'encrypted' in a word": (
        _files(data=PII % "'yes'", **{"drills/d.yaml": _drill("2026-10-01")}), {}, {"restore": True}, {"OB610"}),
    "personal data without retention or deletion runbook": (
        _files(data="data:\n  classification: pii\n  encryption: {at_rest: false}\n",
               **{"drills/d.yaml": _drill("2026-10-01")}), {}, {"restore": True}, {"OB610", "OB611", "OB612"}),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_pages_and_checks_agree(make_handbook: Callable[..., Path], case: str) -> None:
    files, options, proven, codes = CASES[case]
    built = _build(make_handbook(files, **options))
    assert codes <= {d.code for d in built.diagnostics}, [(d.code, d.message) for d in built.diagnostics]
    found = everything_agrees(built)
    assert dict(found["plan"]) == proven


def test_a_passing_drill_dated_after_today_is_not_proof(make_handbook: Callable[..., Path]) -> None:
    built = _build(make_handbook(CASES["a passing drill dated after today"][0]))
    plan = _between(built.text("recovery/backups/index.md"), "## DR testing plan")
    assert "| never; 2027-01-01 (pass) is dated after today and does not count | never | now |" in plan


def test_the_plan_dates_the_next_proof_from_the_last_passing_drill(make_handbook: Callable[..., Path]) -> None:
    """A failed drill after a pass: OB603 counts the pass, and so does the plan (it once said 'now')."""
    built = _build(make_handbook(CASES["a failed drill after a pass"][0]))
    plan = _between(built.text("recovery/backups/index.md"), "## DR testing plan")
    assert "| 2026-11-01 (fail) | never | 2027-03-30 |" in plan


def test_a_window_in_hours_is_due_on_its_last_day(make_handbook: Callable[..., Path]) -> None:
    """36h from 2026-11-24: proven on the 26th (OB603 is silent), so not shown overdue on the 25th."""
    files, options, _, _ = CASES["a window in hours"]
    built = _build(make_handbook(files, **options))
    assert "| 2026-11-24 (pass) | never | 2026-11-26 |" in built.text("recovery/backups/index.md")


def test_a_ci_verification_long_ago(make_handbook: Callable[..., Path]) -> None:
    built = _build(make_handbook(CASES["verified in CI long ago"][0]))
    assert "| never | 2026-01-05 | 2026-07-04 (OVERDUE) |" in built.text("recovery/backups/index.md")


def test_a_review_without_an_interval_falls_due_after_180_days(make_handbook: Callable[..., Path]) -> None:
    built = _build(make_handbook(CASES["a review without an interval, long ago"][0]))
    page = built.text(built.page_of(built.handbook.get("runbook", "restore")))
    assert "- **Last reviewed:** 2026-01-01, 329 days ago (overdue since 2026-06-30)" in page


def test_encryption_in_a_word_is_not_encryption(make_handbook: Callable[..., Path]) -> None:
    built = _build(make_handbook(CASES["personal data 'encrypted' in a word"][0]))
    assert "| 1y | NO | yes |" in built.text("architecture/components/personal-data.md")
    assert "- **Encryption:** at rest: no, in transit: yes" in built.text("architecture/components/db.md")


def test_a_blank_schedule_is_not_called_invalid(make_handbook: Callable[..., Path]) -> None:
    """`schedule: ""` is no schedule: OB600 says nothing (nor does the page say it is invalid)."""
    built = _build(make_handbook(CASES["a blank schedule"][0]))
    assert not built.codes("OB600")
    assert _field(built.text("recovery/backups/db.md"), "Worst gap between runs") == "no schedule"
