"""`opsbook build --out DIR` writes a site that builds strict with no plugin (#18 item 5).

For the reference handbook (Material, its own navigation, a theme folder, Mermaid from node_modules), the
fixture handbook `minimal` (Material, a navigation) and a handbook configured by `opsbook.yml` alone (no
engine configuration: Material, the engine's own navigation) whose runbook title is a script: each is
written with `opsbook build --out`, then built with `mkdocs build --strict -f DIR/mkdocs.yml` in a
subprocess, and with `zensical build --strict` when Zensical is installed. The configuration names no
opsbook plugin; the build exits 0 with no warning; every generated page is in the site; every link and
resource of every built HTML file resolves to a file of the site, and none leaves it; a source's title is
text in `<title>`, never markup. The fixture's plain site has the pages, titles and navigation of its
plugin build. The configuration merges `INHERIT:` as MkDocs reads it (its own loader is the oracle), and
each `not_in_nav` line matches its page alone (pathspec, which both engines use, is the oracle).
"""

from __future__ import annotations

import contextlib
import html.parser
import importlib.util
import os
import posixpath
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from click.testing import CliRunner
from test_accessibility import _serve
from test_browser import CHROMIUM, FLAGS, sync_playwright

try:
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
except ImportError:  # the tests that need it skip
    PlaywrightTimeout = TimeoutError  # type: ignore[misc,assignment]

from opsbook import plain_site
from opsbook.cli import main
from opsbook.pipeline import analyse
from opsbook.render import Page

REPO = Path(__file__).parent.parent
FIXTURES = Path(__file__).parent / "fixtures"
ENV = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
MERMAID = REPO / "node_modules" / "mermaid" / "dist" / "mermaid.min.js"
ZENSICAL = importlib.util.find_spec("zensical") is not None
NO_ZENSICAL = ("Zensical is not installed: pip install 'zensical==0.0.73' (0.0.74 and later need zensical-ui, "
               "which the package registry here does not have)")
#: A runbook title that would close `<title>` and run a script if it were printed as markup.
HOSTILE_TITLE = "Restart </title><script>window.__xss=1</script> & it's done"
HANDBOOKS = ("reference", "minimal", "plain")
ENGINES = ("mkdocs", "zensical")


@dataclass
class Written:
    """A handbook written with `opsbook build --out`."""

    root: Path
    out: Path
    pages: list[Page]
    stderr: str


@dataclass
class Built:
    """A written handbook built by an engine."""

    site: Path
    output: str


def _plain_handbook(folder: Path) -> Path:
    """The fixture's runbooks, a home page and a runbook titled with a script, configured by opsbook.yml."""
    shutil.copytree(FIXTURES / "minimal" / "runbooks", folder / "runbooks")
    (folder / "opsbook.yml").write_text('today: "2026-11-26"\n', encoding="utf-8")
    (folder / "docs").mkdir()
    (folder / "docs" / "index.md").write_text("# Handbook\n\nSee the [runbooks](runbooks/index.md).\n",
                                              encoding="utf-8")
    (folder / "runbooks" / "hostile.yaml").write_text(
        f"title: {HOSTILE_TITLE!r}\nsteps:\n  - name: Restart\n    run: 'true'\n", encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Written]:
    top = tmp_path_factory.mktemp("build-out")
    roots = {"reference": REPO, "minimal": top / "minimal", "plain": _plain_handbook(top / "plain")}
    shutil.copytree(FIXTURES / "minimal", roots["minimal"])
    result = {}
    for name, root in roots.items():
        out = top / f"{name}-out"
        made = subprocess.run([sys.executable, "-m", "opsbook", "build", str(root), "--out", str(out)], cwd=top,
                              env=ENV, capture_output=True, text=True, timeout=300)
        assert made.returncode == 0, made.stdout + made.stderr
        result[name] = Written(root, out, analyse(root).pages(), made.stderr)
    return result


@pytest.fixture(scope="module")
def built(written: dict[str, Written], tmp_path_factory: pytest.TempPathFactory) -> Callable[[str, str], Built]:
    """Each handbook built by each engine, once per module, when a test first asks for it."""
    cache: dict[tuple[str, str], Built] = {}

    def build(handbook: str, engine: str) -> Built:
        if (handbook, engine) not in cache:
            out = written[handbook].out
            if engine == "mkdocs":
                site = tmp_path_factory.mktemp(f"{handbook}-mkdocs")
                command = [sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(out / "mkdocs.yml"),
                           "-d", str(site)]
            else:
                if not ZENSICAL:
                    pytest.skip(NO_ZENSICAL)
                site = out / "site"  # Zensical builds where the configuration says, beside it
                command = [sys.executable, "-m", "zensical", "build", "--strict", "-f", str(out / "mkdocs.yml")]
            done = subprocess.run(command, cwd=out, env=ENV, capture_output=True, text=True, timeout=600)
            output = done.stdout + done.stderr
            assert done.returncode == 0, output[-3000:]
            cache[handbook, engine] = Built(site, output)
        return cache[handbook, engine]

    return build


def _mkdocs_config(file: Path) -> dict[str, object]:
    """A configuration file as MkDocs reads it (tags and INHERIT included), without validating it."""
    from mkdocs.utils.yaml import yaml_load

    with file.open("rb") as handle:
        loaded = yaml_load(handle)
    assert isinstance(loaded, dict)
    return loaded


# --- the written configuration ------------------------------------------------------------------------------


@pytest.mark.parametrize("handbook", HANDBOOKS)
def test_the_configuration_names_no_plugin_but_search(written: dict[str, Written], handbook: str) -> None:
    out = written[handbook].out
    config = _mkdocs_config(out / "mkdocs.yml")
    plugins = config.get("plugins", [])
    assert isinstance(plugins, list) and all(entry == "search" for entry in plugins), plugins
    assert config["docs_dir"] == "docs" and (out / "docs" / "index.md").is_file()
    hidden = [page.uri for page in written[handbook].pages if not page.in_nav]
    assert hidden and isinstance(config.get("not_in_nav"), str)
    docs = written[handbook].root / "docs"
    by_hand = {file.relative_to(docs).as_posix() for file in docs.rglob("*.md")}
    assert {line.removeprefix("/") for line in str(config["not_in_nav"]).splitlines()} >= set(hidden) - by_hand


def test_the_reference_configuration_carries_the_handbooks(written: dict[str, Written]) -> None:
    own = _mkdocs_config(REPO / "mkdocs.yml")
    plain = _mkdocs_config(written["reference"].out / "mkdocs.yml")
    for key in ("site_name", "repo_url", "edit_uri", "nav", "validation"):
        assert plain[key] == own[key], key
    theme = plain["theme"]
    assert isinstance(theme, dict) and theme["name"] == "material" and theme["custom_dir"] == "overrides"
    assert (written["reference"].out / "overrides" / "partials" / "source.html").is_file()
    assert "mkdocstrings" in written["reference"].stderr, "the plugin left out is named"


def test_a_handbook_without_engine_configuration_gets_material_with_system_fonts(
        written: dict[str, Written]) -> None:
    config = _mkdocs_config(written["plain"].out / "mkdocs.yml")
    assert config["site_name"] == "plain"
    assert config["theme"] == {"name": "material", "font": False, "features": ["content.code.copy"]}


def test_inherit_is_merged_as_mkdocs_merges_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The written configuration says what MkDocs reads from the handbook's file and its INHERIT parent,
    tags included (`!ENV`, `!!python/name:`), less the plugins and with opsbook's additions; `!ENV` is
    written back, not resolved, so the engine reads the variable when it builds."""
    monkeypatch.delenv("OPSBOOK_TEST_SITE_URL", raising=False)
    root = tmp_path / "handbook"
    shutil.copytree(FIXTURES / "minimal" / "runbooks", root / "runbooks")
    (root / "docs").mkdir()
    (root / "docs" / "index.md").write_text("# Home\n", encoding="utf-8")
    (root / "config").mkdir()
    (root / "config" / "base.yml").write_text(
        "site_name: Base\nsite_url: !ENV [OPSBOOK_TEST_SITE_URL, 'https://base.example/']\n"
        "theme: {name: material, features: [navigation.sections], palette: {primary: teal}}\n"
        "extra: {team: platform, links: [a, b], since: 2024-05-01, mask: 0755, hours: 1:30, none: ~}\n"
        "markdown_extensions:\n  - toc: {permalink: true}\n"
        "  - pymdownx.emoji:\n      emoji_generator: !!python/name:material.extensions.emoji.to_svg\n",
        encoding="utf-8")
    (root / "mkdocs.yml").write_text(
        "INHERIT: config/base.yml\nsite_name: Child\ntheme: {font: false}\nextra: {links: [c]}\n"
        "plugins: [search, {opsbook: {today: '2026-11-26'}}]\n", encoding="utf-8")
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["build", str(root), "--out", str(out)])
    assert result.exit_code == 0, result.output
    mine = _mkdocs_config(out / "mkdocs.yml")
    own = _mkdocs_config(root / "mkdocs.yml")
    for key in ("site_name", "site_url", "extra"):
        assert mine[key] == own[key], key
    monkeypatch.setenv("OPSBOOK_TEST_SITE_URL", "https://set-at-build.example/")
    assert _mkdocs_config(out / "mkdocs.yml")["site_url"] == "https://set-at-build.example/"
    assert _mkdocs_config(out / "mkdocs.yml")["extra"] == _mkdocs_config(root / "mkdocs.yml")["extra"]
    own_theme, my_theme = own["theme"], mine["theme"]
    assert isinstance(own_theme, dict) and isinstance(my_theme, dict)
    assert my_theme == {**own_theme, "features": ["navigation.sections", "content.code.copy"]}
    assert isinstance(mine["markdown_extensions"], list) and isinstance(own["markdown_extensions"], list)
    assert mine["markdown_extensions"][:2] == own["markdown_extensions"]
    site = tmp_path / "site"
    done = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(out / "mkdocs.yml"),
                           "-d", str(site)], env=ENV, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]


def test_a_missing_inherit_parent_is_a_diagnostic_and_nothing_is_written(tmp_path: Path) -> None:
    root = tmp_path / "handbook"
    shutil.copytree(FIXTURES / "minimal", root)
    text = (root / "mkdocs.yml").read_text(encoding="utf-8")
    (root / "mkdocs.yml").write_text(text + "INHERIT: nowhere.yml\n", encoding="utf-8")
    line = text.count("\n") + 1
    result = CliRunner().invoke(main, ["build", str(root), "--out", str(tmp_path / "out")])
    assert result.exit_code == 1
    assert f"mkdocs.yml:{line}:10: error OB090 " in result.output and "nowhere.yml" in result.output
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("uri", ["runbooks/a.md", "alerts/Down[1].md", "x/*.md", "!odd/#1.md", "a\\b.md",
                                 "sp ace /end .md", "q?.md"])
def test_each_not_in_nav_line_matches_its_page_alone(uri: str) -> None:
    from pathspec.gitignore import GitIgnoreSpec  # as MkDocs' `config_options.PathSpec` reads the lines

    pattern = plain_site._pattern(uri)
    spec = GitIgnoreSpec.from_lines([pattern])
    assert spec.match_file(uri), pattern
    for other in (f"deeper/{uri}", uri.replace(".md", "x.md"), "runbooks/b.md", "alerts/Down1.md", "x/y.md"):
        if other != uri:
            assert not spec.match_file(other), (pattern, other)


@pytest.mark.parametrize(("theme", "copies"), [
    ({"name": "material"}, True), ({"name": "materialx", "features": ["navigation.tabs"]}, True),
    ({"name": "material", "features": ["content.code.copy"]}, True), ({"name": "mkdocs"}, False),
    ({"name": "readthedocs", "features": []}, False)])
def test_copy_buttons_under_material_and_its_fork(theme: dict[str, object], copies: bool) -> None:
    """Material and mkdocs-materialx (`theme: materialx`, whose bundle reads the same `content.code.copy`)
    get the copy button once, in the plugin's build and the plain site alike; other themes are left alone."""
    from mkdocs.theme import Theme

    before = list(theme.get("features") or [])  # type: ignore[call-overload]
    written = dict(theme)
    plain_site.with_copy_buttons(written)
    features = written.get("features")
    if copies:
        assert features == [*before, *(["content.code.copy"] if "content.code.copy" not in before else [])]
    else:
        assert features == theme.get("features")
    if theme["name"] in ("material", "mkdocs", "readthedocs"):  # the engine's own Theme, as the plugin has it
        engine = Theme(**theme)  # type: ignore[arg-type]
        plain_site.with_copy_buttons(engine)
        assert ("content.code.copy" in (engine.get("features") or [])) == copies


def test_no_docs_writes_the_generated_pages_alone_into_the_folder(tmp_path: Path) -> None:
    root = tmp_path / "handbook"
    shutil.copytree(FIXTURES / "minimal", root)
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["build", str(root), "--out", str(out), "--no-docs"])
    assert result.exit_code == 0, result.output
    assert (out / "runbooks" / "web-restart.md").read_text(encoding="utf-8").startswith("# ")
    assert not (out / "mkdocs.yml").exists() and not (out / "docs").exists() and not (out / "index.md").exists()


def test_a_new_build_replaces_the_site_built_inside_the_folder(tmp_path: Path) -> None:
    root = tmp_path / "handbook"
    shutil.copytree(FIXTURES / "minimal", root)
    out = tmp_path / "out"
    assert CliRunner().invoke(main, ["build", str(root), "--out", str(out)]).exit_code == 0
    (out / "site").mkdir()
    (out / "site" / "index.html").write_text("old", encoding="utf-8")
    assert CliRunner().invoke(main, ["build", str(root), "--out", str(out)]).exit_code == 0
    assert not (out / "site").exists() and (out / "mkdocs.yml").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["handbook", "out"], "no staging folder is left"


# --- the built site -------------------------------------------------------------------------------------------


def _page_file(site: Path, uri: str) -> Path:
    """The HTML file of a page, with directory URLs: `a/b.md` → `a/b/index.html`, `a/index.md` → `a/index.html`."""
    path = Path(uri).with_suffix("")
    return site / (path.parent if path.name in ("index", "README") else path) / "index.html"


class _Links(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []
        self.resources: list[str] = []  # fetched by the browser itself

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if not value:
                continue
            if (tag == "a" and name == "href") or (tag in ("link", "script", "img", "iframe", "source")
                                                   and name in ("href", "src")):
                self.links.append(value)
            if tag in ("link", "script", "img", "iframe", "source") and name in ("href", "src"):
                self.resources.append(value)


def _crawl(site: Path, site_url: str | None) -> tuple[int, list[str], set[str]]:
    """Every link and resource of every HTML file of a built site: how many point into the site, those
    that name no file of it, and the resources fetched from outside it."""
    prefix = urlsplit(site_url).path.rstrip("/") if site_url else ""
    internal, broken, outside = 0, [], set()
    for page in sorted(site.rglob("*.html")):
        parser = _Links()
        parser.feed(page.read_text(encoding="utf-8"))
        here = "/" + page.relative_to(site).as_posix()
        for value in parser.links:
            parts = urlsplit(value)
            if parts.scheme or parts.netloc:
                if value in parser.resources and parts.scheme in ("http", "https", ""):
                    outside.add(value)
                continue
            if not parts.path:
                continue  # an anchor in the page itself
            path = unquote(parts.path)
            if path.startswith("/"):
                path = path.removeprefix(prefix) if prefix else path
                target = posixpath.normpath(path)
            else:
                target = posixpath.normpath(posixpath.join(posixpath.dirname(here), path))
            internal += 1
            file = site / target.lstrip("/")
            if target.startswith("/..") or not (file.is_file() or (file / "index.html").is_file()):
                broken.append(f"{here}: {value}")
    return internal, broken, outside


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("handbook", HANDBOOKS)
def test_the_site_builds_strict_with_every_page_and_no_broken_link(
        written: dict[str, Written], built: Callable[[str, str], Built], handbook: str, engine: str) -> None:
    result = built(handbook, engine)
    assert "WARNING" not in result.output and "Warning" not in result.output, result.output[-3000:]
    if engine == "zensical":
        assert "No issues found" in result.output, result.output[-3000:]
    missing = [page.uri for page in written[handbook].pages if not _page_file(result.site, page.uri).is_file()]
    assert missing == []
    for kind in ("runbook", "team"):  # the published schemas, at the address their `$id` names
        assert (result.site / "schemas" / f"{kind}.schema.json").is_file()
    config = _mkdocs_config(written[handbook].out / "mkdocs.yml")
    site_url = config.get("site_url")
    internal, broken, outside = _crawl(result.site, site_url if isinstance(site_url, str) else None)
    print(f"{handbook} under {engine}: {sum(1 for _ in result.site.rglob('*.html'))} HTML files, "
          f"{internal} internal links and resources, {len(broken)} broken")
    assert internal > 100
    assert broken == [], broken[:20]
    if handbook != "minimal":  # the fixture asks Material for Google's fonts; the others for system fonts
        assert outside == set(), sorted(outside)[:10]


@pytest.mark.parametrize("engine", ENGINES)
def test_a_sources_title_is_text_in_the_page(written: dict[str, Written], built: Callable[[str, str], Built],
                                             engine: str) -> None:
    site = built("plain", engine).site
    page = _page_file(site, "runbooks/hostile.md").read_text(encoding="utf-8")
    title = re.search(r"<title>(.*?)</title>", page, re.S)
    assert title is not None and "&lt;/title&gt;&lt;script&gt;" in title.group(1), title
    for file in site.rglob("*.html"):
        assert "<script>window.__xss" not in file.read_text(encoding="utf-8"), file


@pytest.mark.skipif(not MERMAID.is_file(), reason="Mermaid is not installed (npm install --no-save mermaid@11)")
@pytest.mark.parametrize("engine", ENGINES)
def test_diagrams_are_drawn_by_the_mermaid_shipped_with_the_site(built: Callable[[str, str], Built],
                                                                 engine: str) -> None:
    site = built("reference", engine).site
    assert (site / plain_site.MERMAID_ASSET).read_bytes() == MERMAID.read_bytes()
    diagrams = [file for file in site.rglob("*.html") if 'class="mermaid"' in file.read_text(encoding="utf-8")]
    assert diagrams, "no page has a diagram for Mermaid to draw"


def test_the_fixture_has_the_pages_titles_and_navigation_of_its_plugin_build(
        written: dict[str, Written], built: Callable[[str, str], Built], tmp_path: Path) -> None:
    """The plugin build is the oracle: the same HTML pages, each with the same title, and the same
    navigation entries, in the same order."""
    plain = built("minimal", "mkdocs").site
    plugin = tmp_path / "plugin-site"
    done = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-d", str(plugin)],
                          cwd=written["minimal"].root, env=ENV, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]

    def pages(site: Path) -> dict[str, tuple[str, list[str]]]:
        found = {}
        for file in sorted(site.rglob("*.html")):
            text = file.read_text(encoding="utf-8")
            title = re.search(r"<title>(.*?)</title>", text, re.S)
            nav = re.findall(r'<a href="([^"]*)" class="md-nav__link[^"]*">', text)
            found[file.relative_to(site).as_posix()] = (title.group(1) if title else "", nav)
        return found

    assert pages(plain) == pages(plugin)


@pytest.mark.skipif(sync_playwright is None, reason="playwright is not installed (pip install playwright)")
@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (Debian package chromium)")
@pytest.mark.skipif(not MERMAID.is_file(), reason="Mermaid is not installed (npm install --no-save mermaid@11)")
@pytest.mark.parametrize("engine", ENGINES)
def test_a_diagram_is_drawn_in_chromium_with_no_request_leaving_the_site(
        built: Callable[[str, str], Built], engine: str) -> None:
    site = built("reference", engine).site
    page = next(file for file in sorted(site.rglob("*.html")) if 'class="mermaid"' in file.read_text(encoding="utf-8"))
    path = "/" + page.parent.relative_to(site).as_posix() + "/"
    url, httpd = _serve(site)
    outside: list[str] = []
    try:
        assert sync_playwright is not None
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
            tab = browser.new_page()
            tab.on("request", lambda request: None if request.url.startswith((url, "data:", "blob:"))
                   else outside.append(request.url))
            tab.goto(url + path, wait_until="networkidle")
            # Drawn, Material swaps each `<pre class="mermaid">` (the diagram's text) for a box holding the
            # drawing in a closed shadow root: no text of its own, the drawing's height.
            probe = """() => [...document.querySelectorAll('.mermaid')].map(
                box => box.tagName === 'DIV' && box.textContent === '' && box.getBoundingClientRect().height > 50)"""
            with contextlib.suppress(PlaywrightTimeout):  # drawn after the load, later on a busy machine
                tab.wait_for_function(f"() => ({probe})().every(Boolean)", timeout=30000)
            drawn = tab.evaluate(probe)
            browser.close()
    finally:
        httpd.shutdown()
        httpd.server_close()
    assert outside == [], outside
    assert drawn and all(drawn), (path, drawn)
