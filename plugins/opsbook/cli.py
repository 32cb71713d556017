"""The `opsbook` command: check a handbook, write its pages, print schemas, start new records."""

from __future__ import annotations

import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import click

from . import __version__, scaffold
from .changes import ChangesError, changed_files, judge_changed
from .config import CONFIG_FILES, find_root
from .diagnostics import Diagnostic, Severity
from .durations import parse_duration
from .health.exposition import exposition
from .health.figures import compute_health
from .kinds.alerting.alertmanager import AlertmanagerConfig, as_written
from .kinds.alerting.notify import MUTE, Simulator
from .kinds.alerting.routing import MatcherError, Route, parse_labels
from .kinds.alerting.timeintervals import resolve_wall_time
from .kinds.runbooks.records import Runbook
from .kinds.runbooks.results import ResultsGuard, write_junit, write_results
from .kinds.runbooks.runner import RunOptions, run_runbook
from .loader import load_yaml_file
from .model import load_handbook
from .pipeline import analyse, load_config
from .plain_site import SITE_CONFIG, SITE_DOCS, THEME_DIR, PlainSite, find_mermaid, folder_files, plain_site, titled
from .publish import discard, replace_folder, staging_beside, write_problem
from .registry import CODES, KINDS, make_renderer
from .render.markdown import md_inline
from .render.sections import expand_sections
from .reporters import FORMATS, format_diagnostics, one_line
from .schema_validation import published_path, schema_names, schema_text

__all__ = ["main"]

_ID = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*\Z")  # \Z: `$` would also match before a final newline


def _root(directory: str | None) -> Path:
    start = Path(directory) if directory else Path.cwd()
    if not start.is_dir():
        raise click.UsageError(f"{start} is not a folder")
    return find_root(start) if directory is None else start.resolve()


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="opsbook")
def main() -> None:
    """Documentation-as-code for operations: check a handbook and write its pages."""


@main.command()
@click.argument("directory", required=False, type=click.Path(file_okay=False))
@click.option("--format", "fmt", type=click.Choice(sorted(FORMATS)), default=None,
              help="Output format; `github` is chosen by itself under GitHub Actions, `text` elsewhere.")
@click.option("--strict", is_flag=True, help="Fail on warnings too.")
@click.option("--changed-since", "changed_since", metavar="REF", default=None,
              help="Pull-request mode: date-driven findings (reviews, drills, action items due) fail only on "
                   "files changed since the git revision REF; on other files they are reported, not failing.")
def check(directory: str | None, fmt: str | None, strict: bool, changed_since: str | None) -> None:
    """Validate the handbook in DIRECTORY (default: the current folder) without building the site.
    Exit status: 0 when clean, 1 when any error (or warning, with --strict) or when there is no
    handbook (no configuration file and no source), 2 on a usage error (or a REF git cannot resolve).
    """
    root = _root(directory)
    changed = None
    if changed_since is not None:
        try:
            changed = changed_files(root, changed_since)
        except ChangesError as error:
            click.echo(f"opsbook check: error: {error}", err=True)
            sys.exit(2)
    analysis = analyse(root)
    reported, excused = analysis.diagnostics, frozenset[Diagnostic]()
    if changed is not None and changed_since is not None:
        judged = judge_changed(analysis.diagnostics, changed, CODES, changed_since)
        reported, excused = judged.diagnostics, judged.excused
    output = format_diagnostics(reported, root, fmt)
    if output:
        click.echo(output)
    if excused:
        click.echo(f"opsbook check: {len(excused)} date-driven finding{'s' * (len(excused) != 1)} on files not "
                   f"changed since {changed_since}: reported, not failing (the full check still fails on them)",
                   err=True)
    threshold = Severity.WARNING if strict else None
    failed = any(d not in excused for d in analysis.failures(threshold))
    handbook = analysis.handbook
    if not (handbook.documents or handbook.unparsed or handbook.load_diagnostics or any(handbook.loaded.values())):
        # Nothing was read, nor refused: `0 errors` alone would pass a gate that checked nothing.
        configured = next((name for name in CONFIG_FILES if (root / name).is_file()), None)
        if configured is None:
            click.echo(f"opsbook check: error: no handbook in {root}: no configuration file "
                       f"({', '.join(CONFIG_FILES)}) and no source file in the default source folders; "
                       "nothing was checked", err=True)
            failed = True
        elif fmt == "text" or (fmt is None and not os.environ.get("GITHUB_ACTIONS")):  # a note for people
            click.echo(f"opsbook check: no handbook sources found: {configured} is there, but its source "
                       "folders (`sources:` or the defaults) hold no source file; only the configuration "
                       "was checked", err=True)
    sys.exit(1 if failed else 0)


@main.command()
@click.argument("directory", required=False, type=click.Path(file_okay=False))
@click.option("--out", "out", required=True, type=click.Path(file_okay=False),
              help="Folder to write the site to (replaced as a whole): mkdocs.yml and the Markdown tree in docs/.")
@click.option("--format", "fmt", type=click.Choice(sorted(FORMATS)), default=None, help="Diagnostics format.")
@click.option("--strict", is_flag=True, help="Fail on warnings too.")
@click.option("--docs/--no-docs", default=True,
              help="Write the site: the hand-written pages of the docs folder, their sections embedded, beside the "
                   "generated ones, and a plain mkdocs.yml (default); or only the generated pages, into DIR itself.")
def build(directory: str | None, out: str, fmt: str | None, strict: bool, docs: bool) -> None:
    """Write the handbook as a site that MkDocs or Zensical builds with no plugin: DIR/mkdocs.yml and the
    Markdown tree in DIR/docs (with --no-docs: the generated pages alone, in DIR, for any site engine).
    Nothing is written when the handbook has errors; the folder is replaced only once every page
    is written, so a failed build never leaves half a tree where the last good one was. Each build
    writes into a staging folder of its own, removed when it fails; concurrent builds replace the
    folder one after the other.
    """
    root = _root(directory)
    target = Path(out).resolve()
    _check_output_folder(root, target)
    analysis = analyse(root)
    threshold = Severity.WARNING if strict else None
    failures = analysis.failures(threshold)
    if analysis.diagnostics:
        click.echo(format_diagnostics(analysis.diagnostics, root, fmt), err=True)
    if failures:
        click.echo(f"opsbook: not writing {out}: the handbook has problems", err=True)
        sys.exit(1)
    pages = analysis.pages()
    site: PlainSite | None = None
    source: str | None = None
    if docs:
        folder = analysis.config.root / analysis.config.docs_dir
        written = {file.relative_to(folder).as_posix() for file in folder_files(folder)}
        try:
            mermaid = find_mermaid(analysis.config.root, analysis.config.mermaid_js)
        except ValueError as error:
            click.echo(f"opsbook: {error}; not writing {out}", err=True)
            sys.exit(1)
        site, source, problems = plain_site(analysis.config, pages, written, mermaid)
        if site is None:
            click.echo(format_diagnostics(problems, root, fmt), err=True)
            click.echo(f"opsbook: not writing {out}: the configuration {source} has problems", err=True)
            sys.exit(1)
    try:
        staging = staging_beside(target)
    except OSError as error:
        click.echo(f"opsbook: {write_problem(error, target)}", err=True)
        sys.exit(1)
    try:
        written_docs = _write_build(analysis, pages, staging, out, site, source)
        replace_folder(staging, target)
    except OSError as error:
        discard(staging)
        click.echo(f"opsbook: {write_problem(error, target)}; {out} is left as it was", err=True)
        sys.exit(1)
    except BaseException:
        discard(staging)
        raise
    if site is None:
        click.echo(f"opsbook: wrote {len(pages)} generated pages to {out}")
        return
    if site.left_out:
        click.echo(f"opsbook: {SITE_CONFIG} leaves out {', '.join(site.left_out)}: a plain configuration has no "
                   "plugin but the engine's search", err=True)
    config = Path(out, SITE_CONFIG).as_posix()
    click.echo(f"opsbook: wrote {len(pages)} generated pages and {written_docs} docs files to "
               f"{Path(out, SITE_DOCS).as_posix()}, and {config}: build it with `mkdocs build --strict -f {config}` "
               f"or `zensical build --strict -f {config}`")


def _write_build(analysis: Any, pages: list[Any], staging: Path, out: str, site: PlainSite | None,
                 source: str | None) -> int:
    """Write the build into the staging folder, and return how many docs files it copied: with a site, its
    configuration, the Markdown tree in `docs/` (the docs folder's files, opsbook's assets and schemas, the
    generated pages, each with its title in front matter) and the theme's folder; without, the generated
    pages alone."""
    (staging / BUILD_MARKER).write_text("Written by `opsbook build`; replaced whole by the next build.\n",
                                        encoding="utf-8")
    tree = staging if site is None else staging / SITE_DOCS
    written = 0
    if site is not None:
        tree.mkdir()
        written = _copy_docs(analysis, tree)
        for path, content in site.files.items():
            file = tree / path
            file.parent.mkdir(parents=True, exist_ok=True)
            file.write_bytes(content)
        if site.theme_dir is not None:
            for file in folder_files(site.theme_dir):
                copy = staging / THEME_DIR / file.relative_to(site.theme_dir)
                copy.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(file, copy)
        (staging / SITE_CONFIG).write_text(site.text(source), encoding="utf-8")
    for page in pages:
        file = tree / page.uri
        if ".." in Path(page.uri).parts or not file.resolve().is_relative_to(tree.resolve()):
            raise click.ClickException(f"refusing to write {page.uri!r} outside {out}")
        if file.exists():
            continue  # a hand-written page of that name wins, as in the MkDocs build
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_text(page.text if site is None else titled(page), encoding="utf-8")
    return written


@main.command("test")
@click.argument("runbook_ids", nargs=-1)
@click.option("--dir", "directory", type=click.Path(file_okay=False), default=None, help="Handbook root.")
@click.option("--results", "results_file", type=click.Path(dir_okay=False), default=None,
              help="Results file to write (JSON); by default the configured `results`, under the handbook root.")
@click.option("--junit", "junit_file", type=click.Path(dir_okay=False), default=None, help="Also write JUnit XML.")
@click.option("--input", "inputs", multiple=True, metavar="NAME=VALUE",
              help="Give an input a value, overriding the runbook's (repeatable).")
@click.option("--allow-env", multiple=True, metavar="NAME",
              help="Pass this variable of the caller's environment to the steps (repeatable).")
@click.option("--no-ci", is_flag=True,
              help="Run as a person would: the inputs' defaults, ci.skip steps run, no setup or cleanup; "
                   "the results are marked local and verify nothing on the site.")
def test_runbooks(runbook_ids: tuple[str, ...], directory: str | None, results_file: str | None,
                  junit_file: str | None, inputs: tuple[str, ...], allow_env: tuple[str, ...], no_ci: bool) -> None:
    """Run the runbooks' steps (all runbooks, or RUNBOOK_IDS) as CI verifies them.

    Prints a line per step as it runs, then a summary; exit status 1 when any step fails.
    """

    root = _root(directory)
    analysis = analyse(root)
    runbook_files = {record.path for record in analysis.handbook.loaded.get("runbook", [])}
    folders = tuple(f"{folder.rstrip('/')}/" for folder in analysis.config.sources.get("runbook", ["runbooks"]))
    errors = [d for d in analysis.diagnostics if d.severity >= Severity.ERROR
              and (d.path in runbook_files or d.path.startswith(folders))]
    if errors:
        click.echo(format_diagnostics(errors, root, None), err=True)
        click.echo("opsbook: fix the runbooks' errors before running them", err=True)
        sys.exit(1)
    given: dict[str, str] = {}
    for item in inputs:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise click.UsageError(f"--input {item!r}: write NAME=VALUE")
        given[name] = value
    runbooks = analysis.handbook.records_of(Runbook)
    if runbook_ids:
        unknown = sorted(set(runbook_ids) - {rb.id for rb in runbooks})
        if unknown:
            raise click.UsageError(f"no runbook with id {', '.join(unknown)}")
        runbooks = [rb for rb in runbooks if rb.id in runbook_ids]

    options = RunOptions(root=root, ci=not no_ci, inputs=given,
                         allow_env=[*analysis.config.allow_env, *allow_env],
                         default_timeout=parse_duration(analysis.config.default_timeout) or 300.0)
    symbols = {"passed": "pass", "failed": "FAIL", "timeout": "TIMEOUT", "skipped": "skip",
               "manual": "manual", "not-run": "not run"}

    paths = {runbook.id: runbook.path for runbook in runbooks}

    def show(step: Any) -> None:
        extra = f" ({step.reason})" if step.reason else ""
        timing = f" {step.duration:.2f}s" if step.status in ("passed", "failed", "timeout") else ""
        if not step.ok:  # where it is written, as diagnostics say it, and how it ended
            ended = ("killed at its timeout" if step.status == "timeout" else "no exit code"
                     if step.exit_code is None else f"exit code {step.exit_code}")
            extra += f" at {paths[step.runbook]}:{step.line}:{step.column}, {ended}"
        # Names and output come from the pull request: each stays on its line (reporters.one_line).
        click.echo(one_line(f"  {symbols[step.status]:<7} {step.section}[{step.index + 1}] {step.name}{timing}{extra}"))
        for problem in step.problems:
            click.echo(one_line(f"          {problem}"))
        if not step.ok and step.output_tail():
            click.echo("\n".join(one_line(f"          {line}") for line in step.output_tail(10).split("\n")))

    results = []
    configured = root / analysis.config.results
    guard = ResultsGuard(configured)  # what a step writes to the results file the build reads is discarded
    try:
        for runbook in runbooks:
            click.echo(one_line(f"{runbook.id} ({runbook.path})"))
            results.append(run_runbook(runbook, options, on_step=show))
    finally:
        if guard.discard():
            click.echo(f"opsbook: a step wrote {analysis.config.results} during the run; discarded "
                       "(only opsbook writes the results)", err=True)
    counts = {status: sum(step.status == status for r in results for step in r.steps) for status in symbols}
    failed = [r.runbook for r in results if not r.passed]
    runbooks_run = f"{len(results)} runbook{'' if len(results) == 1 else 's'}"
    click.echo(f"{runbooks_run}: {counts['passed']} steps passed, {counts['failed'] + counts['timeout']} "
               f"failed, {counts['skipped']} skipped in CI, {counts['manual']} manual, {counts['not-run']} not run")
    target = Path(results_file) if results_file else configured
    where = next((r.where for r in results if r.where is not None), None)
    if where is not None and not where.in_ci and not no_ci:  # said, so that no one takes it for CI
        click.echo(f"opsbook: the results record a run on {where.words}, not in CI: the site shows them as a "
                   "local run, or hides them (the local_results option), never as verified in CI")
    try:
        write_results(target, results)
        if junit_file:
            write_junit(Path(junit_file), results)
    except OSError as error:
        click.echo(f"opsbook: {write_problem(error, target)}", err=True)
        sys.exit(1)
    if failed:
        click.echo(f"failed: {', '.join(failed)}")
        for result in results:  # a line per failed step, its location first (editors and CI logs link it)
            for step in (step for step in result.steps if not step.ok):
                click.echo(one_line(f"{result.location(step)}: {step.section}[{step.index + 1}] {step.name!r} "
                                    f"{step.status}: {'; '.join(step.problems) or step.status}"))
    sys.exit(1 if failed else 0)


@main.command()
@click.argument("directory", required=False, type=click.Path(file_okay=False))
@click.option("--out", "out", type=click.Path(dir_okay=False), default=None,
              help="Write to this file (atomically, for a node_exporter textfile collector) instead of stdout.")
def metrics(directory: str | None, out: str | None) -> None:
    """Print the handbook-health figures in the Prometheus text format.
    `--out` replaces a regular file only: a symlink, a folder, a device or a FIFO there is refused."""
    root = _root(directory)
    if out is not None:
        _refuse_unless_regular(Path(out))
    analysis = analyse(root)
    text = exposition(compute_health(analysis.handbook, analysis.diagnostics))
    if out is None:
        click.echo(text, nl=False)
        return
    target = Path(out)
    target.parent.mkdir(parents=True, exist_ok=True)
    # A new file of its own (O_EXCL), never one that was there: a planted symlink is not followed.
    handle, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".partial", dir=target.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as partial:
            partial.write(text)
        umask = os.umask(0o022)
        os.umask(umask)
        os.chmod(name, 0o666 & ~umask)  # as any new file, readable by the collector (mkstemp makes it 0600)
        _refuse_unless_regular(target)
        os.replace(name, target)
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise


def _refuse_unless_regular(target: Path) -> None:
    """A usage error (exit 2) when `target` exists and is not a regular file: `metrics --out` replaces
    the file by renaming over it, which would replace a symlink, a device or a FIFO as well."""
    try:
        mode = target.lstat().st_mode
    except FileNotFoundError:
        return
    except OSError as error:
        raise click.UsageError(f"--out {target}: {error.strerror}") from error
    if not stat.S_ISREG(mode):
        what = ("a symlink" if stat.S_ISLNK(mode) else "a folder" if stat.S_ISDIR(mode)
                else "a FIFO" if stat.S_ISFIFO(mode) else "a socket" if stat.S_ISSOCK(mode)
                else "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) else "not a regular file")
        raise click.UsageError(f"--out {target} is {what}; metrics only replaces a regular file")


@main.command()
@click.argument("directory", required=False, type=click.Path(file_okay=False))
@click.option("--generated/--no-generated", default=True, help="Also lint the generated pages (default).")
@click.option("--skip-if-missing", is_flag=True,
              help="When Vale is not installed, skip the lint with a message and status 0 (default: status 1).")
def lint(directory: str | None, generated: bool, skip_if_missing: bool) -> None:
    """Lint the prose with Vale (`.vale.ini`): the docs folder and the generated pages.
    Vale is a separate program; when it is not installed, the lint fails (status 1) and says so, unless
    --skip-if-missing, which skips it with status 0. Placeholder text (TODO, TBD, FIXME, lorem) is
    reported by `opsbook check` (OB070), Vale or not.
    """

    root = _root(directory)
    vale = shutil.which("vale")
    if vale is None:
        if skip_if_missing:
            click.echo("opsbook lint: skipped: the vale program is not installed (https://vale.sh); "
                       "placeholders are still checked by opsbook check (OB070)", err=True)
            return
        click.echo("opsbook lint: error: the vale program is not installed (https://vale.sh), nothing was "
                   "linted; install it, or pass --skip-if-missing to skip the lint", err=True)
        sys.exit(1)
    if not (root / ".vale.ini").is_file():
        raise click.UsageError(f"no .vale.ini in {root}")
    analysis = analyse(root)
    targets = [str(root / analysis.config.docs_dir)]
    with tempfile.TemporaryDirectory(prefix="opsbook-lint-") as folder:
        if generated:
            for page in analysis.pages():
                file = Path(folder) / page.uri
                file.parent.mkdir(parents=True, exist_ok=True)
                file.write_text(page.text, encoding="utf-8")
            targets.append(folder)
        result = subprocess.run([vale, f"--config={root / '.vale.ini'}", *targets], check=False)
    sys.exit(result.returncode)


BUILD_MARKER = ".opsbook-build"


def _copy_docs(analysis: Any, tree: Path) -> int:
    """Copy the docs folder into the tree, Markdown pages with their generated sections embedded."""
    docs = analysis.config.root / analysis.config.docs_dir
    files = folder_files(docs)
    if not files:
        return 0
    renderer = make_renderer(analysis.handbook, analysis.diagnostics)
    for file in files:
        relative = file.relative_to(docs).as_posix()
        target = tree / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        if file.suffix == ".md":
            text, _ = expand_sections(analysis.handbook, renderer, relative, file.read_text(encoding="utf-8"),
                                      file.relative_to(analysis.config.root).as_posix())
            target.write_text(text, encoding="utf-8")
        else:
            shutil.copyfile(file, target)
    return len(files)


def _check_output_folder(root: Path, target: Path) -> None:
    """Refuse an output folder whose replacement would lose anything that `opsbook build` did not write."""
    if target == root or target in root.parents:
        raise click.UsageError("--out must not be the handbook root or one of its parents")

    config, _ = load_config(root)
    docs = (root / config.docs_dir).resolve()
    if target == docs or docs in target.parents:
        raise click.UsageError(f"--out {target} is inside the docs folder, which the build reads")
    if target.exists() and not target.is_dir():
        raise click.UsageError(f"--out {target} is a file")
    if target.is_dir() and any(target.iterdir()) and not (target / BUILD_MARKER).is_file():
        raise click.UsageError(f"--out {target} holds files that opsbook build did not write; "
                               "name an empty or new folder (opsbook never deletes what it did not write)")


@main.command()
@click.argument("kind", required=False)
@click.option("--out", type=click.Path(file_okay=False), default=None,
              help="Write KIND's schema, or every schema, into this folder as KIND.schema.json "
                   "(`schemas`, where `opsbook new`'s editor header finds them).")
@click.option("--force", is_flag=True, help="With --out: replace a file that differs from the schema.")
def schema(kind: str | None, out: str | None, force: bool) -> None:
    """Print the JSON Schema of KIND, or list the kinds that have one; with --out, write them into a folder."""
    names = schema_names()
    if kind is not None and kind not in names:
        raise click.UsageError(f"no schema for {kind!r}; kinds with a schema: {', '.join(names)}")
    if out is not None:
        _write_schemas(Path(out), [kind] if kind else names, force)
    elif force:
        raise click.UsageError("--force only goes with --out")
    elif kind is None:
        click.echo("\n".join(names))
    else:
        click.echo(schema_text(kind), nl=False)


def _write_schemas(folder: Path, kinds: list[str], force: bool) -> None:
    """Write each kind's schema into `folder`, unless a file there differs from it (then nothing is written,
    unless `force`); say what was written and what was already there."""
    writes: list[tuple[Path, bytes]] = []
    unchanged: list[Path] = []
    differing: list[Path] = []
    try:
        if folder.exists() and not folder.is_dir():
            raise click.UsageError(f"--out {folder} is a file")
        for kind in kinds:
            target = folder / Path(published_path(kind)).name
            content = schema_text(kind).encode("utf-8")
            if target.is_dir() and not target.is_symlink():
                raise click.ClickException(f"{target} is a folder; opsbook does not replace it")
            if not target.exists() and not target.is_symlink():
                writes.append((target, content))
            elif target.is_file() and target.read_bytes() == content:
                unchanged.append(target)
            else:
                differing.append(target)
                writes.append((target, content))
        if differing and not force:
            raise click.ClickException(
                "these files differ from the schemas of this opsbook, and --force would replace them "
                f"(nothing written): {', '.join(str(path) for path in differing)}")
        folder.mkdir(parents=True, exist_ok=True)
        for target, content in writes:
            temporary = target.with_name(f".{target.name}.{os.getpid()}.tmp")
            try:
                temporary.write_bytes(content)
                os.replace(temporary, target)  # a link at the target is replaced, never written through
            finally:
                temporary.unlink(missing_ok=True)
    except OSError as error:
        raise click.ClickException(one_line(f"cannot write the schemas into {folder}: {error}")) from None
    for target, _ in writes:
        click.echo(f"opsbook: wrote {target}")
    if unchanged:
        click.echo(f"opsbook: {len(unchanged)} schema file(s) in {folder} already up to date")


@main.command()
@click.argument("labels", nargs=-1)
@click.option("--config", "config_file", type=click.Path(dir_okay=False, exists=True), default=None,
              help="An Alertmanager configuration file; by default the handbook's.")
@click.option("--dir", "directory", type=click.Path(file_okay=False), default=None, help="Handbook root.")
@click.option("-v", "--verbose", is_flag=True, help="Show the route path that leads to each receiver.")
@click.option("--at", "at_text", default=None, metavar="DATETIME",
              help="An instant (2026-12-25T03:00): say which receivers are notified then and which routes are "
                   "muted by their time intervals.")
@click.option("--tz", "zone", default=None, metavar="ZONE",
              help="The time zone of the --at wall time (Europe/Berlin); default UTC.")
def route(labels: tuple[str, ...], config_file: str | None, directory: str | None, verbose: bool,
          at_text: str | None, zone: str | None) -> None:
    """Print the receivers an alert with LABELS (NAME=VALUE ...) reaches, in notification order.
    The answer is the one `amtool config routes test` gives: receivers comma-separated, in the order
    of the routing tree, repeats kept. LABELS are read as amtool reads them (`parse_labels`); none
    at all is the empty label set. With --at, the first line lists only the receivers notified at that
    instant, and each route that matched but is held back by its time intervals follows on a line
    `muted: RECEIVER by mute_time_intervals NAMES` or `... outside active_time_intervals NAMES`.
    """
    at = None
    if at_text is not None:
        at, why = resolve_wall_time(at_text, zone)
        if at is None:
            option = "--tz" if zone is not None and "is not a time zone" in (why or "") else "--at"
            raise click.UsageError(one_line(f"{option}: {why}"))
    elif zone is not None:
        raise click.UsageError("--tz gives the time zone of --at, which is missing")
    if config_file is None:
        root = _root(directory)

        config, _ = load_config(root)
        handbook = load_handbook(config, KINDS)
        configs = handbook.records_of(AlertmanagerConfig)
        if not configs:
            raise click.UsageError("the handbook has no Alertmanager configuration; name one with --config")
        document = configs[0].document
    else:
        file = Path(config_file)
        documents, problems = load_yaml_file(file, file.name)
        if problems or not documents:
            click.echo(format_diagnostics(problems, file.parent, "text"), err=True)
            sys.exit(1)
        document = documents[0]
    # Everything amtool refuses in a configuration (routes, time intervals, inhibition rules) is refused.
    simulator = Simulator(document.data if isinstance(document.data, dict) else {},
                          text=lambda path: as_written(document, path))
    for problem in simulator.problems:
        line, column = document.position(problem.path, key=problem.key)
        click.echo(one_line(f"{document.path}:{line}:{column}: error OB320 {problem.message}"), err=True)
    tree = simulator.tree
    if tree is None or simulator.problems:  # Alertmanager would refuse this configuration: no answer to give
        sys.exit(1)
    try:  # after the configuration, as amtool does
        label_set = parse_labels(labels)
    except MatcherError as error:
        click.echo(one_line(f"opsbook: error: Failed to parse labels: {error}"), err=True)
        sys.exit(1)
    routes = tree.routes_for(label_set)
    held = {id(matched): simulator.muting(matched, at) for matched in routes} if at is not None else {}
    open_routes = [matched for matched in routes if held.get(id(matched)) is None]
    click.echo(",".join(r.receiver for r in open_routes))

    def path_of(matched: Route) -> str:
        return one_line("  " + " -> ".join(step.describe() for step in matched.lineage()) + f" => {matched.receiver}")

    if verbose:
        for matched in open_routes:
            click.echo(path_of(matched))
    for matched in routes:
        muting = held.get(id(matched))
        if muting is not None:
            reason, names = muting
            how = "by mute_time_intervals" if reason == MUTE else "outside active_time_intervals"
            click.echo(one_line(f"muted: {matched.receiver} {how} {', '.join(names)}"))
            if verbose:
                click.echo(path_of(matched))


@main.command()
@click.argument("directory", required=False, type=click.Path(file_okay=False))
@click.option("--engine", type=click.Choice(sorted(scaffold.ENGINES)), default="mkdocs", show_default=True,
              help="The site engine to configure: MkDocs (mkdocs.yml) or ProperDocs (properdocs.yml).")
@click.option("--site-name", default=None, help="The site's name. Default: from the folder's name (Orders handbook).")
def init(directory: str | None, engine: str, site_name: str | None) -> None:
    """Start a handbook in DIRECTORY, never overwriting a file.

    DIRECTORY (default: the current folder) is made if missing. opsbook writes what a handbook that checks
    and builds needs: the engine's configuration, a home page, the schemas, an example runbook, .gitignore
    entries, a pre-commit configuration and a GitHub workflow. A file that is there is left as it is and
    named, and .gitignore only gets the entries it lacks, so running it again changes nothing.
    """
    root = Path(directory) if directory else Path.cwd()
    if root.exists() and not root.is_dir():
        raise click.UsageError(f"{root} is not a folder")
    chosen = scaffold.ENGINES[engine]
    name = site_name if site_name is not None else scaffold.site_name_for(root.resolve())
    if not name.strip() or not name.isprintable() or "<" in name or ">" in name:
        # Material writes the name into each page's <title> as it is.
        raise click.UsageError("--site-name must be printable text on one line, without < or >")
    outcome = scaffold.Outcome()
    try:
        root.mkdir(parents=True, exist_ok=True)
        config, _ = load_config(root)  # an existing configuration says where the docs and the runbooks are
        folder = config.sources.get("runbook", ["runbooks"])[0]
        files = scaffold.handbook_files(
            chosen, site_name=name, heading=str(md_inline(name)), today=config.today_date, version=__version__,
            docs_dir=config.docs_dir, runbook_folder=folder,
            schemas={published_path(kind): schema_text(kind) for kind in schema_names()})
        files, outcome.notes = scaffold.plan(root, files, docs_dir=config.docs_dir, runbook_folder=folder)
        scaffold.write_new(root, files, outcome)
        scaffold.add_ignores(root, outcome)
    except OSError as error:
        _say_init(outcome, root, chosen)
        raise click.ClickException(one_line(f"cannot write the handbook into {root}: {error}")) from None
    _say_init(outcome, root, chosen)


def _say_init(outcome: scaffold.Outcome, root: Path, engine: scaffold.Engine) -> None:
    """What `opsbook init` did, a line for each file written, then what it left as it was, and why."""
    for path in outcome.written:
        click.echo(one_line(f"opsbook: wrote {path}"))
    if outcome.ignored:
        click.echo(f"opsbook: added {', '.join(outcome.ignored)} to .gitignore")
    if outcome.kept:
        click.echo(one_line(f"opsbook: there already, left as they were: {', '.join(outcome.kept)}"))
    for note in outcome.notes:
        click.echo(one_line(f"opsbook: {note}"))
    for name in scaffold.ENGINE_CONFIGS:
        if name not in outcome.written and (root / name).is_file() and scaffold.plugin_missing(root / name):
            click.echo(f"opsbook: {name} lists no opsbook plugin: add `- opsbook` (and `- search`) under its "
                       "`plugins:`, or the site has no runbook pages")
    if not (outcome.written or outcome.ignored):
        click.echo("opsbook: nothing to do: every file opsbook init writes is there")
    click.echo(f"opsbook: next: `opsbook check`, then `{engine.name} build --strict` "
               f"(or `{engine.name} serve` to preview)")


@main.group()
def new() -> None:
    """Write a new, valid source file to start from."""


@new.command("runbook")
@click.argument("runbook_id")
@click.option("--dir", "directory", type=click.Path(file_okay=False), default=None, help="Handbook root.")
@click.option("--title", default=None, help="The runbook's title.")
def new_runbook(runbook_id: str, directory: str | None, title: str | None) -> None:
    """Write runbooks/RUNBOOK_ID.yaml, with the schema header for editor completion."""
    if not _ID.match(runbook_id):
        raise click.UsageError(f"{runbook_id!r} is not an id: lower-case words joined by hyphens, like db-restore")
    root = _root(directory)

    config, _ = load_config(root)
    folder = root / config.sources.get("runbook", ["runbooks"])[0]
    file = folder / f"{runbook_id}.yaml"
    if file.exists():
        raise click.UsageError(f"{file} exists already; opsbook never overwrites a source")
    folder.mkdir(parents=True, exist_ok=True)
    # The editor header names a schema that is there: the repository's copy (`opsbook schema --out schemas`),
    # else the one the published site serves (the plugin adds it at this path under site_url).
    local_schema = root / published_path("runbook")
    if local_schema.is_file():
        schema_ref: str | None = Path(os.path.relpath(local_schema, folder)).as_posix()
    elif config.site_url:
        schema_ref = f"{config.site_url.rstrip('/')}/{published_path('runbook')}"
    else:
        schema_ref = None
    words = title or runbook_id.replace("-", " ").capitalize()
    text = scaffold.new_runbook(words, config.today_date, schema_ref)
    with file.open("x", encoding="utf-8") as handle:
        handle.write(text)
    click.echo(f"opsbook: wrote {file.relative_to(root).as_posix()}")
    if schema_ref is None:
        click.echo("opsbook: no editor schema header: neither a schemas/ folder nor site_url; "
                   "`opsbook schema --out schemas` writes the schemas that the next runbook's header names")

