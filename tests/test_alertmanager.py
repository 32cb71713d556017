"""Alertmanager routing: matcher parsing, routing semantics, and a differential test against `amtool`."""

from __future__ import annotations

import itertools
import random
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from opsbook.kinds.alerting.alertmanager import as_written
from opsbook.kinds.alerting.routing import (
    MatcherError,
    build_tree,
    go_text,
    parse_labels,
    parse_matcher,
    parse_matchers,
)
from opsbook.loader import load_yaml_file, load_yaml_text

CORPUS = Path(__file__).parent.parent.parent / "shared" / "corpus" / "alertmanager"
OWN = Path(__file__).parent / "fixtures" / "alertmanager"
AMTOOL = shutil.which("amtool")


@pytest.mark.parametrize(("text", "expected"), [
    ('severity="critical"', ("severity", "=", "critical")),
    ("severity=critical", ("severity", "=", "critical")),
    ('  team != "data"  ', ("team", "!=", "data")),
    ('alertname=~"Disk.*|Node.*"', ("alertname", "=~", "Disk.*|Node.*")),
    ("instance!~test-.*", ("instance", "!~", "test-.*")),
    ('q="with \\"escaped\\" quotes"', ("q", "=", 'with "escaped" quotes')),
    ('nl="a\\nb"', ("nl", "=", "a\nb")),
    ('odd="back\\slash"', ("odd", "=", "back\\slash")),
    ('empty=""', ("empty", "=", "")),
])
def test_parse_matcher(text: str, expected: tuple[str, str, str]) -> None:
    matcher = parse_matcher(text)
    assert (matcher.name, matcher.op, matcher.value) == expected


@pytest.mark.parametrize("text", ['a="unterminated', 'a=b"c', "9a=b", 'a=~"("', "=b", "a"])
def test_parse_matcher_refuses(text: str) -> None:
    with pytest.raises(MatcherError):
        parse_matcher(text)


def test_white_space_is_gos() -> None:
    """Go's `\\s`, ASCII `[\\t\\n\\f\\r ]`: a no-break space or `\\v` is part of a value, and before a
    name it is no matcher at all; undecodable bytes are refused as amtool refuses them."""
    assert parse_matcher("\t\r\nx\f = a \n").value == "a"
    assert parse_matcher("x=\u00a0a\v").value == "\u00a0a\v"
    for text in ("\vx=a", "\u00a0x=a"):
        with pytest.raises(MatcherError, match="bad matcher format"):
            parse_matcher(text)
    with pytest.raises(MatcherError, match="not valid UTF-8"):
        parse_matcher("x=a\udcff")
    assert parse_labels([]) == {} and parse_labels(["x=1", " x = 2 "]) == {"x": "2"}
    with pytest.raises(MatcherError, match="key=value pairs"):
        parse_labels(["env=~gprd"])


def test_go_regex_flags_and_end_of_text() -> None:
    assert parse_matcher('x=~"(?i)upper"').matches({"x": "UPPER"})
    assert parse_matcher('x=~"a\\z"').matches({"x": "a"})
    # As in Alertmanager, `a==b` is the matcher a = "=b".
    assert parse_matcher("a==b").value == "=b"


def test_parse_several_matchers_in_one_string() -> None:
    found = parse_matchers('{service="db", severity=~"critical|page", label="a,b"}')
    assert [(m.name, m.op, m.value) for m in found] == [
        ("service", "=", "db"), ("severity", "=~", "critical|page"), ("label", "=", "a,b")]


def test_regex_is_anchored_and_missing_labels_are_empty() -> None:
    matcher = parse_matcher('a=~"b|c"')
    assert matcher.matches({"a": "b"}) and not matcher.matches({"a": "bc"}) and not matcher.matches({})
    assert parse_matcher('a!=""').matches({"a": "x"}) and not parse_matcher('a!=""').matches({})
    assert parse_matcher('a=~".*"').matches({})


def _tree(yaml_text: str):
    (doc,), _ = load_yaml_text("am.yml", yaml_text)
    tree, problems = build_tree(doc.data)
    return tree, problems


def test_continue_inheritance_and_default() -> None:
    tree, problems = _tree(
        "route:\n  receiver: root\n  routes:\n"
        "    - {matchers: [a=\"1\"], receiver: one, continue: true}\n"
        "    - {matchers: [a=\"1\"], routes: [{matchers: [b=\"2\"], receiver: two}]}\n"
        "    - {matchers: [a=\"1\"], receiver: never}\n"
        "receivers: [{name: root}, {name: one}, {name: two}, {name: never}]\n")
    assert problems == []
    assert tree.receivers_for({"a": "1", "b": "2"}) == ["one", "two"]
    # The second route matches but none of its children: it receives, with the receiver it inherits.
    assert tree.receivers_for({"a": "1"}) == ["one", "root"]
    assert tree.receivers_for({"z": "9"}) == ["root"]


def test_configuration_problems_have_paths() -> None:
    _, problems = _tree("route:\n  receiver: root\n  routes:\n    - {matchers: ['a=\"x'], receiver: ghost}\n"
                        "receivers: [{name: root}, {name: root}]\n")
    found = {(p.path, p.message.split(":")[0]) for p in problems}
    assert (("receivers", 1, "name"), "receiver 'root' is defined twice") in found
    assert (("route", "routes", 0, "receiver"), "receiver 'ghost' is not defined") in found
    assert (("route", "routes", 0, "matchers", 0), "matcher value contains unescaped double quote") in found


def _configs() -> list[Path]:
    files = sorted(OWN.glob("*.yml"))
    if CORPUS.is_dir():
        files += sorted(CORPUS.glob("*.y*ml"))
    return files


def _candidate_values(value: str, op: str) -> set[str]:
    if op in ("=", "!="):
        return {value, value + "x"}
    found = {"", "x", "prod"}
    for alternative in re.split(r"\|", value.strip("()")):
        literal = re.sub(r"\.\*|\.\+", "z", alternative)
        if re.fullmatch(r"[A-Za-z0-9_.:-]*", literal):
            found.add(literal)
    return found


def _label_sets(tree, count: int, seed: int) -> list[dict[str, str]]:
    values: dict[str, set[str]] = {}
    for route in tree.root.walk():
        for matcher in route.matchers:
            values.setdefault(matcher.name, set()).update(_candidate_values(matcher.value, matcher.op))
    names = sorted(values)
    rng = random.Random(seed)
    sets = []
    for _ in range(count):
        labels = {name: rng.choice(sorted(values[name])) for name in names if rng.random() < 0.7}
        labels = {k: v for k, v in labels.items() if v and re.fullmatch(r"[A-Za-z0-9_.:-]+", v)}
        sets.append(labels or {"alertname": "Nothing"})
    return sets


@pytest.mark.skipif(AMTOOL is None, reason="amtool is not installed (Debian package prometheus-alertmanager)")
def test_routing_agrees_with_amtool() -> None:
    """Route label sets through every configuration amtool accepts, with opsbook and with amtool."""
    total = disagreements = 0
    examples = []
    accepted = []
    for file in _configs():
        check = subprocess.run([AMTOOL, "check-config", str(file)], capture_output=True, text=True, timeout=60)
        if check.returncode != 0:
            continue  # compared only where amtool has an answer; rejected ones are tested for diagnostics
        accepted.append(file.name)
        documents, problems = load_yaml_file(file, file.name)
        assert not problems, problems
        document = documents[0]
        tree, route_problems = build_tree(document.data, text=lambda path, d=document: as_written(d, path))
        assert tree is not None and route_problems == [], (file, route_problems)
        # The project's own configuration gets enough label sets to reach 200 without the corpus.
        for labels in _label_sets(tree, 200 if file.parent == OWN else 40, seed=len(file.name)):
            args = [f"{name}={value}" for name, value in labels.items()]
            result = subprocess.run([AMTOOL, "config", "routes", "test", f"--config.file={file}", *args],
                                    capture_output=True, text=True, timeout=60)
            theirs = result.stdout.strip()
            ours = ",".join(tree.receivers_for(labels))
            total += 1
            if theirs != ours:
                disagreements += 1
                examples.append((file.name, labels, theirs, ours))
    print(f"amtool differential: {len(accepted)} configurations, {total} label sets, "
          f"{disagreements} disagreements")
    assert total >= 200
    assert disagreements == 0, examples[:10]


# A configuration whose every route shows one reading of the labels: each routes with `continue`, so
# the receivers printed tell which values amtool and opsbook read from the same arguments.
_ARGUMENTS_CONFIG = r"""
route:
  receiver: root
  routes:
    - {matchers: ['x="a\"b"'], receiver: x-quote, continue: true}
    - {matchers: ['x="a\nb"'], receiver: x-newline, continue: true}
    - {matchers: ['x="a\\b"'], receiver: x-backslash, continue: true}
    - {matchers: ['x="a\\nb"'], receiver: x-backslash-n, continue: true}
    - {matchers: ['x=" a "'], receiver: x-spaced, continue: true}
    - {matchers: ['x="é"'], receiver: x-utf8, continue: true}
    - {matchers: ['x=""'], receiver: x-empty, continue: true}
    - {matchers: ['x=~"a.*"'], receiver: x-starts-a, continue: true}
    - {matchers: ['x=~".*\\\\.*"'], receiver: x-has-backslash, continue: true}
    - {matchers: ['x=~".*\".*"'], receiver: x-has-quote, continue: true}
    - {matchers: ['x=~"(?s).*\\s.*"'], receiver: x-has-space, continue: true}
    - {matchers: ['env="gprd"'], receiver: env-gprd, continue: true}
    - {matchers: ['env=~"=.*|~.*"'], receiver: env-operator, continue: true}
    - {matchers: ['env!=""'], receiver: env-set, continue: true}
    - {matchers: ['a:b="1"'], receiver: colon, continue: true}
    - {matchers: ['_x=~".+"'], receiver: underscore, continue: true}
    - {matchers: ['alertname=~"日本.*"'], receiver: utf8-value, continue: true}
receivers: [{name: root}, {name: x-quote}, {name: x-newline}, {name: x-backslash}, {name: x-backslash-n},
  {name: x-spaced}, {name: x-utf8}, {name: x-empty}, {name: x-starts-a}, {name: x-has-backslash},
  {name: x-has-quote}, {name: x-has-space}, {name: env-gprd}, {name: env-operator}, {name: env-set},
  {name: colon}, {name: underscore}, {name: utf8-value}]
"""

# The shapes of issue #16 (item 4), each an argument list, then the seeded random ones.
_ISSUE_ARGUMENTS = [[], ['x="a\\"b"'], ["x=a\\nb"], ['x="a\\nb"'], ["x=a\\\\b"], ["x=a\\b"], [" x = a "],
                    ['x=" a "'], ["a:b=1"], ['x="a'], ['x=a"'], ['x="a"b"'], ["env=~gprd"], ["env!=gprd"],
                    ["env=gprd", "env=prod"], ["x="], ['x=""'], ["x=é"], ["é=1"], ["alertname=日本語"],
                    ["x=a\\"], ['x="a\\"'], ["env==gprd"], ["\vx=a"], ["x=\va"], ["x=\u00a0a"], ["\tx\t=\ta\t"],
                    ["x=a\udcff"], ["x"], ["=a"], ["9x=a"], ["x y=a"]]


def _argument(rng: random.Random) -> str:
    """One argument: most are labels amtool reads (spaces, quotes, escapes, UTF-8), one in four may be
    anything (a bad name, another operator, an unbalanced quote, a stray quote, undecodable bytes)."""
    hostile = rng.random() < 0.25
    names = ["x", "x", "x", "env", "env", "a:b", "_x", "alertname", ":", "X"]
    spaces = ["", "", "", " ", "  ", "\t", "\n", "\r\n"]
    ops = ["="]
    fragments = ["a", "b", "1", "gprd", "é", "日本", '\\"', "\\n", "\\\\", "\\t", " ", ",", "\n", "{", "}",
                 "=", "~", "''", "$x"]
    quotings = ["none", "both"]
    if hostile:
        names += ["é", "9x", "", "x y", "a.b", "a-b"]
        spaces += ["\v", "\u00a0"]
        ops += ["=~", "!=", "!~", "==", "=!", ":", "~"]
        fragments += ["\\", '"', "\udcff"]
        quotings += ["open", "close"]
    value = "".join(rng.choice(fragments) for _ in range(rng.choice([0, 1, 1, 2, 3])))
    quoting = rng.choice(quotings)
    if quoting in ("both", "open"):
        value = '"' + value
    if quoting in ("both", "close"):
        value += '"'
    return (rng.choice(spaces) + rng.choice(names) + rng.choice(spaces) + rng.choice(ops) + rng.choice(spaces)
            + value + rng.choice(spaces))


def argument_sets(count: int, seed: int) -> list[list[str]]:
    """The issue's shapes and `count` seeded random argument lists (none to four arguments, a name
    repeated often); none starts with `-` or `@`, which both programs read as options and amtool as
    a file of arguments, before any label is parsed."""
    rng = random.Random(seed)
    sets = [list(arguments) for arguments in _ISSUE_ARGUMENTS]
    while len(sets) < len(_ISSUE_ARGUMENTS) + count:
        arguments = [_argument(rng) for _ in range(rng.choice([0, 1, 1, 2, 2, 3, 4]))]
        if not any(a.startswith(("-", "@")) for a in arguments):
            sets.append(arguments)
    return sets


def route_answer(tree, arguments: list[str]) -> tuple[str, int]:
    """What `opsbook route` prints on standard output, and its status, for these arguments: the
    receivers of `parse_labels(arguments)`, or nothing and 1 when amtool could not read them."""
    try:
        labels = parse_labels(arguments)
    except MatcherError:
        return "", 1
    return ",".join(tree.receivers_for(labels)) + "\n", 0


def arguments_tree(tmp_path: Path):
    """`_ARGUMENTS_CONFIG` written to a file amtool accepts, and its routing tree."""
    config = tmp_path / "alertmanager.yml"
    config.write_text(_ARGUMENTS_CONFIG, encoding="utf-8")
    (document,), problems = load_yaml_file(config, config.name)
    tree, route_problems = build_tree(document.data)
    assert not problems and not route_problems and tree is not None
    return config, tree


def amtool_answers(config: Path, sets: list[list[str]]) -> list[tuple[str, int]]:
    """`amtool config routes test`'s standard output and status for each argument list, a process each,
    in a pool of threads."""
    from concurrent.futures import ThreadPoolExecutor

    assert AMTOOL is not None

    def one(arguments: list[str]) -> tuple[str, int]:
        result = subprocess.run([AMTOOL, "config", "routes", "test", f"--config.file={config}", *arguments],
                                capture_output=True, timeout=60)
        return result.stdout.decode("utf-8", "surrogateescape"), result.returncode

    with ThreadPoolExecutor(max_workers=4) as pool:
        return list(pool.map(one, sets))


@pytest.mark.skipif(AMTOOL is None, reason="amtool is not installed (Debian package prometheus-alertmanager)")
def test_labels_are_read_as_amtool_reads_them(tmp_path: Path) -> None:
    """`parse_labels` against `amtool config routes test` on the same argument lists: the same standard
    output and the same status, for quoting, escapes, spaces, UTF-8, `:` in names, unbalanced quotes,
    other operators, repeated names and no labels at all."""
    config, tree = arguments_tree(tmp_path)
    check = subprocess.run([AMTOOL, "check-config", str(config)], capture_output=True, text=True, timeout=60)
    assert check.returncode == 0, check.stdout + check.stderr
    sets = argument_sets(520, seed=16)
    theirs = amtool_answers(config, sets)
    disagreements = [(arguments, their, route_answer(tree, arguments))
                     for arguments, their in zip(sets, theirs, strict=True) if their != route_answer(tree, arguments)]
    refused = sum(1 for _, status in theirs if status != 0)
    print(f"amtool argument differential: {len(sets)} argument sets ({refused} refused by amtool), "
          f"{len(disagreements)} disagreements")
    assert len(sets) >= 500 and 0 < refused < len(sets)
    assert len({output for output, _ in theirs}) > 20  # the arguments reach many combinations of routes
    assert disagreements == [], disagreements[:10]


@pytest.mark.skipif(not CORPUS.is_dir(), reason="../shared/corpus/alertmanager is not here")
def test_configurations_amtool_rejects_get_a_diagnostic(tmp_path: Path) -> None:
    from opsbook import analyse
    from opsbook.config import Config

    malformed = CORPUS / "kube-prometheus__examples_alertmanager-config.yaml"
    (tmp_path / "ops").mkdir()
    shutil.copy(malformed, tmp_path / "ops" / "alertmanager.yml")
    analysis = analyse(tmp_path, Config(root=tmp_path))
    found = [(d.code, d.line) for d in analysis.diagnostics]
    assert ("OB320", 18) in found  # slack_configs at the top level, outside any receiver


def test_route_cli_matches_the_tree(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from opsbook.cli import main

    result = CliRunner().invoke(main, ["route", "--config", str(OWN / "tricky.yml"), "-v",
                                       "service=db", "severity=page", "env=prod"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "db-prod,db-chat"
    assert lines[1].strip() == ('root -> {service="db", severity=~"critical|page"} -> {env="prod"} => db-prod')
    assert CliRunner().invoke(main, ["route", "--config", str(OWN / "tricky.yml"), "not a label"]).exit_code != 0


def test_every_combination_of_small_label_sets_is_stable() -> None:
    """Routing is a pure function of the labels: the same answer twice, in any label order."""
    documents, _ = load_yaml_file(OWN / "tricky.yml", "tricky.yml")
    tree, _ = build_tree(documents[0].data)
    for service, severity in itertools.product(["db", "web-1", "x"], ["critical", "page", "info"]):
        labels = {"service": service, "severity": severity}
        assert tree.receivers_for(labels) == tree.receivers_for(dict(reversed(labels.items())))


def test_an_invalid_regex_is_a_diagnostic_and_nothing_else_on_stderr(tmp_path: Path) -> None:
    """RE2 logs its own error line to stderr unless told not to; the diagnostic is the only report."""
    import sys

    (tmp_path / "ops").mkdir()
    (tmp_path / "ops" / "alertmanager.yml").write_text(
        "route:\n  receiver: a\n  routes:\n    - matchers: ['x=~\"(a\"']\n      receiver: a\nreceivers:\n  - name: a\n",
        encoding="utf-8")
    result = subprocess.run([sys.executable, "-m", "opsbook", "check", str(tmp_path)], capture_output=True,
                            text=True, timeout=60)
    assert "OB320 invalid regular expression '(a'" in result.stdout
    assert "re2.cc" not in result.stderr and "absl" not in result.stderr, result.stderr


# --- Scalars as written ------------------------------------------------------------------------------
# Alertmanager reads its file with Go's yaml.v2, which hands a string field the scalar as written; PyYAML
# (YAML 1.1) has already made numbers, booleans and nulls of these. opsbook reads them from the document.

#: Plain scalars PyYAML reads as something other than their text (`0o17`, `1e3`, `y` and `n` it keeps as text,
#: `~` is null to both), each of which Alertmanager reads as written.
YAML_1_1_FORMS = ["1.10", "yes", "Yes", "on", "OFF", "no", "y", "n", "true", "0x1F", "0b101", "017", "0o17", "12:30",
                  "1:20:30", "1_000", "+1", "-0", "1.0e+3", "1e3", ".5", ".inf", "-.Inf", ".NaN", "2001-12-14", "~",
                  "0.", "1__0", "0x_1F", "+0x1F", "-017", "190:20:30", "1_0.1_0"]


def _written_tree(yaml_text: str):
    """The routing tree of a configuration as `opsbook check` and `opsbook route` read it: the scalars as
    written."""
    (document,), problems = load_yaml_text("am.yml", yaml_text)
    assert problems == []
    return build_tree(document.data, text=lambda path: as_written(document, path))


def _pyyaml_text(form: str) -> str:
    """What the form becomes when PyYAML's value is turned back into text (`1.10` is `1.1`, `yes` is `true`)."""
    (document,), _ = load_yaml_text("form.yml", f"v: {form}\n")
    return go_text(document.data["v"])


def test_match_values_are_read_as_written() -> None:
    """`match: {v: 1.10}` matches `v="1.10"`, as in Alertmanager, not PyYAML's `1.1`; likewise `yes`
    (not `true`), `0x1F` (not `31`), `12:30` (not `750`, base 60), `1_000` (not `1000`), and `017`
    (not `15`) in `match_re`; receivers are named as written too (`2027`, `yes` and `true` are three)."""
    tree, problems = _written_tree("""\
route:
  receiver: 2027
  routes:
    - {match: {v: 1.10}, receiver: yes}
    - {match: {flag: yes}, receiver: true}
    - {match: {code: 0x1F}, receiver: on}
    - {match: {t: 12:30}, receiver: 1.10}
    - {match: {big: 1_000}, receiver: 0x1F}
    - {match_re: {o: 017}, receiver: 017}
    - {matchers: [v="1.1"], receiver: '1.1'}
receivers: [{name: 2027}, {name: yes}, {name: true}, {name: on}, {name: 1.10}, {name: 0x1F}, {name: 017},
            {name: '1.1'}]
""")
    assert problems == [] and tree is not None
    assert sorted(tree.receivers) == sorted(["2027", "yes", "true", "on", "1.10", "0x1F", "017", "1.1"])
    cases = [("v", "1.10", "1.1", "yes"), ("flag", "yes", "true", "true"), ("code", "0x1F", "31", "on"),
             ("t", "12:30", "750", "1.10"), ("big", "1_000", "1000", "0x1F"), ("o", "017", "15", "017")]
    for name, written, converted, receiver in cases:
        assert tree.receivers_for({name: written}) == [receiver], (name, written)
        assert tree.receivers_for({name: converted}) == (["1.1"] if name == "v" else ["2027"]), (name, converted)
    assert [str(m) for m in tree.root.children[0].matchers] == ['v="1.10"']
    # Given plain values and no document, opsbook can only read PyYAML's: `1.10` is `1.1` then.
    (document,), _ = load_yaml_text("am.yml", "route: {receiver: r, routes: [{match: {v: 1.10}, receiver: r}]}\n"
                                              "receivers: [{name: r}]\n")
    plain, _ = build_tree(document.data)
    assert plain is not None and [str(m) for m in plain.root.children[0].matchers] == ['v="1.1"']


def test_route_settings_read_as_written() -> None:
    """`group_by: [on]` groups by the label `on`; a duration written `00` or `0x0` is refused, as
    Alertmanager refuses it (PyYAML reads 0, a valid duration); `continue: n` is false and `continue: y`
    true (yaml.v2's booleans, text to PyYAML), `continue: 1` refused; a null `match_re` value is refused."""
    tree, problems = _written_tree("""\
route:
  receiver: r
  group_by: [on, yes]
  routes:
    - {match: {c: a}, receiver: a, continue: n, group_wait: 00}
    - {match: {c: a}, receiver: b, continue: y, group_interval: 0x0}
    - {match: {c: a}, receiver: r, continue: 1}
    - {match_re: {c: ~}, receiver: r}
receivers: [{name: r}, {name: a}, {name: b}]
""")
    assert tree is not None
    assert tree.root.group_by == ["on", "yes"]
    assert [route.continue_ for route in tree.root.children] == [False, True, False, False]
    assert {(p.path[-1], p.message) for p in problems} == {
        ("c", "invalid regexp value for 'c'"),
        ("group_wait", "group_wait: not a valid duration string: '00'"),
        ("group_interval", "group_interval: not a valid duration string: '0x0'"),
        ("continue", "continue must be true or false, not 1")}


def _yaml_1_1_config(forms: list[str], regex_forms: list[str]) -> str:
    """Each form as a `match` value on a route of its own whose receiver is named by the form too, each
    regex form as a `match_re` value, all with `continue: true`; then `continue: n` and `continue: y`."""
    lines = ["route:", "  receiver: root", "  routes:"]
    receivers = ["root", "null-form", "c-n", "c-y", "c-after"]
    for form in forms:
        receiver = "null-form" if form == "~" else form
        lines += ["    - match:", f"        v: {form}", f"      receiver: {receiver}", "      continue: true"]
        if receiver not in receivers:
            receivers.append(receiver)
    for index, form in enumerate(regex_forms):
        lines += ["    - match_re:", f"        r: {form}", f"      receiver: re-{index}", "      continue: true"]
        receivers.append(f"re-{index}")
    lines += ["    - {match: {c: stop}, receiver: c-n, continue: n}", "    - {match: {c: stop}, receiver: c-after}",
              "    - {match: {c: go}, receiver: c-y, continue: y}", "    - {match: {c: go}, receiver: c-after}"]
    lines += ["receivers:"] + [f"  - name: {name}" for name in receivers]
    return "\n".join(lines) + "\n"


@pytest.mark.skipif(AMTOOL is None, reason="amtool is not installed (Debian package prometheus-alertmanager)")
def test_yaml_1_1_match_values_agree_with_amtool(tmp_path: Path) -> None:
    """`opsbook route` against `amtool config routes test` on a configuration whose `match` and
    `match_re` values and receiver names are written in forms PyYAML turns into numbers, booleans or
    null (`1.10`, `yes`, `on`, `0x1F`, `017`, `12:30`, `1_000`, `.inf`, ...), for label sets holding
    each form as written and as PyYAML's value reads back."""
    from click.testing import CliRunner

    from opsbook.cli import main

    # `+1` is no RE2 pattern; a null `match_re` value Alertmanager refuses.
    regex_forms = [form for form in YAML_1_1_FORMS if not form.startswith("+") and form != "~"]
    config = tmp_path / "alertmanager.yml"
    config.write_text(_yaml_1_1_config(YAML_1_1_FORMS, regex_forms), encoding="utf-8")
    check = subprocess.run([AMTOOL, "check-config", str(config)], capture_output=True, text=True, timeout=60)
    assert check.returncode == 0, check.stdout + check.stderr
    converted = {form: _pyyaml_text(form) for form in YAML_1_1_FORMS}
    written_value = {form: "" if form == "~" else form for form in YAML_1_1_FORMS}
    sets: list[list[str]] = [["c=stop"], ["c=go"]]
    for form in YAML_1_1_FORMS:
        sets += [[f"v={written_value[form]}"], [f"v={converted[form]}"]]
    for form in regex_forms:
        sets += [[f"r={written_value[form]}"], [f"r={converted[form]}"]]
    theirs = amtool_answers(config, sets)
    runner = CliRunner()
    ours = [(result.stdout, result.exit_code)
            for result in (runner.invoke(main, ["route", "--config", str(config), *arguments]) for arguments in sets)]
    disagreements = [(arguments, their, our) for arguments, their, our in zip(sets, theirs, ours, strict=True)
                     if their != our]
    # The forms whose text and PyYAML's value route differently for amtool: what the test tells apart.
    answer = dict(zip(map(tuple, sets), theirs, strict=True))
    told_apart = sum(1 for form in YAML_1_1_FORMS
                     if answer[(f"v={written_value[form]}",)] != answer[(f"v={converted[form]}",)])
    print(f"amtool YAML 1.1 differential: {len(YAML_1_1_FORMS)} forms, {len(sets)} label sets, "
          f"{told_apart} forms routed differently as written and as PyYAML reads them, "
          f"{len(disagreements)} disagreements")
    assert all(status == 0 for _, status in theirs)
    assert told_apart >= 25
    # `continue: n` stops the search, `continue: y` goes on (`v: ~` is `v=""`, which these match too).
    assert theirs[:2] == [("null-form,c-n\n", 0), ("null-form,c-y,c-after\n", 0)]
    assert disagreements == [], disagreements[:10]
