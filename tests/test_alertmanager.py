"""Alertmanager routing: matcher parsing, routing semantics, and a differential test against `amtool`."""

from __future__ import annotations

import itertools
import random
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from opsbook.kinds.alerting.routing import MatcherError, build_tree, parse_matcher, parse_matchers
from opsbook.loader import load_yaml_file

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
    from opsbook.loader import load_yaml_text

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
        tree, route_problems = build_tree(documents[0].data)
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
    assert CliRunner().invoke(main, ["route", "--config", str(OWN / "tricky.yml"), "not a label"]).exit_code == 2


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
