"""opsbook's one configuration, read the same way by the CLI, the MkDocs plugin and the pytest plugin.

It lives in the `opsbook` entry of `plugins:` in `mkdocs.yml`, or, for a handbook built without MkDocs,
in `opsbook.yml` at its root (read only where there is no `mkdocs.yml`). Every option has a default,
so an empty entry is a working setup.
"""

from __future__ import annotations

import datetime as _dt
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from .diagnostics import Code, Diagnostic, Severity, make
from .durations import parse_duration
from .loader import Document, Limits, load_yaml_file

__all__ = ["Config", "find_root", "read_config"]

OB090 = Code("OB090", Severity.ERROR, "Invalid opsbook configuration",
         "An option in the `opsbook` entry of `mkdocs.yml` (or in `opsbook.yml`) is unknown or has the wrong "
         "type. The message names the option and what it expects.",
         failing="plugins:\n  - opsbook:\n      runbook_dirs: runbooks   # unknown option\n",
         passing="plugins:\n  - opsbook:\n      sources:\n        runbook: [runbooks]\n")

CONFIG_FILES = ("mkdocs.yml", "mkdocs.yaml", "opsbook.yml", "opsbook.yaml")
#: Pins `today` for one run when the configuration leaves it unset (a test, a rebuild of an old commit).
TODAY_VARIABLE = "OPSBOOK_TODAY"


@dataclass
class Config:
    """Options of opsbook. In `mkdocs.yml`, under `plugins: - opsbook:`.

    Attributes:
        root: The handbook root: the folder of `mkdocs.yml` (not an option; set by the loader).
        sources: Folders to read each kind from, relative to the root, e.g. `{runbook: [runbooks]}`.
            Kinds left out keep their default folder.
        pages: Where generated pages go in the site, per kind (`{runbook: runbooks}`), and `checks`
            for the reference pages of the diagnostic codes.
        results: The runner's results file (JSON), shown on runbook pages when present.
        today: The date review checks compare with (`YYYY-MM-DD`); when unset, `OPSBOOK_TODAY` from the
            environment, else the real date.
        fail_on: The lowest severity that fails a build or `opsbook check` (`error` or `warning`).
        max_file_size: Largest source file read, in bytes.
        max_depth: Deepest nesting accepted in a source file.
        max_nodes: Most values a source file may expand to, aliases included.
        paging_severities: Alert severities that must have a runbook.
        allow_env: Variables of the caller's environment that runbook steps may see.
        production_environments: Environments held to the production rules (approval, rollback runbook).
        production_severity: The severity of breaking those rules (`error` or `warning`).
        min_backup_retention: The least time a backup policy must keep backups for.
        drill_window: How recent a drill (or a CI verification) of a restore or verify runbook must be.
        require_freshness: Kinds whose records must carry `owner` and `last_reviewed` (and `pages` for
            the hand-written pages).
        mermaid_js: Mermaid's browser bundle to ship with the site (by default the npm package
            `node_modules/mermaid/dist/mermaid.min.js` beside the handbook).
        default_timeout: How long a step may run when its `expect` names no timeout.
        shellcheck: Whether `opsbook check` runs shellcheck on the `run` steps.
        site_url: The published site's address, to recognise absolute `runbook_url` links into it
            (MkDocs' own `site_url` when unset).
    """

    root: Path = field(default_factory=Path.cwd)
    sources: dict[str, list[str]] = field(default_factory=dict)
    pages: dict[str, str] = field(default_factory=dict)
    results: str = ".opsbook/results.json"
    today: str | None = None
    fail_on: str = "error"
    max_file_size: int = Limits.max_file_size
    max_depth: int = Limits.max_depth
    max_nodes: int = Limits.max_nodes
    paging_severities: list[str] = field(default_factory=lambda: ["critical", "page"])
    allow_env: list[str] = field(default_factory=list)
    production_environments: list[str] = field(default_factory=lambda: ["production", "prod"])
    production_severity: str = "error"
    min_backup_retention: str = "7d"
    drill_window: str = "180d"
    mermaid_js: str | None = None
    require_freshness: list[str] = field(default_factory=list)
    default_timeout: str = "5m"
    shellcheck: bool = True
    repo_url: str | None = None
    edit_uri: str | None = None
    site_url: str | None = None
    docs_dir: str = "docs"

    @property
    def limits(self) -> Limits:
        return Limits(self.max_file_size, self.max_depth, self.max_nodes)

    @property
    def today_date(self) -> _dt.date:
        if self.today:
            return _dt.date.fromisoformat(self.today)
        return _pinned_today() or _dt.date.today()

    @property
    def threshold(self) -> Severity:
        return Severity.parse(self.fail_on)

    def page_dir(self, name: str, default: str) -> str:
        return self.pages.get(name, default).strip("/")

    @classmethod
    def options(cls) -> list[str]:
        """Names of the options a user may set."""
        return [f.name for f in fields(cls) if f.name not in ("root", "repo_url", "edit_uri", "docs_dir")]

    @classmethod
    def from_mapping(cls, options: dict[str, Any] | None, root: Path, kinds: Mapping[str, Any], *,
                     path: str = "mkdocs.yml", document: Document | None = None,
                     where: tuple[str | int, ...] = ()) -> tuple[Config, list[Diagnostic]]:
        """Validate user options; unknown or ill-typed options are diagnostics, defaults fill the rest.

        `kinds` are the kinds there are, by name (each with its default `folders`), to validate
        `sources` and `require_freshness`. An unset `today` is taken from the environment variable
        `OPSBOOK_TODAY` when it is set."""
        config, problems = cls._from_mapping(options, root, kinds, path=path, document=document, where=where)
        pinned = os.environ.get(TODAY_VARIABLE)
        if config.today is None and pinned and _pinned_today() is None:
            problems.append(make(OB090, path, 1, 1, f"the environment variable {TODAY_VARIABLE} must be a "
                                                      f"date written YYYY-MM-DD, not {pinned[:40]!r}"))
        return config, problems

    @classmethod
    def _from_mapping(cls, options: dict[str, Any] | None, root: Path, kinds: Mapping[str, Any], *, path: str,
                      document: Document | None, where: tuple[str | int, ...]) -> tuple[Config, list[Diagnostic]]:
        config = cls(root=root)
        problems: list[Diagnostic] = []

        def report(key_path: tuple[str | int, ...], message: str) -> None:
            line, column = document.position((*where, *key_path), key=True) if document else (1, 1)
            problems.append(make(OB090, path, line, column, message))

        if options is None:
            return config, problems
        if not isinstance(options, dict):
            report((), "the opsbook entry must be a mapping of options")
            return config, problems
        allowed = cls.options()
        for key, value in options.items():
            if key not in allowed:
                report((key,), f"unknown option '{key}' (options: {', '.join(allowed)})")
                continue
            if key == "today" and isinstance(value, _dt.date):
                value = value.isoformat()  # YAML reads an unquoted date as a date
            expected = {"sources": dict, "pages": dict, "results": str, "today": (str, type(None)),
                        "fail_on": str, "max_file_size": int, "max_depth": int, "max_nodes": int,
                        "paging_severities": list, "allow_env": list, "production_environments": list,
                        "production_severity": str, "min_backup_retention": str, "drill_window": str,
                        "mermaid_js": (str, type(None)), "require_freshness": list, "default_timeout": str,
                        "shellcheck": bool, "site_url": str}[key]
            if not isinstance(value, expected) or (isinstance(value, bool) and expected is not bool):
                report((key,), f"option '{key}' has the wrong type ({type(value).__name__})")
                continue
            if key == "sources":
                clean: dict[str, list[str]] = {}
                for kind, folders in value.items():
                    readable = sorted(name for name, k in kinds.items() if k.folders)
                    if kind not in kinds:
                        report((key, kind), f"sources names an unknown kind '{kind}' (kinds: {', '.join(readable)})")
                        continue
                    if not kinds[kind].folders:
                        report((key, kind), f"{kind} records are read from the files of another kind; "
                                            f"sources takes: {', '.join(readable)}")
                        continue
                    folders = [folders] if isinstance(folders, str) else folders
                    if not isinstance(folders, list) or not all(isinstance(f, str) for f in folders):
                        report((key, kind), f"sources.{kind} must be a folder or a list of folders")
                        continue
                    clean[kind] = folders
                value = clean
            if key == "pages" and not all(isinstance(v, str) and v.strip("/") for v in value.values()):
                report((key,), "pages must map names to folders, such as {runbook: runbooks}")
                continue
            if key in ("fail_on", "production_severity") and value not in ("error", "warning"):
                report((key,), f"{key} must be 'error' or 'warning'")
                continue
            if key == "require_freshness":
                unknown = [name for name in value if name != "pages" and name not in kinds]
                if unknown:
                    report((key,), f"require_freshness names {', '.join(map(str, unknown))}: kinds "
                                   f"({', '.join(sorted(kinds))}) or pages")
                    continue
            if key in ("default_timeout", "min_backup_retention", "drill_window") and not parse_duration(value):
                report((key,), f"{key} must be a duration such as 5m or 30d")
                continue
            if key == "today" and value is not None:  # null: unset, as the MkDocs plugin's default
                try:
                    _dt.date.fromisoformat(str(value))
                except ValueError:
                    report((key,), "today must be a date written YYYY-MM-DD")
                    continue
            setattr(config, key, value)
        return config, problems


def _pinned_today() -> _dt.date | None:
    """The date in `OPSBOOK_TODAY`, when it is set to one."""
    try:
        return _dt.date.fromisoformat(os.environ.get(TODAY_VARIABLE, "").strip())
    except ValueError:
        return None


def find_root(start: Path) -> Path:
    """The handbook root: the nearest folder, from `start` upwards, holding a configuration file."""
    start = start.resolve()
    for folder in (start, *start.parents):
        if any((folder / name).is_file() for name in CONFIG_FILES):
            return folder
    return start


def read_config(root: Path, kinds: Mapping[str, Any]) -> tuple[Config, list[Diagnostic]]:
    """Read the configuration of the handbook at `root` from `mkdocs.yml` or `opsbook.yml`, for the
    given kinds (`opsbook.registry.KINDS`)."""
    for name in CONFIG_FILES:
        file = root / name
        if not file.is_file():
            continue
        documents, problems = load_yaml_file(file, name)
        if problems or not documents:
            return Config(root=root), problems
        document = documents[0]
        data = document.data if isinstance(document.data, dict) else {}
        if name.startswith("opsbook"):
            return Config.from_mapping(data, root, kinds, path=name, document=document)
        options, where = _plugin_entry(data)
        config, problems = Config.from_mapping(options, root, kinds, path=name, document=document, where=where)
        if isinstance(data.get("repo_url"), str):
            config.repo_url = data["repo_url"]
        if isinstance(data.get("edit_uri"), str):
            config.edit_uri = data["edit_uri"]
        if isinstance(data.get("docs_dir"), str):
            config.docs_dir = data["docs_dir"]
        if isinstance(data.get("site_url"), str) and not config.site_url:
            config.site_url = data["site_url"]
        return config, problems
    return Config(root=root), []


def _plugin_entry(mkdocs: dict[str, Any]) -> tuple[dict[str, Any] | None, tuple[str | int, ...]]:
    plugins = mkdocs.get("plugins")
    if isinstance(plugins, dict):
        return plugins.get("opsbook"), ("plugins", "opsbook")
    if isinstance(plugins, list):
        for index, entry in enumerate(plugins):
            if isinstance(entry, dict) and "opsbook" in entry:
                return entry["opsbook"], ("plugins", index, "opsbook")
    return None, ()
