"""The two-pass validation: jsonschema-rs says yes or no, `jsonschema` explains a no. Both must agree.

The quick validator decides which documents are looked at again, so a document it wrongly accepts
would lose its diagnostics. These tests compare the two on every record of the reference handbook, on
the workflow corpus, and on thousands of mutants of both (deterministic: a seeded random generator).
"""

from __future__ import annotations

import copy
import random
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from opsbook import analyse
from opsbook.kinds.cicd.checks import workflow_schema
from opsbook.registry import KINDS
from opsbook.loader import load_yaml_file
from opsbook.schema_validation import load_schema, quick_validator, schema_names, validate_data

REPO = Path(__file__).parent.parent
CORPUS = REPO.parent / "shared" / "corpus" / "workflows"
_SCALARS: list[Any] = ["", "x", "critical", "5m", "2026-11-01", "https://example.com", 0, -1, 1.5, 10**30, True,
                       False, None, [], {}, ["x"], {"x": 1}, "a" * 300]


def _paths(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [path]
    if isinstance(value, dict):
        for key, item in value.items():
            found.extend(_paths(item, (*path, key)))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found.extend(_paths(item, (*path, index)))
    return found


def _mutant(data: Any, rng: random.Random) -> Any:
    """One small change at a random place: a value replaced, a key removed or added, a list emptied."""
    data = copy.deepcopy(data)
    path = rng.choice(_paths(data))
    parent: Any = None
    target = data
    for part in path:
        parent, target = target, target[part]
    choice = rng.randrange(4)
    if choice == 0 and parent is not None:
        parent[path[-1]] = rng.choice(_SCALARS)
    elif choice == 1 and isinstance(target, dict) and target:
        del target[rng.choice(list(target))]
    elif choice == 2 and isinstance(target, dict):
        target[rng.choice(["extra", "sumary", "name", "steps", "runs-on", "on", "jobs", "id"])] = rng.choice(_SCALARS)
    elif choice == 3 and isinstance(target, list):
        target.clear() if rng.random() < 0.5 else target.append(rng.choice(_SCALARS))
    elif parent is None:
        return rng.choice(_SCALARS)
    return data


def _reference_records() -> dict[str, list[Any]]:
    handbook = analyse(REPO).handbook
    found: dict[str, list[Any]] = {}
    for kind in KINDS.values():
        if kind.schema is None:
            continue
        seen: set[int] = set()
        for record in handbook.loaded.get(kind.name, []):
            # A kind whose file holds a list of records (the metrics catalog) validates the whole file.
            data = record.document.data
            if id(data) not in seen:
                seen.add(id(data))
                found.setdefault(kind.schema, []).append(data)
    return found


def _agree(schema: dict[str, Any], documents: list[Any]) -> tuple[int, int, list[Any]]:
    quick = quick_validator(schema)
    full = jsonschema.validators.validator_for(schema)(schema)
    disagreements = [data for data in documents if quick(data) != full.is_valid(data)]
    valid = sum(1 for data in documents if full.is_valid(data))
    return len(documents), valid, disagreements


def test_both_validators_agree_on_the_reference_handbook_and_its_mutants() -> None:
    records = _reference_records()
    assert set(records) >= {"runbook", "team", "component"}, "the reference handbook has records of these kinds"
    rng = random.Random(8)
    total = 0
    for name, documents in sorted(records.items()):
        mutants = [_mutant(rng.choice(documents), rng) for _ in range(300)]
        count, valid, disagreements = _agree(load_schema(name), documents + mutants)
        assert disagreements == [], f"{name}: the validators disagree on {disagreements[:3]}"
        assert valid >= len(documents), f"{name}: every reference record is valid"
        assert valid < count, f"{name}: some mutants are invalid, or the comparison proves nothing"
        total += count
    print(f"validators: {total} documents of {len(records)} schemas, 0 disagreements")


def test_every_published_schema_compiles_in_the_quick_validator() -> None:
    for name in schema_names():
        schema = load_schema(name)
        assert quick_validator(schema)({}) == jsonschema.Draft202012Validator(schema).is_valid({}), name


@pytest.mark.skipif(not CORPUS.is_dir(), reason="../shared/corpus/workflows is not here")
def test_both_validators_agree_on_the_workflow_corpus_and_its_mutants() -> None:
    documents = []
    for file in sorted(CORPUS.rglob("*.y*ml")):
        loaded, problems = load_yaml_file(file, file.name)
        documents.extend(document.data for document in loaded if not problems)
    assert len(documents) > 50
    rng = random.Random(5)
    mutants = [_mutant(rng.choice(documents), rng) for _ in range(400)]
    count, valid, disagreements = _agree(workflow_schema(), documents + mutants)
    print(f"workflow schema: {count} documents ({valid} valid), {len(disagreements)} disagreements")
    assert disagreements == []
    assert len(documents) <= valid < count


@pytest.mark.parametrize("value", [{1: "a"}, {"a": float("nan")}, {"a": float("inf")}, {"a": 10**40},
                                   {"a": -(10**40)}, {"a": 1.0}, {"a": True}, {"a": "é\u0000"}, {"a": [None]}])
def test_odd_values_get_the_same_answer_from_both(value: dict[Any, Any]) -> None:
    """Values the loaders can produce at the edges of JSON (a key that is not text, NaN, huge integers):
    jsonschema-rs either agrees or says no, which sends the document to the full validator."""
    for schema in ({"type": "object"}, {"properties": {"a": {"type": "integer"}}},
                   {"properties": {"a": {"type": "number", "maximum": 5}}}, {"additionalProperties": False},
                   {"properties": {"a": {"type": "string", "minLength": 2}}}):
        if quick_validator(schema)(value):  # a yes must be right; a wrong no only costs the slow pass
            assert jsonschema.Draft202012Validator(schema).is_valid(value), (schema, value)


def test_a_schema_reference_to_elsewhere_is_never_fetched(tmp_path: Path) -> None:
    schema = {"$schema": "https://json-schema.org/draft/2020-12/schema", "$ref": "https://example.invalid/x.json"}
    assert quick_validator(schema)({}) is False  # it cannot compile offline: the full validator is asked


def test_an_invalid_record_still_gets_its_positioned_diagnostics(tmp_path: Path) -> None:
    file = tmp_path / "r.yaml"
    file.write_text("id: r\ntitle: R\nseverity: urgent\n", encoding="utf-8")
    documents, _ = load_yaml_file(file, "runbooks/r.yaml")
    found = validate_data("runbook", documents[0].data, documents[0])
    assert ("OB010", 3, 11) in [(d.code, d.line, d.column) for d in found]


def _patterns(value: Any) -> list[str]:
    found = []
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "pattern" and isinstance(item, str):
                found.append(item)
            elif key == "patternProperties" and isinstance(item, dict):
                found.extend(item)
            found.extend(_patterns(item))
    elif isinstance(value, list):
        for item in value:
            found.extend(_patterns(item))
    return found


def test_on_plain_ascii_both_engines_read_every_shipped_pattern_alike() -> None:
    """The quick validator's "yes" is trusted only for plain ASCII text (`schema._plain`): on such text,
    whatever Rust's regular expressions accept, Python's must accept too, for every pattern opsbook and
    GitHub's workflow schema use. (The other way round only costs time: Python's `$` also matches before
    a final newline, Rust's does not, and the full validator then decides.)"""
    import re

    patterns = sorted({p for name in schema_names() for p in _patterns(load_schema(name))} |
                      set(_patterns(workflow_schema())))
    assert len(patterns) > 5
    alphabet = [chr(c) for c in [*range(0x00, 0x1c), *range(0x20, 0x80)]]
    rng = random.Random(3)
    probes = ["", *alphabet, *("".join(rng.choice(alphabet) for _ in range(rng.randrange(1, 12))) for _ in range(1500)),
              "2026-11-01", "90d", "5m", "orders-db", "a b", " x", "x ", "${{ secrets.X }}", "run\n", "\tx"]
    for pattern in patterns:
        rust = quick_validator({"type": "string", "pattern": pattern})
        python = re.compile(pattern)
        for probe in probes:
            if rust(probe):
                assert python.search(probe) is not None, (pattern, probe)


def test_a_skip_reason_of_separator_characters_is_still_no_reason(make_handbook: Any) -> None:
    """Python's `\\S` does not match U+001C-U+001F, Rust's does: such text goes to `jsonschema`."""
    root = make_handbook({"runbooks/r.yaml": 'title: R\nsteps:\n  - name: S\n    run: "true"\n    ci: {skip: "\\x1c"}\n'},
                         shellcheck=False)
    assert "OB031" in [d.code for d in analyse(root).diagnostics]
    assert quick_validator({"pattern": "\\S"})("\x85") is False and quick_validator({"pattern": "\\S"})("x") is True
