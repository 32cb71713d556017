"""The published site in a real browser: Debian's Chromium driven by Playwright, the reference handbook
built and served on loopback. Diagrams must render as SVG with no request leaving the machine."""

from __future__ import annotations

import functools
import http.server
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

REPO = Path(__file__).parent.parent
CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)
MERMAID = REPO / "node_modules" / "mermaid" / "dist" / "mermaid.min.js"
ARTIFACTS = REPO / "test-artifacts"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", "--no-first-run", "--disable-quic"]

try:
    from playwright.sync_api import sync_playwright
except ImportError:  # pragma: no cover - depends on the environment
    sync_playwright = None

pytestmark = [
    pytest.mark.skipif(sync_playwright is None, reason="playwright is not installed (pip install playwright)"),
    pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (Debian package chromium)"),
    pytest.mark.skipif(not MERMAID.is_file(), reason="Mermaid is not installed (npm install --no-save mermaid@11)"),
]


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("site")
    built = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(folder)], cwd=REPO,
                           env={**os.environ, "NO_MKDOCS_2_WARNING": "1"}, capture_output=True, text=True, timeout=600)
    assert built.returncode == 0, built.stderr[-3000:]
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(folder)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(scope="module")
def browser(site: str) -> Iterator[object]:
    assert sync_playwright is not None
    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        yield instance
        instance.close()


# Material draws each diagram in a closed shadow root; opening them lets the test see the SVG.
OPEN_SHADOWS = ("(() => { const attach = Element.prototype.attachShadow; Element.prototype.attachShadow = "
                "function (init) { return attach.call(this, Object.assign({}, init, {mode: 'open'})); }; })()")


def _page(browser: object, outside: list[str]):
    page = browser.new_page(viewport={"width": 1300, "height": 900})  # type: ignore[attr-defined]
    page.add_init_script(OPEN_SHADOWS)

    def guard(route, request) -> None:  # noqa: ANN001 - Playwright's types
        host = urlsplit(request.url).hostname
        if request.url.startswith(("data:", "blob:")) or host in ("127.0.0.1", "localhost"):
            route.continue_()
        else:
            outside.append(request.url)
            route.abort()

    page.route("**/*", guard)
    return page


def test_architecture_diagram_renders_as_svg_offline(site: str, browser: object) -> None:
    outside: list[str] = []
    page = _page(browser, outside)
    page.goto(f"{site}/architecture/components/", wait_until="load")
    page.wait_for_selector(".mermaid svg", timeout=20000)
    svg = page.locator(".mermaid svg").first
    assert svg.is_visible()
    labels = svg.text_content() or ""
    assert "Orders database" in labels and "orders-api" in labels and "PostgreSQL over TLS" in labels
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "architecture.png"), full_page=True)
    assert outside == [], f"requests left loopback: {outside}"
    page.close()
