"""Shared fixtures: sample handbooks copied to temporary folders, and golden files; the hypothesis seed."""

from __future__ import annotations

import fcntl
import json
import os
import random
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

TESTS = Path(__file__).parent
FIXTURES = TESTS / "fixtures"
REPO = TESTS.parent
TODAY = "2026-11-26"
# The reference handbook's review dates are real: pinned, the tests that build or check it do not start
# failing when a review falls due. Its own docs gate (the PR workflow) runs with the real date.
os.environ["OPSBOOK_TODAY"] = TODAY


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--update-goldens", action="store_true", default=False,
                     help="Rewrite the golden files under tests/golden from the current output.")


# --- The hypothesis seed ---------------------------------------------------------------------------------
# The fuzz tests (tests/test_fuzz.py) draw new cases on every run. Unless `--hypothesis-seed=N` is given,
# a seed is drawn here and forced on hypothesis, in every pytest-xdist worker alike, and printed in the
# header and the summary: `pytest --hypothesis-seed=N` replays the run.

SEED_KEY = "opsbook_hypothesis_seed"


@pytest.hookimpl(tryfirst=True)  # before hypothesis's own pytest_configure reads the option
def pytest_configure(config: pytest.Config) -> None:
    if not hasattr(config.option, "hypothesis_seed"):
        return  # hypothesis's pytest plugin is not loaded
    workerinput = getattr(config, "workerinput", None)
    if workerinput is not None and SEED_KEY in workerinput:  # a pytest-xdist worker: the controller's seed
        config.option.hypothesis_seed = workerinput[SEED_KEY]
    elif config.option.hypothesis_seed is None:
        config.option.hypothesis_seed = str(random.SystemRandom().randrange(2**32))
    from hypothesis import core

    seed = config.option.hypothesis_seed
    core.global_force_seed = int(seed) if str(seed).isdigit() else seed  # type: ignore[assignment]
    if config.pluginmanager.hasplugin("xdist"):
        config.pluginmanager.register(_SeedToWorkers(), "opsbook-seed-to-workers")


class _SeedToWorkers:
    @staticmethod
    def pytest_configure_node(node: object) -> None:  # pytest-xdist's hook, on the controller
        node.workerinput[SEED_KEY] = node.config.option.hypothesis_seed  # type: ignore[attr-defined]


def _seed_line(config: pytest.Config) -> str | None:
    seed = getattr(config.option, "hypothesis_seed", None)
    return None if seed is None else f"hypothesis seed: {seed} (replay with: pytest --hypothesis-seed={seed})"


def pytest_report_header(config: pytest.Config) -> list[str]:
    line = _seed_line(config)
    return [line] if line else []


FUZZ_CASES: dict[str, int] = {}


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    for name, value in report.user_properties:  # from the workers too: pytest-xdist forwards them
        if name == "fuzz_cases" and isinstance(value, dict):
            FUZZ_CASES.update(value)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    line = _seed_line(config)
    if FUZZ_CASES:
        cases = ", ".join(f"{count:,} {name}" for name, count in FUZZ_CASES.items())
        terminalreporter.write_line(f"fuzz: {sum(FUZZ_CASES.values()):,} cases ({cases})")
    if line and (FUZZ_CASES or terminalreporter.stats.get("failed")):
        terminalreporter.write_line(line)


# --- Sites built once per run --------------------------------------------------------------------------
# Building the reference handbook, or the generated one of over 500 pages, takes seconds to a minute; the
# browser, accessibility and site-text tests read the same sites without changing them. The first test
# (in any pytest-xdist worker) to ask builds it, under a lock, into the run's shared temporary folder;
# the others wait for it and read it.

MKDOCS_ENV = {**os.environ, "NO_MKDOCS_2_WARNING": "1", "NO_COLOR": "1"}


def shared_build(factory: pytest.TempPathFactory, name: str, make: Callable[[Path], None]) -> Path:
    """A folder made once per test run by `make`, shared by every worker of the run."""
    base = factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        base = base.parent  # the run's folder, above each worker's own
    folder = base / f"shared-{name}"
    with open(base / f"shared-{name}.lock", "w", encoding="utf-8") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if not (folder / ".made").exists():
                shutil.rmtree(folder, ignore_errors=True)
                folder.mkdir(parents=True)
                make(folder)
                (folder / ".made").write_text("", encoding="utf-8")
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    return folder


def _mkdocs_build(root: Path, site: Path) -> None:
    import subprocess
    import sys

    built = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)], cwd=root,
                           env=MKDOCS_ENV, capture_output=True, text=True, timeout=600)
    assert built.returncode == 0, built.stderr[-3000:]


@pytest.fixture(scope="session")
def reference_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The reference handbook (this repository) built strict with MkDocs: the site's folder."""
    return shared_build(tmp_path_factory, "reference-site", lambda folder: _mkdocs_build(REPO, folder / "site")) / "site"


@pytest.fixture(scope="session")
def generated_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A handbook of over 500 pages generated by benchmarks/make_handbook.py, built strict: the site's folder."""
    import subprocess
    import sys

    def make(folder: Path) -> None:
        made = subprocess.run([sys.executable, str(REPO / "benchmarks" / "make_handbook.py"), "--runbooks", "150",
                               "--alerts", "260", "--workflows", "8", "--components", "30", "--out", str(folder / "hb")],
                              capture_output=True, text=True, timeout=300, env=MKDOCS_ENV)
        assert made.returncode == 0, made.stderr[-3000:]
        _mkdocs_build(folder / "hb" / "opsbook", folder / "site")

    return shared_build(tmp_path_factory, "generated-site", make) / "site"


@pytest.fixture(scope="session")
def package_registry() -> None:
    """Skips the test, saying why, when pip cannot reach the package registry (the packaging tests install
    from it into fresh environments)."""
    import subprocess
    import sys

    try:
        probe = subprocess.run([sys.executable, "-m", "pip", "index", "versions", "pip"],
                               capture_output=True, text=True, timeout=120)
    except subprocess.TimeoutExpired:
        pytest.skip("pip could not reach the package registry within 120 s")
    if probe.returncode != 0:
        pytest.skip("pip could not reach the package registry: " + (probe.stderr.strip().splitlines() or ["?"])[-1])


@pytest.fixture
def fixture_handbook(tmp_path: Path) -> Callable[[str], Path]:
    """Copy a sample handbook from tests/fixtures to a temporary folder and return its root."""

    def copy(name: str) -> Path:
        target = tmp_path / name
        shutil.copytree(FIXTURES / name, target)
        return target

    return copy


@pytest.fixture
def make_handbook(tmp_path: Path) -> Callable[..., Path]:
    """Write a handbook from a mapping of relative path → text, configured by `opsbook.yml`."""

    def make(files: dict[str, str | bytes], **options: object) -> Path:
        root = tmp_path / "handbook"
        root.mkdir(exist_ok=True)
        settings = {"today": TODAY, **options}
        (root / "opsbook.yml").write_text(json.dumps(settings), encoding="utf-8")  # JSON is YAML
        for relpath, content in files.items():
            file = root / relpath
            file.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, bytes):
                file.write_bytes(content)
            else:
                file.write_text(content, encoding="utf-8")
        return root

    return make


@pytest.fixture
def repo_sandbox() -> Iterator[None]:
    """Run the reference handbook's runbooks one test at a time.

    Their CI sandboxes are folders under the repository's `.ci-tmp/` (the relative paths of their `ci:`
    inputs and cleanup steps), so two tests running them at once, in two pytest-xdist workers or in two
    runs of the suite in the same checkout, would remove each other's files. An exclusive lock on
    `.ci-tmp/.tests.lock` serialises them, and only them."""
    folder = REPO / ".ci-tmp"
    folder.mkdir(exist_ok=True)
    with open(folder / ".tests.lock", "a", encoding="utf-8") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


@dataclass
class LoaderWork:
    """What the loader did during a test: the files opened for reading, and the values built from each
    document parsed.

    Hostile input is shown to be answered in bounded work, not in a time that a loaded machine may exceed:
    a file over the size limit is never opened, no document builds more values than `max_nodes`
    however far its aliases expand, and the key/value pairs of mappings walked (`pairs_walked`, to build
    values and to find positions) grow with the keys, not with their square."""

    opened: list[Path] = field(default_factory=list)
    builders: list[object] = field(default_factory=list)
    pairs_walked: int = 0

    @property
    def most_values_built(self) -> int:
        return max((builder.count for builder in self.builders), default=0)  # type: ignore[attr-defined]


@pytest.fixture
def loader_work(monkeypatch: pytest.MonkeyPatch) -> LoaderWork:
    """Record the files opened for reading through `Path.open`, the loader's value builders, and the
    mapping pairs it walks."""
    from opsbook import loader

    work = LoaderWork()
    real_open = Path.open

    def recording_open(self: Path, *args: object, **kwargs: object) -> object:
        mode = str(args[0] if args else kwargs.get("mode", "r"))
        if not set(mode) & set("wax+"):  # opened for reading only
            work.opened.append(self)
        return real_open(self, *args, **kwargs)  # type: ignore[call-overload]

    class RecordingBuilder(loader._Builder):
        def __init__(self, *args: object, **kwargs: object) -> None:
            super().__init__(*args, **kwargs)  # type: ignore[arg-type]
            work.builders.append(self)

    real_pairs = loader._mapping_pairs

    def counting_pairs(node: Any) -> Iterator[tuple[Any, Any]]:
        for pair in real_pairs(node):
            work.pairs_walked += 1
            yield pair

    monkeypatch.setattr(Path, "open", recording_open)
    monkeypatch.setattr(loader, "_Builder", RecordingBuilder)
    monkeypatch.setattr(loader, "_mapping_pairs", counting_pairs)
    return work


@pytest.fixture
def golden(request: pytest.FixtureRequest) -> Callable[[str, str], None]:
    """Compare text with tests/golden/NAME; `--update-goldens` rewrites the file instead."""
    update = request.config.getoption("--update-goldens")

    def check(name: str, text: str) -> None:
        file = TESTS / "golden" / name
        if update or not file.exists():
            if not update:
                pytest.fail(f"golden file {file} is missing; run pytest --update-goldens and review the diff")
            file.parent.mkdir(parents=True, exist_ok=True)
            file.write_text(text, encoding="utf-8")
        assert text == file.read_text(encoding="utf-8"), f"{name} differs from its golden file"

    return check
