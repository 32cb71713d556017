"""Migrations rehearsed against a restored backup (SQLite, and PostgreSQL when CI started it), log
sources and incidents: their checks at the exact lines, and their pages."""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

from opsbook import analyse
from opsbook.health.figures import compute_health
from opsbook.kinds.runbooks.records import Runbook
from opsbook.kinds.runbooks.runner import RunOptions, run_runbook

REPO = Path(__file__).parent.parent
PG_URL = os.environ.get("OPSBOOK_TEST_PG_URL")


def _rehearse(inputs: dict[str, str]) -> None:
    runbook = analyse(REPO).handbook.get("runbook", "migration-rehearsal")
    assert isinstance(runbook, Runbook)
    result = run_runbook(runbook, RunOptions(root=REPO, inputs=inputs))
    assert result.passed, [(s.section, s.name, s.problems, s.output_tail()) for s in result.steps if not s.ok]
    applied = next(s for s in result.steps if s.name == "Apply them to the scratch database")
    assert "applied: 0001.add-order-status" in applied.stdout


@pytest.mark.usefixtures("repo_sandbox")  # runs a runbook in the repository's .ci-tmp/
def test_rehearsal_against_sqlite(tmp_path: Path) -> None:
    _rehearse({"DATABASE_URL": f"sqlite:///{tmp_path}/orders.db", "BACKUP_DIR": str(tmp_path / "b"),
               "SCRATCH_URL": f"sqlite:///{tmp_path}/scratch.db"})


@pytest.mark.skipif(not PG_URL, reason="no PostgreSQL server: .ci/run starts one and sets OPSBOOK_TEST_PG_URL")
@pytest.mark.usefixtures("repo_sandbox")  # runs a runbook in the repository's .ci-tmp/
def test_rehearsal_against_postgresql(tmp_path: Path) -> None:
    assert PG_URL is not None
    names = [f"rehearsal_{uuid.uuid4().hex[:8]}", f"scratch_{uuid.uuid4().hex[:8]}"]
    for name in names:
        subprocess.run(["psql", PG_URL, "-qc", f"create database {name}"], check=True, capture_output=True)
    base = PG_URL.rsplit("/", 1)[0]
    try:
        _rehearse({"DATABASE_URL": f"{base}/{names[0]}", "BACKUP_DIR": str(tmp_path / "b"),
                   "SCRATCH_URL": f"{base}/{names[1]}"})
    finally:
        for name in names:
            subprocess.run(["psql", PG_URL, "-qc", f"drop database if exists {name}"], capture_output=True)


COMPONENT = ("name: DB\nkind: datastore\nowner: data\ndata:\n  classification: pii\n  pii_fields: [customers.email]\n"
             "  retention: 30d\n  encryption: {at_rest: true, in_transit: true}\n  deletion_runbook: r\n")
RUNBOOK = "title: R\nsteps: [{name: S, manual: m}]\n"


def test_migration_checks(make_handbook: Callable[..., Path]) -> None:
    root = make_handbook({
        "teams/data.yaml": "name: Data\n", "components/db.yaml": COMPONENT, "runbooks/r.yaml": RUNBOOK,
        "migrations/0001.drop-email.sql": "-- cleanup\nALTER TABLE customers ADD COLUMN x TEXT;\n"
                                          "ALTER TABLE customers DROP COLUMN email;\n",
        "migrations/0002.index.sql": "CREATE INDEX i ON orders (customer_id);\n",
        "migrations/0002.index.rollback.sql": "DROP INDEX i;\n",
    })
    found = sorted((d.code, d.path, d.line) for d in analyse(root).diagnostics)
    assert found == [("OB810", "migrations/0001.drop-email.sql", 1), ("OB811", "migrations/0001.drop-email.sql", 3)]
    noted = root / "migrations" / "0001.drop-email.sql"
    noted.write_text("-- data-protection: emails are no longer collected\n" + noted.read_text(), encoding="utf-8")
    assert [d.code for d in analyse(root).diagnostics] == ["OB810"]
    page = next(p.text for p in analyse(root).pages() if p.uri == "operations/migrations/index.md")
    assert "locks writes to orders while the index builds" in page and "| NO |" in page


def test_log_checks(make_handbook: Callable[..., Path]) -> None:
    root = make_handbook({
        "teams/data.yaml": "name: Data\n", "components/db.yaml": COMPONENT, "runbooks/r.yaml": RUNBOOK,
        "components/api.yaml": "name: API\nkind: service\nowner: data\n",
        "logs/db.yaml": "component: db\ndestination: Loki\nretention: 90d\ncontains_pii: true\n",
    })
    found = sorted((d.code, d.path, d.line) for d in analyse(root).diagnostics)
    assert found == [("OB820", "components/api.yaml", 1), ("OB821", "logs/db.yaml", 3)]
    (root / "logs" / "db.yaml").write_text("component: db\ndestination: Loki\nretention: 7d\n", encoding="utf-8")
    assert ("OB821", "logs/db.yaml", 1) in {(d.code, d.path, d.line) for d in analyse(root).diagnostics}


INCIDENT = """\
title: Down
severity: high
started: "2026-10-01T10:00:00Z"
resolved: "2026-10-01T12:30:00Z"
services: [db]
alerts: [Down]
runbooks:
  - r
  - no-such-runbook
timeline: [{at: "2026-10-01T10:00:00Z", event: "<script>alert(1)</script> it broke"}]
action_items:
  - {title: Fix it, owner: data, due: "2026-10-15", done: true}
  - {title: Prevent it, owner: data, due: "2026-11-01", done: false}
  - {title: Later, owner: data, due: "2027-01-01", done: false}
postmortem: |
  ## What happened
  <img src=x onerror=alert(1)> and [a link](javascript:alert(1)) and [ok](https://example.com).
"""


def test_incident_checks_and_pages(make_handbook: Callable[..., Path]) -> None:
    root = make_handbook({
        "teams/data.yaml": "name: Data\n", "components/db.yaml": COMPONENT, "runbooks/r.yaml": RUNBOOK,
        "ops/alerts/a.yml": "groups: [{name: g, rules: [{alert: Down, expr: up == 0}]}]\n",
        "incidents/i.yaml": INCIDENT,
    })
    analysis = analyse(root)
    found = sorted((d.code, d.line, d.column) for d in analysis.diagnostics)
    assert found == [("OB021", 9, 5), ("OB831", 13, 5)]
    pages = {p.uri: p.text for p in analysis.pages()}
    incident = pages["operations/incidents/i.md"]
    assert "&lt;script&gt;" in incident and "<script" not in incident and "<img" not in incident
    assert "[a link](#)" in incident and "[ok](https://example.com)" in incident and "## What happened" in incident
    assert "- **Resolved:** 2026-10-01 12:30 UTC, after 2 h 30 min" in incident and "- **Started:** 2026-10-01 10:00 UTC" in incident
    assert "- **Incidents**: [Down](../operations/incidents/i.md)" in pages["runbooks/r.md"]
    assert "- **Incidents:** [Down](../operations/incidents/i.md)\n" in pages["alerts/Down.md"]
    assert compute_health(analysis.handbook, analysis.diagnostics).resolve_hours_by_service == {"db": 2.5}


def test_resolved_before_started(make_handbook: Callable[..., Path]) -> None:
    root = make_handbook({"incidents/i.yaml": "title: X\nseverity: low\nstarted: '2026-10-01T10:00:00Z'\n"
                                              "resolved: '2026-10-01T09:00:00Z'\n"})
    assert [(d.code, d.line) for d in analyse(root).diagnostics] == [("OB830", 4)]


def test_semicolons_in_comments_and_strings_do_not_split_statements() -> None:
    from opsbook.kinds.operations.records import analyse_sql

    changes = analyse_sql("-- note; with a semicolon\nUPDATE t SET a = 'x;y';\nCREATE INDEX i ON orders (a);\n")
    assert [(c.line, c.summary.split()[0]) for c in changes] == [(2, "UPDATE"), (3, "CREATE")]
    assert changes[1].locks == "locks writes to orders while the index builds"


def test_sql_is_split_by_a_lexer_dollar_bodies_and_block_comments() -> None:
    """#16, item 7: a `$$` body is one statement; a `/* */` comment does not hide a lock note."""
    from opsbook.kinds.operations.records import analyse_sql

    text = ("CREATE FUNCTION touch() RETURNS trigger AS $$\nBEGIN\n  NEW.at := now();\n  RETURN NEW;\nEND;\n"
            "$$ LANGUAGE plpgsql;\n/* widen the column;\n   it was too short */\nALTER TABLE orders ADD COLUMN note text;\n"
            "CREATE FUNCTION f() RETURNS int AS $fn$ SELECT 1; DROP TABLE x; $fn$ LANGUAGE sql;\n"
            "UPDATE t SET a = E'it\\'s; DROP COLUMN y';\n-- trailing; comment\n")
    changes = analyse_sql(text)
    assert [(c.line, c.summary.split()[0]) for c in changes] == [(1, "CREATE"), (9, "ALTER"), (10, "CREATE"),
                                                                  (11, "UPDATE")]
    assert changes[0].summary == "CREATE FUNCTION touch() RETURNS trigger AS $$ $$ LANGUAGE plpgsql"
    assert changes[1].summary == "ALTER TABLE orders ADD COLUMN note text"
    assert changes[1].locks == "takes an exclusive lock on orders, briefly"
    assert [c.drops for c in changes] == [(), (), (), ()]
    assert analyse_sql("/* only a comment; */\n-- and another\n") == []


def test_project_migrations_give_the_same_changes() -> None:
    """The statements, lines, lock notes and drops of the project's migrations, as the regex split read them."""
    from opsbook.kinds.operations.records import analyse_sql

    root = Path(__file__).resolve().parent.parent / "migrations"
    found = {path.name: [(c.line, c.summary.split()[:3], c.locks, c.drops) for c in analyse_sql(path.read_text())]
             for path in sorted(root.glob("*.sql"))}
    exclusive = "takes an exclusive lock on {}, briefly"
    assert found == {
        "0001.add-order-status.rollback.sql": [(1, ["ALTER", "TABLE", "orders"], exclusive.format("orders"),
                                                ("orders.status",))],
        "0001.add-order-status.sql": [(2, ["ALTER", "TABLE", "orders"], exclusive.format("orders"), ())],
        "0002.index-orders-by-customer.rollback.sql": [(1, ["DROP", "INDEX", "orders_customer_idx"], None, ())],
        "0002.index-orders-by-customer.sql": [(2, ["CREATE", "INDEX", "orders_customer_idx"],
                                               "locks writes to orders while the index builds", ())],
        "0003.add-customer-marketing-consent.rollback.sql": [(1, ["ALTER", "TABLE", "customers"],
                                                              exclusive.format("customers"),
                                                              ("customers.marketing_consent",))],
        "0003.add-customer-marketing-consent.sql": [(2, ["ALTER", "TABLE", "customers"],
                                                     exclusive.format("customers"), ())],
    }


@pytest.mark.parametrize(("text", "shown"), [
    ("2026-10-03T14:02:00Z", "2026-10-03 14:02 UTC"), ("2026-10-03T16:02:30+02:00", "2026-10-03 14:02:30 UTC"),
    ("2026-10-03 14:02", "2026-10-03 14:02 UTC"), ("2026-10-03T14:02:00.5z", "2026-10-03 14:02 UTC"),
    ("2026-13-03T14:02:00Z", "2026-13-03T14:02:00Z"), ("yesterday", "yesterday"), (None, ""),
    ("2026-10-03T14:02:00Z" + "0" * 100, "2026-10-03T14:02:00Z" + "0" * 100)])
def test_an_instant_is_shown_in_utc_to_the_minute(text: object, shown: str) -> None:
    """Incident times read as a person reads them, never a raw ISO timestamp; text that is not an instant
    is left as it is (and escaped where it is shown)."""
    from opsbook.durations import instant_in_words

    assert instant_in_words(text) == shown
