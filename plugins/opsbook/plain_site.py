"""The site `opsbook build --out` writes: a Markdown tree and a plain configuration that builds it with no plugin.

MkDocs refuses a `docs_dir` that is its configuration file's own folder, so the site is two things side by
side: `mkdocs.yml` and the Markdown tree in `docs/` (and the theme's `custom_dir`, when the handbook has
one, in `overrides/`). `mkdocs build --strict -f DIR/mkdocs.yml` builds it, and so does Zensical, which
reads the same file; neither needs the opsbook plugin, nor any other.

The configuration is the handbook's own engine configuration (`INHERIT:` merged, as MkDocs merges it),
with what the opsbook plugin would add to it in `on_config` and `on_files`, written out instead:

- the pages a plugin build keeps out of the navigation (a record's page is reached from its index) listed
  in `not_in_nav`, so that a strict build does not warn that they are missing from it;
- the Markdown extensions the generated pages are written for, and the `mermaid` fence when Mermaid's
  script is shipped with the site (from `mermaid_js` or `node_modules`, never a CDN);
- opsbook's stylesheet and script, the published schemas and Mermaid's script, as files of the tree;
- under Material (or its community fork, `materialx`), the copy button on code blocks.

The plugin takes from here what both ship and where (`REQUIRED_EXTENSIONS`, the assets' paths,
`find_mermaid`, `with_copy_buttons`), so that the two cannot drift apart.

Left out: the plugins (a plain configuration has none but the engine's own `search`), `hooks` (Python
files are plugins too), and what names places beside the old configuration (`docs_dir`, `site_dir`,
`watch`). A handbook configured by `opsbook.yml` alone has no engine configuration: it gets Material
with system fonts and search, as `opsbook init` writes. Tags (`!ENV`, `!!python/name:`) are written back
as they were, for the engine to read.
"""

from __future__ import annotations

import html
import json
from collections.abc import Iterable, MutableMapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path, PurePosixPath
from typing import Any

import yaml

from .config import CONFIG_FILES, OB090, Config
from .diagnostics import Diagnostic, make
from .engine_config import Tagged, read_engine_config
from .render import Page
from .schema_validation import published_path, schema_names, schema_text

__all__ = ["COPY_BUTTON_THEMES", "MERMAID_ASSET", "REQUIRED_EXTENSIONS", "SCRIPT_ASSET", "SITE_CONFIG", "SITE_DOCS",
           "STYLESHEET_ASSET", "THEME_DIR", "PlainSite", "find_mermaid", "folder_files", "plain_site", "titled",
           "with_copy_buttons"]

#: The configuration file of the site, beside its Markdown tree; MkDocs and Zensical both read it.
SITE_CONFIG = "mkdocs.yml"
#: The Markdown tree's folder, beside the configuration.
SITE_DOCS = "docs"
#: Where the theme's `custom_dir` is copied, beside the configuration.
THEME_DIR = "overrides"

#: Markdown extensions the generated pages are written for, added by the plugin and written out here.
REQUIRED_EXTENSIONS = ("admonition", "tables", "toc", "pymdownx.details", "pymdownx.superfences")
#: opsbook's stylesheet (tables that never break inside a token, charts that scroll in their own box),
#: package data shipped with the site, by the plugin and here.
STYLESHEET_ASSET = "assets/stylesheets/opsbook.css"
#: opsbook's script (Material's search dialog named, a table's box that scrolls reachable by keyboard),
#: package data shipped with the site.
SCRIPT_ASSET = "assets/javascripts/opsbook.js"
#: Where Mermaid's script is shipped in the site.
MERMAID_ASSET = "assets/javascripts/mermaid.min.js"
#: The themes with Material's copy button on code blocks (`content.code.copy`): Material and its
#: community fork, mkdocs-materialx.
COPY_BUTTON_THEMES = ("material", "materialx")
#: The plugins a plain configuration keeps: the engines' own search (MkDocs', Material's and its fork's,
#: Zensical's).
BUILT_IN_PLUGINS = ("search", "material/search", "materialx/search")
#: How `pymdownx.superfences` is told to leave a ```mermaid block for Mermaid to draw, as a YAML tag.
MERMAID_FENCE_FORMAT = "tag:yaml.org,2002:python/name:pymdownx.superfences.fence_code_format"


@dataclass
class PlainSite:
    """What `opsbook build --out` writes beside and into the Markdown tree."""

    #: The configuration, as it is written to `SITE_CONFIG`.
    config: dict[str, Any]
    #: The theme's `custom_dir`, to copy into `THEME_DIR`.
    theme_dir: Path | None = None
    #: Files of the tree that are not pages: path in `SITE_DOCS` → content (assets, schemas, Mermaid).
    files: dict[str, bytes] = field(default_factory=dict)
    #: The plugins and other entries of the handbook's configuration that the plain one leaves out.
    left_out: list[str] = field(default_factory=list)

    def text(self, source: str | None) -> str:
        """The configuration file: a comment saying where it comes from, then the YAML."""
        origin = f"from {source} " if source else ""
        header = (f"# Written by `opsbook build` {origin}with no plugin; replaced whole by the next build.\n"
                  "# Build it from this folder with `mkdocs build --strict` or `zensical build --strict`.\n")
        return header + yaml.dump(self.config, Dumper=_Dumper, sort_keys=False, allow_unicode=True,
                                  default_flow_style=False, width=120)


def titled(page: Page) -> str:
    """The page's Markdown with its title in front matter, HTML-escaped, as the plugin sets it: Material
    prints `page.meta.title` as it is, and without it passes the heading's text through `striptags`, which
    turns `&lt;` back into `<` inside `<title>` (Zensical alike)."""
    if not page.title or page.text.startswith("---\n"):
        return page.text
    # JSON's ASCII string is a YAML double-quoted scalar: nothing in the title can end the front matter.
    return f"---\ntitle: {json.dumps(html.escape(page.title, quote=True))}\n---\n{page.text}"


def folder_files(folder: Path) -> list[Path]:
    """The regular files under `folder`, sorted, that a copy of it holds: symbolic links are skipped (a
    link may lead out of the handbook), and so are the folders they lead to."""
    if not folder.is_dir():
        return []
    return [file for file in sorted(folder.rglob("*")) if file.is_file() and not file.is_symlink()]


def find_mermaid(root: Path, option: str | None) -> Path | None:
    """Mermaid's browser bundle: the `mermaid_js` option, else the npm package installed beside the handbook
    (`npm install --no-save mermaid@11`), never a CDN: a handbook read during an incident must not depend
    on a third party being up. Raises ValueError when the option names no file."""
    if option:
        file = (root / option).resolve()
        if not file.is_file():
            raise ValueError(f"mermaid_js names {option}, which is not a file")
        return file
    candidate = root / "node_modules" / "mermaid" / "dist" / "mermaid.min.js"
    return candidate if candidate.is_file() else None


def plain_site(config: Config, pages: Iterable[Page], docs: set[str],
               mermaid: Path | None) -> tuple[PlainSite | None, str | None, list[Diagnostic]]:
    """The plain site of a handbook: its configuration, theme folder and files; the name of the engine
    configuration it comes from (None for a handbook configured by `opsbook.yml`); and the problems of
    that configuration (then no site).

    `pages` are the generated pages, `docs` the paths of the files written into the tree from the docs
    folder (a hand-written page takes the place of a generated page of the same path)."""
    source = next((name for name in CONFIG_FILES if (config.root / name).is_file()), None)
    if source is not None and source.startswith("opsbook"):
        source = None
    if source is None:
        engine: dict[str, Any] = {"site_name": config.root.name or "Handbook",
                                  "theme": {"name": "material", "font": False}, "plugins": ["search"]}
        located = None
    else:
        located, problems = read_engine_config(config.root, source, OB090)
        if problems or located is None:
            return None, source, problems
        engine = located.as_written()  # tags kept, for the engine to read: `!ENV` resolved when it builds
    site = PlainSite(config={})
    refused: list[Diagnostic] = []
    for key, value in engine.items():
        if key in ("docs_dir", "site_dir", "watch"):
            continue
        if key == "hooks":
            site.left_out.append("hooks")
        elif key == "plugins":
            kept, dropped = _built_in_plugins(value)
            site.left_out.extend(dropped)
            if kept:
                site.config[key] = kept
        else:
            site.config[key] = value
        if key == "site_name":
            site.config["docs_dir"] = SITE_DOCS
    site.config.setdefault("site_name", config.root.name or "Handbook")
    site.config.setdefault("docs_dir", SITE_DOCS)
    if "site_url" not in site.config and config.site_url:
        site.config["site_url"] = config.site_url
    theme = site.config.get("theme")
    if isinstance(theme, str):
        theme = site.config["theme"] = {"name": theme}
    if isinstance(theme, dict):
        custom = theme.get("custom_dir")
        if isinstance(custom, str):
            folder = (config.root / custom).resolve()
            if not folder.is_dir():
                where = located.locate(("theme", "custom_dir"), key=False) if located else (source or "", 1, 1)
                refused.append(make(OB090, *where, f"theme.custom_dir names {custom}, which is not a folder"))
            site.theme_dir = folder
            theme["custom_dir"] = THEME_DIR
        with_copy_buttons(theme)
    site.config["markdown_extensions"] = _extensions(site.config.get("markdown_extensions"), mermaid is not None)
    for asset in (STYLESHEET_ASSET, SCRIPT_ASSET):
        site.files[asset] = resources.files("opsbook").joinpath("assets", PurePosixPath(asset).name).read_bytes()
    for kind in schema_names():  # at the URLs their `$id`s and `opsbook new`'s headers name
        site.files[published_path(kind)] = schema_text(kind).encode("utf-8")
    scripts = [SCRIPT_ASSET]
    if mermaid is not None:
        site.files[MERMAID_ASSET] = mermaid.read_bytes()
        scripts.insert(0, MERMAID_ASSET)
    for path in docs:
        site.files.pop(path, None)  # written by hand in the docs folder: that file is used, as by the plugin
    site.config["extra_css"] = _listed(site.config.get("extra_css"), [STYLESHEET_ASSET])
    site.config["extra_javascript"] = _listed(site.config.get("extra_javascript"), scripts)
    hidden = sorted(page.uri for page in pages if not page.in_nav and page.uri not in docs)
    written = site.config.get("not_in_nav")
    lines = [written.rstrip("\n")] if isinstance(written, str) and written.strip() else []
    lines += [_pattern(uri) for uri in hidden]
    if lines:
        site.config["not_in_nav"] = _Block("\n".join(lines) + "\n")
    return (None if refused else site), source, refused


def with_copy_buttons(theme: MutableMapping[str, Any]) -> None:
    """Under Material or its community fork (`COPY_BUTTON_THEMES`), a copy button on every code block (the
    `content.code.copy` feature), so that a runbook's command is copied whole, not retyped at night; other
    themes have no such feature. `theme` is the engine's theme or the `theme:` mapping of a configuration."""
    if theme.get("name") not in COPY_BUTTON_THEMES:
        return
    features = theme.get("features")
    if features is None:
        theme["features"] = features = []
    if isinstance(features, list) and "content.code.copy" not in features:
        features.append("content.code.copy")


def _built_in_plugins(plugins: Any) -> tuple[list[Any], list[str]]:
    """The entries of `plugins:` a plain configuration keeps, and the names of those it leaves out."""
    entries = list(plugins.items()) if isinstance(plugins, dict) else [
        next(iter(entry.items())) if isinstance(entry, dict) and len(entry) == 1 else (entry, None)
        for entry in (plugins if isinstance(plugins, list) else [])]
    kept: list[Any] = []
    dropped: list[str] = []
    for name, options in entries:
        if not isinstance(name, str):
            continue
        if name in BUILT_IN_PLUGINS:
            kept.append(name if options is None else {name: options})
        else:
            dropped.append(f"the {name} plugin")
    return kept, [entry for entry in dropped if entry != "the opsbook plugin"]


def _extensions(written: Any, mermaid: bool) -> list[Any]:
    """The handbook's Markdown extensions, with those the generated pages need added, as the plugin adds
    them; with Mermaid shipped, `pymdownx.superfences` gets the `mermaid` fence (`_enable_mermaid_fences`)."""
    if isinstance(written, dict):
        extensions: list[Any] = [{name: options} if options is not None else name for name, options in written.items()]
    else:
        extensions = list(written) if isinstance(written, list) else []

    def name_of(entry: Any) -> str | None:
        if isinstance(entry, str):
            return entry
        if isinstance(entry, dict) and len(entry) == 1:
            key = next(iter(entry))
            return key if isinstance(key, str) else None
        return None

    names = [name_of(entry) for entry in extensions]
    extensions += [name for name in REQUIRED_EXTENSIONS if name not in names]
    if mermaid:
        index = next(i for i, entry in enumerate(extensions) if name_of(entry) == "pymdownx.superfences")
        entry = extensions[index]
        options = entry["pymdownx.superfences"] if isinstance(entry, dict) else None
        options = dict(options) if isinstance(options, dict) else {}
        fences = list(options.get("custom_fences") or [])
        if not any(isinstance(fence, dict) and fence.get("name") == "mermaid" for fence in fences):
            fences.append({"name": "mermaid", "class": "mermaid", "format": Tagged(MERMAID_FENCE_FORMAT, "")})
        options["custom_fences"] = fences
        extensions[index] = {"pymdownx.superfences": options}
    return extensions


def _listed(written: Any, added: list[str]) -> list[Any]:
    """`extra_css` or `extra_javascript` with opsbook's files added, each once (an entry may be a mapping
    with a `path`)."""
    entries = list(written) if isinstance(written, list) else []
    present = {entry if isinstance(entry, str) else entry.get("path")
               for entry in entries if isinstance(entry, (str, dict))}
    return entries + [path for path in added if path not in present]


def _pattern(uri: str) -> str:
    """A `not_in_nav` line (gitignore syntax, as MkDocs and Zensical read it through pathspec) that matches
    exactly the page at `uri`: anchored at the tree's top, its special characters escaped."""
    escaped = "".join("\\" + char if char in "\\*?[]!#" else char for char in uri)
    if escaped.endswith(" "):
        escaped = escaped[:-1] + "\\ "
    return "/" + escaped


class _Block(str):
    """A string written as a YAML literal block (`|`), one pattern a line."""


class _Dumper(yaml.SafeDumper):
    """PyYAML's safe dumper, writing `Tagged` values back with their tag and `_Block` as a literal block."""

    def ignore_aliases(self, data: Any) -> bool:
        return True  # each value written out where it is used, as the engine would read it


def _represent_tagged(dumper: yaml.SafeDumper, data: Tagged) -> yaml.Node:
    if isinstance(data.value, dict):
        return dumper.represent_mapping(data.tag, data.value)
    if isinstance(data.value, list):
        return dumper.represent_sequence(data.tag, data.value)
    return dumper.represent_scalar(data.tag, str(data.value))


def _represent_block(dumper: yaml.SafeDumper, data: _Block) -> yaml.Node:
    return dumper.represent_scalar("tag:yaml.org,2002:str", str(data), style="|")


_Dumper.add_representer(Tagged, _represent_tagged)
_Dumper.add_representer(_Block, _represent_block)
