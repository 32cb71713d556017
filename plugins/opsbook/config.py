"""opsbook's one configuration, read the same way by the CLI, the MkDocs plugin and the pytest plugin.

It lives in the `opsbook` entry of `plugins:` in `mkdocs.yml` (or ProperDocs' `properdocs.yml`, read as
the engine reads it, `INHERIT:` included: `opsbook.engine_config`), or, for a handbook built without
either, in `opsbook.yml` at its root (read only where there is no engine's file). Every option has a
default, so an empty entry is a working setup.

The options are declared once, in `OPTIONS`: the fields of `Config`, the validation of `opsbook.yml`
(and of the plugin entry as the command reads it), the MkDocs plugin's configuration class and the
configuration reference (the `configuration` section) are all made from that table.
"""

from __future__ import annotations

import copy
import dataclasses
import datetime as _dt
import fnmatch
import os
import posixpath
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from .diagnostics import Code, Diagnostic, Severity, make
from .durations import parse_duration
from .engine_config import ENGINE_FILES, MKDOCS_FILES, SETTINGS, EngineConfig, read_engine_config
from .loader import Document, Limits, load_yaml_file

__all__ = ["OPTIONS", "Config", "Option", "find_root", "read_config"]

OB090 = Code("OB090", Severity.ERROR, "Invalid opsbook configuration",
         "An option in the `opsbook` entry of `mkdocs.yml` (or in `opsbook.yml`) is unknown or has the wrong "
         "type. The message names the option and what it expects.",
         failing="# mkdocs.yml\n"
                 "plugins:\n"
                 "  - opsbook:\n"
                 "      runbook_dirs: runbooks   # unknown option\n",
         passing="# mkdocs.yml\n"
                 "plugins:\n"
                 "  - opsbook:\n"
                 "      sources:\n"
                 "        runbook: [runbooks]\n")

#: The files the configuration is read from, the first found in the root: the engines' own, in ProperDocs'
#: order (`engine_config.ENGINE_FILES`: properdocs.yml, properdocs.yaml, mkdocs.yml, mkdocs.yaml), then
#: opsbook's, for a handbook built without MkDocs or ProperDocs.
CONFIG_FILES = (*ENGINE_FILES, "opsbook.yml", "opsbook.yaml")
#: Pins `today` for one run when the configuration leaves it unset (a test, a rebuild of an old commit).
TODAY_VARIABLE = "OPSBOOK_TODAY"


class _Reading:
    """What a validator may use while one mapping of options is read: the kinds there are, and where
    to report a problem (`report(key_path, message)`, the path below the option's own key)."""

    def __init__(self, kinds: Mapping[str, Any], report: Callable[[tuple[str | int, ...], str], None]) -> None:
        self.kinds = kinds
        self.report = report


#: A validator: `(option name, value of the right type, reading)` → the value to keep, or `INVALID`
#: once it has reported why the value is refused.
Validator = Callable[[str, Any, _Reading], Any]
#: What a validator returns for a value it refused (the option keeps its default).
INVALID: Any = object()


@dataclass(frozen=True)
class Option:
    """One option of opsbook, as the table `OPTIONS` declares it.

    Attributes:
        name: The option's key, in the plugin entry of `mkdocs.yml` and in `opsbook.yml`.
        types: The Python types a value may have as YAML reads it (a `bool` is never an `int`).
        default: The value of an unset option (copied for each configuration).
        description: What the option sets, for the configuration reference (Markdown, one line).
        shown_type: The type as the reference names it (Markdown).
        choices: The values allowed, when there is a set of them.
        items: The type of a list's items, for MkDocs' validation of the plugin entry.
        nullable: Whether `null` is accepted (and leaves the option unset).
        validate: Checks a value of the right type further (a duration, a date, kind names).
        convert: Turns a value as YAML reads it into the option's value before its type is checked
            (an unquoted date into its `YYYY-MM-DD` text).
        shown_default: The default as the reference shows it, when the value alone does not say it.
    """

    name: str
    types: tuple[type, ...]
    default: Any
    description: str
    shown_type: str
    choices: tuple[str, ...] = ()
    items: type | None = None
    nullable: bool = False
    validate: Validator | None = None
    convert: Callable[[Any], Any] | None = None
    shown_default: str | None = None

    def default_value(self) -> Any:
        """A fresh copy of the default (a list or a mapping is never shared between configurations)."""
        return copy.deepcopy(self.default)

    def reference_default(self) -> str:
        """The default as the configuration reference shows it (Markdown)."""
        if self.shown_default is not None:
            return self.shown_default
        return f"`{_yaml_text(self.default)}`"

    def read(self, value: Any, reading: _Reading) -> Any:
        """The value to keep for this option, or `INVALID` once the reason is reported."""
        if self.convert is not None:
            value = self.convert(value)
        accepted = (*self.types, type(None)) if self.nullable else self.types
        if not isinstance(value, accepted) or (isinstance(value, bool) and bool not in self.types):
            reading.report((self.name,), f"option '{self.name}' has the wrong type ({type(value).__name__})")
            return INVALID
        if self.choices and value not in self.choices:
            allowed = " or ".join(repr(choice) for choice in self.choices)
            reading.report((self.name,), f"{self.name} must be {allowed}")
            return INVALID
        if self.validate is not None and value is not None:  # null: unset, as the MkDocs plugin's default
            return self.validate(self.name, value, reading)
        return value


def _yaml_text(value: Any) -> str:
    """A default written as in YAML: `true`, `[critical, page]`, `{}`, `null`."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_yaml_text(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{key}: {_yaml_text(item)}" for key, item in value.items()) + "}"
    return str(value)


def _duration(name: str, value: str, reading: _Reading) -> Any:
    if not parse_duration(value):
        reading.report((name,), f"{name} must be a duration such as 5m or 30d")
        return INVALID
    return value


def _date(name: str, value: str, reading: _Reading) -> Any:
    try:
        _dt.date.fromisoformat(str(value))
    except ValueError:
        reading.report((name,), f"{name} must be a date written YYYY-MM-DD")
        return INVALID
    return value


def _date_text(value: Any) -> Any:
    """YAML reads an unquoted date as a date: the option keeps its text."""
    return value.isoformat() if isinstance(value, _dt.date) else value


def _kind_folders(name: str, value: dict[Any, Any], reading: _Reading) -> Any:
    """`sources`: kinds read from files of their own, each to a folder or a list of folders."""
    kinds = reading.kinds
    readable = sorted(kind for kind, k in kinds.items() if k.folders)
    clean: dict[str, list[str]] = {}
    for kind, folders in value.items():
        if kind not in kinds:
            reading.report((name, kind), f"{name} names an unknown kind '{kind}' (kinds: {', '.join(readable)})")
            continue
        if not kinds[kind].folders:
            reading.report((name, kind), f"{kind} records are read from the files of another kind; "
                                         f"{name} takes: {', '.join(readable)}")
            continue
        folders = [folders] if isinstance(folders, str) else folders
        if not isinstance(folders, list) or not all(isinstance(f, str) for f in folders):
            reading.report((name, kind), f"{name}.{kind} must be a folder or a list of folders")
            continue
        clean[kind] = folders
    return clean


def _page_folders(name: str, value: dict[Any, Any], reading: _Reading) -> Any:
    if not all(isinstance(v, str) and v.strip("/") for v in value.values()):
        reading.report((name,), f"{name} must map names to folders, such as {{runbook: runbooks}}")
        return INVALID
    return value


def _kinds_or_pages(name: str, value: list[Any], reading: _Reading) -> Any:
    unknown = [item for item in value if item != "pages" and item not in reading.kinds]
    if unknown:
        reading.report((name,), f"{name} names {', '.join(map(str, unknown))}: kinds "
                                f"({', '.join(sorted(reading.kinds))}) or pages")
        return INVALID
    return value


def _host_names(name: str, value: list[Any], reading: _Reading) -> Any:
    """`image_hosts`: host names as a URL holds them (`grafana.example.com`), not URLs."""
    label = r"[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?"
    wrong = [item for item in value if not isinstance(item, str) or not re.fullmatch(rf"{label}(\.{label})*", item)]
    if wrong:
        reading.report((name,), f"{name} must list host names, such as grafana.example.com, not {wrong[0]!r}")
        return INVALID
    return value


def _rule_dialects(name: str, value: dict[Any, Any], reading: _Reading) -> Any:
    """`rule_dialects`: folders, files or file patterns, relative to the root, each to a dialect that a
    kind declares (`Kind.dialects`)."""
    known = list(dict.fromkeys(dialect for kind in reading.kinds.values()
                               for dialect in getattr(kind, "dialects", None) or ()))
    clean: dict[str, str] = {}
    for where, dialect in value.items():
        place = posixpath.normpath(where) if isinstance(where, str) and where.strip() else ""
        if not place or place.startswith("/") or place == ".." or place.startswith("../"):
            reading.report((name, where), f"{name} maps folders, files or file patterns inside the root, such as "
                                          f"ops/thanos, to dialects; not {where!r}")
            continue
        if dialect not in known:
            reading.report((name, where), f"{name}: unknown dialect {dialect!r} for {where} "
                                          f"(dialects: {', '.join(known)})")
            continue
        clean[place] = dialect
    return clean


def _unread_dialect_places(config: Config, kinds: Mapping[str, Any],
                           report: Callable[[tuple[str | int, ...], str], None]) -> None:
    """A `rule_dialects` folder or file that no kind with dialects reads is a mistake: the files there
    are not read at all (a pattern is not judged)."""
    readers = [kind for kind in kinds.values() if getattr(kind, "dialects", None)]
    if not readers:
        return
    folders = [folder.strip("/") for kind in readers for folder in config.sources.get(kind.name, list(kind.folders))]
    for where in config.rule_dialects:
        if any(char in where for char in "*?[") or where == ".":
            continue
        if not any(where == folder or where.startswith(f"{folder}/") or folder.startswith(f"{where}/")
                   for folder in folders):
            names = " and ".join(f"sources.{kind.name}" for kind in readers)
            report(("rule_dialects", where), f"rule_dialects names {where}, where no rule file is read (they are "
                                             f"read from {', '.join(folders) or 'nowhere'}); add it to {names}")


_SEVERITIES = ("error", "warning")

#: Every option of opsbook, in the order the reference and the messages list them: the one declaration
#: from which `Config`'s fields, the validation of the options, the MkDocs plugin's configuration
#: (`opsbook.mkdocs_plugin.OpsbookConfig`) and the configuration reference are made.
OPTIONS: tuple[Option, ...] = (
    Option("sources", (dict,), {},
           "Folders to read each kind from, relative to the root, e.g. `{runbook: [runbooks]}`; kinds left "
           "out keep their default folders",
           "mapping: kind → folder or list of folders", validate=_kind_folders,
           shown_default="each kind's own folders"),
    Option("pages", (dict,), {},
           "Where generated pages go in the site, per kind (`{runbook: runbooks}`), and `checks` and `schemas` "
           "for the reference pages of the diagnostic codes and the schemas",
           "mapping: kind, `checks` or `schemas` → folder", validate=_page_folders,
           shown_default="each kind's own folder"),
    Option("rule_dialects", (dict,), {},
           "The rule files that are not Prometheus' own, and their dialect: a folder, a file or a file pattern "
           "(`*` matches across folders) to `prometheus`, `thanos`, `mimir`, `cortex` or `loki`, such as "
           "`{ops/thanos: thanos}`; where several match a file, the longest wins",
           "mapping: folder, file or pattern → dialect", validate=_rule_dialects,
           shown_default="`{}`: every rule file is Prometheus'"),
    Option("results", (str,), ".opsbook/results.json",
           "The runbook runner's results file (JSON), shown on runbook pages when present",
           "path"),
    Option("local_results", (str,), "show",
           "Whether a run of the runbooks not recorded as made in CI (on a workstation, or in a results file "
           "from before opsbook recorded where) is shown on the runbook pages, as a local run and never as "
           "verified in CI (`show`), or ignored (`hide`)",
           "`show` or `hide`", choices=("show", "hide")),
    Option("today", (str, _dt.date), None,
           "The date every date check compares with: overdue reviews, drills, action items, next backups",
           "date `YYYY-MM-DD`, or unset", nullable=True, validate=_date, convert=_date_text,
           shown_default=f"unset: `{TODAY_VARIABLE}` from the environment, else the real date"),
    Option("fail_on", (str,), "error",
           "The lowest severity that fails a build or `opsbook check`",
           "`error` or `warning`", choices=_SEVERITIES),
    Option("max_file_size", (int,), Limits.max_file_size,
           "The largest source file read, in bytes",
           "whole number, bytes", shown_default=f"`{Limits.max_file_size}` (5 MiB)"),
    Option("max_depth", (int,), Limits.max_depth,
           "The deepest nesting of lists and mappings accepted in a source file",
           "whole number"),
    Option("max_nodes", (int,), Limits.max_nodes,
           "The most values a source file may expand to, aliases included",
           "whole number"),
    Option("paging_severities", (list,), ["critical", "page"],
           "The alert severities that page someone, and so must have a runbook",
           "list of text", items=str),
    Option("paging_integrations", (list,), ["pagerduty", "opsgenie", "victorops", "pushover"],
           "The Alertmanager integrations that page a person: a receiver with one of them is a pager, which "
           "every alert of a paging severity must reach at every hour of the week (OB319)",
           "list of integration names (`pagerduty`, `webhook`, ...)", items=str),
    Option("allow_env", (list,), [],
           "Variables of the caller's environment that runbook steps may see",
           "list of variable names", items=str),
    Option("production_environments", (list,), ["production", "prod"],
           "The environments held to the production rules: approval required and a rollback runbook",
           "list of environment ids", items=str),
    Option("production_severity", (str,), "error",
           "The severity of breaking the production rules (OB408)",
           "`error` or `warning`", choices=_SEVERITIES),
    Option("min_backup_retention", (str,), "7d",
           "The least time a backup policy must keep its backups for (OB602)",
           "duration", validate=_duration),
    Option("drill_window", (str,), "180d",
           "How recent a passing drill (or CI run) of a restore or verify runbook must be (OB603)",
           "duration", validate=_duration),
    Option("mermaid_js", (str,), None,
           "Mermaid's browser script, relative to the root, shipped with the site so that diagrams render",
           "path, or unset", nullable=True,
           shown_default="unset: `node_modules/mermaid/dist/mermaid.min.js` when it exists"),
    Option("require_freshness", (list,), [],
           "The kinds whose records must carry `owner` and `last_reviewed`, and `pages` for the "
           "hand-written pages (OB044)",
           "list of kind names and `pages`", items=str, validate=_kinds_or_pages),
    Option("default_timeout", (str,), "5m",
           "How long a runbook step may run when its `expect` names no timeout",
           "duration", validate=_duration),
    Option("shellcheck", (bool,), True,
           "Whether `opsbook check` runs shellcheck on the `run` steps (OB042)",
           "`true` or `false`"),
    Option("site_url", (str,), None,
           "The published site's address, to recognise absolute `runbook_url` links into it",
           "URL", shown_default="unset: MkDocs' `site_url`"),
    Option("image_hosts", (list,), [],
           "The hosts whose images a postmortem may show, such as `grafana.example.com`; an image from any "
           "other host is shown as a link, so that reading a page loads nothing from elsewhere",
           "list of host names", items=str, validate=_host_names),
)

_Class = TypeVar("_Class", bound=type)


def _with_options(cls: _Class) -> _Class:
    """Give the class a field for every option of `OPTIONS` (after `root`, before the other fields),
    with the option's default, and list the options in its docstring."""
    own = dict(cls.__annotations__)
    taken = [option.name for option in OPTIONS if option.name in own]
    if taken:
        raise TypeError(f"{cls.__name__} declares fields of its own named as options: {', '.join(taken)}")
    annotations: dict[str, Any] = {"root": own.pop("root")}
    for option in OPTIONS:
        annotations[option.name] = "Any"
        mutable = isinstance(option.default, list | dict)
        setattr(cls, option.name, field(default_factory=option.default_value) if mutable
                else field(default=option.default))
    annotations.update(own)
    cls.__annotations__ = annotations
    cls.__doc__ = (cls.__doc__ or "").rstrip() + "\n" + "".join(
        f"        {option.name}: {option.description}.\n" for option in OPTIONS)
    return cls


#: What a type checker is given as an option's default: the defaults themselves are in `OPTIONS`.
_OPTION: Any = None


@dataclass
@_with_options
class Config:
    """Options of opsbook. In `mkdocs.yml`, under `plugins: - opsbook:`.

    Every option of `OPTIONS` is an attribute, with the option's default.

    Attributes:
        root: The handbook root: the folder of `mkdocs.yml` (not an option; set by the loader).
        repo_url: MkDocs' `repo_url`, for the edit links of generated pages (not an option).
        edit_uri: MkDocs' `edit_uri` (not an option).
        docs_dir: The folder of the hand-written pages, relative to the root (MkDocs' `docs_dir`).
    """

    root: Path = field(default_factory=Path.cwd)
    if TYPE_CHECKING:  # the options as a type checker sees them; the fields are made from OPTIONS
        sources: dict[str, list[str]] = _OPTION
        pages: dict[str, str] = _OPTION
        rule_dialects: dict[str, str] = _OPTION
        results: str = _OPTION
        local_results: str = _OPTION
        today: str | None = _OPTION
        fail_on: str = _OPTION
        max_file_size: int = _OPTION
        max_depth: int = _OPTION
        max_nodes: int = _OPTION
        paging_severities: list[str] = _OPTION
        paging_integrations: list[str] = _OPTION
        allow_env: list[str] = _OPTION
        production_environments: list[str] = _OPTION
        production_severity: str = _OPTION
        min_backup_retention: str = _OPTION
        drill_window: str = _OPTION
        mermaid_js: str | None = _OPTION
        require_freshness: list[str] = _OPTION
        default_timeout: str = _OPTION
        shellcheck: bool = _OPTION
        site_url: str | None = _OPTION
        image_hosts: list[str] = _OPTION
    repo_url: str | None = None
    edit_uri: str | None = None
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
    def today_is_pinned(self) -> bool:
        """Whether `today` is set, by the option or by `OPSBOOK_TODAY`, rather than the real date: pages
        then say the same on every build (a test, a rebuild of an old commit)."""
        return bool(self.today) or _pinned_today() is not None

    @property
    def threshold(self) -> Severity:
        return Severity.parse(self.fail_on)

    def dialect_of(self, path: str) -> str | None:
        """The dialect `rule_dialects` gives a source file (its path relative to the root), or None: of
        the entries that hold it (its folder or a folder above, the file itself, a matching pattern), the
        longest."""
        found: tuple[int, str] | None = None
        for where, dialect in self.rule_dialects.items():
            if where == "." or path == where or path.startswith(f"{where}/") or fnmatch.fnmatchcase(path, where):
                if found is None or len(where) > found[0]:
                    found = (len(where), dialect)
        return found[1] if found else None

    def page_dir(self, name: str, default: str) -> str:
        return self.pages.get(name, default).strip("/")

    @classmethod
    def options(cls) -> list[str]:
        """Names of the options a user may set."""
        return [option.name for option in OPTIONS]

    @classmethod
    def from_mapping(cls, options: dict[str, Any] | None, root: Path, kinds: Mapping[str, Any], *,
                     path: str = "mkdocs.yml", document: Document | EngineConfig | None = None,
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
                      document: Document | EngineConfig | None,
                      where: tuple[str | int, ...]) -> tuple[Config, list[Diagnostic]]:
        config = cls(root=root)
        problems: list[Diagnostic] = []

        def report(key_path: tuple[str | int, ...], message: str) -> None:
            if isinstance(document, EngineConfig):  # the file of the INHERIT chain that wrote the option
                problems.append(make(OB090, *document.locate((*where, *key_path)), message))
                return
            line, column = document.position((*where, *key_path), key=True) if document else (1, 1)
            problems.append(make(OB090, path, line, column, message))

        if options is None:
            return config, problems
        if not isinstance(options, dict):
            report((), "the opsbook entry must be a mapping of options")
            return config, problems
        reading = _Reading(kinds, report)
        for key, value in options.items():
            option = _BY_NAME.get(key)
            if option is None:
                report((key,), f"unknown option '{key}' (options: {', '.join(cls.options())})")
                continue
            value = option.read(value, reading)
            if value is not INVALID:
                setattr(config, key, value)
        _unread_dialect_places(config, kinds, report)
        return config, problems


_BY_NAME: dict[str, Option] = {option.name: option for option in OPTIONS}


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


def read_config(root: Path, kinds: Mapping[str, Any], file: str | None = None) -> tuple[Config, list[Diagnostic]]:
    """Read the configuration of the handbook at `root`, for the given kinds (`opsbook.registry.KINDS`),
    from the first of `CONFIG_FILES` there: the plugin entry and the settings of an engine's file (with the
    files it inherits from, `engine_config.read_engine_config`), or the top level of `opsbook.yml`.

    Where ProperDocs' own file and a `mkdocs.yml` are both there, the first is read, as ProperDocs does;
    a warning says so when MkDocs, which reads the second, would be configured otherwise. With `file`,
    the engine configuration the engine was given (the plugin knows it: `mkdocs build` reads `mkdocs.yml`,
    `-f` any other), that file is read, whatever else is there."""
    if file is not None:
        return _read_engine(root, file, kinds)
    present = [name for name in CONFIG_FILES if (root / name).is_file()]
    if not present:
        return Config(root=root), []
    name = present[0]
    if name in ENGINE_FILES:
        config, problems = _read_engine(root, name, kinds)
        for_mkdocs = next((other for other in present if other in MKDOCS_FILES), None)
        if for_mkdocs and name not in MKDOCS_FILES and not any(p.severity is Severity.ERROR for p in problems):
            problems.extend(_read_by_mkdocs(root, name, for_mkdocs, config, kinds))
        return config, problems
    documents, problems = load_yaml_file(root / name, name)
    if problems or not documents:
        return Config(root=root), problems
    document = documents[0]
    data = document.data if isinstance(document.data, dict) else {}
    return Config.from_mapping(data, root, kinds, path=name, document=document)


def _read_engine(root: Path, name: str, kinds: Mapping[str, Any]) -> tuple[Config, list[Diagnostic]]:
    """The configuration in the engine's file `name`, as the engine reads it: the opsbook entry of
    `plugins:` and the settings, through the whole `INHERIT` chain."""
    engine, problems = read_engine_config(root, name, OB090)
    if engine is None or problems:
        return Config(root=root), problems
    options, where = engine.plugin_entry()
    for place in engine.relative_values(where) if where else ():
        problems.append(make(OB090, *engine.locate(place), "an opsbook option cannot be written with "
                             "`!relative`: MkDocs takes it only under markdown_extensions"))
    if problems:
        return Config(root=root), problems
    config, problems = Config.from_mapping(options, root, kinds, path=name, document=engine, where=where)
    settings, refused = engine.settings(OB090)
    problems.extend(refused)
    config.repo_url = settings["repo_url"]
    config.edit_uri = settings["edit_uri"]
    config.docs_dir = settings["docs_dir"] or "docs"
    if not config.site_url:
        config.site_url = settings["site_url"] or None
    return config, problems


def _read_by_mkdocs(root: Path, name: str, other: str, config: Config,
                    kinds: Mapping[str, Any]) -> list[Diagnostic]:
    """A warning when `other` (the `mkdocs.yml` beside ProperDocs' `name`) configures MkDocs otherwise than
    `name` configures ProperDocs and opsbook, at the first setting or option that differs."""
    theirs, problems = _read_engine(root, other, kinds)
    said = (f"{other} is not read: ProperDocs and opsbook read {name}, but `mkdocs build` reads {other}, "
            f"which ")
    if problems:
        first = problems[0]
        return [make(OB090, first.path, first.line, first.column,
                     said + f"has a problem: {first.message}", severity=Severity.WARNING)]
    fields = [f.name for f in dataclasses.fields(Config) if f.name != "root"]
    differ = [field_name for field_name in fields if getattr(theirs, field_name) != getattr(config, field_name)]
    if not differ:
        return []
    engine, _ = read_engine_config(root, other, OB090)
    assert engine is not None  # read without a problem just above
    _, where = engine.plugin_entry()
    setting = differ[0]
    path, line, column = engine.locate((setting,) if setting in SETTINGS else (*where, setting))
    return [make(OB090, path, line, column,
                 said + f"sets {', '.join(differ)} otherwise; keep one file, or begin {name} with "
                 f"`INHERIT: {other}` and write there only what ProperDocs needs apart",
                 severity=Severity.WARNING)]
