"""Free text from sources cannot run script or load anything from another host on the published site.

Sources come from pull requests. A handbook whose every free-text field holds the usual payloads
(links and reference-style links to `javascript:`, `vbscript:` and `data:`, images from another host,
raw HTML with event handlers, frames, SVG, entity tricks, attribute lists) is built with MkDocs and
every page is opened in Chromium: no script runs (no dialog, `window.__xss` stays undefined), no
element carries an event handler or a dangerous URL, and no request leaves the site.
The Markdown layer (`md_source`) and the HTML layer (`sanitise_html`) are also tested on their own.
"""

from __future__ import annotations

import functools
import http.server
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import markdown
import pytest
import yaml

from opsbook.render.markdown import md_source
from opsbook.render.sanitise import loads_image, safe_link, sanitise_html

REPO = Path(__file__).parent.parent
CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)
MERMAID = REPO / "node_modules" / "mermaid" / "dist" / "mermaid.min.js"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", "--no-first-run", "--disable-quic"]
OTHER_HOST = "tracker.example"
#: What every payload holds, some of it even when a label cuts it short.
MARKER = re.compile(r"__xss|alert\(|tracker\.example")

try:
    from playwright.sync_api import sync_playwright
except ImportError:  # pragma: no cover - depends on the environment
    sync_playwright = None

#: Everything a source field could hold to run script or load from another host. Each script payload
#: sets `window.__xss` or opens a dialog.
PAYLOAD = (
    "[inline](javascript:window.__xss=1) [upper](JaVaScRiPt:alert(1)) [spaced]( javascript:alert(1) )"
    " [angle](<javascript:alert(1)>) [vb](vbscript:msgbox(1))"
    " [data](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)"
    " [entity](&#106;avascript:alert(1)) [timeline][t] [short] [vbref][v]"
    f" ![pixel](https://{OTHER_HOST}/p.gif) ![refimg][i] ![proto](//{OTHER_HOST}/q.gif)"
    f" ![slash](/\\{OTHER_HOST}/r.gif) ![svgdata](data:image/svg+xml,<svg onload=alert(1)>)"
    " <script>window.__xss=1</script> <img src=x onerror=\"window.__xss=1\">"
    f" <a href=\"https://{OTHER_HOST}/\" onclick=\"window.__xss=1\">click</a>"
    f" <iframe src=\"https://{OTHER_HOST}/frame\"></iframe> <svg onload=\"window.__xss=1\"></svg>"
    f" <style>@import url(https://{OTHER_HOST}/s.css)</style> <link rel=stylesheet href=\"https://{OTHER_HOST}/l.css\">"
    " <details open ontoggle=\"window.__xss=1\"><summary>x</summary></details>"
    f" <object data=\"https://{OTHER_HOST}/o\"></object> <video src=\"https://{OTHER_HOST}/v.mp4\"></video>"
    " &lt;script&gt;window.__xss=1&lt;/script&gt; &#60;script&#62;window.__xss=1&#60;/script&#62;"
    f" <javascript:alert(1)> <https://{OTHER_HOST}/auto.gif> {{: onclick=\"window.__xss=1\" }}"
    " {{ config }} {% raw %} !!! danger \"<img src=x onerror=alert(1)>\" --8<-- \"/etc/passwd\""
    "\n\n/// html | div[onclick=\"window.__xss=1\"]\nblock\n///\n\n"
    "<div onmouseover=\"window.__xss=1\" style=\"background:url(https://tracker.example/bg.gif)\">div</div>\n\n"
    "[t]: javascript:window.__xss=1\n"
    "[short]: <javascript:alert(1)>\n"
    "[v]:\n  vbscript:msgbox(1)\n"
    f"[i]: https://{OTHER_HOST}/ref.gif\n"
)

#: The same in a line, for fields that hold one (and at most 200 characters).
SHORT = (f" <script>window.__xss=1</script><img src=x onerror=alert(1)>[j](javascript:alert(1))"
         f"![p](//{OTHER_HOST}/t.gif)")

#: The keys of free text in the sources, by their schemas and the Prometheus, Alertmanager and workflow
#: formats; ids and references are left alone so that the handbook stays valid and every page is made.
FREE_TEXT = {"summary", "description", "manual", "event", "postmortem", "rotation", "help", "notes",
             "purpose", "lawful_basis", "protocol", "destination", "language", "query"}
ONE_LINE = {"title"}
NAMED = {"ops/components", "ops/teams", "runbooks", ".github/workflows"}


#: The payload for an alert's annotations, which Prometheus parses as Go templates (OB302 refuses
#: `{{ config }}`, a function it does not define): the same, with a Go template in its place.
ALERT_PAYLOAD = PAYLOAD.replace("{{ config }}", '{{ "config" }}')


def _poison(value: Any, named: bool, alert: bool = False) -> Any:
    """The value with the payload appended to every free-text string (and names, where `named`)."""
    if isinstance(value, dict):
        poisoned = {}
        for key, item in value.items():
            if isinstance(item, str) and key in FREE_TEXT:
                poisoned[key] = f"{item} {ALERT_PAYLOAD if alert else PAYLOAD}"
            elif key == "annotations" and "alert" in value:
                poisoned[key] = _poison(item, named, alert=True)
            elif isinstance(item, str) and (key in ONE_LINE or (named and key == "name")):
                poisoned[key] = item + SHORT
            else:  # a job's `environment: {name: ...}` names an environment
                poisoned[key] = _poison(item, named and key != "environment")
        return poisoned
    if isinstance(value, list):
        return [_poison(item, named) for item in value]
    return value


def _poisoned_handbook(root: Path) -> None:
    for folder in ("ops", "runbooks", ".github/workflows", "migrations", "scripts"):
        shutil.copytree(REPO / folder, root / folder)
    for file in [*root.glob("ops/**/*.y*ml"), *root.glob("runbooks/*.yaml"), *root.glob(".github/workflows/*.yml")]:
        relative = file.relative_to(root).as_posix()
        named = any(relative.startswith(folder) for folder in NAMED)
        documents = [document for document in yaml.safe_load_all(file.read_text(encoding="utf-8"))]
        for document in documents:
            if isinstance(document, dict) and True in document:  # a workflow's `on:`, which YAML 1.1 reads as true
                document["on"] = document.pop(True)
        poisoned = [_poison(document, named) for document in documents]
        file.write_text(yaml.safe_dump_all(poisoned, sort_keys=False, allow_unicode=True), encoding="utf-8")
    for sql in root.glob("migrations/*.sql"):
        sql.write_text(f"-- {PAYLOAD.splitlines()[0]}\n" + sql.read_text(encoding="utf-8"), encoding="utf-8")
    docs = root / "docs"
    docs.mkdir()
    from opsbook.registry import SECTIONS

    sections = "\n\n".join(f"## {name}\n\n<!-- opsbook: {name} -->" for name in sorted(SECTIONS))
    (docs / "index.md").write_text(f"# Handbook\n\n{sections}\n", encoding="utf-8")
    mermaid = f"      mermaid_js: {MERMAID}\n" if MERMAID.is_file() else ""
    (root / "mkdocs.yml").write_text(
        "site_name: XSS handbook\n"
        "theme:\n  name: material\n  font: false\n"
        "plugins:\n  - search\n  - opsbook:\n      sources:\n        runbook: [runbooks]\n"
        f"      today: '2026-11-30'\n{mermaid}"
        "markdown_extensions:\n  - admonition\n  - tables\n  - attr_list\n  - md_in_html\n"
        "  - toc:\n      permalink: true\n  - pymdownx.highlight\n  - pymdownx.superfences\n"
        "  - pymdownx.details\n  - pymdownx.blocks.html\n  - pymdownx.magiclink\n",
        encoding="utf-8")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    root = tmp_path_factory.mktemp("xss")
    _poisoned_handbook(root)
    check = subprocess.run([sys.executable, "-m", "opsbook", "check", str(root), "--format", "text"],
                           capture_output=True, text=True, timeout=300)
    folder = root / "site"
    built = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(folder)], cwd=root,
                           env={**os.environ, "NO_MKDOCS_2_WARNING": "1"}, capture_output=True, text=True, timeout=600)
    assert built.returncode == 0, check.stdout[-3000:] + built.stderr[-3000:]
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(folder)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", folder
    httpd.shutdown()
    httpd.server_close()


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


# Material draws each diagram in a closed shadow root; opening them lets the test see into it.
OPEN_SHADOWS = ("(() => { const attach = Element.prototype.attachShadow; Element.prototype.attachShadow = "
                "function (init) { return attach.call(this, Object.assign({}, init, {mode: 'open'})); }; })()")

#: Every element's attributes that could run script or load something: event handlers, URLs.
SCAN = """() => {
  const found = [];
  const all = (root) => [...root.querySelectorAll('*')].flatMap((e) => e.shadowRoot ? [e, ...all(e.shadowRoot)] : [e]);
  for (const element of all(document)) {
    for (const attribute of element.attributes) {
      const name = attribute.name.toLowerCase(), value = attribute.value.replace(/[\\s\\x00-\\x1f]/g, '').toLowerCase();
      if (name.startsWith('on')) found.push(`${element.tagName} ${name}`);
      if (['href', 'src', 'action', 'formaction', 'data', 'xlink:href', 'srcset', 'poster'].includes(name)
          && /^(javascript|vbscript|data):/.test(value)) found.push(`${element.tagName} ${name}=${value}`);
    }
    if (['IFRAME', 'OBJECT', 'EMBED', 'FRAME', 'VIDEO', 'AUDIO'].includes(element.tagName)) found.push(element.tagName);
    if (element.tagName === 'SCRIPT' && element.textContent.includes('__xss')) found.push('SCRIPT');
  }
  return found;
}"""


@pytest.mark.skipif(sync_playwright is None, reason="playwright is not installed (pip install playwright)")
@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (Debian package chromium)")
def test_no_page_runs_script_or_loads_from_another_host(site: tuple[str, Path]) -> None:
    """Every page whose content shows text from the sources is opened in Chromium (the others differ from
    them only in their content, and hold the same navigation, with the payloads in its titles)."""
    address, folder = site
    pages = {p.relative_to(folder).as_posix(): p.read_text(encoding="utf-8") for p in folder.rglob("*.html")}
    shown = sorted(uri for uri, text in pages.items()
                   if MARKER.search(text.split("<article", 1)[-1].split("</article>", 1)[0]))
    assert len(shown) > 40, shown  # the payloads did reach the pages
    shown += ["404.html", "reference/checks/OB001/index.html"]
    diagrams = {uri for uri in shown if 'class="mermaid"' in pages[uri]}
    assert diagrams, "no diagram: Mermaid's rendering of the names is not tested"
    started = time.monotonic()
    outside: list[str] = []
    dialogs: list[str] = []
    problems: dict[str, list[str]] = {}
    assert sync_playwright is not None
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)

        def guard(route: Any, request: Any) -> None:
            outside.append(request.url)
            route.abort()

        def dialog(opened: Any) -> None:
            dialogs.append(opened.message)
            opened.dismiss()

        def tab(mermaid: bool) -> Any:
            context = browser.new_context()
            # Only what is not the site itself reaches the handler (a request through Python is slow).
            context.route(re.compile(rf"^(?!{re.escape(address)}/)"), guard)
            if not mermaid:  # 3.5 MB of script to parse on every page that has no diagram
                context.route(re.compile(r"/mermaid\.min\.js$"), lambda route, request: route.abort())
            page = context.new_page()
            page.add_init_script(OPEN_SHADOWS)
            page.on("dialog", dialog)
            return page

        with_mermaid, without = tab(True), tab(False)
        for uri in shown:
            page = with_mermaid if uri in diagrams else without
            page.goto(f"{address}/{uri}", wait_until="load")
            if uri in diagrams:
                page.wait_for_selector(".mermaid svg", state="attached", timeout=20000)
            page.wait_for_timeout(20)  # a handler of an image that failed to load
            found = page.evaluate(SCAN)
            if page.evaluate("() => typeof window.__xss !== 'undefined'"):
                found.append("window.__xss was set")
            if found:
                problems[uri] = sorted(set(found))
        browser.close()
    print(f"xss: {len(shown)} of {len(pages)} pages opened in Chromium in {time.monotonic() - started:.1f}s")
    assert problems == {}
    assert dialogs == []
    assert outside == [], f"requests left the site: {sorted(set(outside))[:10]}"


@pytest.mark.skipif(sync_playwright is None, reason="playwright is not installed (pip install playwright)")
@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (Debian package chromium)")
def test_search_results_run_no_script(site: tuple[str, Path]) -> None:
    """Material's search shows the text of pages (the payloads among it) as results: as text."""
    address, _ = site
    outside: list[str] = []
    dialogs: list[str] = []
    assert sync_playwright is not None
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        context = browser.new_context()
        context.route(re.compile(rf"^(?!{re.escape(address)}/)"),
                      lambda route, request: (outside.append(request.url), route.abort()))
        page = context.new_page()
        page.on("dialog", lambda opened: (dialogs.append(opened.message), opened.dismiss()))
        page.goto(f"{address}/", wait_until="load")
        box = page.locator("input.md-search__input")
        for query in ("script", "onerror", "javascript"):
            box.click()
            box.fill("")
            page.keyboard.type(query, delay=10)  # Material's search listens to key events
            page.locator(".md-search-result__item").first.wait_for(timeout=20000)
            page.wait_for_timeout(100)
            found = page.evaluate(SCAN)
            assert found == [], (query, found)
            assert page.evaluate("() => typeof window.__xss === 'undefined'"), query
            page.keyboard.press("Escape")
        browser.close()
    assert dialogs == [] and outside == []


def test_no_page_holds_a_handler_a_frame_or_a_foreign_resource(site: tuple[str, Path]) -> None:
    """Every page of the site, read as HTML: no event handler, no `javascript:` or `data:` URL, no frame,
    no image, script or style sheet from another host, no inline script but the theme's."""
    import html.parser

    class Scan(html.parser.HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.found: list[str] = []

        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            for name, value in attrs:
                bare = re.sub(r"[\s\x00-\x1f]", "", value or "").lower()
                if name.startswith("on") or re.match(r"(javascript|vbscript|data):", bare):
                    self.found.append(f"<{tag} {name}={value!r}>")
                if name in ("src", "href") and tag != "a" and OTHER_HOST in bare:
                    self.found.append(f"<{tag} {name}={value!r}>")
            if tag in ("iframe", "frame", "object", "embed", "video", "audio"):
                self.found.append(f"<{tag}>")

    _, folder = site
    problems = {}
    for file in sorted(folder.rglob("*.html")):
        scan = Scan()
        scan.feed(file.read_text(encoding="utf-8"))
        if scan.found:
            problems[file.relative_to(folder).as_posix()] = scan.found[:5]
    assert problems == {}


def test_postmortem_links_and_images_in_the_generated_markdown(site: tuple[str, Path]) -> None:
    """The incident pages, as MkDocs made them: the reference-style link to `javascript:` is gone, the
    image from another host is a link to it."""
    _, folder = site
    page = (folder / "operations/incidents/2026-10-03-orders-db-down/index.html").read_text(encoding="utf-8")
    assert "[timeline][t]" in page and "javascript:window.__xss=1" in page  # the definition shows as text
    assert not re.search(r"(href|src)=\"\s*(javascript|vbscript|data):", page, re.I)
    assert f'<a href="https://{OTHER_HOST}/p.gif">pixel</a>' in page
    assert not re.search(rf'<img[^>]*src="[^"]*{OTHER_HOST}', page)


RENDER = ("tables", "admonition", "toc", "attr_list", "md_in_html")


def _html(text: str, hosts: tuple[str, ...] = ()) -> str:
    return markdown.markdown(str(md_source(text, hosts)), extensions=list(RENDER))


def test_reference_link_to_javascript_is_no_link() -> None:
    page = _html("See the [timeline][t].\n\n[t]: javascript:alert(1)\n")
    assert "<a" not in page and "javascript:alert(1)" in page  # the definition shows as text


@pytest.mark.parametrize("target", ["javascript:alert(1)", "JAVASCRIPT:alert(1)", "<javascript:alert(1)>",
                                    "java\tscript:alert(1)", "vbscript:msgbox(1)", "data:text/html,x",
                                    " javascript:alert(1)"])
def test_no_link_of_any_form_reaches_a_dangerous_scheme(target: str) -> None:
    for text in (f"[x]({target})", f"[x][r]\n\n[r]: {target}\n", f"[r]\n\n[r]: {target}\n",
                 f"[x][r]\n\n[r]:\n    {target}\n", f"![x]({target})", f"![x][r]\n\n[r]: {target}\n"):
        page = _html(text)
        dangerous = re.search(r"(href|src)=\"[^\"]*script:|(href|src)=\"data:", page.replace("\t", ""), re.I)
        assert dangerous is None, (text, page)


def test_images_from_other_hosts_are_links_unless_allowed() -> None:
    page = _html(f"![pixel](https://{OTHER_HOST}/p.gif) ![local](img/diagram.png)")
    assert f'<a href="https://{OTHER_HOST}/p.gif">pixel</a>' in page and "<img" in page
    assert not re.search(rf'<img[^>]*src="[^"]*{OTHER_HOST}', page) and 'src="img/diagram.png"' in page
    allowed = _html(f"![pixel](https://{OTHER_HOST}/p.gif \"a title\")", (OTHER_HOST,))
    assert f'src="https://{OTHER_HOST}/p.gif"' in allowed
    # A title naming the allowed host does not make another host's image allowed.
    tricked = _html(f"![x](https://evil.example \"@{OTHER_HOST}/\") ![y](//evil.example/y.gif)", (OTHER_HOST,))
    assert "<img" not in tricked
    # A reference-style image is a link, wherever it points.
    assert "<img" not in _html(f"![x][r]\n\n[r]: https://{OTHER_HOST}/p.gif\n", (OTHER_HOST,))


def test_raw_html_and_extension_syntax_show_as_text() -> None:
    page = _html("<script>alert(1)</script> <img src=x onerror=alert(1)> {: onclick=alert(1) }\n\n"
                 "!!! note\n    x\n\n/// html | div\nx\n///\n")
    assert "<script" not in page and "<img" not in page and "onclick" not in page.replace("onclick=alert(1)", "")
    assert "admonition" not in page and "&lt;script&gt;" in page


def test_safe_links_and_markdown_are_kept() -> None:
    text = ("## What happened\n\nSee [the ticket](https://tracker.example/T-1 \"ticket\"), [the runbook](../r.md),"
            " [below](#fix), [mail](mailto:oncall@example.com) and [ref][r].\n\n[r]: https://example.com/x\n")
    assert str(md_source(text)) == text.rstrip("\n")


def test_url_predicates() -> None:
    assert safe_link("https://x") and safe_link("../a.md") and safe_link("#a") and safe_link("mailto:a@b")
    assert not safe_link("javascript:x") and not safe_link("\x01java\nscript:x") and not safe_link("data:x")
    assert loads_image("img/a.png") and not loads_image("//evil/a.png") and not loads_image("/\\evil/a.png")
    assert loads_image("https://ok.example/a.png", ["OK.example"]) and not loads_image("https://evil/a.png", ["ok"])


def test_sanitise_html_keeps_what_opsbook_writes_and_drops_the_rest() -> None:
    own = ('<h2 id="a">A<a class="headerlink" href="#a" title="Permanent link">¶</a></h2>'
           '<table><thead><tr><th style="text-align: left;">x</th></tr></thead><tbody><tr><td>'
           '<a href="../r/">r</a> <code>c</code></td></tr></tbody></table>'
           '<div class="admonition warning"><p class="admonition-title">W</p></div>'
           '<pre class="mermaid"><code>graph LR</code></pre>'
           '<div class="opsbook-chart"><svg xmlns="http://www.w3.org/2000/svg" role="img" width="640" height="58" '
           'viewBox="0 0 640 58" font-family="sans-serif" font-size="13"><title>T</title>'
           '<text x="0" y="18" font-weight="bold">T</text><rect x="250" y="34" width="300" height="16" fill="#e0e0e0">'
           '</rect></svg></div>')
    assert sanitise_html(own) == own
    hostile = ('<script>alert(1)</script><img src=x onerror=alert(1)><a href="javascript:alert(1)">j</a>'
               f'<iframe src="https://{OTHER_HOST}/"></iframe><svg onload=alert(1)></svg>'
               f'<img src="https://{OTHER_HOST}/p.gif" alt="p"><td style="background:url(https://{OTHER_HOST}/)">')
    clean = sanitise_html(hostile)
    assert "script" not in clean and "onerror" not in clean and "onload" not in clean and "iframe" not in clean
    assert f'<a href="https://{OTHER_HOST}/p.gif">p</a>' in clean and "background" not in clean
    assert f'<img src="https://{OTHER_HOST}/p.gif" alt="p">' in sanitise_html(hostile, [OTHER_HOST])


def test_the_plugin_sanitises_generated_pages_and_sections_not_hand_written_html(tmp_path: Path) -> None:
    from types import SimpleNamespace

    from opsbook.config import Config
    from opsbook.mkdocs_plugin import OpsbookPlugin

    plugin = OpsbookPlugin()
    plugin.core = Config(root=tmp_path)
    plugin.generated = {"runbooks/r.md"}
    hostile = '<p>x<img src="x" onerror="alert(1)"><a href="javascript:alert(1)">j</a></p>'
    own = '<div data-own="1"><button onclick="toggle()">Toggle</button></div>'

    def page(uri: str) -> Any:
        return SimpleNamespace(file=SimpleNamespace(src_uri=uri))

    generated = plugin.on_page_content(own + hostile, page=page("runbooks/r.md"), config=None, files=None)  # type: ignore[arg-type]
    assert generated is not None and "onclick" not in generated and "onerror" not in generated
    section = plugin._mark("| a |\n|---|\n")
    assert section.strip().startswith(f"<!-- {plugin.section_mark} -->")
    written = f'{own}\n<!-- {plugin.section_mark} -->\n{hostile}\n<!-- /{plugin.section_mark} -->\n{own}'
    result = plugin.on_page_content(written, page=page("index.md"), config=None, files=None)  # type: ignore[arg-type]
    assert result is not None and result.count('onclick="toggle()"') == 2  # the project's own HTML is kept
    assert "onerror" not in result and "javascript:" not in result and plugin.section_mark not in result
    # A section whose closing mark was lost is sanitised to the end of the page.
    cut = plugin.on_page_content(f"{own}<!-- {plugin.section_mark} -->{hostile}{own}", page=page("index.md"),
                                 config=None, files=None)  # type: ignore[arg-type]
    assert cut is not None and cut.count("onclick") == 1 and "onerror" not in cut
