"""The `opsbook` command: check a handbook, write its pages, print schemas, start new records."""

from __future__ import annotations

import datetime as _dt
import os
import re
import shutil
import sys
import tempfile
from pathlib import Path

import click

from . import __version__
from .config import find_root
from .diagnostics import Severity
from .pipeline import analyse
from .report import FORMATS, format_diagnostics
from .schema import schema_names, schema_text

__all__ = ["main"]

_ID = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")


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
def check(directory: str | None, fmt: str | None, strict: bool) -> None:
    """Validate the handbook in DIRECTORY (default: the current folder) without building the site.

    Exit status: 0 when clean, 1 when any error (or warning, with --strict), 2 on a usage error.
    """
    root = _root(directory)
    analysis = analyse(root)
    output = format_diagnostics(analysis.diagnostics, root, fmt)
    if output:
        click.echo(output)
    threshold = Severity.WARNING if strict else None
    sys.exit(1 if analysis.failures(threshold) else 0)


@main.command()
@click.argument("directory", required=False, type=click.Path(file_okay=False))
@click.option("--out", "out", required=True, type=click.Path(file_okay=False),
              help="Folder to write the generated Markdown tree to (replaced as a whole).")
@click.option("--format", "fmt", type=click.Choice(sorted(FORMATS)), default=None, help="Diagnostics format.")
@click.option("--strict", is_flag=True, help="Fail on warnings too.")
def build(directory: str | None, out: str, fmt: str | None, strict: bool) -> None:
    """Write the generated pages as plain Markdown files that any site engine can read.

    Nothing is written when the handbook has errors; the folder is replaced only once every page
    is written, so a failed build never leaves half a tree where the last good one was.
    """
    root = _root(directory)
    analysis = analyse(root)
    threshold = Severity.WARNING if strict else None
    failures = analysis.failures(threshold)
    if analysis.diagnostics:
        click.echo(format_diagnostics(analysis.diagnostics, root, fmt), err=True)
    if failures:
        click.echo(f"opsbook: not writing {out}: the handbook has problems", err=True)
        sys.exit(1)
    target = Path(out).resolve()
    if target == root or target in root.parents:
        raise click.UsageError("--out must not be the handbook root or one of its parents")
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    pages = analysis.pages()
    for page in pages:
        file = staging / page.uri
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_text(page.text, encoding="utf-8")
    previous = None
    if target.exists():
        previous = target.with_name(f".{target.name}.old-{os.getpid()}")
        target.rename(previous)
    staging.rename(target)
    if previous is not None:
        shutil.rmtree(previous, ignore_errors=True)
    click.echo(f"opsbook: wrote {len(pages)} pages to {out}")


@main.command()
@click.argument("kind", required=False)
def schema(kind: str | None) -> None:
    """Print the JSON Schema of KIND, or list the kinds that have one."""
    names = schema_names()
    if kind is None:
        click.echo("\n".join(names))
        return
    if kind not in names:
        raise click.UsageError(f"no schema for {kind!r}; kinds with a schema: {', '.join(names)}")
    click.echo(schema_text(kind), nl=False)


_RUNBOOK_TEMPLATE = """\
# yaml-language-server: $schema={schema}
title: {title}
summary: When to use this runbook, in a sentence or two.
severity: medium
last_reviewed: {today}
review_every: 90d
steps:
  - name: Check the service's health
    run: echo "replace with the command that shows the problem"
    expect: {{exit_code: 0, timeout: 30s}}
  - name: Tell the incident channel
    manual: Post what you found in the incident channel.
verify: []
"""


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
    from .config import load_config

    config, _ = load_config(root)
    folder = root / config.sources.get("runbook", ["runbooks"])[0]
    file = folder / f"{runbook_id}.yaml"
    if file.exists():
        raise click.UsageError(f"{file} exists already; opsbook never overwrites a source")
    folder.mkdir(parents=True, exist_ok=True)
    local_schema = root / "schemas" / "runbook.schema.json"
    schema_ref = (os.path.relpath(local_schema, folder) if local_schema.exists()
                  else "https://opsbook.dev/schemas/runbook.schema.json")
    words = title or runbook_id.replace("-", " ").capitalize()
    text = _RUNBOOK_TEMPLATE.format(schema=Path(schema_ref).as_posix(), title=_yaml_text(words),
                                    today=_dt.date.today().isoformat())
    with file.open("x", encoding="utf-8") as handle:
        handle.write(text)
    click.echo(f"opsbook: wrote {file.relative_to(root).as_posix()}")


def _yaml_text(value: str) -> str:
    """A YAML scalar that reads back as exactly `value`."""
    import json

    return json.dumps(value, ensure_ascii=False)
