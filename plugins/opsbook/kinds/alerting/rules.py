"""Prometheus rule files, read as they are: rule groups, alerting rules and recording rules.

A file holds `groups:` (Prometheus' own format), or is a Kubernetes `PrometheusRule` object whose
`spec` holds them; a file may hold several YAML documents. Each alerting rule becomes an `alert`
record named by its `alert:` (the same name may be defined more than once, say with two severities),
each recording rule a `recording_rule` record, and each group a `rule_group` record.
The structure is checked as `promtool check rules` checks it, and every expression is parsed with a
real PromQL parser.

A file is read in its dialect (`dialects.py`, the `rule_dialects` option): Prometheus' own by default,
or Thanos', Mimir's, Cortex's or Loki's, each with the fields its tool accepts; an unknown field's
message names the dialect in force. Loki's expressions are LogQL: they are not parsed, and no metric
names are read from them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial
from typing import Any, ClassVar

from ...diagnostics import Code, Diagnostic, Severity, make
from ...durations import parse_duration
from ...loader import Document
from ...model import Kind, Record, safe_slug
from .dialects import DEFAULT_DIALECT, DIALECTS, PROMETHEUS_RULE_GROUP, Dialect, GroupField, other_dialects_with
from .promql import parse_expr
from .rule_templates import template_problems

__all__ = ["AlertRule", "RecordingRule", "RuleGroup", "ALERT_KIND", "GROUP_KIND", "RECORDING_KIND",
           "rule_records"]

OB300 = Code("OB300", Severity.ERROR, "Invalid Prometheus rule file",
         "The rule file does not have the structure Prometheus requires, so `promtool check rules` and "
         "Prometheus itself would refuse it: an unknown field, a group without a name or named twice in the "
         "file, a rule with both or neither of `alert` and `record`, a rule without `expr`, a duration such "
         "as `for` that is not one, an invalid label name, or annotations on a recording rule. A file in "
         "another dialect (the `rule_dialects` option: Thanos, Mimir, Cortex, Loki) is held to what its own "
         "tool accepts, and the message of an unknown field names the dialect in force.",
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
         "the file. The LogQL of Loki rule files is not parsed, and so never reported.",
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
    #: The dialect its file is read in (`dialects.DIALECTS`).
    dialect: str = DEFAULT_DIALECT
    #: The `metadata.name` of the Kubernetes `PrometheusRule` object that holds it, if one does.
    object_name: str | None = None
    #: The namespace its tool files it under (Mimir, Cortex, Loki): the file's `namespace`, else its name.
    namespace: str | None = None

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

    @property
    def dialect_info(self) -> Dialect:
        return DIALECTS[self.dialect]

    @property
    def settings(self) -> list[tuple[GroupField, Any]]:
        """The fields the group sets besides `name`, `rules` and `interval`, each with its value."""
        fields = PROMETHEUS_RULE_GROUP if self.object_name is not None else self.dialect_info.group_fields
        return [(field, self.data[field.name]) for field in fields
                if self.data.get(field.name) is not None and field.name != "interval"]


@dataclass
class _Rule(Record):
    prefix: tuple[str | int, ...] = ()
    group_id: str = ""
    #: The language of `expr`: PromQL, or LogQL in a Loki rule file.
    language: str = "PromQL"

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
        """The metric names the expression reads: none from LogQL, which is not parsed."""
        return parse_expr(self.expr).metrics if self.expr and self.language == "PromQL" else ()


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


def rule_records(document: Document, dialect: str = DEFAULT_DIALECT) -> Iterator[Record | Diagnostic]:
    """Rule groups, alerting rules and recording rules of one document, and the problems in its structure,
    read in a dialect (`dialects.DIALECTS`: Prometheus' by default)."""
    path = document.path
    speech = DIALECTS[dialect]

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
    in_object = base != ("groups",)
    namespace: str | None = None
    if not in_object:
        for key in data:
            if key not in speech.file_fields:
                yield problem((key,), _unknown_file_field(key, speech), key=True)
        if "namespace" in speech.file_fields:
            value = data.get("namespace")
            if isinstance(value, (dict, list)):
                yield problem(("namespace",), "namespace must be a single value")
            elif value is not None and value != "":
                namespace = str(value)
            else:  # as the tool names it: the file name without its extension
                namespace = re.sub(r"\.[^.]*$", "", path.rsplit("/", 1)[-1])
    group_fields = PROMETHEUS_RULE_GROUP if in_object else speech.group_fields
    object_name = None
    if in_object:
        metadata = data.get("metadata")
        object_name = str(metadata.get("name") or "") if isinstance(metadata, dict) else ""
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
            if key not in ("name", "rules") and not any(field.name == key for field in group_fields):
                yield problem((*where, key), _unknown_group_field(key, speech, in_object), key=True)
        name = group.get("name")
        if not isinstance(name, str) or not name:
            yield problem(where, "a rule group needs a name")
            name = f"group {group_index + 1}"
        elif name in seen_groups:
            yield problem((*where, "name"), f"group name '{name}' is repeated in the same file "
                                            f"(first in group {seen_groups[name] + 1})")
        seen_groups.setdefault(name, group_index)
        for field in group_fields:
            message = field.check(field.name, group[field.name]) if field.name in group else None
            if message:
                yield problem((*where, field.name), message)
        stem = re.sub(r"\.(ya?ml)$", "", path)
        group_id = re.sub(r"[^a-z0-9]+", "-", f"{stem}-{name}".lower()).strip("-")
        group_record = RuleGroup(group_id, group, document, prefix=where, name=name, dialect=speech.name,
                                 object_name=object_name, namespace=namespace)
        yield group_record
        rules = group.get("rules")
        if rules is None:
            continue
        if not isinstance(rules, list):
            yield problem((*where, "rules"), "rules must be a list")
            continue
        for rule_index, rule in enumerate(rules):
            yield from _rule(document, rule, (*where, "rules", rule_index), group_record.id, problem,
                             language=speech.language)


def _switch_hint(others: list[Dialect]) -> str:
    """`set rule_dialects to thanos for Thanos rule files`, for the dialects that have a field."""
    names = " or ".join(other.name for other in others)
    titles = " or ".join(other.title for other in others)
    return f"; set rule_dialects to {names} for {titles} rule files" if others else ""


def _unknown_file_field(key: str, dialect: Dialect) -> str:
    allowed = " and ".join(dialect.file_fields)
    verb = "is" if len(dialect.file_fields) == 1 else "are"
    return (f"unknown field '{key}' in a rule file ({dialect.title} dialect: only {allowed} {verb} allowed"
            f"{_switch_hint(other_dialects_with(dialect, key, file_field=True))})")


def _unknown_group_field(key: str, dialect: Dialect, in_object: bool) -> str:
    if in_object:
        fields = ", ".join(("name", "rules", *(field.name for field in PROMETHEUS_RULE_GROUP)))
        return f"unknown field '{key}' in a rule group of a PrometheusRule object (its fields: {fields})"
    return (f"unknown field '{key}' in a rule group ({dialect.title} dialect"
            f"{_switch_hint(other_dialects_with(dialect, key))})")


def _rule(document: Document, rule: Any, where: tuple[str | int, ...], group_id: str,
          problem: Any, language: str = "PromQL") -> Iterator[Record | Diagnostic]:
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
    elif language == "PromQL":  # LogQL (Loki) is not parsed
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
    if alert is not None:  # only an alerting rule's labels and annotations are templates
        yield from template_problems(document, rule, where, alert)
    if record is not None:
        if not isinstance(record, str) or not _METRIC_NAME.match(record):
            yield problem((*where, "record"), f"invalid recording rule name {record!r}")
            return
        yield RecordingRule(record, rule, document, prefix=where, group_id=group_id, language=language)
        return
    if not isinstance(alert, str) or not alert.strip():
        yield problem((*where, "alert"), "the alert name must be a non-empty text")
        return
    yield AlertRule(alert, rule, document, prefix=where, group_id=group_id, language=language)


ALERT_KIND = Kind(
    name="alert",
    page_folder="alerts",
    record_type=AlertRule,
    folders=("ops/alerts", "alerts"),
    records_from=rule_records,
    unique_ids=False,
    dialects={name: partial(rule_records, dialect=name) for name in DIALECTS},
)


GROUP_KIND = Kind(name="rule_group", page_folder="alerts/groups", record_type=RuleGroup, folders=())
RECORDING_KIND = Kind(name="recording_rule", page_folder="alerts/recording", record_type=RecordingRule, folders=(),
                      unique_ids=False)
