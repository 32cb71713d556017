"""Rule file dialects: the rule files of Prometheus, Thanos, Mimir, Cortex and Loki, as each reads them.

All five read the same shape, `groups:` → `rules:`, with a strict YAML decoder (an unknown field is an
error), and the same rules; they differ in the fields a file and a group may have, and Loki's
expressions are LogQL, not PromQL. Which files are in which dialect is the `rule_dialects` option
(Prometheus by default); a Kubernetes `PrometheusRule` object's groups have the fields of its
custom resource definition in every dialect (the operator, or Grafana Alloy for Mimir and Loki,
writes the rule files from it).

The fields, as read in each tool's source:

- Prometheus (`model/rulefmt`, 3.x): a file has `groups`; a group `name`, `interval`, `query_offset`,
  `limit`, `rules`, `labels`.
- Thanos Ruler (`pkg/rules/manager.go`, `configRuleAdapter`): Prometheus' group fields and
  `partial_response_strategy`, `warn` or `abort` in any case (`strings.ToUpper` before the lookup),
  empty for `abort`.
- Mimir (its fork of `model/rulefmt`, and mimirtool's `rwrulefmt` and `RuleNamespace`): a file has
  `namespace` and `groups`, one namespace per YAML document; a group adds `evaluation_delay`
  (deprecated for `query_offset`), `source_tenants`, `align_evaluation_time_on_interval` and
  `remote_write`.
- Cortex (cortextool's `RuleNamespace` and `rwrulefmt` over Prometheus' `rulefmt`): `namespace`;
  a group adds `remote_write`.
- Loki (lokitool's `RuleNamespace`, the ruler's `GroupLoader` over Prometheus' `rulefmt`): as Cortex,
  and every `expr` is LogQL.
- `PrometheusRule` (prometheus-operator's `monitoringv1.RuleGroup`): `name`, `labels`, `interval`,
  `query_offset`, `rules`, `partial_response_strategy` (pattern `^(?i)(abort|warn)?$`), `limit`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ...durations import parse_duration

__all__ = ["DEFAULT_DIALECT", "DIALECTS", "PROMETHEUS_RULE_GROUP", "Dialect", "GroupField", "other_dialects_with"]


# A field set to null is its zero value in Go's YAML decoders (no offset, no limit, false, no list):
# valid, except where opsbook has always refused it (a group's interval).

def _duration(name: str, value: Any) -> str | None:
    if value is not None and parse_duration(value) is None and value not in (0, "0"):
        return f"{name} {value!r} is not a duration"
    return None


def _interval(name: str, value: Any) -> str | None:
    # As opsbook has always read it: a group's interval of 0 is refused as well.
    return f"{name} {value!r} is not a duration" if parse_duration(value) is None else None


def _whole_number(name: str, value: Any) -> str | None:
    if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
        return f"{name} must be a whole number, not {value!r}"
    return None


def _flag(name: str, value: Any) -> str | None:
    return None if value is None or isinstance(value, bool) else f"{name} must be true or false, not {value!r}"


def _labels(name: str, value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, dict) or any(isinstance(item, (dict, list)) for item in value.values()):
        return f"{name} must be a mapping of label names to values"
    if "__name__" in value:
        return f"the label __name__ may not be set by a rule group's {name}"
    return None


def _partial_response(name: str, value: Any) -> str | None:
    # Thanos: "" (or null) is abort; otherwise WARN or ABORT after strings.ToUpper.
    if value is None or (isinstance(value, str) and value.upper() in ("", "WARN", "ABORT")):
        return None
    return f"{name} must be warn or abort (in any case), not {value!r}"


def _tenants(name: str, value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, list) or any(isinstance(item, (dict, list)) or item is None for item in value):
        return f"{name} must be a list of tenant ids"
    return None


def _remote_write(name: str, value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        return f"{name} must be a list of mappings, each with a url"
    for item in value:
        unknown = [str(key) for key in item if key != "url"]
        if unknown:
            return f"unknown field '{unknown[0]}' in {name} (only url is allowed)"
        if isinstance(item.get("url"), (dict, list)):
            return f"{name} url must be a single value"
    return None


@dataclass(frozen=True)
class GroupField:
    """A field of a rule group besides `name` and `rules`.

    Attributes:
        name: The field's key.
        meaning: What it sets, for the group's page (plain text, one sentence).
        check: The problem with a value, as `(name, value) → message`, or None when it is valid.
    """

    name: str
    meaning: str
    check: Callable[[str, Any], str | None]


_INTERVAL = GroupField("interval", "How often the group is evaluated.", _interval)
_QUERY_OFFSET = GroupField("query_offset", "How far in the past the group is evaluated, to let late samples arrive.",
                           _duration)
_LIMIT = GroupField("limit", "The most alerts an alerting rule, or series a recording rule, may produce in one "
                             "evaluation; more fail the evaluation (0: no limit).", _whole_number)
_LABELS = GroupField("labels", "Labels added to the result of every rule of the group; a rule's own labels win.",
                     _labels)
_PARTIAL_RESPONSE = GroupField(
    "partial_response_strategy", "warn: a query that some store APIs cannot answer goes on with what the others "
                                 "return, and a warning; abort (the default): it fails.", _partial_response)
_EVALUATION_DELAY = GroupField("evaluation_delay", "How far in the past the group is evaluated (deprecated for "
                                                   "query_offset).", _duration)
_SOURCE_TENANTS = GroupField("source_tenants", "The tenants whose series the group's queries read (tenant "
                                               "federation).", _tenants)
_ALIGN = GroupField("align_evaluation_time_on_interval", "Whether evaluations fall on multiples of the interval.",
                    _flag)
_REMOTE_WRITE = GroupField("remote_write", "Where the ruler writes the results of the group's recording rules.",
                           _remote_write)


@dataclass(frozen=True)
class Dialect:
    """A rule file dialect.

    Attributes:
        name: Its name in the `rule_dialects` option.
        title: Its name in prose (`Thanos`).
        reader: What reads its files, for the group's page (plain text).
        file_fields: The fields a plain rule file may have at its top.
        group_fields: The fields a group may have besides `name` and `rules`.
        language: The language of its expressions (`PromQL`, `LogQL`).
    """

    name: str
    title: str
    reader: str
    file_fields: tuple[str, ...]
    group_fields: tuple[GroupField, ...]
    language: str = "PromQL"

    def group_field(self, name: str) -> GroupField | None:
        return next((field for field in self.group_fields if field.name == name), None)

    @property
    def parses_expressions(self) -> bool:
        """Whether opsbook parses its expressions: PromQL is; LogQL has no parser opsbook uses."""
        return self.language == "PromQL"


_PROMETHEUS_GROUP = (_INTERVAL, _QUERY_OFFSET, _LIMIT, _LABELS)

#: The dialects, by name, the default first.
DIALECTS: dict[str, Dialect] = {dialect.name: dialect for dialect in (
    Dialect("prometheus", "Prometheus", "Prometheus and promtool", ("groups",), _PROMETHEUS_GROUP),
    Dialect("thanos", "Thanos", "Thanos Ruler and thanos tools rules-check", ("groups",),
            (*_PROMETHEUS_GROUP, _PARTIAL_RESPONSE)),
    Dialect("mimir", "Mimir", "Mimir's ruler and mimirtool", ("namespace", "groups"),
            (_INTERVAL, _QUERY_OFFSET, _EVALUATION_DELAY, _LIMIT, _LABELS, _SOURCE_TENANTS, _ALIGN, _REMOTE_WRITE)),
    Dialect("cortex", "Cortex", "Cortex's ruler and cortextool", ("namespace", "groups"),
            (*_PROMETHEUS_GROUP, _REMOTE_WRITE)),
    Dialect("loki", "Loki", "Loki's ruler and lokitool", ("namespace", "groups"),
            (*_PROMETHEUS_GROUP, _REMOTE_WRITE), language="LogQL"),
)}
DEFAULT_DIALECT = "prometheus"

#: The fields of a group in a Kubernetes `PrometheusRule` object, in every dialect.
PROMETHEUS_RULE_GROUP: tuple[GroupField, ...] = (_LABELS, _INTERVAL, _QUERY_OFFSET, _PARTIAL_RESPONSE, _LIMIT)


def other_dialects_with(dialect: Dialect, name: str, *, file_field: bool = False) -> list[Dialect]:
    """The dialects other than `dialect` whose groups (or files) have a field of this name."""
    return [other for other in DIALECTS.values() if other is not dialect
            and (name in other.file_fields if file_field else other.group_field(name) is not None)]
