"""The MkDocs adapter: a thin plugin that asks the core for diagnostics and pages and hands them to MkDocs."""

from __future__ import annotations

import datetime
import hashlib
import html
import json
import logging
import os
import re
import secrets
import shutil
from collections.abc import Callable, Mapping
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mkdocs.config import base
from mkdocs.config import config_options as c
from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import Abort, PluginError
from mkdocs.plugins import BasePlugin, event_priority, get_plugin_logger
from mkdocs.structure.files import File, Files, InclusionLevel
from mkdocs.structure.pages import Page as MkDocsPage
from mkdocs.utils import CountHandler
from mkdocs.utils import meta as front_matter
from pymdownx.superfences import fence_code_format

from .changes import CHANGED_SINCE_VARIABLE, ChangesError, changed_files, judge_changed
from .checks.freshness import freshness_of
from .config import OPTIONS, Config, Option
from .diagnostics import Severity
from .model import forget_parsed, special_docs
from .pipeline import Analysis, analyse, load_config
from .plain_site import (
    MERMAID_ASSET,
    REQUIRED_EXTENSIONS,
    SCRIPT_ASSET,
    STYLESHEET_ASSET,
    find_mermaid,
    with_copy_buttons,
)
from .publish import WRITE_ERRORS, discard, replace_folder, staging_beside, write_problem
from .registry import CODES, KINDS, make_renderer
from .render import Renderer
from .render.layout import keep_dates_whole
from .render.markdown import md_inline
from .render.sanitise import sanitise_html
from .render.sections import expand_sections
from .reporters import format_diagnostics, one_line
from .schema_validation import published_path, schema_names, schema_text

__all__ = ["OpsbookConfig", "OpsbookPlugin"]

log = get_plugin_logger(__name__)


def _plugin_option(option: Option) -> c.BaseConfigOption[Any]:
    """MkDocs' validation of one option of the table: its set of values, its list's items, or its types;
    an option unset by default may be left out (or `null`)."""
    kind = option.types[0] if len(option.types) == 1 else option.types
    default = {} if option.default is None else {"default": option.default_value()}
    checked: c.BaseConfigOption[Any]
    if option.choices:
        checked = c.Choice(option.choices, **default)
    elif option.items is not None:
        checked = c.ListOfItems(c.Type(option.items), **default)
    else:
        checked = c.Type(kind, **default)
    return c.Optional(checked) if option.default is None else checked


if TYPE_CHECKING:
    class OpsbookConfig(base.Config):
        """The `opsbook` entry of `plugins:`, as a type checker sees it."""
else:
    #: The `opsbook` entry of `plugins:`: a MkDocs configuration class with an attribute per option of
    #: `opsbook.config.OPTIONS` (MkDocs reads a class's options from its attributes when it is made).
    OpsbookConfig = type("OpsbookConfig", (base.Config,), {
        "__doc__": "The `opsbook` entry of `plugins:`; the options of `opsbook.config.OPTIONS`.",
        "__module__": __name__,
        **{option.name: _plugin_option(option) for option in OPTIONS},
    })


class OpsbookPlugin(BasePlugin[OpsbookConfig]):
    """Generates the handbook's pages and fails the build on the handbook's errors."""

    def __init__(self) -> None:
        self.command: str | None = None
        self.site_dir: Path | None = None
        #: This build's staging folder, while the build writes into it.
        self.staging: Path | None = None
        self.core: Config | None = None
        self.analysis: Analysis | None = None
        self.titles: dict[str, str] = {}
        #: The generated pages of this build, whose HTML `on_page_content` sanitises.
        self.generated: set[str] = set()
        self.record_pages: set[str] = set()
        #: The addresses of those pages, whose entry in the search index `on_post_build` boosts.
        self.record_urls: set[str] = set()
        #: Marks, in a hand-written page, where a generated section starts and ends (unguessable per build).
        self.section_mark = f"opsbook-section-{secrets.token_hex(8)}"
        #: Hand-written pages prepared in `on_files`: digest of the Markdown read → the Markdown to use.
        self.prepared: dict[str, tuple[bytes, str]] = {}
        #: Team id → (title, page) for the freshness line, kept once the model is let go.
        self.teams: dict[str, tuple[str, str | None]] = {}
        self.renderer: Renderer | None = None
        self.mermaid: Path | None = None

    def on_startup(self, *, command: str, dirty: bool) -> None:
        self.command = command

    def on_config(self, config: MkDocsConfig) -> MkDocsConfig | None:
        root = Path(config.config_file_path or ".").resolve().parent
        options = {option.name: self.config[option.name] for option in OPTIONS
                   if self.config.get(option.name) is not None}
        self.core, problems = Config.from_mapping(options, root, KINDS)
        if problems:
            raise PluginError("opsbook configuration: " + "; ".join(p.message for p in problems))
        self.core.repo_url = config.repo_url
        self.core.edit_uri = config.edit_uri
        self.core.docs_dir = os.path.relpath(config.docs_dir, root)
        # MkDocs lists the docs folder, following linked folders, before any plugin sees its files: a
        # folder linked into itself would have it walk 2**40 folders, a named pipe hang it on reading.
        unreadable = special_docs(root, self.core.docs_dir)
        if unreadable:
            raise PluginError("opsbook: " + "; ".join(one_line(d.message) for d in unreadable))
        if not self.core.site_url:
            # `mkdocs serve` replaces site_url with the preview's address: take the one the file says, in
            # the file this engine read (`mkdocs build` reads mkdocs.yml where properdocs.yml is there too).
            engine_file = Path(config.config_file_path).name if config.config_file_path else None
            written, _ = load_config(root, engine_file)
            self.core.site_url = written.site_url or config.site_url
        for extension in REQUIRED_EXTENSIONS:
            if extension not in config.markdown_extensions:
                config.markdown_extensions.append(extension)
        if self.command in ("build", "gh-deploy") and not getattr(config, "dirty", False):
            # Build into a staging folder of this build's own beside the site, renamed over it only once the
            # build succeeded (`on_post_build`): a failed build never leaves half a site where the last
            # good one was, and two builds at once never write into one folder.
            self.site_dir = Path(config.site_dir).resolve()
            try:
                self.staging = staging_beside(self.site_dir, "opsbook-staging")
            except OSError as error:
                raise PluginError(f"opsbook: {write_problem(error, self.site_dir)}") from error
            config.site_dir = str(self.staging)
        self.mermaid = _find_mermaid(root, self.config.get("mermaid_js"))
        if self.mermaid is not None:
            # Diagrams only with Mermaid shipped in the site: without it Material would fetch it from a CDN.
            _enable_mermaid_fences(config)
            if MERMAID_ASSET not in config.extra_javascript:
                config.extra_javascript.append(MERMAID_ASSET)
        if STYLESHEET_ASSET not in config.extra_css:
            config.extra_css.append(STYLESHEET_ASSET)
        with_copy_buttons(config.theme)
        if SCRIPT_ASSET not in config.extra_javascript:
            config.extra_javascript.append(SCRIPT_ASSET)
        return config

    @event_priority(-100)
    def on_post_build(self, *, config: MkDocsConfig) -> None:
        """Ship Mermaid with the site, so that diagrams render offline and no request leaves it; then
        put the staged site in place of the last one.

        Runs last (priority -100) and leaves the last site alone when MkDocs is about to abort the build:
        under `--strict` a warning fails the build after this event, so the site is replaced only when
        no warning was counted. Two builds finishing at once replace the site one after the other."""
        if self.mermaid is not None:
            target = Path(config.site_dir) / MERMAID_ASSET
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(self.mermaid, target)
        _boost_record_pages(Path(config.site_dir) / SEARCH_INDEX, self.record_urls)
        if self.site_dir is None or self.staging is None:
            return
        if config.strict and _strict_warnings():
            return  # MkDocs aborts right after this event; `on_build_error` removes the staging folder
        try:
            replace_folder(self.staging, self.site_dir)
        except OSError as error:
            raise PluginError(f"opsbook: {write_problem(error, self.site_dir)}") from error
        self.staging = None
        config.site_dir = str(self.site_dir)

    @event_priority(-100)
    def on_build_error(self, *, error: Exception) -> None:
        """Remove the staging folder of a failed build, the last site left as it was; a site that cannot
        be written (a full disk, a read-only tree) is one line, not a traceback."""
        if self.staging is not None:
            discard(self.staging)
            self.staging = None
        if isinstance(error, OSError) and error.errno in WRITE_ERRORS:
            problem = write_problem(error, self.site_dir or Path(str(error.filename or "site")))
            log.error(problem)  # the plugin's logger says "opsbook: " first
            raise Abort(f"Aborted: {problem}") from error

    def on_shutdown(self) -> None:
        """An interrupted build (Ctrl-C is not an error MkDocs reports) leaves no staging folder behind."""
        if self.staging is not None:
            discard(self.staging)
            self.staging = None

    @event_priority(50)
    def on_files(self, files: Files, /, *, config: MkDocsConfig) -> Files:
        """Add the generated pages.

        Runs early (priority 50) so that plugins after it, such as a blog or tags plugin, see the
        generated pages as if they had been written by hand.
        """
        assert self.core is not None
        analysis = self.analysis = analyse(self.core.root, self.core)
        self.renderer = None
        root = self.core.root
        reported, failures = analysis.diagnostics, analysis.failures()
        since = os.environ.get(CHANGED_SINCE_VARIABLE)
        if since:  # pull-request mode, as `opsbook check --changed-since`
            try:
                judged = judge_changed(analysis.diagnostics, changed_files(root, since), CODES, since)
            except ChangesError as error:
                raise PluginError(f"opsbook: {CHANGED_SINCE_VARIABLE}: {error}") from None
            reported, failures = judged.diagnostics, [d for d in failures if d not in judged.excused]
            for diagnostic in reported:
                if diagnostic.severity == Severity.INFO and diagnostic.code in CODES \
                        and CODES[diagnostic.code].date_driven:
                    log.info(format_diagnostics([diagnostic], root, "text").rsplit("\n", 1)[0])
        for diagnostic in reported:
            if diagnostic not in failures and diagnostic.severity >= Severity.WARNING:
                log.warning(format_diagnostics([diagnostic], root, "text").rsplit("\n", 1)[0])
        if failures:
            report = format_diagnostics(failures, root, "text")
            for diagnostic in failures:
                log.error(one_line(f"{diagnostic.location()}: {diagnostic.code} {diagnostic.message}"))
            raise PluginError(f"opsbook found problems in the handbook:\n{report}")
        docs_dir = Path(config.docs_dir).resolve()
        self.titles = {}
        self.generated = set()
        self.record_pages = set()
        self.record_urls = set()
        for page in analysis.pages():
            if ".." in Path(page.uri).parts or page.uri.startswith("/"):
                raise PluginError(f"opsbook: refusing a generated page outside the site: {page.uri!r}")
            if files.get_file_from_path(page.uri) is not None:
                log.info(f"{page.uri} is written by hand in {config.docs_dir}; the generated page is not used")
                continue
            inclusion = InclusionLevel.UNDEFINED if page.in_nav else InclusionLevel.NOT_IN_NAV
            file = File.generated(config, page.uri, content=page.text, inclusion=inclusion)
            if page.source is not None:
                file.edit_uri = Path(os.path.relpath(root / page.source, docs_dir)).as_posix()
            files.append(file)
            self.generated.add(page.uri)
            if page.title:
                self.titles[page.uri] = page.title
            if page.source is not None:
                self.record_pages.add(page.uri)
        for asset in (STYLESHEET_ASSET, SCRIPT_ASSET):  # package data, at the addresses on_config lists
            if files.get_file_from_path(asset) is None:
                content = resources.files("opsbook").joinpath("assets", Path(asset).name).read_bytes()
                files.append(File.generated(config, asset, content=content))
        for kind in schema_names():  # at the URLs their `$id`s and `opsbook new`'s headers name
            uri = published_path(kind)
            if files.get_file_from_path(uri) is None:
                files.append(File.generated(config, uri, content=schema_text(kind)))
            else:
                log.info(f"{uri} is written by hand in {config.docs_dir}; the published schema is not used")
        self._prepare_written_pages(files, config)
        # The model is not needed once every page is ready: kept, it would sit in memory through the
        # rest of MkDocs' build. (`mkdocs serve` keeps the parsed sources for its next rebuild.)
        self.analysis = self.renderer = None
        if self.command != "serve":
            forget_parsed()
        return files

    def _prepare_written_pages(self, files: Files, config: MkDocsConfig) -> None:
        """Expand the sections of every hand-written page now, while the model is in memory, reading each
        page as MkDocs will (front matter split off); keep what the freshness line needs of the teams."""
        self.prepared = {}
        for file in files.documentation_pages():
            if file.generated_by is not None:
                continue
            try:
                markdown, _ = front_matter.get_data(file.content_string)
            except (OSError, ValueError):
                continue  # MkDocs reports the file when it reads it
            self.prepared[file.src_uri] = (_digest(markdown), self._expand(markdown, file.src_uri, config))
        renderer = self._renderer()
        self.teams = {team.id: (team.title, renderer.uri_of(team) if renderer.has_pages("team") else None)
                      for team in renderer.handbook.all("team")}

    def on_page_markdown(self, markdown: str, /, *, page: MkDocsPage, config: MkDocsConfig,
                         files: Files) -> str | None:
        """Give a generated page its title as escaped text; expand a hand-written page's sections and put
        its freshness line under its title.

        Material prints `page.meta.title` unescaped into `<title>` and the header (and, without it,
        passes `page.title` through `striptags`, which turns `&lt;` back into `<`), so a title taken
        from a source file is set here as HTML-escaped text. The freshness line is made here, from the
        page's metadata as it is now: other plugins (Material's `meta`) may have added to it.
        """
        uri = page.file.src_uri
        title = self.titles.get(uri)
        if title is not None:
            page.meta["title"] = html.escape(title, quote=True)
            if uri in self.record_pages:
                self.record_urls.add(page.url)  # boosted in the search index (`_boost_record_pages`)
            return markdown
        prepared = self.prepared.get(uri)
        if prepared is not None and prepared[0] == _digest(markdown):
            expanded = prepared[1]
        else:  # a page another plugin changed (or added) after `on_files`: expanded from the model read again
            expanded = self._expand(markdown, uri, config)
        assert self.core is not None
        return _with_freshness(expanded, page.meta, uri, self.core.today_date, self._team_link)

    def _team_link(self, from_uri: str, team_id: str) -> str | None:
        """A link to a team's page, or None for a team the handbook does not have."""
        found = self.teams.get(team_id)
        if found is None:
            return None
        return Renderer.page_link(from_uri, *found)

    def _expand(self, markdown: str, uri: str, config: MkDocsConfig) -> str:
        assert self.core is not None
        path = Path(os.path.relpath(Path(config.docs_dir) / uri, self.core.root)).as_posix()
        renderer = self._renderer()
        expanded, problems = expand_sections(renderer.handbook, renderer, uri, markdown, path, self._mark)
        if problems:
            raise PluginError("\n".join(one_line(f"{p.location()}: {p.severity} {p.code} {p.message}")
                                        for p in problems))
        return expanded

    def _mark(self, section: str) -> str:
        """A generated section between two HTML comments, found again in the page's HTML."""
        return f"\n<!-- {self.section_mark} -->\n\n{section.strip(chr(10))}\n\n<!-- /{self.section_mark} -->\n\n"

    @event_priority(-100)
    def on_page_content(self, html: str, /, *, page: MkDocsPage, config: MkDocsConfig, files: Files) -> str | None:
        """Sanitise the HTML of every generated page, and of every generated section of a hand-written page.

        Runs last (priority -100), on the HTML MkDocs made of the page, whatever the Markdown extensions
        and other plugins did. Sources come from pull requests: their text is escaped into the Markdown
        (`render/markdown.py`) and their Markdown defused (`md_source`), and this second layer, an
        allow-list of tags, attributes and URL schemes applied by a maintained sanitiser (nh3, see
        `render/sanitise.py`), holds even where Markdown's dialects or a new extension would let a
        construct through the first. Hand-written pages are the project's own: only their generated
        sections are sanitised, each found between the two comments `_mark` put around it (a source
        cannot write the mark: `<` is always escaped, and it changes with every build); a section whose
        closing mark is lost is sanitised to the end of the page. Then, on every page, the dates in table
        cells are kept whole (`render/layout.py`).
        """
        assert self.core is not None
        hosts = self.core.image_hosts
        if page.file.src_uri in self.generated:
            return keep_dates_whole(sanitise_html(html, hosts))
        mark = re.escape(self.section_mark)
        return keep_dates_whole(re.sub(rf"<!-- {mark} -->(.*?)(?:<!-- /{mark} -->|\Z)",
                                       lambda found: sanitise_html(found.group(1), hosts), html, flags=re.S))

    def _renderer(self) -> Renderer:
        if self.renderer is None:
            if self.analysis is None:
                assert self.core is not None
                self.analysis = analyse(self.core.root, self.core)
            self.renderer = make_renderer(self.analysis.handbook, self.analysis.diagnostics)
        return self.renderer

    def on_serve(self, server: Any, /, *, config: MkDocsConfig, builder: Any) -> Any:
        """Rebuild when a source changes, not only the Markdown in `docs/`."""
        assert self.core is not None
        for kind in KINDS.values():
            for folder in self.core.sources.get(kind.name, list(kind.folders)):
                path = self.core.root / folder
                if path.exists():
                    server.watch(str(path))
        return server


#: How much more a record's own page (a runbook, an alert) weighs in Material's search than other pages.
RECORD_SEARCH_BOOST = 4
#: Material's search index, in the site.
SEARCH_INDEX = "search/search_index.json"


def _boost_record_pages(index: Path, urls: set[str]) -> None:
    """Weigh a record's own page (a runbook, an alert) `RECORD_SEARCH_BOOST` times in Material's search
    index, and only the page itself, not its sections: searching a word of its title then lists the record
    first, before a page whose step or heading happens to hold the word (`page.meta.search.boost` would
    boost every section of the page alike). An entry that already has a boost (set by the page) keeps it;
    a site without Material's search has no index, and nothing is done."""
    try:
        data = json.loads(index.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return
    docs = data.get("docs") if isinstance(data, dict) else None
    if not isinstance(docs, list) or not urls:
        return
    for doc in docs:
        if isinstance(doc, dict) and doc.get("location") in urls and "boost" not in doc:
            doc["boost"] = RECORD_SEARCH_BOOST
    index.write_text(json.dumps(data, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")


def _strict_warnings() -> bool:
    """Whether MkDocs has counted a warning in strict mode: its counter, on the `mkdocs` logger, decides
    whether the build aborts once `on_post_build` has run."""
    return any(isinstance(handler, CountHandler) and handler.get_counts()
               for handler in logging.getLogger("mkdocs").handlers)


def _digest(markdown: str) -> bytes:
    return hashlib.blake2b(markdown.encode("utf-8", "surrogatepass"), digest_size=16).digest()


def _find_mermaid(root: Path, option: str | None) -> Path | None:
    """Mermaid's browser bundle, found as `opsbook build --out` finds it (`plain_site.find_mermaid`): an
    option that names no file fails the build; none found is said at INFO."""
    try:
        found = find_mermaid(root, option)
    except ValueError as error:
        raise PluginError(f"opsbook: {error}") from None
    if found is None:
        log.info("Mermaid is not installed (npm install --no-save mermaid@11): diagrams are shown as text")
    return found


def _enable_mermaid_fences(config: MkDocsConfig) -> None:
    """Render ```mermaid blocks as diagrams: the fence pymdownx.superfences needs for it, added if missing."""
    fence = {"name": "mermaid", "class": "mermaid", "format": fence_code_format}
    if "pymdownx.superfences" not in config.markdown_extensions:
        config.markdown_extensions.append("pymdownx.superfences")
    options = config.mdx_configs.setdefault("pymdownx.superfences", {})
    fences = options.setdefault("custom_fences", [])
    if not any(isinstance(f, dict) and f.get("name") == "mermaid" for f in fences):
        fences.append(fence)


def _with_freshness(markdown: str, meta: Mapping[str, Any], uri: str, today: datetime.date,
                    team_link: Callable[[str, str], str | None]) -> str:
    """Under the page's title, who owns the page and how long ago it was reviewed (from its metadata)."""
    if "owner" not in meta and "last_reviewed" not in meta:
        return markdown
    found = freshness_of({key: str(value) if key == "last_reviewed" else value for key, value in meta.items()})
    parts = []
    if found.owner:
        parts.append(f"Owned by {team_link(uri, found.owner) or md_inline(found.owner)}")
    if found.reviewed:
        ago = found.days_ago(today)
        parts.append(f"reviewed {found.reviewed.isoformat()} ({'today' if ago == 0 else f'{ago} days ago'})")
    if found.due:
        state = "**review overdue** since " if found.overdue(today) else "next review by "
        parts.append(state + found.due.isoformat())
    line = "*" + " · ".join(parts) + "*\n\n"
    heading = re.search(r"^# .*\n", markdown, re.M)
    if heading is None:
        return line + markdown
    return markdown[: heading.end()] + "\n" + line + markdown[heading.end():].lstrip("\n")
