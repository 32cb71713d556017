"""Prometheus rule files, read as they are: rule groups, alerting rules and recording rules.

A file holds `groups:` (Prometheus' own format), or is a Kubernetes `PrometheusRule` object whose
`spec` holds them; a file may hold several YAML documents. Each alerting rule becomes an `alert`
record named by its `alert:` (the same name may be defined more than once, say with two severities),
each recording rule a `recording_rule` record, and each group a `rule_group` record.
The structure is checked as `promtool check rules` checks it, and every expression is parsed with a
real PromQL parser.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, ClassVar

from ...diagnostics import Code, Diagnostic, Severity, make
from ...durations import parse_duration
from ...loader import Document
from ...model import Kind, Record, safe_slug
from .promql import parse_expr

__all__ = ["AlertRule", "RecordingRule", "RuleGroup", "ALERT_KIND", "GROUP_KIND", "RECORDING_KIND",
           "rule_records"]

OB300 = Code("OB300", Severity.ERROR, "Invalid Prometheus rule file",
         "The rule file does not have the structure Prometheus requires, so `promtool check rules` and "
         "Prometheus itself would refuse it: an unknown field, a group without a name or named twice in the "
         "file, a rule with both or neither of `alert` and `record`, a rule without `expr`, a duration such "
         "as `for` that is not one, an invalid label name, or annotations on a recording rule.",
         failing="# ops/alerts/api.yml\n"
                 "groups:\n"
                 "  - name: api\n"
                 "    rules:\n"
                 "      - alert: ApiDown\n"
                 "        expr: up{job=\"api\"} == 0\n"
                 "        for: five minutes\n"
                 "        labels: {team: data}\n",
         passing="# ops/alerts/api.yml\n"
                 "groups:\n"
                 "  - name: api\n"
                 "    rules:\n"
                 "      - alert: ApiDown\n"
                 "        expr: up{job=\"api\"} == 0\n"
                 "        for: 5m\n"
                 "        labels: {team: data}\n")
OB301 = Code("OB301", Severity.ERROR, "Invalid PromQL expression",
         "A rule's `expr` is not valid PromQL. The message is the parser's; Prometheus would refuse to load "
         "the file.",
         failing="# ops/alerts/api.yml\n"
                 "groups:\n"
                 "  - name: api\n"
                 "    rules:\n"
                 "      - alert: ApiErrors\n"
                 "        expr: rate(http_errors_total[5m] > 1\n"
                 "        labels: {team: data}\n",
         passing="# ops/alerts/api.yml\n"
                 "groups:\n"
                 "  - name: api\n"
                 "    rules:\n"
                 "      - alert: ApiErrors\n"
                 "        expr: rate(http_errors_total[5m]) > 1\n"
                 "        labels: {team: data}\n")

_GROUP_FIELDS = {"name", "interval", "rules", "limit", "query_offset", "labels"}
_ALERT_FIELDS = {"alert", "expr", "for", "keep_firing_for", "labels", "annotations"}
_RECORD_FIELDS = {"record", "expr", "labels"}
_LABEL_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*\Z")  # \Z, not $: no name ends in a newline
_METRIC_NAME = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*\Z")


@dataclass
class RuleGroup(Record):
    """A group of rules in a rule file."""

    kind: ClassVar[str] = "rule_group"

    prefix: tuple[str | int, ...] = ()
    name: str = ""

    def _prefix(self) -> tuple[str | int, ...]:
        return self.prefix

    @property
    def title(self) -> str:
        return self.name

    @property
    def slug(self) -> str:
        return safe_slug(self.id)  # a long name would be a file name over the file system's limit

    @property
    def interval(self) -> str | None:
        value = self.data.get("interval")
        return value if isinstance(value, str) else None


@dataclass
class _Rule(Record):
    prefix: tuple[str | int, ...] = ()
    group_id: str = ""

    def _prefix(self) -> tuple[str | int, ...]:
        return self.prefix

    @property
    def slug(self) -> str:
        return safe_slug(self.id)

    @property
    def expr(self) -> str:
        value = self.data.get("expr")
        return value if isinstance(value, str) else "" if value is None else str(value)

    @property
    def labels(self) -> dict[str, str]:
        value = self.data.get("labels")
        return {str(k): str(v) for k, v in value.items()} if isinstance(value, dict) else {}

    @property
    def metrics(self) -> tuple[str, ...]:
        return parse_expr(self.expr).metrics if self.expr else ()


@dataclass
class AlertRule(_Rule):
    """An alerting rule."""

    kind: ClassVar[str] = "alert"

    @property
    def title(self) -> str:
        return self.id

    @property
    def annotations(self) -> dict[str, str]:
        value = self.data.get("annotations")
        return {str(k): str(v) for k, v in value.items()} if isinstance(value, dict) else {}

    @property
    def severity(self) -> str | None:
        return self.labels.get("severity")

    @property
    def for_(self) -> str | None:
        value = self.data.get("for")
        return value if isinstance(value, str) else None

    def routing_labels(self) -> dict[str, str]:
        """The labels Alertmanager sees that the rule itself fixes: its labels and `alertname`."""
        return {**self.labels, "alertname": self.id}

    def definition(self) -> tuple[str, tuple[tuple[str, str], ...], str | None]:
        """What makes two rules of the same name the same rule."""
        return (" ".join(self.expr.split()), tuple(sorted(self.labels.items())), self.for_)


@dataclass
class RecordingRule(_Rule):
    """A recording rule."""

    kind: ClassVar[str] = "recording_rule"

    @property
    def title(self) -> str:
        return self.id


def _groups_of(document: Document) -> tuple[Any, tuple[str | int, ...]] | None:
    """The `groups` list of a rule document and its path, or None for a document that holds no rules."""
    data = document.data
    if not isinstance(data, dict):
        return None
    if "apiVersion" in data and "kind" in data:  # a Kubernetes object
        spec = data.get("spec")
        if data.get("kind") != "PrometheusRule" or not isinstance(spec, dict):
            return None  # another Kubernetes object in a multi-document file
        return spec.get("groups"), ("spec", "groups")
    return data.get("groups"), ("groups",)


def rule_records(document: Document) -> Iterator[Record | Diagnostic]:
    """Rule groups, alerting rules and recording rules of one document, and the problems in its structure."""
    path = document.path

    def problem(where: tuple[str | int, ...], message: str, code: Code = OB300, key: bool = False) -> Diagnostic:
        line, column = document.position(where, key=key)
        return make(code, path, line, column, message)

    data = document.data
    if data is None:
        return
    found = _groups_of(document)
    if found is None:
        if not isinstance(data, dict):
            yield problem((), "a rule file must be a mapping with a groups list")
        return
    groups, base = found
    if base == ("groups",):
        for key in data:
            if key != "groups":
                yield problem((key,), f"unknown field '{key}' in a rule file (only groups is allowed)", key=True)
    if groups is None:
        return
    if not isinstance(groups, list):
        yield problem(base, "groups must be a list")
        return
    seen_groups: dict[str, int] = {}
    for group_index, group in enumerate(groups):
        where = (*base, group_index)
        if not isinstance(group, dict):
            yield problem(where, "a rule group must be a mapping")
            continue
        for key in group:
            if key not in _GROUP_FIELDS:
                yield problem((*where, key), f"unknown field '{key}' in rule group", key=True)
        name = group.get("name")
        if not isinstance(name, str) or not name:
            yield problem(where, "a rule group needs a name")
            name = f"group {group_index + 1}"
        elif name in seen_groups:
            yield problem((*where, "name"), f"group name '{name}' is repeated in the same file "
                                            f"(first in group {seen_groups[name] + 1})")
        seen_groups.setdefault(name, group_index)
        if "interval" in group and parse_duration(group.get("interval")) is None:
            yield problem((*where, "interval"), f"interval {group.get('interval')!r} is not a duration")
        stem = re.sub(r"\.(ya?ml)$", "", path)
        group_id = re.sub(r"[^a-z0-9]+", "-", f"{stem}-{name}".lower()).strip("-")
        group_record = RuleGroup(group_id, group, document, prefix=where, name=name)
        yield group_record
        rules = group.get("rules")
        if rules is None:
            continue
        if not isinstance(rules, list):
            yield problem((*where, "rules"), "rules must be a list")
            continue
        for rule_index, rule in enumerate(rules):
            yield from _rule(document, rule, (*where, "rules", rule_index), group_record.id, problem)


def _rule(document: Document, rule: Any, where: tuple[str | int, ...], group_id: str,
          problem: Any) -> Iterator[Record | Diagnostic]:
    if not isinstance(rule, dict):
        yield problem(where, "a rule must be a mapping")
        return
    alert, record = rule.get("alert"), rule.get("record")
    if alert is not None and record is not None:
        yield problem(where, "only one of 'record' and 'alert' may be set")
        return
    if alert is None and record is None:
        yield problem(where, "one of 'record' or 'alert' must be set")
        return
    fields = _ALERT_FIELDS if alert is not None else _RECORD_FIELDS
    for key in rule:
        if key not in fields:
            what = "an alerting" if alert is not None else "a recording"
            yield problem((*where, key), f"field '{key}' is not allowed in {what} rule", key=True)
    expr = rule.get("expr")
    if expr is None or (isinstance(expr, str) and not expr.strip()):
        yield problem(where, "field 'expr' must be set in rule")
    else:
        parsed = parse_expr(expr if isinstance(expr, str) else str(expr))
        if parsed.error:
            yield problem((*where, "expr"), f"could not parse expression: {parsed.error}", code=OB301)
    for key in ("for", "keep_firing_for"):
        if key in rule and parse_duration(rule[key]) is None and rule[key] not in (0, "0"):
            yield problem((*where, key), f"{key} {rule[key]!r} is not a duration")
    for key in ("labels", "annotations"):
        value = rule.get(key)
        if value is None:
            continue
        if not isinstance(value, dict):
            yield problem((*where, key), f"{key} must be a mapping of names to values")
            continue
        for name, item in value.items():
            if not _LABEL_NAME.match(name):
                yield problem((*where, key, name), f"invalid {key[:-1]} name '{name}'", key=True)
            elif key == "labels" and name == "__name__":
                yield problem((*where, key, name), "the label __name__ may not be set by a rule", key=True)
            if isinstance(item, (dict, list)):
                yield problem((*where, key, name), f"{key[:-1]} {name} must be a single value")
    if record is not None:
        if not isinstance(record, str) or not _METRIC_NAME.match(record):
            yield problem((*where, "record"), f"invalid recording rule name {record!r}")
            return
        yield RecordingRule(record, rule, document, prefix=where, group_id=group_id)
        return
    if not isinstance(alert, str) or not alert.strip():
        yield problem((*where, "alert"), "the alert name must be a non-empty text")
        return
    yield AlertRule(alert, rule, document, prefix=where, group_id=group_id)


ALERT_KIND = Kind(
    name="alert",
    page_folder="alerts",
    record_type=AlertRule,
    folders=("ops/alerts", "alerts"),
    records_from=rule_records,
    unique_ids=False,
)


GROUP_KIND = Kind(name="rule_group", page_folder="alerts/groups", record_type=RuleGroup, folders=())
RECORDING_KIND = Kind(name="recording_rule", page_folder="alerts/recording", record_type=RecordingRule, folders=(),
                      unique_ids=False)
