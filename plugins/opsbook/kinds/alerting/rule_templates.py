"""The Go templates of an alerting rule's labels and annotations, checked as Prometheus checks them (OB302).

`promtool check rules`, and Prometheus when it loads a rule file, parse every label and annotation value
of an alerting rule as a Go template (`gotemplate.py` says how), and refuse the file when one does not
parse: an unclosed action, a function Prometheus does not define, an undefined variable, an `{{end}}`
too many. Recording rules' labels are not templates. Each error is reported at the token at fault, in
the file: the value's own line and column, through escapes, quotes and block scalars
(`Document.position_in_value`).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ...diagnostics import Code, Diagnostic, Severity, make
from ...loader import Document
from .gotemplate import parse_template

__all__ = ["OB302", "template_problems"]

OB302 = Code("OB302", Severity.ERROR, "Invalid template in an alert's labels or annotations",
         "The value of a label or annotation of an alerting rule is a Go template, and this one does not parse "
         "as Prometheus parses it, so `promtool check rules` and Prometheus itself would refuse the file. The "
         "message is Go's: an action `{{ ... }}` left open, a function Prometheus does not define (`humanize`, "
         "`toUpper`, `printf`, `reReplaceAll` and the others of its template reference are), a variable that "
         "is not defined (`$labels`, `$value`, `$externalLabels` and `$externalURL` are), an `{{ end }}` with "
         "no `{{ if }}`, `{{ range }}` or `{{ with }}` to close. The position is the token at fault. Functions "
         "added in Prometheus 3.6 and 3.8 (`toDuration`, `now`, `urlQueryEscape`) are accepted; an older "
         "Prometheus refuses them.",
         failing="# ops/alerts/api.yml\n"
                 "groups:\n"
                 "  - name: api\n"
                 "    rules:\n"
                 "      - alert: ApiDown\n"
                 "        expr: up{job=\"api\"} == 0\n"
                 "        labels: {team: data}\n"
                 "        annotations:\n"
                 "          summary: \"{{ $labels.instance is down\"\n",
         passing="# ops/alerts/api.yml\n"
                 "groups:\n"
                 "  - name: api\n"
                 "    rules:\n"
                 "      - alert: ApiDown\n"
                 "        expr: up{job=\"api\"} == 0\n"
                 "        labels: {team: data}\n"
                 "        annotations:\n"
                 "          summary: \"{{ $labels.instance }} is down\"\n")


def template_problems(document: Document, rule: dict[str, Any], where: tuple[str | int, ...],
                      alert: Any) -> Iterator[Diagnostic]:
    """OB302 for each label and annotation value of the alerting rule `rule` (at `where` in `document`,
    named `alert`) that Prometheus would not parse as a template."""
    for key, what in (("labels", "label"), ("annotations", "annotation")):
        values = rule.get(key)
        if not isinstance(values, dict):
            continue
        for name, value in values.items():
            if not isinstance(value, str) or "{{" not in value:
                continue
            error = parse_template(value, name=f"__alert_{alert}").error
            if error is None:
                continue
            line, column = document.position_in_value((*where, key, name), error.line, error.column)
            yield make(OB302, document.path, line, column, f"{what} {name!r}: {error.message}")
