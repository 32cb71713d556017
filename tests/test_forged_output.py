"""Output a source cannot forge: values from sources stay on their line in the text and GitHub formats
(and in the MkDocs plugin's log), so no GitHub workflow command (`::error ...`) can be planted in a
build log; and `opsbook metrics --out` replaces nothing but a regular file."""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import stat
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from opsbook.cli import main
from opsbook.diagnostics import Diagnostic, Severity
from opsbook.reporters import format_diagnostics, one_line

FORGED = "\n::error file=README.md,line=1::forged"
LONG = "x" * 210  # past the schema's 200 characters, so that OB010 quotes the value

RUNBOOK = json.dumps({
    "title": LONG + FORGED,
    "summary": "Restart it." + FORGED + "\r\n##[error]forged too\u2028::warning::forged",
    "severity": "urgent" + FORGED,  # OB010 quotes a value not among the choices
    "steps": [{"name": LONG + FORGED, "run": "echo ok"}],
    "x\n::error file=README.md,line=2::forged": 1,
})
# A line of a source that is itself a workflow command, shown under its diagnostic.
PLANTED_LINE = "title: broken\n::error file=README.md,line=3::forged\n  ::error file=README.md,line=3::forged\n"
OWN_ANNOTATION = re.compile(r"::(error|warning|notice) file=[^,\n]*,line=\d+,col=\d+,title=OB\d{3}::[^\n]*")


def _handbook(make_handbook: Callable[..., Path]) -> Path:
    return make_handbook({"runbooks/forged.yaml": RUNBOOK, "runbooks/planted.yaml": PLANTED_LINE,
                          "runbooks/x\n::error file=README.md,line=4::forged.yaml": "title: [\n"})


def _commands(output: str) -> list[str]:
    """The lines GitHub's runner would read as workflow commands: `::` after leading spaces, or `##[`."""
    return [line for line in output.splitlines() if line.lstrip().startswith("::") or "##[" in line]


@pytest.mark.parametrize("fmt", ["text", "github"])
def test_check_prints_no_forged_annotation(make_handbook: Callable[..., Path], fmt: str) -> None:
    root = _handbook(make_handbook)
    result = CliRunner().invoke(main, ["check", str(root), "--format", fmt], env={"GITHUB_ACTIONS": ""})
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "forged" in result.output  # the values are shown, escaped
    commands = _commands(result.output)
    if fmt == "text":
        assert commands == []
        assert "\\n::error file=README.md,line=1::forged" in result.output
    else:
        assert commands and all(OWN_ANNOTATION.fullmatch(line) for line in commands), commands
        assert all(re.match(r"::\w+ file=runbooks/", line) for line in commands)  # none names README.md


def test_every_control_character_is_escaped_in_the_text_format(tmp_path: Path) -> None:
    values = "a\nb\rc\td\x1b[31me\x00f\x7fg\x85h\u2028i\u202ej"
    diagnostic = Diagnostic(values, 0, 0, Severity.ERROR, "OB010", values, hint=values)  # no source line
    output = format_diagnostics([diagnostic], tmp_path, "text")
    assert len(output.splitlines()) == 3  # the diagnostic, its hint, the count
    assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e]", output)
    assert one_line(values) == "a\\nb\\rc\\td\\x1b[31me\\x00f\\x7fg\\x85h\\u2028i\\u202ej"
    assert one_line("  ::error::x") == "  \\x3a:error::x" and one_line("a ##[error]b") == "a ##\\x5berror]b"


def test_mkdocs_build_logs_no_forged_annotation(tmp_path: Path) -> None:
    root = tmp_path / "handbook"
    shutil.copytree(Path(__file__).parent / "fixtures" / "minimal", root)
    (root / "runbooks" / "forged.yaml").write_text(RUNBOOK, encoding="utf-8")
    (root / "runbooks" / "planted.yaml").write_text(PLANTED_LINE, encoding="utf-8")
    built = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--site-dir", str(tmp_path / "site")], cwd=root,
                           env={**os.environ, "NO_MKDOCS_2_WARNING": "1"}, capture_output=True, text=True,
                           timeout=300)
    assert built.returncode == 1
    assert "forged" in built.stderr and "Traceback" not in built.stderr
    assert _commands(built.stdout + built.stderr) == []


# --- opsbook metrics --out -------------------------------------------------------------------------


@pytest.fixture
def handbook(make_handbook: Callable[..., Path]) -> Path:
    return make_handbook({"runbooks/r.yaml": "title: R\nseverity: low\nsteps: [{name: s, run: echo ok}]\n"})


def _metrics(handbook: Path, out: Path) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["metrics", str(handbook), "--out", str(out)])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.output


def test_metrics_out_writes_and_replaces_a_regular_file(handbook: Path, tmp_path: Path) -> None:
    target = tmp_path / "textfile" / "opsbook.prom"
    assert _metrics(handbook, target)[0] == 0
    assert "opsbook_" in target.read_text(encoding="utf-8")
    target.write_text("old\n", encoding="utf-8")
    assert _metrics(handbook, target)[0] == 0
    assert target.read_text(encoding="utf-8") != "old\n"
    assert stat.S_IMODE(target.stat().st_mode) & 0o044 == 0o044  # readable by a collector
    assert sorted(p.name for p in target.parent.iterdir()) == ["opsbook.prom"]  # no partial file left


def test_metrics_out_refuses_a_symlink(handbook: Path, tmp_path: Path) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("keep\n", encoding="utf-8")
    link = tmp_path / "link.prom"
    link.symlink_to(victim)
    code, output = _metrics(handbook, link)
    assert code == 2 and "symlink" in output
    assert link.is_symlink() and victim.read_text(encoding="utf-8") == "keep\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["handbook", "link.prom", "victim.txt"]


def test_metrics_out_refuses_a_fifo(handbook: Path, tmp_path: Path) -> None:
    fifo = tmp_path / "metrics.fifo"
    os.mkfifo(fifo)
    code, output = _metrics(handbook, fifo)
    assert code == 2 and "FIFO" in output
    assert stat.S_ISFIFO(fifo.lstat().st_mode)


def test_metrics_out_refuses_a_folder(handbook: Path, tmp_path: Path) -> None:
    folder = tmp_path / "metrics"
    folder.mkdir()
    (folder / "inside").write_text("x", encoding="utf-8")
    code, _ = _metrics(handbook, folder)
    assert code == 2
    assert (folder / "inside").read_text(encoding="utf-8") == "x"


def test_metrics_out_refuses_a_device(handbook: Path) -> None:
    code, output = _metrics(handbook, Path("/dev/null"))
    assert code == 2 and "device" in output
    assert stat.S_ISCHR(os.lstat("/dev/null").st_mode)


def test_metrics_out_refuses_a_socket(handbook: Path, tmp_path: Path) -> None:
    path = tmp_path / "s.sock"
    server = socket.socket(socket.AF_UNIX)
    try:
        server.bind(str(path))
        code, output = _metrics(handbook, path)
    finally:
        server.close()
    assert code == 2 and "socket" in output


def test_opsbook_test_prints_no_forged_annotation(make_handbook: Callable[..., Path], tmp_path: Path) -> None:
    """`opsbook test` runs in CI too: a step's name and the output it printed stay on their lines."""
    name = json.dumps("Greet" + FORGED)
    root = make_handbook({"runbooks/forged.yaml": (
        "title: Forged\nsteps:\n"
        f"  - {{name: {name}, run: \"printf '::error file=README.md,line=5::forged\\\\n##[error]x\\\\n'\","
        " expect: {stdout: bye}}\n")})
    run = CliRunner().invoke(main, ["test", "--dir", str(root), "--results", str(tmp_path / "results.json")])
    assert run.exit_code == 1, run.output
    assert "Greet\\n::error file=README.md,line=1::forged" in run.output  # the name, on its line
    assert "          \\x3a:error file=README.md,line=5::forged" in run.output  # the output tail, escaped
    assert _commands(run.output) == [], run.output
