"""The MkDocs plugin, end to end: real `mkdocs build` and `mkdocs serve` runs of sample handbooks."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pytest

from opsbook.config import Config
from opsbook.mkdocs_plugin import OpsbookConfig
from opsbook.registry import KINDS

MKDOCS = [sys.executable, "-m", "mkdocs"]
ENV = {**os.environ, "NO_MKDOCS_2_WARNING": "1", "NO_COLOR": "1"}


def _build(root: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*MKDOCS, "build", "--strict", *extra], cwd=root, env=ENV, capture_output=True,
                          text=True, timeout=300)


def test_plugin_options_are_the_core_options() -> None:
    assert sorted(name for name, _ in OpsbookConfig._schema) == sorted(Config.options())


def test_plugin_config_validates_without_warnings() -> None:
    config = OpsbookConfig()
    config.load_dict({"sources": {"runbook": ["runbooks"]}, "today": "2026-11-26", "fail_on": "warning"})
    errors, warnings = config.validate()
    assert errors == [] and warnings == []


def test_build_of_the_minimal_handbook(fixture_handbook: Callable[[str], Path]) -> None:
    root = fixture_handbook("minimal")
    result = _build(root)
    assert result.returncode == 0, result.stderr
    site = root / "site"
    page = (site / "runbooks" / "cache-flush" / "index.html").read_text(encoding="utf-8")
    # No markup from a source reaches the HTML.
    assert "<script>alert" not in page and "<img src=x" not in page and "<b>cache" not in page
    assert re.search(r'href="javascript:', page) is None
    assert "<title>Flush the &lt;b&gt;cache&lt;/b&gt; &amp; restart - Fixture handbook</title>" in page
    # The edit link points at the YAML the page came from.
    assert 'href="https://example.com/org/repo/edit/main/runbooks/cache-flush.yaml"' in page
    # Record pages stay out of the navigation; the index is in it.
    home = (site / "index.html").read_text(encoding="utf-8")
    assert "runbooks/cache-flush/" not in home and 'href="runbooks/"' in home
    assert (site / "reference" / "checks" / "OB021" / "index.html").is_file()
    assert (site / "reference" / "schemas" / "runbook" / "index.html").is_file()


def test_build_fails_on_an_error_with_its_position(fixture_handbook: Callable[[str], Path]) -> None:
    root = fixture_handbook("broken-related")
    result = _build(root)
    assert result.returncode != 0
    assert "runbooks/db-restore.yaml:5:5: error OB021 related[1] names runbook 'db-failovr'" in result.stderr
    assert "Traceback" not in result.stderr


def test_warnings_fail_only_under_strict(fixture_handbook: Callable[[str], Path]) -> None:
    root = fixture_handbook("minimal")
    file = root / "runbooks" / "web-restart.yaml"
    file.write_text(file.read_text(encoding="utf-8").replace("2026-11-01", "2020-01-01"), encoding="utf-8")
    strict = _build(root)
    assert strict.returncode != 0 and "OB040" in strict.stderr
    relaxed = subprocess.run([*MKDOCS, "build"], cwd=root, env=ENV, capture_output=True, text=True, timeout=300)
    assert relaxed.returncode == 0 and "runbooks/web-restart.yaml:4:16: warning OB040" in relaxed.stderr


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get(url: str) -> str | None:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - loopback only
            return response.read().decode("utf-8")
    except OSError:
        return None


def test_serve_rebuilds_when_a_runbook_changes(fixture_handbook: Callable[[str], Path]) -> None:
    root = fixture_handbook("minimal")
    port = _free_port()
    server = subprocess.Popen([*MKDOCS, "serve", "-a", f"127.0.0.1:{port}"], cwd=root, env=ENV,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/runbooks/web-restart/"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and "Restart the web tier" not in (_get(url) or ""):
            time.sleep(0.5)
        assert "Restart the web tier" in (_get(url) or ""), "mkdocs serve did not come up"
        file = root / "runbooks" / "web-restart.yaml"
        file.write_text(file.read_text(encoding="utf-8").replace("Restart the web tier", "Restart the web fleet"),
                        encoding="utf-8")
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and "Restart the web fleet" not in (_get(url) or ""):
            time.sleep(0.5)
        assert "Restart the web fleet" in (_get(url) or ""), "editing the runbook did not rebuild its page"
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()


@pytest.mark.skipif(not (Path(__file__).parent.parent / "mkdocs.yml").exists(), reason="not in the repository")
def test_reference_handbook_builds_strict(tmp_path: Path) -> None:
    repo = Path(__file__).parent.parent
    result = _build(repo, "--site-dir", str(tmp_path / "site"))
    assert result.returncode == 0, result.stderr[-3000:]


def test_an_unquoted_today_in_mkdocs_yml_is_accepted() -> None:
    import datetime

    config = OpsbookConfig()
    config.load_dict({"today": datetime.date(2026, 11, 26)})
    errors, warnings = config.validate()
    assert errors == [] and warnings == []
    core, problems = Config.from_mapping({"today": datetime.date(2026, 11, 26)}, Path("."), KINDS)
    assert problems == [] and core.today == "2026-11-26"


def test_unknown_section_fails_the_build(fixture_handbook: Callable[[str], Path]) -> None:
    root = fixture_handbook("minimal")
    index = root / "docs" / "index.md"
    index.write_text(index.read_text(encoding="utf-8") + "\n<!-- opsbook: runbooks -->\n", encoding="utf-8")
    assert _build(root).returncode == 0
    assert "cache-flush/" in (root / "site" / "index.html").read_text(encoding="utf-8")
    index.write_text(index.read_text(encoding="utf-8") + "\n<!-- opsbook: nope -->\n", encoding="utf-8")
    result = _build(root)
    assert result.returncode != 0 and "docs/index.md:7:1: error OB060" in result.stderr


def test_a_failed_build_leaves_the_last_good_site(fixture_handbook: Callable[[str], Path]) -> None:
    root = fixture_handbook("minimal")
    assert _build(root).returncode == 0
    page = root / "site" / "runbooks" / "cache-flush" / "index.html"
    before = page.read_text(encoding="utf-8")
    (root / "runbooks" / "broken.yaml").write_text("title: [\n", encoding="utf-8")
    assert _build(root).returncode != 0
    assert page.read_text(encoding="utf-8") == before  # the last good site, whole
    assert not list(root.glob(".site.opsbook-*")) or all(p.name.endswith("staging") for p in root.glob(".site.opsbook-*"))
    (root / "runbooks" / "broken.yaml").unlink()
    assert _build(root).returncode == 0 and not (root / ".site.opsbook-previous").exists()


def test_hand_written_pages_are_prepared_while_the_model_is_loaded(fixture_handbook: Callable[[str], Path]) -> None:
    """The plugin expands hand-written pages in `on_files` and then lets the model go (it would sit in
    memory through MkDocs' build); a page another plugin changes afterwards is expanded from the model
    read again."""
    from mkdocs.config import load_config
    from mkdocs.structure.files import get_files
    from mkdocs.structure.pages import Page

    root = fixture_handbook("minimal")
    index = root / "docs" / "index.md"
    index.write_text(index.read_text(encoding="utf-8") + "\n<!-- opsbook: runbooks -->\n", encoding="utf-8")
    config = load_config(str(root / "mkdocs.yml"))
    config.plugins.on_startup(command="build", dirty=False)
    config = config.plugins.on_config(config)
    files = config.plugins.on_files(get_files(config), config=config)
    plugin = config.plugins["opsbook"]
    assert plugin.analysis is None and "index.md" in plugin.prepared
    file = files.get_file_from_path("index.md")
    page = Page(None, file, config)
    page.read_source(config)
    prepared = plugin.on_page_markdown(page.markdown, page=page, config=config, files=files)
    assert "(runbooks/cache-flush.md)" in prepared and plugin.analysis is None  # served from what on_files prepared
    changed = plugin.on_page_markdown("# Changed by another plugin\n\n<!-- opsbook: runbooks -->\n", page=page,
                                      config=config, files=files)
    assert changed.startswith("# Changed by another plugin") and "(runbooks/cache-flush.md)" in changed
    assert "<!-- opsbook:" not in changed
    # Metadata another plugin added (Material's meta plugin reads .meta.yml files) decides the freshness line.
    page.meta.update({"owner": "nobody", "last_reviewed": "2026-10-01", "review_every": "30d"})
    fresh = plugin.on_page_markdown(page.markdown, page=page, config=config, files=files)
    assert "*Owned by nobody · reviewed 2026-10-01 (56 days ago) · **review overdue** since 2026-10-31*" in fresh


@pytest.mark.parametrize(("given", "beside"), [
    ("mkdocs.yml", {"properdocs.yml": "INHERIT: mkdocs.yml\nsite_url: https://properdocs.example/\n"}),
    ("site.yml", {"mkdocs.yml": "INHERIT: site.yml\nsite_url: https://mkdocs.example/\n"}),
])
def test_site_url_comes_from_the_file_the_engine_read(fixture_handbook: Callable[[str], Path], given: str,
                                                      beside: dict[str, str]) -> None:
    """`mkdocs build` reads mkdocs.yml even with properdocs.yml beside it (which ProperDocs and `opsbook
    check` read first), and `mkdocs build -f site.yml` reads site.yml: the plugin takes the site_url the file
    says (not the preview's address `mkdocs serve` puts in its place) from that file, not from another."""
    from mkdocs.config import load_config

    root = fixture_handbook("minimal")
    text = (root / "mkdocs.yml").read_text(encoding="utf-8")
    (root / "mkdocs.yml").unlink()
    (root / given).write_text(text + "site_url: https://given.example/handbook\n", encoding="utf-8")
    for name, content in beside.items():
        (root / name).write_text(content, encoding="utf-8")
    config = load_config(str(root / given))
    config.plugins.on_startup(command="serve", dirty=False)
    config["site_url"] = "http://127.0.0.1:8000/"  # as `mkdocs serve` sets it before on_config
    config = config.plugins.on_config(config)
    assert config.plugins["opsbook"].core.site_url == "https://given.example/handbook/"
