"""Alertmanager's inhibition rules: which firing alerts silence which, read and decided as Alertmanager does.

Each rule follows a file of Alertmanager's source (0.25, Debian's, unless said otherwise):

- `config/config.go` (`InhibitRule`): a rule's source and target sides are each written in the three
  syntaxes of route matchers, the older `source_match` / `target_match` (equality) and
  `source_match_re` / `target_match_re` (anchored regular expressions, a null one refused) beside
  `source_matchers` / `target_matchers`; all of a side's matchers must hold. `equal` lists label names.
- `inhibit/inhibit.go` (`Inhibitor.Mutes`, `InhibitRule.hasEqual`): an alert is inhibited by the first
  rule, in order, whose target side it matches and for which some firing alert matches the source side
  and has the same value for every `equal` label, a label missing on both counting as the same (empty)
  value. When the alert matches the source side too, source alerts that also match the target side do
  not count: two alerts matching both sides do not silence each other. An inhibited alert still
  inhibits others.

The values of `source_match`, `target_match` and their `_re` forms, the `*_matchers` strings and the
names under `equal` are Go strings, read by Alertmanager as written: `severity: on` is `on`, not PyYAML's
`True`; `text` gives them from the document (`routing.scalar_text`).

Alertmanager's main branch keeps, for each rule and each set of `equal` values, a single source alert
(the one that resolves last, else the last to arrive) and judges with that one alone; with several
firing source alerts of which some match both sides, whether the target is inhibited there depends on
their order of arrival. This module follows 0.25, where any qualifying source alert inhibits.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .routing import Matcher, RouteProblem, TextAt, read_matchers, scalar_text

__all__ = ["InhibitRule", "Inhibition", "read_inhibit_rules", "inhibitions"]

_FIELDS = ("source_match", "source_match_re", "source_matchers", "target_match", "target_match_re",
           "target_matchers", "equal")
_LABEL_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*\Z")


@dataclass(frozen=True)
class InhibitRule:
    """One inhibition rule: its place in `inhibit_rules`, its two sides and its `equal` labels."""

    index: int
    source: tuple[Matcher, ...]
    target: tuple[Matcher, ...]
    equal: tuple[str, ...]

    def sources(self, labels: Mapping[str, str]) -> bool:
        return all(matcher.matches(labels) for matcher in self.source)

    def targets(self, labels: Mapping[str, str]) -> bool:
        return all(matcher.matches(labels) for matcher in self.target)


@dataclass(frozen=True)
class Inhibition:
    """Why an alert is inhibited: the rule (its index in `inhibit_rules`) and the source alerts (their
    indexes among the alerts given) that silence it under that rule."""

    rule: int
    by: tuple[int, ...]


def read_inhibit_rules(config: Mapping[str, Any], *, base: tuple[str | int, ...] = (),
                       text: TextAt | None = None) -> tuple[list[InhibitRule], list[RouteProblem]]:
    """The inhibition rules of a configuration, and what Alertmanager would refuse in them, each at its
    path. A rule with a problem is left out. `text` gives the scalar at a path as written."""
    problems: list[RouteProblem] = []
    rules: list[InhibitRule] = []
    declared = config.get("inhibit_rules")
    if declared is None:
        return rules, problems
    if not isinstance(declared, list):
        return rules, [RouteProblem((*base, "inhibit_rules"), "inhibit_rules must be a list of rules")]
    for index, data in enumerate(declared):
        path = (*base, "inhibit_rules", index)
        if data is None:  # amtool accepts it; Alertmanager 0.25 itself fails on it (a nil rule)
            continue  # and read as the zero rule, it would inhibit nothing: every alert matches both sides
        if not isinstance(data, dict):
            problems.append(RouteProblem(path, "an inhibition rule must be a mapping"))
            continue
        before = len(problems)
        for name in data:
            if name not in _FIELDS:
                problems.append(RouteProblem((*path, name), f"unknown field '{name}' in an inhibition rule "
                                             f"(known: {', '.join(_FIELDS)})", key=True))
        source = read_matchers(data, path, ("source_match", "source_match_re", "source_matchers"), problems, text)
        target = read_matchers(data, path, ("target_match", "target_match_re", "target_matchers"), problems, text)
        equal: list[str] = []
        raw = data.get("equal")
        if raw is not None and not isinstance(raw, list):
            problems.append(RouteProblem((*path, "equal"), "equal must be a list of label names"))
        for position, item in enumerate(raw if isinstance(raw, list) else []):
            if item is None:  # the zero value, never checked: a label no alert has
                name = ""
            elif isinstance(item, (dict, list)):
                problems.append(RouteProblem((*path, "equal", position), "equal must be a list of label names"))
                continue
            else:
                name = scalar_text(item, (*path, "equal", position), text)
                if not _LABEL_NAME.match(name):
                    problems.append(RouteProblem((*path, "equal", position), f"'{name}' is not a valid label name"))
                    continue
            if name not in equal:
                equal.append(name)
        if len(problems) == before:
            rules.append(InhibitRule(index, tuple(source), tuple(target), tuple(equal)))
    return rules, problems


def inhibitions(alerts: Sequence[Mapping[str, str]], rules: Sequence[InhibitRule]) -> dict[int, Inhibition]:
    """The alerts (by index) that the others inhibit, all firing together, each with its first rule and
    every source alert that inhibits it under that rule."""
    found: dict[int, Inhibition] = {}
    for rule in rules:
        targets = [index for index, labels in enumerate(alerts) if index not in found and rule.targets(labels)]
        if not targets:
            continue
        # The source alerts of this rule, by their values of the `equal` labels (missing is empty).
        sources: dict[tuple[str, ...], list[int]] = {}
        for index, labels in enumerate(alerts):
            if rule.sources(labels):
                sources.setdefault(tuple(labels.get(name, "") for name in rule.equal), []).append(index)
        if not sources:
            continue
        for index in targets:
            labels = alerts[index]
            candidates = sources.get(tuple(labels.get(name, "") for name in rule.equal), [])
            if candidates and rule.sources(labels):  # both sides: sources matching both sides do not count
                candidates = [other for other in candidates if not rule.targets(alerts[other])]
            if candidates:
                found[index] = Inhibition(rule.index, tuple(candidates))
    return found
