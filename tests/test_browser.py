"""The published site in a real browser: Debian's Chromium driven by Playwright, the reference handbook
built and served on loopback. Diagrams must render as SVG with no request leaving the machine."""

from __future__ import annotations

import functools
import http.server
import re
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote, urlsplit

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
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def site(reference_site: Path) -> Iterator[str]:
    folder = reference_site
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

    def guard(route, request) -> None:
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


def test_search_for_an_alert_lands_on_its_page(site: str, browser: object) -> None:
    outside: list[str] = []
    page = _page(browser, outside)
    page.goto(f"{site}/", wait_until="load")
    page.locator("input.md-search__input").click()
    page.keyboard.type("OrdersDatabaseDown", delay=20)  # Material's search listens to key events
    result = page.locator(".md-search-result__item a").first
    result.wait_for(timeout=20000)
    result.click()
    page.wait_for_load_state("load")
    assert "/alerts/OrdersDatabaseDown/" in page.url, page.url
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "alert.png"), full_page=True)
    assert outside == [], outside
    page.close()


def test_from_an_alert_to_its_runbook_and_the_team_paged(site: str, browser: object) -> None:
    outside: list[str] = []
    page = _page(browser, outside)
    page.goto(f"{site}/alerts/OrdersDatabaseDown/", wait_until="load")
    paged = page.locator("li", has_text="Who is paged:")
    assert "Data platform" in paged.inner_text()
    # The first thing under the summary: what to do now, and the runbook to follow.
    page.locator(".admonition", has_text="What to do now").locator("a").first.click()
    page.wait_for_load_state("load")
    assert "/runbooks/orders-db-failover/" in page.url
    assert "Fail the orders database over" in page.locator("h1").inner_text()
    page.screenshot(path=str(ARTIFACTS / "runbook.png"), full_page=True)
    page.go_back()
    page.locator("li", has_text="Who is paged:").locator("a").first.click()
    page.wait_for_load_state("load")
    assert "/teams/team-data/" in page.url and "Data platform" in page.locator("h1").inner_text()
    assert outside == [], outside
    page.close()


def test_crawl_every_page_and_follow_every_internal_link(site: str) -> None:
    import html.parser
    import urllib.error
    import urllib.request
    from urllib.parse import urldefrag, urljoin

    class Links(html.parser.HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.found: list[str] = []
            self.resources: list[str] = []  # what a browser fetches by itself, unlike a link

        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            for name, value in attrs:
                if value and ((tag == "a" and name == "href") or (tag in ("script", "img") and name == "src")
                              or (tag == "link" and name == "href")):
                    self.found.append(value)
                if value and tag in ("script", "img", "link", "iframe") and name in ("src", "href"):
                    self.resources.append(value)

    seen: set[str] = set()
    queue = [f"{site}/"]
    links = 0
    broken: list[tuple[str, str]] = []
    outside: set[str] = set()
    while queue and len(seen) < 3000:
        url = queue.pop()
        if url in seen:
            continue
        seen.add(url)
        try:
            with urllib.request.urlopen(url, timeout=10) as response:
                body = response.read()
                kind = response.headers.get_content_type()
        except urllib.error.HTTPError as error:
            broken.append((url, str(error.code)))
            continue
        if kind != "text/html":
            continue
        parser = Links()
        parser.feed(body.decode("utf-8", errors="replace"))
        for resource in parser.resources:
            target = urljoin(url, resource)
            if target.startswith(("http:", "https:", "//")) and not target.startswith(site):
                outside.add(target)
        for href in parser.found:
            target, _ = urldefrag(urljoin(url, href))
            if not target.startswith(site):
                continue
            links += 1
            if target not in seen:
                queue.append(target)
    pages = sum(1 for url in seen if url.endswith("/"))
    print(f"crawl: {pages} pages, {len(seen)} URLs, {links} internal links followed, {len(broken)} broken")
    assert broken == [], broken[:10]
    assert pages > 100
    assert outside == set(), f"resources fetched from outside the site: {sorted(outside)[:10]}"


def test_search_ranks_a_records_own_page_first_for_its_title(site: str, browser: object) -> None:
    """For the words of a runbook's title, or an alert's name, Material's search lists that record's own
    page first (opsbook boosts record pages), not a guide, an index or an incident that mentions it."""
    from opsbook import analyse

    analysis = analyse(REPO)
    runbooks = {f"/runbooks/{runbook.id}/": runbook.title for runbook in analysis.handbook.all("runbook")}
    wanted = {title: uri for uri, title in runbooks.items()}
    wanted.update({name: f"/alerts/{name}/" for name in {a.id for a in analysis.handbook.loaded["alert"]}})

    def stems(title: str) -> set[str]:
        words = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", title).lower()  # OrdersQueueBacklog: three words
        return {re.sub(r"(ed|es|e|s|d)$", "", word) for word in re.findall(r"[a-z]{5,}", words)}

    # A word of one runbook's title and of no other record's (any kind): that runbook first.
    titles = [(record.kind, record.id, record.title) for records in analysis.handbook.records.values()
              for record in records.values()]
    for uri, title in runbooks.items():
        others = set().union(*(stems(t) for kind, rid, t in titles if (kind, rid) != ("runbook", uri.split("/")[2])))
        for word in sorted(stems(title) - others):
            wanted[word] = uri
    outside: list[str] = []
    page = _page(browser, outside)
    page.goto(f"{site}/?q=orders", wait_until="load")  # Material opens the search on ?q=, and builds its index once
    box = page.locator("input.md-search__input")

    def first_result(query: str) -> str:
        """The path of the first result for a query typed into the open search box."""
        box.fill("")
        box.dispatch_event("keyup")  # Material searches on key strokes
        page.wait_for_function("() => document.querySelectorAll('.md-search-result__item').length === 0")
        box.fill(query)
        box.dispatch_event("keyup")
        first = page.locator(".md-search-result__item a").first
        first.wait_for(timeout=20000)
        return urlsplit(first.get_attribute("href") or "").path.removeprefix(urlsplit(site).path)

    wrong = {}
    for query, expected in sorted(wanted.items()):
        found = first_result(query)
        if found != expected:
            wrong[query] = found
    # A word of several titles (`restore`): first, the page of one of those records, not a page that has
    # the word only in a step, a heading or its text.
    record_pages = {"/" + p.uri.removesuffix(".md").removesuffix("index") + ("" if p.uri.endswith("index.md") else "/"):
                    p.title for p in analysis.pages() if p.source is not None and p.title}
    shared = {word for title in runbooks.values() for word in stems(title)} - set(wanted)
    for word in sorted(shared):
        holders = {uri for uri, title in record_pages.items() if word in stems(title)}
        found = first_result(word)
        if found not in holders:
            wrong[word] = found
    assert len(wanted) >= 20
    assert wrong == {}, wrong
    assert outside == [], outside
    page.close()
