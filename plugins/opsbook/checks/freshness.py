"""Freshness: every record and every hand-written page says who owns it and when it was last reviewed,
and the check warns once the review is overdue (OB040, OB041, OB044).

Records carry `owner`, `last_reviewed` and `review_every` fields; pages carry the same keys in their
front matter:

    ---
    owner: team-platform
    last_reviewed: 2026-11-26
    review_every: 180d
    ---
"""

from __future__ import annotations

import datetime as _dt
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from ..diagnostics import Code, Diagnostic, Severity, make
from ..durations import DURATION_FORM, parse_date, parse_duration, shift_date
from ..loader import Document, load_yaml_text
from ..model import Handbook
from ..schema_validation import load_schema
from .references import OB021

__all__ = ["Freshness", "check_freshness", "freshness_of", "page_front_matter"]

OB040 = Code("OB040", Severity.WARNING, "Review overdue",
         "A record's or a page's `last_reviewed` date plus its `review_every` interval lies before today: "
         "nobody has confirmed lately that it is still right. Review it and update the date.",
         failing="# runbooks/orders-db-restore.yaml\n"
                 "last_reviewed: 2024-01-10\n"
                 "review_every: 90d\n",
         passing="# runbooks/orders-db-restore.yaml\n"
                 "last_reviewed: 2026-10-01\n"
                 "review_every: 90d\n",
         date_driven=True)
OB041 = Code("OB041", Severity.ERROR, "Invalid date or duration",
         "A date must be a real calendar date written `YYYY-MM-DD`; a duration is a number and a unit, "
         "largest unit first: `30s`, `15m`, `1h30m`, `90d`, `12w`, `1y`; a timeout may not be zero.",
         failing="# runbooks/orders-db-restore.yaml\n"
                 "last_reviewed: 2026-09-31\n",
         passing="# runbooks/orders-db-restore.yaml\n"
                 "last_reviewed: 2026-09-30\n")
OB044 = Code("OB044", Severity.WARNING, "No owner or review date",
         "The record or page has no `owner`, or no `last_reviewed` date, though the configuration's "
         "`require_freshness` asks it of its kind (`pages` for hand-written pages). A handbook nobody owns "
         "and nobody reviews goes stale unnoticed.",
         failing="# opsbook.yml\n"
                 "require_freshness: [pages]\n"
                 "<!-- docs/deploy.md -->\n"
                 "---\n"
                 "title: Deployment guide\n"
                 "---\n",
         passing="# opsbook.yml\n"
                 "require_freshness: [pages]\n"
                 "<!-- docs/deploy.md -->\n"
                 "---\n"
                 "owner: team-data\n"
                 "last_reviewed: 2026-11-26\n"
                 "review_every: 180d\n"
                 "---\n")

_DATE_FORM = re.compile(r"^\d{4}-\d{2}-\d{2}$")
DEFAULT_INTERVAL = "180d"


@dataclass
class Freshness:
    """Who owns a record or page, when it was reviewed, and when the next review is due."""

    owner: str | None
    reviewed: _dt.date | None
    due: _dt.date | None

    def days_ago(self, today: _dt.date) -> int | None:
        return (today - self.reviewed).days if self.reviewed else None

    def overdue(self, today: _dt.date) -> bool:
        """The review is overdue (OB040): the due date lies before today."""
        return self.due is not None and self.due < today


def freshness_of(data: dict[str, Any]) -> Freshness:
    """Owner, last review and next review due of a record's data or a page's front matter: what OB040
    judges and what pages state (`review_every` defaults to 180 days)."""
    owner = data.get("owner") if isinstance(data.get("owner"), str) else None
    reviewed = parse_date(data.get("last_reviewed"))
    every = parse_duration(data.get("review_every", DEFAULT_INTERVAL))
    due = shift_date(reviewed, every) if reviewed and every else None
    return Freshness(owner, reviewed, due)


def page_front_matter(path: str, text: str) -> tuple[Document | None, list[Diagnostic]]:
    """The YAML front matter of a Markdown page (between two `---` lines at its top), with positions."""
    if not text.startswith("---\n"):
        return None, []
    end = text.find("\n---\n", 4)
    if end < 0:
        return None, []
    documents, problems = load_yaml_text(path, text[: end + 1])  # the `---` line opens the document
    if problems or not documents or not isinstance(documents[0].data, dict):
        return None, problems
    return documents[0], []


def _check(path: str, data: dict[str, Any], position: Any, today: _dt.date, required: bool,
           handbook: Handbook, owned: bool = True) -> Iterator[Diagnostic]:
    reviewed, every = data.get("last_reviewed"), data.get("review_every")
    if isinstance(reviewed, str) and _DATE_FORM.match(reviewed) and parse_date(reviewed) is None:
        line, column = position("last_reviewed")
        yield make(OB041, path, line, column, f"last_reviewed {reviewed!r} is not a calendar date")
        return
    if isinstance(every, str) and DURATION_FORM.match(every) and parse_duration(every) is None:
        line, column = position("review_every")
        yield make(OB041, path, line, column, f"review_every {every!r} is not a duration: each unit once, "
                                                "largest first")
        return
    found = freshness_of(data)
    lacking = [name for name, value in (("owner", found.owner if owned else True), ("last_reviewed", found.reviewed))
               if value is None]
    if required and lacking:
        missing = " and ".join(lacking)
        line, column = position()
        yield make(OB044, path, line, column, f"no {missing}", hint="owner: TEAM-ID, last_reviewed: YYYY-MM-DD")
    if found.overdue(today) and found.due is not None:
        line, column = position("last_reviewed")
        yield make(OB040, path, line, column,
                   f"review overdue: last reviewed {reviewed}, due every {every or DEFAULT_INTERVAL}, so by "
                   f"{found.due.isoformat()} ({(today - found.due).days} days ago)",
                   hint="review it and set last_reviewed to today's date")


def _has_owner_field(handbook: Handbook, kind: str) -> bool:
    """Whether records of a kind can name an owner (a team is its own owner)."""
    schema = handbook.kinds[kind].schema if kind in handbook.kinds else None
    return bool(schema) and "owner" in load_schema(schema).get("properties", {})


def check_freshness(handbook: Handbook) -> Iterator[Diagnostic]:
    """OB040, OB041 and OB044 for every record and every hand-written page."""
    today = handbook.config.today_date
    required = set(handbook.config.require_freshness)
    for kind, records in handbook.loaded.items():
        for record in records:
            if "last_reviewed" in record.data or "review_every" in record.data or kind in required:
                yield from _check(record.path, record.data, record.position, today, kind in required, handbook,
                                  owned=_has_owner_field(handbook, kind))
    for relpath, text in handbook.docs_pages():
        document, problems = page_front_matter(relpath, text)
        yield from problems
        data = document.data if document is not None else {}
        position = ((lambda *path, key=False, document=document: document.position(path, key=key)) if document
                    else (lambda *a, **k: (1, 1)))
        if document is not None and isinstance(data.get("owner"), str) and "team" in handbook.present \
                and handbook.get("team", data["owner"]) is None:
            line, column = document.position(("owner",))
            yield make(OB021, relpath, line, column, f"owner names team '{data['owner']}', which does not exist")
        yield from _check(relpath, data, position, today, "pages" in required, handbook)

