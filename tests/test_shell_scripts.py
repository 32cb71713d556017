"""Scripts read as a shell runs them (#16, item 5): `cd`, `pushd`/`popd`, `.`/`source`, `&&`/`;`, subshells,
`working-directory`, for OB404 (workflows) and OB045 (runbook steps, backup scripts)."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from opsbook import analyse, commands
from opsbook.commands import Invocation, _regex_reading, invocations, scripts_in
from opsbook.kinds.cicd import workflows

REPO = Path(__file__).parent.parent
CORPUS = REPO.parent / "shared" / "corpus" / "workflows"


@pytest.mark.parametrize(("command", "expected"), [
    ("cd ../../examples/api && . .setup-cross.sh", ["../../examples/api/.setup-cross.sh"]),
    ("cd deploy; ./run.sh && source lib/env.sh", ["deploy/run.sh", "deploy/lib/env.sh"]),
    ("cd a\ncd ..\nbash ci/x.sh", ["ci/x.sh"]),
    ("( cd sub && ./inner.sh ); scripts/outer.sh", ["sub/inner.sh", "scripts/outer.sh"]),
    ("cd sub | cat; scripts/after-pipe.sh", ["scripts/after-pipe.sh"]),
    ("pushd sub; ./a.sh; popd; ./b.sh", ["sub/a.sh", "b.sh"]),
    ('cd "$DIR" && ./x.sh', []),
    ("cd ${{ inputs.dir }} && ./x.sh", []),
    ("cd - && ./x.sh; cd; ./y.sh", []),
    ("cd /srv/app && bin/run", []),
    ("if [ -d x ]; then cd x; fi; ./after-if.sh", []),
    ("if [ -d x ]; then scripts/in-if.sh; fi", ["scripts/in-if.sh"]),
    ("for f in a b; do cd sub && ./loop.sh; done", ["sub/loop.sh"]),
    ("[ -d x ] && cd x; ./maybe.sh", []),
    ("cd x || exit 1; ./there.sh", ["x/there.sh"]),
    ("V=$(scripts/get.sh) scripts/a.sh > out  # scripts/comment.sh", ["scripts/get.sh", "scripts/a.sh"]),
    ("cat <<EOF\ncd nowhere\nEOF\nscripts/after-heredoc.sh", ["scripts/after-heredoc.sh"]),
])
def test_commands_read_as_a_shell_would(command: str, expected: list[str]) -> None:
    assert scripts_in(command) == expected


def test_what_bashlex_cannot_parse_is_read_as_before_up_to_the_first_cd() -> None:
    # An unterminated arithmetic expansion: bashlex raises, the reading without it applies, never a traceback.
    assert scripts_in("scripts/first.sh; echo $((1+ ; cd x; scripts/after.sh") == ["scripts/first.sh"]
    assert [i.written for i in invocations("./tools/a.py && cd x && ./b.sh")] == ["tools/a.py", "b.sh"]


STEP = """\
on: push
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - run: cd ../../examples/api && . .setup-cross.sh
        working-directory: ci/jobs
"""


@pytest.mark.parametrize("present", [True, False])
def test_the_issue_example(make_handbook: Callable[..., Path], present: bool) -> None:
    files = {".github/workflows/w.yml": STEP}
    if present:
        files["examples/api/.setup-cross.sh"] = "#!/bin/sh\n"
    root = make_handbook(files)
    (root / "ci" / "jobs").mkdir(parents=True)
    found = [(d.line, d.column, d.message) for d in analyse(root).diagnostics if d.code == "OB404"]
    if present:
        assert found == []
    else:
        assert found == [(6, 41, "job build runs examples/api/.setup-cross.sh, which does not exist in the repository")]


DEFAULTS = """\
on: push
jobs:
  build:
    runs-on: ubuntu-latest
    defaults: {run: {working-directory: app}}
    steps:
      - run: cd tools && ./gen.sh
      - run: cd .. && scripts/top.sh
        working-directory: web
      - run: (cd sub && ./in-sub.sh) && ./in-app.sh
      - run: cd "$SOMEWHERE" && ./unknown.sh
      - run: cd ../.. && scripts/outside.sh
"""


def test_working_directory_at_job_defaults_and_step(make_handbook: Callable[..., Path]) -> None:
    present = {"app/tools/gen.sh", "scripts/top.sh", "app/sub/in-sub.sh", "app/in-app.sh"}
    root = make_handbook({".github/workflows/w.yml": DEFAULTS, **{p: "#!/bin/sh\n" for p in present}})
    assert [d.message for d in analyse(root).diagnostics if d.code == "OB404"] == [
        "job build runs ../scripts/outside.sh, which does not exist in the repository"]  # outside: reported
    for path in present:
        (root / path).unlink()
    found = sorted(d.message.split(" runs ")[1].split(",")[0] for d in analyse(root).diagnostics if d.code == "OB404")
    assert found == sorted([*present, "../scripts/outside.sh"])


RUNBOOK = """\
title: T
steps:
  - name: Moved
    run: cd deploy && ./switch.sh blue
  - name: Subshell
    run: (cd deploy && ./inner.sh); ./deploy/outer.sh
  - name: Unknown
    run: cd "$RELEASE" && ./anything.sh
"""


@pytest.mark.parametrize("present", [True, False])
def test_runbook_step_after_a_cd(make_handbook: Callable[..., Path], present: bool) -> None:
    scripts = {"deploy/switch.sh", "deploy/inner.sh", "deploy/outer.sh"}
    backup = "datastore: db\nschedule: '0 * * * *'\nretention: {count: 5}\nscript: cd ops && ./take.sh\n"
    files = {"runbooks/t.yaml": RUNBOOK, "backups/db.yaml": backup, "teams/data.yaml": "name: Data\n",
             "components/db.yaml": "name: DB\nkind: datastore\nowner: data\nrpo: 1d\n"}
    if present:
        files.update({p: "#!/bin/sh\n" for p in [*scripts, "ops/take.sh"]})
    root = make_handbook(files, shellcheck=False)
    found = [(d.path, d.line, d.column, d.message) for d in analyse(root).diagnostics if d.code == "OB045"]
    if present:
        assert found == []
    else:
        assert found == [
            ("backups/db.yaml", 4, 21, "backup db is taken by ops/take.sh, which is not in the repository"),
            ("runbooks/t.yaml", 4, 25, "step 'Moved' runs deploy/switch.sh, which is not in the repository"),
            ("runbooks/t.yaml", 6, 26, "step 'Subshell' runs deploy/inner.sh, which is not in the repository"),
            ("runbooks/t.yaml", 6, 39, "step 'Subshell' runs deploy/outer.sh, which is not in the repository"),
        ]


def _ob404(root: Path) -> list[tuple[str, int, str]]:
    return [(d.path, d.line, d.message) for d in analyse(root).diagnostics if d.code == "OB404"]


def _old_reading(command: str) -> list[Invocation]:
    """The reading before #16: every path relative to the folder the command starts in, `cd`s ignored."""
    return [Invocation(i.written, i.path.removeprefix("./")) for i in _regex_reading(command)]


@pytest.mark.skipif(not CORPUS.is_dir(), reason="no workflow corpus at ../shared/corpus/workflows")
def test_the_corpus_gains_no_ob404(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "corpus"
    shutil.copytree(CORPUS, root / ".github" / "workflows")
    (root / "opsbook.yml").write_text(json.dumps({"today": "2026-11-30"}), encoding="utf-8")
    after = _ob404(root)
    with monkeypatch.context() as patch:
        patch.setattr(commands, "_MOVES", re.compile(r"(?!)"))  # no `cd` ends the reading
        patch.setattr(workflows, "invocations", _old_reading)
        before = _ob404(root)
    print(f"workflow corpus OB404: {len(before)} before, {len(after)} after")
    assert {(path, line) for path, line, _ in after} <= {(path, line) for path, line, _ in before}
