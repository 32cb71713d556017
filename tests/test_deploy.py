"""Blue-green deploy and rollback, for real: a site served on loopback from `current` stays up through
a deploy and a rollback under a bounded request loop; a failed check switches nothing."""

from __future__ import annotations

import functools
import hashlib
import http.server
import os
import shutil
import signal
import subprocess
import tarfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).parent.parent
DEPLOY = str(REPO / "scripts" / "deploy.sh")
ROLLBACK = str(REPO / "scripts" / "rollback.sh")


def _release(folder: Path, text: str) -> Path:
    folder.mkdir(parents=True)
    (folder / "index.html").write_text(text, encoding="utf-8")
    return folder


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(args), capture_output=True, text=True, timeout=120)


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the base class's name
        pass


@pytest.fixture
def server(tmp_path: Path):
    target = tmp_path / "target"
    target.mkdir()
    handler = functools.partial(_Quiet, directory=str(target))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield target, f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_deploy_and_rollback_under_load(tmp_path: Path, server) -> None:
    target, base = server
    a = _release(tmp_path / "a", "release A")
    b = _release(tmp_path / "b", "release B")
    health = f"{base}/releases/{{release}}/index.html"
    assert _run(DEPLOY, "--target", str(target), "--release-id", "ra", "--health-url", health, str(a)).returncode == 0

    requests = failures = 0
    seen: set[str] = set()
    stop = threading.Event()

    def load() -> None:
        nonlocal requests, failures
        deadline = time.monotonic() + 60
        while not stop.is_set() and requests < 5000 and time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{base}/current/index.html", timeout=5) as response:
                    body = response.read().decode()
                    if response.status != 200 or body not in ("release A", "release B"):
                        failures += 1
                    seen.add(body)
            except (urllib.error.URLError, OSError):
                failures += 1
            requests += 1

    loader = threading.Thread(target=load)
    loader.start()
    try:
        while requests < 150:
            time.sleep(0.01)
        deployed = _run(DEPLOY, "--target", str(target), "--release-id", "rb", "--health-url", health, str(b))
        assert deployed.returncode == 0, deployed.stderr
        while requests < 350:
            time.sleep(0.01)
        rolled = _run(ROLLBACK, "--target", str(target))
        assert rolled.returncode == 0, rolled.stderr
        while requests < 600:
            time.sleep(0.01)
    finally:
        stop.set()
        loader.join()
    print(f"deploy under load: {requests} requests, {failures} failed, bodies seen: {sorted(seen)}")
    assert requests >= 500 and failures == 0
    assert seen == {"release A", "release B"}
    assert os.readlink(target / "current") == "releases/ra"
    history = (target / "deploy-history.log").read_text().splitlines()
    assert [line.split("\t")[1:4] for line in history] == [["deploy", "ra", ""], ["deploy", "rb", "ra"],
                                                           ["rollback", "ra", "rb"]]


def test_failed_health_check_switches_nothing(tmp_path: Path, server) -> None:
    target, base = server
    good = _release(tmp_path / "good", "good")
    assert _run(DEPLOY, "--target", str(target), "--release-id", "r1", str(good)).returncode == 0
    broken = _release(tmp_path / "broken", "")  # an empty index.html fails the default check
    result = _run(DEPLOY, "--target", str(target), "--release-id", "r2", str(broken))
    assert result.returncode == 3 and "current still points to releases/r1" in result.stderr
    assert os.readlink(target / "current") == "releases/r1" and not (target / "releases" / "r2").exists()
    over_http = _run(DEPLOY, "--target", str(target), "--release-id", "r3",
                     "--health-url", f"{base}/releases/{{release}}/missing.html", str(good))
    assert over_http.returncode == 3 and os.readlink(target / "current") == "releases/r1"


def test_checksum_is_verified_before_anything(tmp_path: Path) -> None:
    site = _release(tmp_path / "site", "site")
    archive = tmp_path / "site.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(site, arcname=".")
    digest = hashlib.sha256(archive.read_bytes()).hexdigest()
    (tmp_path / "site.tar.gz.sha256").write_text("0" * 64 + "\n")
    target = tmp_path / "target"
    refused = _run(DEPLOY, "--target", str(target), str(archive))
    assert refused.returncode == 1 and "checksum mismatch" in refused.stderr
    assert not (target / "current").exists()
    (tmp_path / "site.tar.gz.sha256").write_text(f"{digest}  site.tar.gz\n")
    accepted = _run(DEPLOY, "--target", str(target), "--release-id", "r1", str(archive))
    assert accepted.returncode == 0, accepted.stderr
    assert (target / "current" / "index.html").read_text() == "site"


def test_old_releases_are_pruned_but_not_the_live_or_previous(tmp_path: Path) -> None:
    target = tmp_path / "target"
    for index in range(1, 5):
        release = _release(tmp_path / f"r{index}", f"release {index}")
        assert _run(DEPLOY, "--target", str(target), "--keep", "2", "--release-id", f"r{index}",
                    str(release)).returncode == 0
    assert sorted(p.name for p in (target / "releases").iterdir()) == ["r3", "r4"]
    assert _run(ROLLBACK, "--target", str(target)).returncode == 0
    assert os.readlink(target / "current") == "releases/r3"
    again = _run(ROLLBACK, "--target", str(target))
    assert again.returncode == 1 and "r2 is not in" in again.stderr  # pruned: nothing switched
    assert os.readlink(target / "current") == "releases/r3"


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL], ids=["SIGTERM", "SIGKILL"])
def test_a_deploy_retried_after_a_kill_ships_only_the_new_files(tmp_path: Path, sig: int) -> None:
    """Killed while unpacking (a `cp` on PATH that pauses after copying), then retried with the same
    release id and a new artifact: the release holds the new artifact's files and nothing else."""
    target = tmp_path / "target"
    first = _release(tmp_path / "first", "first")
    (first / "stale.html").write_text("from the killed attempt", encoding="utf-8")
    second = _release(tmp_path / "second", "second")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    marker = bin_dir / "cp.paused"
    (bin_dir / "cp").write_text(f'#!/bin/sh\n"{shutil.which("cp")}" "$@"\nstatus=$?\n: >"{marker}"\nsleep 60\n'
                                'exit $status\n', encoding="utf-8")
    (bin_dir / "cp").chmod(0o755)
    process = subprocess.Popen([DEPLOY, "--target", str(target), "--release-id", "r1", str(first)],
                               env={**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"},
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while not marker.exists():
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline, "deploy.sh never reached cp"
            time.sleep(0.01)
        os.killpg(process.pid, sig)
        process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    staged = [p.name for p in (target / "releases").iterdir() if p.name.startswith(".staging-")]
    assert not (target / "releases" / "r1").exists() and not (target / "current").exists()
    if sig == signal.SIGTERM:
        assert staged == [], "the EXIT trap removes the staging folder"
    retried = _run(DEPLOY, "--target", str(target), "--release-id", "r1", str(second))
    assert retried.returncode == 0, retried.stderr
    assert sorted(p.name for p in (target / "releases" / "r1").iterdir()) == ["index.html"]
    assert (target / "current" / "index.html").read_text() == "second"
    assert [p.name for p in (target / "releases").iterdir() if p.name.startswith(".staging-")] == []
