"""Prometheus rule files: the real-world corpus loads, counts agree with promtool, and every file
promtool rejects gets an opsbook diagnostic at the line promtool would complain about."""

from __future__ import annotations

import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from opsbook import analyse
from opsbook.config import Config
from opsbook.kinds.alerting.rules import AlertRule, RecordingRule, rule_records
from opsbook.loader import load_yaml_file

CORPUS = Path(__file__).parent.parent.parent / "shared" / "corpus" / "rules"
NEGATIVE = sorted((Path(__file__).parent / "cases" / "rules" / "negative").glob("*.yml"))
PROMTOOL = shutil.which("promtool")
EXPECT = re.compile(r"^# expect: (OB\d{3}) (\d+):(\d+)$", re.M)


def _records(file: Path, relpath: str) -> tuple[list, list]:
    documents, problems = load_yaml_file(file, relpath)
    records, diagnostics = [], list(problems)
    for document in documents:
        for item in rule_records(document):
            (diagnostics if not hasattr(item, "kind") or isinstance(item, tuple) else records).append(item)
    return records, diagnostics


def _corpus_files() -> list[Path]:
    return sorted(p for p in CORPUS.rglob("*") if p.is_file()) if CORPUS.is_dir() else []


@pytest.mark.skipif(not CORPUS.is_dir(), reason="../shared/corpus/rules is not here")
def test_corpus_loads_without_traceback_or_error() -> None:
    files = _corpus_files()
    started = time.perf_counter()
    alerts = recording = 0
    for file in files:
        records, diagnostics = _records(file, file.relative_to(CORPUS).as_posix())
        errors = [d for d in diagnostics if getattr(d, "code", None) in ("OB001", "OB300", "OB301")]
        assert errors == [], errors
        alerts += sum(isinstance(r, AlertRule) for r in records)
        recording += sum(isinstance(r, RecordingRule) for r in records)
    print(f"corpus: {len(files)} files, {alerts} alerting rules, {recording} recording rules, "
          f"{time.perf_counter() - started:.2f} s")
    assert len(files) > 200 and alerts > 1000


@pytest.mark.skipif(not CORPUS.is_dir(), reason="../shared/corpus/rules is not here")
@pytest.mark.skipif(PROMTOOL is None, reason="promtool is not installed (Debian package prometheus)")
def test_counts_equal_promtool() -> None:
    compared = 0
    mismatches = []
    for file in _corpus_files():
        result = subprocess.run([PROMTOOL, "check", "rules", "--lint=none", str(file)], capture_output=True,
                                text=True, timeout=120)
        if result.returncode != 0:
            continue
        found = re.search(r"SUCCESS: (\d+) rules found", result.stdout)
        assert found, result.stdout
        records, _ = _records(file, file.name)
        ours = sum(isinstance(r, (AlertRule, RecordingRule)) for r in records)
        compared += 1
        if ours != int(found.group(1)):
            mismatches.append((file.name, ours, int(found.group(1))))
    print(f"promtool: {compared} files compared, {len(mismatches)} count mismatches")
    assert compared > 200 and mismatches == []


@pytest.mark.parametrize("case", NEGATIVE, ids=[c.stem for c in NEGATIVE])
def test_rejected_rule_files_get_a_diagnostic(tmp_path: Path, case: Path) -> None:
    if PROMTOOL is not None:
        promtool = subprocess.run([PROMTOOL, "check", "rules", str(case)], capture_output=True, timeout=60)
        assert promtool.returncode != 0, f"promtool accepts {case.name}: not a negative case"
    (tmp_path / "ops" / "alerts").mkdir(parents=True)
    shutil.copy(case, tmp_path / "ops" / "alerts" / case.name)
    analysis = analyse(tmp_path, Config(root=tmp_path))
    expected = [(code, int(line), int(column)) for code, line, column in EXPECT.findall(case.read_text())]
    assert expected, f"{case.name} has no '# expect:' line"
    got = [(d.code, d.line, d.column) for d in analysis.diagnostics if d.code in ("OB300", "OB301")]
    assert got == expected, [d.message for d in analysis.diagnostics]


def test_prometheus_rule_objects_and_multiple_documents(tmp_path: Path) -> None:
    text = (
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: other}\n---\n"
        "apiVersion: monitoring.coreos.com/v1\nkind: PrometheusRule\nmetadata: {name: api}\n"
        "spec:\n  groups:\n    - name: api\n      rules:\n        - alert: ApiDown\n"
        "          expr: up == 0\n          for: 5m\n          labels: {severity: warning}\n")
    (tmp_path / "alerts").mkdir()
    (tmp_path / "alerts" / "api.yaml").write_text(text, encoding="utf-8")
    analysis = analyse(tmp_path, Config(root=tmp_path))
    assert analysis.diagnostics == []
    (alert,) = analysis.handbook.variants("alert", "ApiDown")
    assert alert.position("for") == (14, 16)
