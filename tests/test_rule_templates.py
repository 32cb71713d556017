"""Go templates in alert labels and annotations (OB302), held to promtool (Prometheus 2.42, Debian's).

- Differential, on the corpus (../shared/corpus/rules): every label and annotation template of every
  alerting rule is checked by promtool (written into rule files of plain groups, since promtool 2.42
  refuses `PrometheusRule` objects and Thanos' fields before it reads a template) and parsed by opsbook
  in the 2.42 dialect: the same verdict and the same message and line, Go's. opsbook's own check of the
  corpus files (`rule_records`) reports OB302 exactly where the newest dialect finds an error.
- Differential, on seeded mutants of the corpus' annotation templates (`{{`, `}}`, `end`, `else`, pipes,
  quotes, parentheses, trim markers, unknown functions, undefined variables... inserted, deleted,
  renamed), written into a few rule files that one promtool invocation checks: the 2.42 dialect agrees
  with promtool on every mutant, message and line included; the newest dialect differs from it only on a
  mutant that uses what Prometheus added after 2.42 (`toDuration`, `now`, `urlQueryEscape`, Go's
  `{{else with}}`), each counted; opsbook's check of the written files yields OB302 exactly for the
  mutants the newest dialect refuses.
- Direct tests of messages, of positions in the file through every YAML scalar style, of the bounds, of
  the references a page will show, and of `placeholders`.
"""

from __future__ import annotations

import bisect
import functools
import random
import re
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from opsbook import Diagnostic
from opsbook.kinds.alerting.gotemplate import (
    MAX_DEPTH,
    MAX_TEMPLATE_LENGTH,
    NEWER_FUNCTIONS,
    PROMETHEUS,
    PROMETHEUS_2_42,
    parse_template,
    placeholders,
)
from opsbook.kinds.alerting.rules import rule_records
from opsbook.loader import Document, load_yaml_file, load_yaml_text

CORPUS = Path(__file__).parent.parent.parent / "shared" / "corpus" / "rules"
PROMTOOL = shutil.which("promtool")
needs_promtool = pytest.mark.skipif(PROMTOOL is None, reason="promtool is not installed (Debian package prometheus)")
needs_corpus = pytest.mark.skipif(not CORPUS.is_dir(), reason="../shared/corpus/rules is not here")

#: A line of promtool's report about one template: file, rule number in its group, label or annotation.
TEMPLATE_LINE = re.compile(r'^(?P<file>.+?): group "[^"]*", rule (?P<rule>\d+), "[^"]*": '
                           r'(?P<what>label|annotation) "(?P<key>[^"]*)": (?P<error>template: .*)$')
#: An error that only the newer Prometheus accepts (the difference between the two dialects).
NEWER = re.compile(r'^function "(?:' + "|".join(sorted(NEWER_FUNCTIONS)) + r')" not defined$|'
                   r"^unexpected <with> in else$")


# --- promtool, many files in one run ------------------------------------------------------------------

def _rule_file(rules: list[dict[str, Any]]) -> str:
    return yaml.safe_dump({"groups": [{"name": "g", "rules": rules}]}, allow_unicode=True, width=1 << 30,
                          sort_keys=False)


def _promtool(files: list[Path]) -> dict[tuple[str, int, str, str], str]:
    """promtool's template errors in `files`: (file name, rule number from 1, label/annotation, key) → error.
    Any other complaint fails the test: the files are written to be valid but for their templates."""
    assert PROMTOOL is not None
    run = subprocess.run([PROMTOOL, "check", "rules", "--lint=none", *map(str, files)], capture_output=True,
                         text=True, timeout=120)
    errors: dict[tuple[str, int, str, str], str] = {}
    for line in run.stderr.splitlines():
        found = TEMPLATE_LINE.match(line)
        if found:
            errors[(Path(found["file"]).name, int(found["rule"]), found["what"], found["key"])] = found["error"]
        else:
            assert line.strip() in ("", "FAILED:"), f"promtool said something else than a template error: {line}"
    checked = run.stdout.count("Checking ")
    assert checked == len(files), run.stdout[-2000:]
    assert (run.returncode != 0) == bool(errors), (run.returncode, run.stderr[-2000:])
    return errors


def _ob302(file: Path, relpath: str) -> tuple[list[Document], list[Diagnostic]]:
    """The documents of a rule file and opsbook's diagnostics of it, which must all be OB302."""
    documents, problems = load_yaml_file(file, relpath)
    assert problems == []
    found = [item for document in documents for item in rule_records(document) if isinstance(item, Diagnostic)]
    assert {d.code for d in found} <= {"OB302"}, [d for d in found if d.code != "OB302"]
    return documents, found


# --- the corpus ---------------------------------------------------------------------------------------

def _alert_rules(data: Any, path: tuple[str | int, ...] = ()) -> list[tuple[tuple[str | int, ...], dict]]:
    """Every alerting rule in a document, with its path: under `groups`, plain or in a `PrometheusRule`."""
    found: list[tuple[tuple[str | int, ...], dict]] = []
    if isinstance(data, dict):
        if "alert" in data and "expr" in data:
            return [(path, data)]
        for key, value in data.items():
            found += _alert_rules(value, (*path, key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            found += _alert_rules(value, (*path, index))
    return found


@functools.cache
def _corpus() -> dict[Path, list[Document]]:
    return {file: load_yaml_file(file, file.relative_to(CORPUS).as_posix())[0]
            for file in sorted(p for p in CORPUS.rglob("*") if p.is_file())}


def _templates() -> list[tuple[Path, int, tuple[str | int, ...], str, str, str, str]]:
    """(file, document, rule path, alert, label/annotation, key, value) of every template in the corpus."""
    items = []
    for file, documents in _corpus().items():
        for number, document in enumerate(documents):
            for where, rule in _alert_rules(document.data):
                for key, what in (("labels", "label"), ("annotations", "annotation")):
                    values = rule.get(key)
                    for name, value in (values.items() if isinstance(values, dict) else ()):
                        if isinstance(value, str):
                            items.append((file, number, where, str(rule["alert"]), what, name, value))
    return items


def _alert_name(alert: str) -> str:
    # Go writes the template's name into a format string: a name with '%' would be mangled. The name only
    # matters to {{define}}, which no corpus template uses.
    return alert if re.fullmatch(r"[A-Za-z0-9_]+", alert) else "T"


@needs_promtool
@needs_corpus
def test_opsbook_and_promtool_agree_on_every_template_of_the_corpus(tmp_path: Path) -> None:
    items = _templates()
    assert len(items) > 1000
    rules = [{"alert": _alert_name(alert), "expr": "vector(1)", ("labels" if what == "label" else "annotations"):
              {"t": value}} for (_, _, _, alert, what, _, value) in items]
    batch = tmp_path / "corpus.yml"
    batch.write_text(_rule_file(rules), encoding="utf-8")
    promtool = _promtool([batch])
    templates = refused = 0
    for number, (_, _, _, alert, what, _, value) in enumerate(items, start=1):
        error = parse_template(value, PROMETHEUS_2_42).error
        mine = error.go_error(f"__alert_{_alert_name(alert)}") if error else None
        assert mine == promtool.get((batch.name, number, what, "t")), value
        templates += "{{" in value
        refused += error is not None
    # opsbook's own check of the corpus files reports exactly the templates the newest dialect refuses.
    expected = set()
    for file, number, where, _alert, what, name, value in items:
        error = parse_template(value, PROMETHEUS).error
        if error is not None:
            key = "labels" if what == "label" else "annotations"
            line, column = _corpus()[file][number].position_in_value((*where, key, name), error.line, error.column)
            expected.add((file.relative_to(CORPUS).as_posix(), line, column, f"{what} {name!r}: {error.message}"))
    reported = set()
    for file in sorted({item[0] for item in items}):
        for document in _corpus()[file]:
            for item in rule_records(document):
                if isinstance(item, Diagnostic) and item.code == "OB302":
                    reported.add((item.path, item.line, item.column, item.message))
    assert reported == expected
    print(f"\ncorpus: {len(items)} label and annotation values ({templates} with an action) of the alerting rules "
          f"of {len({item[0] for item in items})} of its {len(_corpus())} files: promtool and opsbook agree on all, "
          f"{refused} refused by both")


# --- mutants ------------------------------------------------------------------------------------------

_IDENTIFIER = re.compile(r"(?<=[\s(|{])([a-zA-Z][a-zA-Z0-9]*)(?=[\s)|}])")
_VARIABLE = re.compile(r"\$[a-zA-Z]+")
_UNKNOWN = ["humanise", "toupper", "lenght", "printff", "humanizePercent", "label_value", "query1", "tpl",
            "default", *sorted(NEWER_FUNCTIONS)]
_INSERTS = ["{{", "}}", "{{ end }}", "end", "|", "| humanize", '"', "`", "'", "(", ")", "{{ else }}", "else",
            "{{ else if 1 }}", "{{ else with 1 }}", "{{ if 1 }}", "{{ range . }}", "{{ with . }}", "{{- ", " -}}",
            "-", "{{ $undefined }}", "$", ".", ":=", "=", ",", "#", "é", "\n", "\t", " ", "/*", "*/",
            "{{/* x */}}", "0x", "1", "1e", "'a'", "nil", "true", "{{ break }}", "{{ continue }}",
            '{{ define "x" }}', '{{ template "x" }}', '{{ block "b" . }}', "$labels", ".Labels", "$value", "\\",
            '"\\x"', "{{ $x := 1 }}", "{{ $x = 2 }}", "{{-3}}", "{{ 08 }}", "{{ 1e999 }}", "{{ 'ab' }}"]
_DELETES = ["{{", "}}", "end", "|", '"', "`", "(", ")", "else", "-", "$", ".", " ", "if ", "range ", "with "]


def _mutate(text: str, rng: random.Random) -> str:
    operation = rng.randrange(6)
    if operation == 0:  # insert a fragment anywhere
        at = rng.randrange(len(text) + 1)
        return text[:at] + rng.choice(_INSERTS) + text[at:]
    if operation == 1:  # delete one occurrence of a fragment
        fragment = rng.choice(_DELETES)
        places = [found.start() for found in re.finditer(re.escape(fragment), text)]
        if not places:
            return text[:-1]
        at = rng.choice(places)
        return text[:at] + text[at + len(fragment):]
    if operation == 2:  # a function (or any word) renamed to an unknown or a newer function
        words = list(_IDENTIFIER.finditer(text))
        if not words:
            return text + "{{ " + rng.choice(_UNKNOWN) + " }}"
        word = rng.choice(words)
        return text[:word.start()] + rng.choice(_UNKNOWN) + text[word.end():]
    if operation == 3:  # a variable renamed
        variables = list(_VARIABLE.finditer(text))
        if not variables:
            return "{{ $x }}" + text
        variable = rng.choice(variables)
        name = rng.choice(["$label", "$x", "$Labels", "$", "$value", "$externalURL", "$externalLabels"])
        return text[:variable.start()] + name + text[variable.end():]
    if operation == 4 and text:  # a short span deleted
        start = rng.randrange(len(text))
        return text[:start] + text[start + rng.randrange(1, 6):]
    if len(text) >= 2:  # two neighbours swapped
        at = rng.randrange(len(text) - 1)
        return text[:at] + text[at + 1] + text[at] + text[at + 2:]
    return text


def _mutants(templates: list[str], count: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    mutants = []
    while len(mutants) < count:
        text = rng.choice(templates)
        for _ in range(rng.choice((1, 1, 1, 2, 3))):
            text = _mutate(text, rng)
        mutants.append(text)
    return mutants


MUTANTS = 3000
FILES = 6


@needs_promtool
@needs_corpus
def test_opsbook_and_promtool_agree_on_mutants_of_the_corpus_templates(tmp_path: Path) -> None:
    started = time.monotonic()
    originals = sorted({value for (_, _, _, _, what, _, value) in _templates()
                        if what == "annotation" and "{{" in value})
    assert len(originals) > 500
    mutants = _mutants(originals, MUTANTS, seed=16)
    per_file = -(-len(mutants) // FILES)
    files: list[Path] = []
    for index in range(FILES):
        chunk = mutants[index * per_file:(index + 1) * per_file]
        file = tmp_path / f"mutants-{index}.yml"
        file.write_text(_rule_file([{"alert": "M", "expr": "vector(1)", "annotations": {"t": text}}
                                    for text in chunk]), encoding="utf-8")
        files.append(file)
    promtool = _promtool(files)  # one run for all the files
    refused = newer = 0
    expected: set[tuple[str, int]] = set()
    kinds: dict[str, int] = {}
    for number, text in enumerate(mutants):
        file, rule = files[number // per_file], number % per_file + 1
        old = parse_template(text, PROMETHEUS_2_42, name="__alert_M").error
        theirs = promtool.get((file.name, rule, "annotation", "t"))
        assert (old.go_error("__alert_M") if old else None) == theirs, text
        new = parse_template(text, PROMETHEUS, name="__alert_M").error
        if (new is None) != (old is None) or (new and old and new.message != old.message):
            # The one known difference: what Prometheus added after 2.42, which only the newest accepts.
            assert old is not None and NEWER.match(old.message), (text, old, new)
            newer += 1
        refused += old is not None
        if old is not None:
            kind = re.sub(r'"[^"]*"|U\+\w+.*|<[^>]*>|\{\{\w+\}\}', "…", old.message)
            kinds[kind] = kinds.get(kind, 0) + 1
        if new is not None:
            expected.add((file.name, rule))
    # opsbook's own check of the written files: OB302 exactly on the mutants the newest dialect refuses.
    reported = set()
    for file in files:
        documents, diagnostics = _ob302(file, file.name)
        rules = documents[0].data["groups"][0]["rules"]
        starts = [documents[0].position(("groups", 0, "rules", index))[0] for index in range(len(rules))]
        for diagnostic in diagnostics:
            reported.add((file.name, bisect.bisect_right(starts, diagnostic.line)))
    assert reported == expected
    elapsed = time.monotonic() - started
    print(f"\nmutants: {len(mutants)} in {FILES} files, one promtool run: promtool and opsbook (2.42 dialect) "
          f"agree on all, {refused} refused, {len(mutants) - refused} accepted; {newer} accepted or read "
          f"differently only by the newest Prometheus (toDuration, now, urlQueryEscape, else with); "
          f"{len(kinds)} kinds of error; {elapsed:.1f} s")
    assert refused > MUTANTS // 5 and len(mutants) - refused > MUTANTS // 5  # both verdicts well exercised
    assert newer > 0
    assert len(kinds) >= 15


# --- messages, lines and the token at fault -------------------------------------------------------------

#: (template, Go's message, Go's line, the text at fault: the error's offset is where it starts).
CASES = [
    ("{{ $labels.instance", "unclosed action", 1, "{{ $labels"),
    ("{{ foo $labels }}", 'function "foo" not defined', 1, "foo"),
    ("a\n{{ $x }}", 'undefined variable "$x"', 2, "$x"),
    ("{{ if .x }}yes", "unexpected EOF", 1, ""),
    ("x {{ end }}", "unexpected {{end}}", 1, "}}"),
    ("{{ if 1 }}a{{ else }}b{{ else }}c{{ end }}", "expected end; found {{else}}", 1, "}}c"),
    ("{{ range $i, $e, $f := . }}{{ end }}", "too many declarations in range", 1, ", $f"),
    ("{{ range $i, 1 }}{{ end }}", "range can only initialize variables", 1, "1 }}"),
    ("{{ break }}", "{{break}} outside {{range}}", 1, "}}"),
    ("{{ $value | 3 }}", "non executable command in pipeline stage 2", 1, "}}"),
    ('{{ "a".x }}', 'unexpected . after term "\\"a\\""', 1, ".x"),
    ("{{ 1.x }}", 'bad number syntax: "1.x"', 1, "1.x"),
    ("{{ 089 }}", 'integer overflow: "089"', 1, "089"),
    ("{{ 1e400 }}", 'illegal number syntax: "1e400"', 1, "1e400"),
    ("{{ 'ab' }}", "malformed character constant: 'ab'", 1, "'ab'"),
    ('{{ "\\q" }}', "invalid syntax", 1, '"\\q"'),
    ("{{/* c */ }}", "comment ends before closing delimiter", 1, "/*"),
    ("{{ (1 }}", "unclosed left paren", 1, "{{ (1"),
    ("{{ a# }}", "bad character U+0023 '#'", 1, "a#"),
    ("{{ ☃ }}", "unrecognized character in action: U+2603 '☃'", 1, "☃"),
    ("{{ if\n  1 }}\n{{ end", "unclosed action", 3, "{{ end"),
    ("{{ printf \"%s\"\n  \"abc }}", "unterminated quoted string in action started at __alert_M:1", 2, '"abc'),
    ("{{ humanizeThis $value }}", 'function "humanizeThis" not defined', 1, "humanizeThis"),
    ("{{ with $x := 1 }}{{ end }}{{ $x }}", 'undefined variable "$x"', 1, "$x }}"),
    ('{{ define "a" }}{{ $labels }}{{ end }}', 'undefined variable "$labels"', 1, "$labels"),
]


@pytest.mark.parametrize(("text", "message", "go_line", "at"), CASES)
def test_messages_lines_and_the_token_at_fault(text: str, message: str, go_line: int, at: str) -> None:
    error = parse_template(text, name="__alert_M").error
    assert error is not None
    assert (error.message, error.go_line) == (message, go_line)
    offset = text.rindex(at) if at.startswith("}}") or at.startswith("$x }}") else text.find(at) if at else len(text)
    assert error.offset == offset
    assert (error.line, error.column) == (text.count("\n", 0, offset) + 1, offset - text.rfind("\n", 0, offset))


@needs_promtool
def test_the_cases_are_what_promtool_says(tmp_path: Path) -> None:
    file = tmp_path / "cases.yml"
    file.write_text(_rule_file([{"alert": "M", "expr": "vector(1)", "annotations": {"t": text}}
                                for text, *_ in CASES]), encoding="utf-8")
    promtool = _promtool([file])
    for number, (_, message, go_line, _) in enumerate(CASES, start=1):
        assert promtool[(file.name, number, "annotation", "t")] == f"template: __alert_M:{go_line}: {message}"


@needs_promtool
def test_the_functions_defined_are_promtools(tmp_path: Path) -> None:
    """Each function either dialect defines, and near misses: promtool 2.42 accepts exactly its own."""
    probes = {  # Go's builtins and Prometheus' functions as their documentation lists them, and near misses
        "and", "call", "html", "index", "slice", "js", "len", "not", "or", "print", "printf", "println", "urlquery",
        "eq", "ge", "gt", "le", "lt", "ne", "query", "first", "label", "value", "strvalue", "args", "reReplaceAll",
        "safeHtml", "match", "title", "toUpper", "toLower", "graphLink", "tableLink", "sortByLabel", "stripPort",
        "stripDomain", "humanize", "humanize1024", "humanizeDuration", "humanizePercentage", "humanizeTimestamp",
        "toTime", "toDuration", "now", "pathPrefix", "externalURL", "parseDuration", "urlQueryEscape",
        "Humanize", "humanise", "toupper", "lenght", "break", "template", "exec", "tmpl", "safeUrl"}
    names = sorted(PROMETHEUS.functions | PROMETHEUS_2_42.functions | probes)
    file = tmp_path / "functions.yml"
    file.write_text(_rule_file([{"alert": "M", "expr": "vector(1)", "annotations": {"t": f"{{{{ {name} }}}}"}}
                                for name in names]), encoding="utf-8")
    promtool = _promtool([file])
    for number, name in enumerate(names, start=1):
        error = parse_template(f"{{{{ {name} }}}}", PROMETHEUS_2_42, name="__alert_M").error
        assert (error.go_error("__alert_M") if error else None) == promtool.get((file.name, number, "annotation",
                                                                                 "t")), name
        assert (error is None) == (name in PROMETHEUS_2_42.functions)
    assert PROMETHEUS.functions - PROMETHEUS_2_42.functions == NEWER_FUNCTIONS


def test_valid_templates_parse() -> None:
    for text in ["{{ $labels.instance }} of {{ $labels.job }} is down", "{{ $value | humanizePercentage }}",
                 "{{ range query \"up\" }}{{ .Labels.instance }} {{ .Value }}{{ end }}",
                 "{{ if gt $value 1.5 }}high{{ else if lt $value 0.5 }}low{{ else }}ok{{ end }}",
                 "{{- /* comment */ -}} {{ printf \"%.2f\" $value }}", "{{ `raw {{ string` }}",
                 "{{ range $i, $e := . }}{{ if $i }}{{ break }}{{ end }}{{ continue }}{{ end }}",
                 "{{ with $x := $externalLabels.cluster }}{{ $x }}{{ end }} {{ $externalURL }}",
                 '{{ define "t" }}x{{ end }}{{ template "t" . }}{{ block "b" . }}y{{ end }}',
                 "{{ 0x1p-2 }} {{ 1_000 }} {{ 'a' }} {{ '\\n' }} {{ -1.5e3 }} {{ 1+2i }} {{ nil | print }}",
                 "{{ (index $labels \"a\") | toUpper }}", "{{ $ }}{{ $.Labels }}"]:
        assert parse_template(text).error is None, text


def test_the_newer_functions_and_else_with_are_accepted_only_by_the_newest_dialect() -> None:
    for text in ["{{ now }}", "{{ toDuration 60 }}", '{{ urlQueryEscape "a b" }}',
                 "{{ with 1 }}a{{ else with 2 }}b{{ end }}"]:
        assert parse_template(text, PROMETHEUS).error is None
        error = parse_template(text, PROMETHEUS_2_42).error
        assert error is not None and NEWER.match(error.message), text


# --- positions in the file, through every scalar style ------------------------------------------------

RULE_FILE = """\
groups:
  - name: api
    rules:
      - alert: ApiDown
        expr: up == 0
        labels:
          team: "{{ foo }}"
        annotations:
          plain: up {{ $labels.instance }} {{ bar }}
          double: "a\\tb\\u00e9 \\"q\\" {{ baz }}"
          single: 'it''s {{ qux }}'
          literal: |
            first line
              {{ $nope }}
          folded: >
            first words
            and more {{ quux }}
          flow: "first
            second {{ corge }}"
          fine: "{{ $labels.instance }}"
      - record: job:up:sum
        expr: sum by (job) (up)
        labels:
          note: "{{ not checked }}"
"""


def _diagnostics(text: str, path: str = "ops/alerts/rules.yml") -> list[Diagnostic]:
    documents, problems = load_yaml_text(path, text)
    assert problems == []
    return [item for document in documents for item in rule_records(document) if isinstance(item, Diagnostic)]


def test_positions_in_the_file_are_the_token_at_fault() -> None:
    lines = RULE_FILE.splitlines()
    found = {(d.line, d.column): d.message for d in _diagnostics(RULE_FILE)}
    expected = {}
    for word, message in [("foo", "label 'team': function \"foo\" not defined"),
                          ("bar", "annotation 'plain': function \"bar\" not defined"),
                          ("baz", "annotation 'double': function \"baz\" not defined"),
                          ("qux", "annotation 'single': function \"qux\" not defined"),
                          ("$nope", "annotation 'literal': undefined variable \"$nope\""),
                          ("quux", "annotation 'folded': function \"quux\" not defined"),
                          ("corge", "annotation 'flow': function \"corge\" not defined")]:
        line = next(number for number, text in enumerate(lines, start=1) if f"{{{{ {word} }}}}" in text)
        expected[(line, lines[line - 1].index(f"{{{{ {word} }}}}") + 4)] = message
    assert found == expected
    assert all(d.code == "OB302" and d.path == "ops/alerts/rules.yml" for d in _diagnostics(RULE_FILE))


def test_a_kubernetes_object_and_a_value_that_is_not_text() -> None:
    text = ("apiVersion: monitoring.coreos.com/v1\nkind: PrometheusRule\nmetadata: {name: api}\nspec:\n"
            "  groups:\n    - name: api\n      rules:\n        - alert: ApiDown\n          expr: up == 0\n"
            "          labels: {severity: 1, page: true}\n"
            "          annotations:\n            summary: '{{ $labels.instance'\n")
    [diagnostic] = _diagnostics(text)
    assert (diagnostic.code, diagnostic.line, diagnostic.column) == ("OB302", 12, 23)
    assert diagnostic.message == "annotation 'summary': unclosed action"


# --- bounds: untrusted input gives a diagnostic, never a traceback, in bounded time ------------------------

def test_hostile_templates_are_bounded() -> None:
    started = time.monotonic()
    deep = "{{ if 1 }}" * (MAX_DEPTH + 10) + "{{ end }}" * (MAX_DEPTH + 10)
    error = parse_template(deep).error
    assert error is not None and "nests deeper" in error.message
    parens = "{{ " + "(" * 5000 + "1" + ")" * 5000 + " }}"
    error = parse_template(parens).error
    assert error is not None and "nests deeper" in error.message
    error = parse_template("{{ x }}" + "a" * MAX_TEMPLATE_LENGTH).error
    assert error is not None and "longer than" in error.message
    long_valid = "{{ $labels.instance }} " * 5000
    assert parse_template(long_valid).error is None
    assert parse_template("{{" * 20000).error is not None
    assert time.monotonic() - started < 10
    rule = ("groups:\n  - name: a\n    rules:\n      - alert: A\n        expr: up == 0\n        annotations:\n"
            f"          d: \"{deep}\"\n")
    [diagnostic] = _diagnostics(rule)
    assert diagnostic.code == "OB302" and diagnostic.line == 7


# --- what a page will show ----------------------------------------------------------------------------

def test_references_and_placeholders() -> None:
    text = ("{{ $labels.instance }} of {{ .Labels.job }} at {{ $value | humanize }} "
            "({{ printf \"%.1f\" $value }}) {{ if $labels.env }}{{ $labels.env }}{{ end }} {{ $x := 1 }}")
    template = parse_template(text)
    assert template.error is None
    assert [reference.name for reference in template.references] == [
        "$labels.instance", ".Labels.job", "$value", "$value", "$labels.env", "$labels.env"]
    first = template.references[0]
    assert text[first.start:first.end] == "$labels.instance"
    assert placeholders(text) == ("‹instance› of ‹job› at ‹value› (‹value›) {{ if $labels.env }}‹env›{{ end }} "
                                  "{{ $x := 1 }}")
    assert placeholders("{{ $labels.instance") == "{{ $labels.instance"  # not a template: left as written
    assert placeholders("no action") == "no action"
