"""Rule file dialects (#16, item 2): Prometheus, Thanos, Mimir, Cortex and Loki rule files, and Kubernetes
`PrometheusRule` objects, each read with the fields its own tool accepts.

The fields each dialect accepts are written out here, as read in each tool's source (Prometheus'
`model/rulefmt`, Thanos' `pkg/rules/manager.go`, Mimir's fork of `rulefmt` and mimirtool's `rwrulefmt`,
cortextool's and lokitool's `RuleNamespace`, prometheus-operator's `monitoringv1.RuleGroup`), not taken
from opsbook's own table. promtool (Prometheus 2.42, Debian's) is the oracle for the Prometheus dialect:
it refuses every field of the other dialects at the line opsbook reports, and the other dialects then
count the same rules as promtool does on the file without those fields.
"""

from __future__ import annotations

import copy
import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from opsbook import analyse
from opsbook.config import Config
from opsbook.diagnostics import Diagnostic
from opsbook.kinds.alerting.rules import AlertRule, RecordingRule, RuleGroup, rule_records
from opsbook.loader import load_yaml_file, load_yaml_text

CORPUS = Path(__file__).parent.parent.parent / "shared" / "corpus" / "rules"
#: GitLab's Thanos rule files (`thanos-rules/` of gitlab-com/runbooks), when the corpus has them.
THANOS_CORPUS = Path(__file__).parent.parent.parent / "shared" / "corpus" / "thanos-rules"
PROMTOOL = shutil.which("promtool")

#: A valid value of every group field of any dialect.
VALUES: dict[str, Any] = {
    "interval": "1m",
    "query_offset": "30s",
    "limit": 10,
    "labels": {"env": "production"},
    "partial_response_strategy": "warn",
    "evaluation_delay": "1m",
    "source_tenants": ["team-a", "team-b"],
    "align_evaluation_time_on_interval": True,
    "remote_write": [{"url": "http://prometheus:9090/api/v1/write"}],
}
#: The group fields (besides name and rules) each dialect's tool accepts, from its source.
GROUP_FIELDS: dict[str, set[str]] = {
    "prometheus": {"interval", "query_offset", "limit", "labels"},
    "thanos": {"interval", "query_offset", "limit", "labels", "partial_response_strategy"},
    "mimir": {"interval", "query_offset", "limit", "labels", "evaluation_delay", "source_tenants",
              "align_evaluation_time_on_interval", "remote_write"},
    "cortex": {"interval", "query_offset", "limit", "labels", "remote_write"},
    "loki": {"interval", "query_offset", "limit", "labels", "remote_write"},
}
#: The fields at the top of a plain rule file.
FILE_FIELDS = {"prometheus": {"groups"}, "thanos": {"groups"}, "mimir": {"namespace", "groups"},
               "cortex": {"namespace", "groups"}, "loki": {"namespace", "groups"}}
TITLES = {"prometheus": "Prometheus", "thanos": "Thanos", "mimir": "Mimir", "cortex": "Cortex", "loki": "Loki"}
DIALECTS = list(GROUP_FIELDS)


def _read(text: str, dialect: str = "prometheus", path: str = "ops/alerts/rules.yml") -> tuple[list, list[Diagnostic]]:
    documents, problems = load_yaml_text(path, text)
    records: list = []
    diagnostics: list[Diagnostic] = list(problems)
    for document in documents:
        for item in rule_records(document, dialect):
            (diagnostics if isinstance(item, Diagnostic) else records).append(item)
    return records, diagnostics


def _group_file(**fields: Any) -> str:
    group = {"name": "api", **fields, "rules": [{"alert": "ApiDown", "expr": "up == 0", "for": "5m"}]}
    return yaml.safe_dump({"groups": [group]}, sort_keys=False)


@pytest.mark.parametrize("dialect", DIALECTS)
@pytest.mark.parametrize("field", list(VALUES))
def test_each_dialect_accepts_exactly_its_own_group_fields(dialect: str, field: str) -> None:
    records, diagnostics = _read(_group_file(**{field: VALUES[field]}), dialect)
    if field in GROUP_FIELDS[dialect]:
        assert diagnostics == []
        (group,) = [r for r in records if isinstance(r, RuleGroup)]
        assert group.dialect == dialect
        assert [(f.name, value) for f, value in group.settings] == ([] if field == "interval"
                                                                      else [(field, VALUES[field])])
    else:
        (problem,) = diagnostics
        assert (problem.code, problem.line, problem.column) == ("OB300", 3, 3)
        assert problem.message.startswith(f"unknown field '{field}' in a rule group ({TITLES[dialect]} dialect")
        others = [name for name in DIALECTS if field in GROUP_FIELDS[name]]
        assert problem.message.endswith(f"; set rule_dialects to {' or '.join(others)} for "
                                        f"{' or '.join(TITLES[name] for name in others)} rule files)")
    # The rules themselves are read the same way in every dialect.
    assert [r.id for r in records if isinstance(r, AlertRule)] == ["ApiDown"]


def test_the_unknown_field_message_names_the_dialect() -> None:
    _, (thanos_field,) = _read(_group_file(partial_response_strategy="warn"))
    assert thanos_field.message == ("unknown field 'partial_response_strategy' in a rule group (Prometheus dialect; "
                                    "set rule_dialects to thanos for Thanos rule files)")
    _, (nobody,) = _read(_group_file(evaluation_interval="1m"), "loki")
    assert nobody.message == "unknown field 'evaluation_interval' in a rule group (Loki dialect)"
    _, (top,) = _read("namespace: api\n" + _group_file())
    assert top.message == ("unknown field 'namespace' in a rule file (Prometheus dialect: only groups is allowed; "
                           "set rule_dialects to mimir or cortex or loki for Mimir or Cortex or Loki rule files)")
    assert (top.line, top.column) == (1, 1)


@pytest.mark.parametrize("dialect", DIALECTS)
def test_file_fields(dialect: str) -> None:
    records, diagnostics = _read("namespace: payments\n" + _group_file(), dialect, path="rules/api.yaml")
    (group,) = [r for r in records if isinstance(r, RuleGroup)]
    if "namespace" in FILE_FIELDS[dialect]:
        assert diagnostics == [] and group.namespace == "payments"
        _, unset = _read(_group_file(), dialect, path="rules/api.yaml")
        assert unset == [] and [r.namespace for r in _read(_group_file(), dialect, "rules/api.yaml")[0]
                                if isinstance(r, RuleGroup)] == ["api"]  # the file name, as the tools name it
    else:
        assert [(d.code, d.line) for d in diagnostics] == [("OB300", 1)]
        assert group.namespace is None


@pytest.mark.parametrize(("field", "dialect", "value", "valid"), [
    # Thanos upper-cases the value before looking it up; an empty value is abort.
    ("partial_response_strategy", "thanos", "warn", True),
    ("partial_response_strategy", "thanos", "WARN", True),
    ("partial_response_strategy", "thanos", "Abort", True),
    ("partial_response_strategy", "thanos", "", True),
    ("partial_response_strategy", "thanos", "warning", False),
    ("partial_response_strategy", "thanos", 1, False),
    ("partial_response_strategy", "thanos", ["warn"], False),
    ("query_offset", "prometheus", "1m30s", True),
    ("query_offset", "prometheus", "90 seconds", False),
    ("limit", "prometheus", 0, True),
    ("limit", "prometheus", "10", False),
    ("limit", "prometheus", True, False),
    ("limit", "prometheus", None, True),  # null is Go's zero value: no limit
    ("source_tenants", "mimir", None, True),
    ("labels", "prometheus", {"team": "data"}, True),
    ("labels", "prometheus", ["team"], False),
    ("labels", "prometheus", {"__name__": "x"}, False),
    ("evaluation_delay", "mimir", "2m", True),
    ("evaluation_delay", "mimir", "soon", False),
    ("source_tenants", "mimir", ["a"], True),
    ("source_tenants", "mimir", "a", False),
    ("align_evaluation_time_on_interval", "mimir", False, True),
    ("align_evaluation_time_on_interval", "mimir", "yes please", False),
    ("remote_write", "cortex", [{"url": "http://x"}], True),
    ("remote_write", "cortex", [{"url": "http://x", "headers": {}}], False),
    ("remote_write", "loki", "http://x", False),
])
def test_dialect_field_values_are_validated(field: str, dialect: str, value: Any, valid: bool) -> None:
    text = _group_file(**{field: value})
    _, diagnostics = _read(text, dialect)
    if valid:
        assert diagnostics == []
    else:
        (problem,) = diagnostics
        # At the value: on the key's line (3), or on the next for a value written as a block.
        lines = text.splitlines()
        assert lines[2].startswith(f"  {field}:")
        assert problem.code == "OB300" and field in problem.message
        assert problem.line == (3 if lines[2].rstrip() != f"  {field}:" else 4)


def test_the_interval_check_is_unchanged() -> None:
    _, (problem,) = _read(_group_file(interval="often"))
    assert (problem.code, problem.line, problem.column, problem.message) == (
        "OB300", 3, 13, "interval 'often' is not a duration")


# Kubernetes PrometheusRule objects: several documents a file, other objects skipped, the groups
# held to the custom resource's fields in every dialect.

PROMETHEUS_RULE = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: api}
spec: {replicas: 2}
---
apiVersion: monitoring.coreos.com/v1
kind: PrometheusRule
metadata: {name: api-rules}
spec:
  groups:
    - name: api
      partial_response_strategy: Warn
      interval: 1m
      rules:
        - alert: ApiDown
          expr: up{job="api"} == 0
          for: 5m
---
apiVersion: v1
kind: ConfigMap
metadata: {name: other}
data: {groups: nothing}
---
apiVersion: monitoring.coreos.com/v1
kind: PrometheusRule
metadata: {name: db-rules}
spec:
  groups:
    - name: db
      limit: 5
      rules:
        - record: db:up:sum
          expr: sum(up{job="db"})
"""


@pytest.mark.parametrize("dialect", DIALECTS)
def test_prometheus_rule_objects_in_every_dialect(dialect: str) -> None:
    records, diagnostics = _read(PROMETHEUS_RULE, dialect)
    assert diagnostics == []
    groups = [r for r in records if isinstance(r, RuleGroup)]
    assert [(g.name, g.object_name, g.namespace) for g in groups] == [("api", "api-rules", None),
                                                                     ("db", "db-rules", None)]
    assert [[f.name for f, _ in g.settings] for g in groups] == [["partial_response_strategy"], ["limit"]]
    assert [type(r).__name__ for r in records if not isinstance(r, RuleGroup)] == ["AlertRule", "RecordingRule"]
    alert = next(r for r in records if isinstance(r, AlertRule))
    assert alert.position("for") == (17, 16)


def test_prometheus_rule_objects_are_held_to_the_custom_resource() -> None:
    text = PROMETHEUS_RULE.replace("      limit: 5\n", "      source_tenants: [a]\n").replace(
        "partial_response_strategy: Warn", "partial_response_strategy: sometimes")
    _, diagnostics = _read(text, "mimir")
    assert [(d.code, d.line, d.column) for d in diagnostics] == [("OB300", 12, 34), ("OB300", 30, 7)]
    assert diagnostics[0].message == "partial_response_strategy must be warn or abort (in any case), not 'sometimes'"
    assert diagnostics[1].message.startswith("unknown field 'source_tenants' in a rule group of a PrometheusRule "
                                             "object (its fields: name, rules, labels, interval, query_offset, ")


# Loki: LogQL is not PromQL.

LOKI = """\
namespace: payments
groups:
  - name: payments-logs
    interval: 1m
    rules:
      - alert: PaymentErrors
        expr: sum by (app) (count_over_time({app="payments"} |= "error" | json [5m])) > 10
        for: 2m
        labels: {severity: critical}
      - record: payments:log_lines:rate1m
        expr: sum(rate({app="payments"}[1m]))
"""


def test_loki_expressions_are_not_read_as_promql() -> None:
    records, diagnostics = _read(LOKI, "loki")
    assert diagnostics == []
    alert = next(r for r in records if isinstance(r, AlertRule))
    recording = next(r for r in records if isinstance(r, RecordingRule))
    assert (alert.language, alert.metrics, recording.metrics) == ("LogQL", (), ())
    # The same expression is not PromQL: in a Prometheus-dialect file it is OB301.
    _, prometheus = _read(LOKI.replace("namespace: payments\n", ""))
    assert [(d.code, d.line) for d in prometheus] == [("OB301", 6)]


def test_loki_alerts_read_no_metrics_and_say_so(make_handbook: Callable[..., Path]) -> None:
    root = make_handbook({
        "ops/loki/payments.yaml": LOKI,
        "ops/metrics.yaml": "metrics:\n  - name: up\n    type: gauge\n    help: Whether the target is up.\n",
    }, sources={"alert": ["ops/alerts", "ops/loki"]}, rule_dialects={"ops/loki": "loki"})
    analysis = analyse(root)
    assert [d.code for d in analysis.diagnostics if d.code in ("OB300", "OB301", "OB317")] == []
    pages = {page.uri: page.text for page in analysis.pages()}
    group_page = next(text for path, text in pages.items() if "groups/" in path and "payments-logs" in path)
    assert ("Read in the Loki dialect, as Loki's ruler and lokitool read it, into the namespace `payments`."
            in group_page)
    assert "Its expressions are LogQL, which opsbook does not parse" in group_page
    alert_page = next(text for path, text in pages.items() if path.endswith("PaymentErrors.md"))
    assert "```logql\nsum by (app) (count_over_time(" in alert_page
    assert "- **Metrics read:** not read from LogQL\n" in alert_page


def test_the_group_page_shows_the_dialect_and_its_fields(make_handbook: Callable[..., Path]) -> None:
    thanos = _group_file(partial_response_strategy="warn", limit=20, interval="2m")
    root = make_handbook({"ops/alerts/api.yml": _group_file(), "ops/thanos/api.yml": thanos},
                         sources={"alert": ["ops/alerts", "ops/thanos"]}, rule_dialects={"ops/thanos": "thanos"})
    analysis = analyse(root)
    assert analysis.diagnostics == []
    pages = {page.uri: page.text for page in analysis.pages()}
    thanos_page = next(text for path, text in pages.items() if "ops-thanos-api-api" in path)
    assert ("From `ops/thanos/api.yml`, evaluated every 2m.\n\nRead in the Thanos dialect, as Thanos Ruler"
            in thanos_page)
    assert "| `limit` | `20` |" in thanos_page
    assert "| `partial_response_strategy` | `warn` | warn: a query that some store APIs" in thanos_page
    prometheus_page = next(text for path, text in pages.items() if "ops-alerts-api-api" in path)
    assert "Read in the Prometheus dialect, as Prometheus and promtool read it." in prometheus_page
    assert "## Settings" not in prometheus_page


def test_without_rule_dialects_the_group_page_is_as_before(make_handbook: Callable[..., Path]) -> None:
    root = make_handbook({"ops/alerts/api.yml": _group_file(interval="1m")})
    page = next(p.text for p in analyse(root).pages() if "groups/" in p.uri)
    assert page.startswith("# Rule group api\n\nFrom `ops/alerts/api.yml`, evaluated every 1m.\n\n## Alerting rules\n")


# The configuration.

def test_rule_dialects_by_folder_file_and_pattern(tmp_path: Path) -> None:
    config = Config(root=tmp_path, rule_dialects={"ops": "thanos", "ops/mimir": "mimir",
                                                  "ops/mimir/legacy.yml": "cortex", "**/*.loki.yml": "loki"})
    assert config.dialect_of("ops/alerts/a.yml") == "thanos"
    assert config.dialect_of("ops/mimir/a.yml") == "mimir"
    assert config.dialect_of("ops/mimir/legacy.yml") == "cortex"  # the longest entry wins
    assert config.dialect_of("ops/mimir/x.loki.yml") == "loki"
    assert config.dialect_of("alerts/a.yml") is None
    assert config.dialect_of("opsx/a.yml") is None  # a folder holds what is below it, not a prefix of a name


@pytest.mark.parametrize(("value", "message"), [
    ({"ops/alerts": "thanos2"},
     "rule_dialects: unknown dialect 'thanos2' for ops/alerts (dialects: prometheus, thanos, mimir, cortex, loki)"),
    ({"ops/alerts": "Thanos"},
     "rule_dialects: unknown dialect 'Thanos' for ops/alerts (dialects: prometheus, thanos, mimir, cortex, loki)"),
    ({"/etc/rules": "thanos"},
     "rule_dialects maps folders, files or file patterns inside the root, such as ops/thanos, to dialects; "
     "not '/etc/rules'"),
    ({"../rules": "thanos"},
     "rule_dialects maps folders, files or file patterns inside the root, such as ops/thanos, to dialects; "
     "not '../rules'"),
    ({"ops/thanos": "thanos"},
     "rule_dialects names ops/thanos, where no rule file is read (they are read from ops/alerts, alerts); "
     "add it to sources.alert"),
    (["ops/alerts"], "option 'rule_dialects' has the wrong type (list)"),
])
def test_invalid_rule_dialects_are_ob090(make_handbook: Callable[..., Path], value: Any, message: str) -> None:
    root = make_handbook({"ops/alerts/api.yml": _group_file()}, rule_dialects=value)
    (problem,) = analyse(root).diagnostics
    assert (problem.code, problem.path, problem.message) == ("OB090", "opsbook.yml", message)


def test_a_configured_folder_is_read_in_its_dialect(make_handbook: Callable[..., Path]) -> None:
    thanos = _group_file(partial_response_strategy="abort")
    files = {"ops/alerts/api.yml": thanos}
    assert [d.code for d in analyse(make_handbook(files)).diagnostics] == ["OB300"]
    assert analyse(make_handbook(files, rule_dialects={"ops/alerts": "thanos"})).diagnostics == []
    assert analyse(make_handbook(files, rule_dialects={"ops/alerts/*.yml": "thanos"})).diagnostics == []


# promtool as the oracle of the Prometheus dialect, on real rule files.

def _corpus_files() -> list[Path]:
    return sorted(p for p in CORPUS.rglob("*") if p.is_file()) if CORPUS.is_dir() else []


def _promtool(file: Path) -> tuple[bool, str]:
    assert PROMTOOL is not None
    result = subprocess.run([PROMTOOL, "check", "rules", "--lint=none", str(file)], capture_output=True,
                            text=True, timeout=120)
    return result.returncode == 0, result.stdout + result.stderr


#: What each non-Prometheus dialect adds to every group (and the file) of a real rule file.
ADDED: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    "thanos": ({}, {"partial_response_strategy": "warn"}),
    "mimir": ({"namespace": "real"}, {"source_tenants": ["a", "b"], "evaluation_delay": "1m",
                                      "align_evaluation_time_on_interval": True}),
    "cortex": ({"namespace": "real"}, {"remote_write": [{"url": "http://prometheus/api/v1/write"}]}),
}


@pytest.mark.skipif(not CORPUS.is_dir(), reason="../shared/corpus/rules is not here")
@pytest.mark.skipif(PROMTOOL is None, reason="promtool is not installed (Debian package prometheus)")
@pytest.mark.parametrize("dialect", list(ADDED))
def test_dialect_fields_agree_with_promtool(tmp_path: Path, dialect: str) -> None:
    """Each real rule file promtool accepts gets the dialect's own fields: promtool then refuses each, at
    the lines where opsbook's Prometheus dialect reports them; the dialect itself accepts the file and
    finds the rules promtool counted in the original."""
    file_fields, group_fields = ADDED[dialect]
    compared = 0
    for original in _corpus_files()[::4]:
        accepted, output = _promtool(original)
        if not accepted:
            continue
        counted = int(re.search(r"SUCCESS: (\d+) rules found", output).group(1))  # type: ignore[union-attr]
        data = yaml.safe_load(original.read_text(encoding="utf-8"))
        if not isinstance(data, dict) or not data.get("groups"):
            continue
        changed = {**file_fields, **copy.deepcopy(data)}
        changed["groups"] = [{"name": group["name"], **group_fields, **group} for group in data["groups"]]
        variant = tmp_path / f"{dialect}-{original.name}"
        variant.write_text(yaml.safe_dump(changed, sort_keys=False), encoding="utf-8")
        accepted, output = _promtool(variant)
        assert not accepted, f"promtool accepts the {dialect} fields in {variant.name}"
        refused = sorted(int(line) for line in re.findall(r"line (\d+): field \w+ not found", output))
        documents, _ = load_yaml_file(variant, variant.name)
        prometheus = [item for d in documents for item in rule_records(d) if isinstance(item, Diagnostic)]
        assert sorted(d.line for d in prometheus) == refused and refused, (variant.name, output)
        assert all(d.code == "OB300" and "(Prometheus dialect" in d.message and "set rule_dialects to " in d.message
                   and dialect in d.message for d in prometheus)
        own = [item for d in documents for item in rule_records(d, dialect)]
        assert [d for d in own if isinstance(d, Diagnostic)] == [], variant.name
        assert sum(isinstance(r, (AlertRule, RecordingRule)) for r in own) == counted
        compared += 1
    print(f"{dialect}: {compared} real rule files with the dialect's fields, promtool and opsbook agree")
    assert compared > 40


@pytest.mark.skipif(not THANOS_CORPUS.is_dir(), reason="../shared/corpus/thanos-rules is not here")
@pytest.mark.skipif(PROMTOOL is None, reason="promtool is not installed (Debian package prometheus)")
def test_real_thanos_rule_files_load_in_the_thanos_dialect(tmp_path: Path) -> None:
    """GitLab's Thanos rule files: no error in the Thanos dialect, and the rule count promtool finds once
    `partial_response_strategy` (the one Thanos field they use) is taken out."""
    files = sorted(p for p in THANOS_CORPUS.iterdir() if p.is_file())
    total = 0
    for file in files:
        documents, problems = load_yaml_file(file, file.name)
        items = [item for d in documents for item in rule_records(d, "thanos")]
        assert problems == [] and [d for d in items if isinstance(d, Diagnostic)] == [], file.name
        stripped = tmp_path / file.name
        stripped.write_text("".join(line for line in file.read_text(encoding="utf-8").splitlines(keepends=True)
                                    if "partial_response_strategy" not in line), encoding="utf-8")
        accepted, output = _promtool(stripped)
        assert accepted, output
        counted = int(re.search(r"SUCCESS: (\d+) rules found", output).group(1))  # type: ignore[union-attr]
        assert sum(isinstance(r, (AlertRule, RecordingRule)) for r in items) == counted, file.name
        total += counted
    print(f"thanos-rules: {len(files)} files, {total} rules, no error in the Thanos dialect")
    assert files
