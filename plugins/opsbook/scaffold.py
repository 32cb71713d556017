"""What `opsbook init` and `opsbook new runbook` write: the files of a new handbook, the runbook to start from,
and the placeholder texts that runbook holds until its author replaces them (OB070 reports them).

`opsbook init` never overwrites: a file that is there is left as it is and named (`Outcome.kept`), a new
one is created with `O_EXCL` (so a file made meanwhile is not overwritten either), and `.gitignore` only
gets the entries it lacks appended. A second `opsbook init` therefore changes nothing.

The texts are plain `%`-style templates (`%(name)s`; a literal `%` is `%%`), since workflows and YAML are
full of braces. Values go into YAML as JSON strings (`yaml_text`), which YAML reads back as they were;
text for Markdown is escaped by the caller (`render.markdown.md_inline`), which sits above this module.
"""

from __future__ import annotations

import datetime as _dt
import json
import posixpath
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import yaml

__all__ = ["COMMAND", "ENGINES", "ENGINE_CONFIGS", "EXAMPLE_ID", "GITIGNORE_ENTRIES", "PLACEHOLDERS",
           "PRE_COMMIT_PATH", "SITE_CONFIGS", "SUMMARY", "WORKFLOW_PATH", "Engine", "NewFile", "Outcome", "Placeholder",
           "add_ignores", "example_runbook", "handbook_files", "new_runbook", "plan", "plugin_missing",
           "site_name_for", "write_new", "yaml_text"]


@dataclass(frozen=True)
class Placeholder:
    """A text `opsbook new runbook` writes for its author to replace, and what to write in its place."""

    text: str
    instead: str


#: The summary of a new runbook, to be replaced (OB070 reports it until then).
SUMMARY = Placeholder("When to use this runbook, in a sentence or two.",
                      "say in a sentence or two when to use this runbook")
#: The command of a new runbook's first step, to be replaced.
COMMAND = Placeholder('echo "replace with the command that shows the problem"',
                      "write the command that shows the problem")
#: Every placeholder text of the scaffold: the one list that `checks/placeholders.py` searches for.
PLACEHOLDERS: tuple[Placeholder, ...] = (SUMMARY, COMMAND)

_NEW_RUNBOOK = """\
title: %(title)s
summary: %(summary)s
severity: medium
last_reviewed: %(today)s
review_every: 90d
steps:
  - name: Check the service's health
    run: %(command)s
    expect: {exit_code: 0, timeout: 30s}
  - name: Tell the incident channel
    manual: Post what you found in the incident channel.
verify: []
"""


def yaml_text(value: str) -> str:
    """A YAML scalar that reads back as exactly `value` (a JSON string: YAML's double-quoted style)."""
    return json.dumps(value, ensure_ascii=False)


def _header(schema_ref: str | None) -> str:
    return "" if schema_ref is None else f"# yaml-language-server: $schema={schema_ref}\n"


def new_runbook(title: str, today: _dt.date, schema_ref: str | None) -> str:
    """The text of `opsbook new runbook`: valid, with the placeholders to replace, and the editor header when
    `schema_ref` names a schema that is there."""
    return _header(schema_ref) + _NEW_RUNBOOK % {
        "title": yaml_text(title), "today": today.isoformat(), "summary": SUMMARY.text, "command": COMMAND.text}


@dataclass(frozen=True)
class Engine:
    """A site engine `opsbook init` can configure.

    Attributes:
        name: Its command (`mkdocs build --strict`), and the value of `--engine`.
        title: Its name in prose.
        config_file: The configuration file `opsbook init` writes.
        extra: The package to install, with the extra that brings the engine.
        theme: The theme's package when the extra does not bring it (ProperDocs' extra brings no theme).
    """

    name: str
    title: str
    config_file: str
    extra: str
    theme: str = ""

    @property
    def install(self) -> list[str]:
        """The requirements `pip install` is given for this engine, opsbook's first."""
        return [self.extra, *([self.theme] if self.theme else [])]


#: Where opsbook is published: it is installed from its repository (it is not on PyPI).
REPOSITORY = "https://github.com/opsbook/opsbook"

ENGINES: dict[str, Engine] = {
    "mkdocs": Engine("mkdocs", "MkDocs", "mkdocs.yml", "opsbook[mkdocs]"),
    "properdocs": Engine("properdocs", "ProperDocs", "properdocs.yml", "opsbook[properdocs]",
                         "mkdocs-material>=9.5,<10"),
}

#: Files that configure a site or opsbook: with any of them there, `opsbook init` writes no other, since
#: a second configuration would not be read by the engine, or would hide the first from opsbook (ProperDocs
#: reads `properdocs.yml` before `mkdocs.yml`; opsbook reads `opsbook.yml` only without `mkdocs.yml`).
SITE_CONFIGS = ("properdocs.yml", "properdocs.yaml", "mkdocs.yml", "mkdocs.yaml", "opsbook.yml", "opsbook.yaml")
#: Those of them that configure a site engine, and so should list the opsbook plugin.
ENGINE_CONFIGS = SITE_CONFIGS[:4]

#: What a handbook's repository keeps out of git: opsbook's results and the runbooks' CI sandboxes, the
#: built site, a virtual environment made beside it.
GITIGNORE_ENTRIES = (".opsbook/", "site/", ".venv/")

_SITE_CONFIG = """\
# The handbook's site: %(title)s (`%(name)s build --strict`; `%(name)s serve` to preview), with Material
# for MkDocs and the opsbook plugin. Written by `opsbook init`; yours to change.
site_name: %(site_name)s
# Once the site is published, set site_url to its address (on GitHub Pages,
# https://OWNER.github.io/REPOSITORY/): pages get canonical links, and editors find the schemas there.

theme:
  name: material
  # System fonts: Google Fonts would be a request leaving the site on every page.
  font: false
  features:
    - navigation.sections
    - search.highlight
    - content.code.copy

plugins:
  - search
  # Pages for the runbooks (and alerts, teams... once there are some), checked as `opsbook check` does.
  - opsbook

markdown_extensions:
  - admonition
  - tables
  - toc:
      permalink: true
  - pymdownx.highlight
  - pymdownx.superfences

# The home page, then the index of each kind of page, all of which opsbook always makes. A record's own
# page (a runbook, a code) is reached from its index and from the search. Add the index of the kinds you
# add: cicd/workflows/index.md, alerts/index.md, teams/index.md, architecture/components/index.md...
nav:
  - Home: index.md
  - Runbooks: runbooks/index.md
  - Handbook health: health.md
  - Diagnostic codes: reference/checks/index.md
  - Schemas: reference/schemas/index.md
"""

_HOME = """\
# %(heading)s

This handbook is where to look when something goes wrong, and how our systems are run. Its pages are
made from the files of this repository: runbooks are YAML files, checked on every change, and their
commands are run in CI, so each runbook's page says which of its steps were verified, and when.

## In an incident

Search, at the top of every page, finds a runbook by its title, its symptoms or the alerts it handles.
The [runbooks page](runbooks/index.md) lists every runbook, by severity, service and owner, and says which
of their steps CI has verified.

## Where things are

| In the repository | What it holds | On this site |
|---|---|---|
| `%(runbooks)s/` | One runbook per YAML file: when to use it, its steps, its checks. | [Runbooks](runbooks/index.md) |
| `%(docs)s/` | Pages written by hand, such as this one. | This page |
| `schemas/` | The JSON Schemas of its files, for completion in your editor. | [Schemas](reference/schemas/index.md) |
| `%(config)s` | The site's configuration: its name, theme, search and the opsbook plugin. | |
| `.github/workflows/handbook.yml` | Checks each pull request, runs the runbooks' steps, publishes the site. | |
| `.pre-commit-config.yaml` | The same check before each commit, once `pre-commit install` has run. | |

The handbook grows with other kinds of files, each in its own folder and each with its own pages:
alert rules and the Alertmanager configuration, teams, services, backups, environments and incidents.
[Handbook health](health.md) shows what is checked and what is due, and the
[diagnostic codes](reference/checks/index.md) explain every finding.

## Changing the handbook

```sh
opsbook new runbook db-restore    # a new runbook, to fill in
opsbook check                     # every problem, at its file, line and column
opsbook test                      # the runbooks' steps, run in their sandboxes
%(serve)s# the site, rebuilt as you edit
```
"""

#: The id of the example runbook.
EXAMPLE_ID = "old-logs-cleanup"

_EXAMPLE_RUNBOOK = """\
%(header)s# An example written by `opsbook init`: a real procedure, whose steps CI runs in a sandbox that its setup
# builds. Keep it and adapt it to your hosts, or delete it once the handbook has runbooks of its own.
title: Free disk space taken by old rotated logs
summary: >-
  When a disk that holds logs is nearly full: a disk-space alert, or "No space left on device" in an
  application's errors. Finds what takes the space, then removes the compressed logs older than their
  retention, once a person has checked that none of them is still needed.
severity: medium
symptoms: ["No space left on device", "disk usage above 90%%"]
last_reviewed: %(today)s
review_every: 180d
inputs:
  LOG_DIR: {description: The folder of the logs, default: /var/log, ci: .opsbook/sandbox/logs}
  KEEP_DAYS: {description: Days a rotated log is kept, default: "14", ci: "14"}
setup:
  - name: Make a log folder holding an old and a recent rotated log
    run: |
      mkdir -p "$LOG_DIR"
      echo "old" | gzip > "$LOG_DIR/app.log.2.gz"
      touch -t 202001010000 "$LOG_DIR/app.log.2.gz"
      echo "recent" | gzip > "$LOG_DIR/app.log.1.gz"
    expect: {exit_code: 0, timeout: 30s}
steps:
  - name: See how full the disk is
    run: df -hP "$LOG_DIR"
    expect: {exit_code: 0, stdout: '\\d+%%', timeout: 30s}
  - name: Find the largest files under the log folder
    run: du -ak "$LOG_DIR" | sort -rn | sed -n '1,20p'
    expect: {exit_code: 0, timeout: 2m}
  - name: List the rotated logs older than their retention
    run: find "$LOG_DIR" -type f -name '*.gz' -mtime +"$KEEP_DAYS" -print
    expect: {exit_code: 0, timeout: 2m}
  - name: Make sure none of them is still needed
    manual: >-
      Read the list. If an open incident or an audit needs one of these files, copy it elsewhere first.
      If the list is empty, old logs are not what fills the disk: look at the largest files found above.
  - name: Remove them
    run: find "$LOG_DIR" -type f -name '*.gz' -mtime +"$KEEP_DAYS" -print -delete
    expect: {exit_code: 0, timeout: 5m}
verify:
  - name: Check that no rotated log older than its retention is left
    run: test -z "$(find "$LOG_DIR" -type f -name '*.gz' -mtime +"$KEEP_DAYS" -print)"
    expect: {exit_code: 0, timeout: 2m}
  - name: See the space freed
    run: df -hP "$LOG_DIR"
    expect: {exit_code: 0, timeout: 30s}
cleanup:
  - name: Remove the sandbox
    run: rm -rf .opsbook/sandbox/logs
"""

_PRE_COMMIT = """\
# pre-commit hooks (https://pre-commit.com), written by `opsbook init`. Run `pre-commit install` once: then
# every commit that changes a file the handbook reads is checked first.
#
# A local hook: it runs the opsbook installed where you commit, the one that builds the site, so the check
# is that of the version you use and needs nothing downloaded. (opsbook's repository also publishes the
# hook, id opsbook-check in its .pre-commit-hooks.yaml, for `repo: <its URL>` with a `rev:`; pre-commit
# then installs a copy of its own.) Add `args: [--strict]` to fail on warnings too.
repos:
  - repo: local
    hooks:
      - id: opsbook-check
        name: opsbook check
        entry: opsbook check
        language: system
        pass_filenames: false
        require_serial: true
        files: '\\.(ya?ml|md|markdown|json|sql|sh|bash)$'
"""

_WORKFLOW = """\
# The handbook's pipeline, written by `opsbook init`. On a pull request: check the handbook, run the
# runbooks' steps in their sandboxes, build the site. On a push to main: the same, then publish the site
# to GitHub Pages (in the repository's settings, Pages > Source: GitHub Actions). Every day: the full
# strict check, since a review or a drill falls due without any change.
name: Handbook

on:
  pull_request:
  push:
    branches: [main]  # the repository's default branch, which alone is published
  schedule:
    - cron: "17 5 * * *"
  workflow_dispatch:

permissions:
  contents: read

concurrency:
  group: handbook-${{ github.ref }}
  # A new push to a pull request replaces its run; a publication is never cut short.
  cancel-in-progress: ${{ github.event_name == 'pull_request' }}

jobs:
  build:
    name: Check, run the runbooks, build the site
    runs-on: ubuntu-latest
    timeout-minutes: 30
    env:
      # What the change is judged against: the base branch of a pull request, the commit before a push
      # (none for a branch's first push); empty on the daily run, which checks everything.
      SINCE: >-
        ${{ github.event_name == 'pull_request' && format('origin/{0}', github.base_ref)
        || github.event_name == 'push' && github.event.before != '0000000000000000000000000000000000000000'
        && github.event.before || '' }}
    steps:
      - uses: actions/checkout@v4
        with:
          fetch-depth: 0  # the history, for --changed-since
          persist-credentials: false
      - uses: actions/setup-python@v5
        with:
          python-version: "3.12"
      - name: Install opsbook
        # The version that wrote this file; raise it when you upgrade.
        run: pip install %(install)s
      # A finding that only the calendar brings (a review or a drill falling due) fails a pull request or a
      # push only in a file it changed, and is reported elsewhere: a date never blocks an unrelated change,
      # nor the publication of a fix merged during an incident. The daily run judges every date.
      - name: Check the handbook (a date fails only a file this change touched)
        run: opsbook check --strict ${SINCE:+--changed-since "$SINCE"}
      - name: Run the runbooks' steps in their sandboxes
        run: opsbook test
      - name: Draw the diagrams (Mermaid, shipped inside the site; no request leaves it)
        run: npm install --no-save --no-package-lock mermaid@11
      - name: Build the site
        # The plugin judges the findings of dates as the check above does.
        run: OPSBOOK_CHANGED_SINCE="$SINCE" %(name)s build --strict
      - uses: actions/upload-pages-artifact@v3
        if: github.event_name == 'push' && github.ref_name == github.event.repository.default_branch
        with:
          path: site

  publish:
    name: Publish the site to GitHub Pages
    needs: build
    if: github.event_name == 'push' && github.ref_name == github.event.repository.default_branch
    runs-on: ubuntu-latest
    timeout-minutes: 10
    permissions:
      pages: write
      id-token: write
    environment:
      name: github-pages
      url: ${{ steps.deployment.outputs.page_url }}
    steps:
      - uses: actions/configure-pages@v5
      - id: deployment
        uses: actions/deploy-pages@v4
"""

#: The largest `.gitignore` or site configuration `opsbook init` reads (1 MiB).
_MAX_READ = 1 << 20

#: Where `opsbook init` writes the workflow and the pre-commit configuration.
WORKFLOW_PATH = ".github/workflows/handbook.yml"
PRE_COMMIT_PATH = ".pre-commit-config.yaml"


@dataclass(frozen=True)
class NewFile:
    """A file `opsbook init` writes unless one is there: its path from the root (`/` separators), its text,
    and its role when `plan` may leave it out (`config`, `home`, `example`)."""

    path: str
    text: str
    role: str = ""


def site_name_for(folder: Path) -> str:
    """A site name from the folder's name: `orders-handbook` → `Orders handbook`, `payments` → `Payments
    handbook`."""
    words = re.sub(r"[-_.\s<>]+", " ", folder.name).strip() or "Operations"
    words = words[0].upper() + words[1:]
    return words if words.lower().endswith("handbook") else f"{words} handbook"


def example_runbook(today: _dt.date, schema_ref: str | None) -> str:
    """The example runbook of `opsbook init`: a small, real procedure whose steps pass under `opsbook test`
    in the sandbox its setup builds, with no placeholder in it."""
    return _EXAMPLE_RUNBOOK % {"header": _header(schema_ref), "today": today.isoformat()}


def handbook_files(engine: Engine, *, site_name: str, heading: str, today: _dt.date, version: str,
                   docs_dir: str = "docs", runbook_folder: str = "runbooks",
                   schemas: Mapping[str, str] | None = None) -> list[NewFile]:
    """Every file of a new handbook, in the order they are written: the engine's configuration, the home
    page, the schemas (`schemas`: path → text, the editor header's target), the example runbook, the
    pre-commit configuration and the GitHub workflow. `heading` is the site name as Markdown (escaped by
    the caller)."""
    schemas = dict(schemas or {})
    docs = docs_dir.strip("/") or "."
    runbooks = runbook_folder.strip("/") or "."
    runbook_schema = "schemas/runbook.schema.json"
    schema_ref = posixpath.relpath(runbook_schema, runbooks) if runbook_schema in schemas else None
    # The generated pages are at the top of the site, as the home page is: its links are written as they are.
    return [
        NewFile(engine.config_file, _SITE_CONFIG % {"title": engine.title, "name": engine.name,
                                                    "site_name": yaml_text(site_name)}, "config"),
        NewFile(posixpath.join(docs, "index.md"),
                _HOME % {"heading": heading, "serve": f"{engine.name} serve".ljust(34), "runbooks": runbooks,
                         "docs": docs, "config": engine.config_file}, "home"),
        *(NewFile(path, text) for path, text in schemas.items()),
        NewFile(posixpath.join(runbooks, f"{EXAMPLE_ID}.yaml"), example_runbook(today, schema_ref), "example"),
        NewFile(PRE_COMMIT_PATH, _PRE_COMMIT),
        NewFile(WORKFLOW_PATH, _WORKFLOW % {"name": engine.name, "install": " ".join(
            f"'{requirement}'" for requirement in [f"{engine.extra} @ git+{REPOSITORY}@v{version}",
                                                   *engine.install[1:]])}),
    ]


@dataclass
class Outcome:
    """What `opsbook init` did: files written, files left as they were, entries added to `.gitignore`, and
    notes on what it did not write, and why."""

    written: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def plan(root: Path, files: Iterable[NewFile], *, docs_dir: str = "docs",
         runbook_folder: str = "runbooks") -> tuple[list[NewFile], list[str]]:
    """The files to try to write, and notes on those left out because the handbook has one of their kind:
    no site configuration beside another (`SITE_CONFIGS`), no home page beside a `README.md` (MkDocs takes
    it for the home page), no example runbook in a folder that holds runbooks. A file that is there itself
    stays in the plan, for `write_new` to name as kept."""
    configs = [name for name in SITE_CONFIGS if (root / name).is_file()]
    readme = posixpath.join(docs_dir.strip("/") or ".", "README.md")
    folder = root / (runbook_folder.strip("/") or ".")
    runbooks = folder.is_dir() and any(p.suffix in (".yaml", ".yml") for p in folder.iterdir())
    keep: list[NewFile] = []
    notes: list[str] = []
    for new in files:
        there = (root / new.path).exists() or (root / new.path).is_symlink()
        if new.role == "config" and configs and new.path not in configs:
            notes.append(f"{', '.join(configs)} configures the handbook: no {new.path} written beside it")
        elif new.role == "home" and not there and (root / readme).is_file():
            notes.append(f"{readme} is the home page: no {new.path} written beside it")
        elif new.role == "example" and not there and runbooks:
            notes.append(f"{folder.relative_to(root).as_posix()}/ holds runbooks: no example runbook written")
        else:
            keep.append(new)
    return keep, notes


def write_new(root: Path, files: Iterable[NewFile], outcome: Outcome) -> None:
    """Write each file that is not there (a new file, `O_EXCL`: never one made meanwhile), its folders
    made as needed; a file, a folder or a link there, even a broken one, is left as it is, and named.

    Raises:
        OSError: A file could not be written (a read-only tree, a full disk); those before it are written.
    """
    inside = root.resolve()
    for new in files:
        target = root / new.path
        if target.exists() or target.is_symlink():
            outcome.kept.append(new.path)
            continue
        if not target.resolve().is_relative_to(inside):  # a configured folder, or a link, leading elsewhere
            outcome.notes.append(f"{new.path} is outside {root}: not written")
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            with target.open("x", encoding="utf-8", newline="\n") as handle:
                handle.write(new.text)
        except FileExistsError:
            outcome.kept.append(new.path)
            continue
        outcome.written.append(new.path)


def _ignored(lines: Iterable[str]) -> set[str]:
    """The entries a `.gitignore` has, each as `name/` whatever its spelling (`site`, `/site`, `site/`)."""
    found = set()
    for line in lines:
        entry = line.strip()
        if entry and not entry.startswith(("#", "!")):
            found.add(entry.strip("/") + "/")
    return found


def add_ignores(root: Path, outcome: Outcome, entries: Iterable[str] = GITIGNORE_ENTRIES) -> None:
    """Append to `.gitignore` (made if missing) the entries it lacks, after the text that is there; one that
    has them all is left as it is, and named as kept."""
    file = root / ".gitignore"
    if file.is_symlink() or (file.exists() and (not file.is_file() or file.stat().st_size > _MAX_READ)):
        outcome.notes.append(".gitignore is not a regular file of a reasonable size: left as it is; ignore "
                             f"{', '.join(entries)} in it yourself")
        return
    before = file.read_bytes() if file.exists() else b""
    text = before.decode("utf-8", errors="replace")
    missing = [entry for entry in entries if entry not in _ignored(text.splitlines())]
    if not missing:
        outcome.kept.append(".gitignore")  # it ignores them all already: not touched
        return
    addition = ("\n" if before and not before.endswith(b"\n") else "") + \
        "# opsbook: its results and the runbooks' sandboxes, the built site, a virtual environment\n" + \
        "".join(f"{entry}\n" for entry in missing)
    with file.open("ab") as handle:
        handle.write(addition.encode("utf-8"))
    outcome.ignored.extend(missing)


class _AnyTags(yaml.SafeLoader):
    """A YAML loader that reads MkDocs' own tags (`!ENV`, `!!python/name:...`) as nothing, to look at the rest."""


def _nothing(loader: yaml.SafeLoader, suffix: str, node: yaml.Node | None = None) -> None:
    return None


_AnyTags.add_multi_constructor("", _nothing)



def plugin_missing(config_file: Path) -> bool:
    """Whether a site configuration that is there lists no `opsbook` plugin (False when it cannot be read,
    the build will say what is wrong with it, and when it inherits another, which may list it)."""
    try:
        if config_file.stat().st_size > _MAX_READ:
            return False
        data = yaml.load(config_file.read_text(encoding="utf-8"), Loader=_AnyTags)  # a SafeLoader
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return False
    if not isinstance(data, dict) or "INHERIT" in data:
        return False
    plugins = data.get("plugins")
    if isinstance(plugins, dict):
        return "opsbook" not in plugins
    if isinstance(plugins, list):
        return not any(entry == "opsbook" or (isinstance(entry, dict) and "opsbook" in entry) for entry in plugins)
    return True

