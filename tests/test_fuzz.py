"""Fuzzing with hypothesis: the loaders on arbitrary text and bytes, and the whole check-and-render
pipeline on mutations of a valid handbook; zero unhandled exceptions.

By default a small random budget: 300 cases in all (70 % text, 20 % bytes, 10 % pipeline), a few seconds,
different on every run. The seed in use is printed in pytest's header and summary; `pytest
--hypothesis-seed=N` replays a run exactly, and a failure also prints its `@reproduce_failure` blob.

The large run, at least 100,000 cases (weekly, in .github/workflows/fuzz.yml):

    OPSBOOK_FUZZ_EXAMPLES=100000 .venv/bin/python -m pytest tests/test_fuzz.py
"""

from __future__ import annotations

import copy
import json
import math
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from opsbook import analyse
from opsbook.config import Config
from opsbook.loader import decode, load_yaml_text

FUZZ_EXAMPLES = int(os.environ.get("OPSBOOK_FUZZ_EXAMPLES", "300"))
SHARES = {"text": 0.7, "bytes": 0.2, "pipeline": 0.1}
BUDGET = {name: max(1, math.ceil(FUZZ_EXAMPLES * share)) for name, share in SHARES.items()}
COUNTS = {"text": 0, "bytes": 0, "pipeline": 0}
# Random, not derandomized: each run explores new cases. No example database: a failure is replayed from
# the seed (tests/conftest.py prints it) or from the `@reproduce_failure` blob printed with it.
FAST = dict(deadline=None, database=None, print_blob=True, suppress_health_check=list(HealthCheck))

YAMLISH = st.text(alphabet=st.sampled_from(list("ab:- \n\t[]{},'\"&*!|>%@`#?~0123456789.") + ["\x00", "é", "\ufeff"]),
                  max_size=120)


RecordProperty = Callable[[str, object], None]


def _fuzz(name: str, cases: Callable[[], None], record_property: RecordProperty) -> None:
    """Run one hypothesis test through its budget and check that the whole budget ran."""
    COUNTS[name] = 0
    cases()
    record_property("fuzz_cases", {name: COUNTS[name]})  # tests/conftest.py prints the counts in the summary
    assert COUNTS[name] >= BUDGET[name], f"{COUNTS[name]} {name} cases ran, of a budget of {BUDGET[name]}"


def test_loader_on_arbitrary_text(record_property: RecordProperty) -> None:
    _fuzz("text", _text_cases, record_property)


def test_loader_on_arbitrary_bytes(record_property: RecordProperty) -> None:
    _fuzz("bytes", _bytes_cases, record_property)


def test_pipeline_on_mutated_handbooks(record_property: RecordProperty) -> None:
    _fuzz("pipeline", _pipeline_cases, record_property)


@settings(max_examples=BUDGET["text"], **FAST)
@given(st.one_of(YAMLISH, st.text(max_size=200)))
def _text_cases(text: str) -> None:
    COUNTS["text"] += 1
    documents, problems = load_yaml_text("f.yaml", text)
    for problem in problems:
        assert problem.line >= 1 and problem.column >= 1 and problem.code.startswith("OB")
    for document in documents:
        document.position(("a", 0, "b"))


@settings(max_examples=BUDGET["bytes"], **FAST)
@given(st.binary(max_size=300))
def _bytes_cases(raw: bytes) -> None:
    COUNTS["bytes"] += 1
    text, problem = decode("f.yaml", raw)
    if text is not None:
        load_yaml_text("f.yaml", text)
    else:
        assert problem is not None and problem.code == "OB002"


BASE = {
    "runbooks/r.yaml": {"title": "Restore", "summary": "When it breaks.", "owner": "team-a", "service": "db",
                        "severity": "high", "alerts": ["Down"], "related": ["r2"], "symptoms": ["slow"],
                        "last_reviewed": "2026-11-01", "review_every": "90d",
                        "inputs": {"X": {"description": "x", "default": "1", "ci": "2"}},
                        "steps": [{"name": "Do", "run": "echo $X", "expect": {"exit_code": 0, "timeout": "5s"}},
                                  {"name": "Say", "manual": "Tell people."}]},
    "runbooks/r2.yaml": {"title": "Other", "steps": [{"name": "A", "manual": "m"}]},
    "teams/team-a.yaml": {"name": "A", "receivers": ["pager"], "oncall": {"rotation": "weekly"}},
    "components/db.yaml": {"name": "DB", "kind": "datastore", "owner": "team-a", "rpo": "1h",
                           "depends_on": [{"component": "db", "protocol": "x"}],
                           "data": {"classification": "pii", "retention": "1y",
                                    "encryption": {"at_rest": True, "in_transit": True}, "deletion_runbook": "r"}},
    "backups/db.yaml": {"datastore": "db", "schedule": "0 * * * *", "retention": {"count": 200},
                        "restore_runbook": "r"},
    "ops/alerts/a.yml": {"groups": [{"name": "g", "rules": [
        {"alert": "Down", "expr": "up == 0", "for": "5m", "labels": {"severity": "critical", "team": "a"},
         "annotations": {"runbook_url": "runbooks/r/", "summary": "down"}},
        {"record": "job:up:sum", "expr": "sum(up)"}]}]},
    "ops/alertmanager.yml": {"route": {"receiver": "pager", "routes": [{"matchers": ['team="a"'], "receiver": "pager"}]},
                             "receivers": [{"name": "pager", "webhook_configs": [{"url": "http://127.0.0.1:9/"}]}]},
    ".github/workflows/w.yml": {"name": "W", "on": {"push": {"branches": ["main"]}}, "permissions": {},
                                "jobs": {"a": {"runs-on": "x", "steps": [{"run": "echo"}]},
                                         "b": {"needs": "a", "runs-on": "x", "environment": "prod",
                                               "steps": [{"run": "echo ${{ secrets.K }}"}]}}},
    "ops/environments/prod.yaml": {"url": "https://x.example", "approval": "required", "secrets": ["K"],
                                   "deployed_by": ".github/workflows/w.yml", "rollback_runbook": "r"},
}

VALUES = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-10**6, 10**6), st.floats(allow_nan=False, allow_infinity=False),
              st.text(max_size=40), st.sampled_from(["<script>x</script>", "{{ 7*7 }}", "../x", "r", "db", "team-a",
                                                     "0 2 * * 1-5", "90d", "2026-02-30", 'a="b', "]-->x[",
                                                     "`", "|", "\n- x", "Down", "critical"])),
    lambda children: st.one_of(st.lists(children, max_size=3), st.dictionaries(st.text(max_size=8), children,
                                                                               max_size=3)),
    max_leaves=6)


def _paths(value: object, prefix: tuple = ()) -> list[tuple]:
    found = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _paths(item, (*prefix, index))
    return found


def _set(document: object, path: tuple, value: object) -> object:
    if not path:
        return value
    parent = document
    for part in path[:-1]:
        parent = parent[part]  # type: ignore[index]
    parent[path[-1]] = value  # type: ignore[index]
    return document


@settings(max_examples=BUDGET["pipeline"], **FAST)
@given(st.data())
def _pipeline_cases(data: st.DataObject) -> None:
    COUNTS["pipeline"] += 1
    files = copy.deepcopy(BASE)
    for _ in range(data.draw(st.integers(1, 3))):
        name = data.draw(st.sampled_from(sorted(files)))
        path = data.draw(st.sampled_from(_paths(files[name])))
        files[name] = _set(files[name], path, data.draw(VALUES))
    as_json = data.draw(st.booleans())
    folder = Path(tempfile.mkdtemp(prefix="opsbook-fuzz-"))
    try:
        for name, content in files.items():
            target = folder / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(json.dumps(content) if as_json else yaml.safe_dump(content, allow_unicode=True),
                              encoding="utf-8")
        analysis = analyse(folder, Config(root=folder, today="2026-11-26", shellcheck=False))
        for diagnostic in analysis.diagnostics:
            assert diagnostic.line >= 0 and diagnostic.code.startswith("OB")
        pages = analysis.pages()
        assert pages and all(page.uri.endswith(".md") and ".." not in page.uri for page in pages)
    finally:
        shutil.rmtree(folder, ignore_errors=True)

