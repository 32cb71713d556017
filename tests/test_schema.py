"""The published schema is valid, documented, and agrees with the code."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from opsbook.registry import KINDS
from opsbook.kinds.runbooks.records import SEVERITIES, Runbook, Step
from opsbook.loader import load_yaml_file
from opsbook.schema_validation import load_schema, quick_validator, schema_names

REPO = Path(__file__).parent.parent
# Cases that load as YAML: the others never reach a validator.
CASES = [case for case in sorted((Path(__file__).parent / "cases").glob("*/*.yaml"))
         if not load_yaml_file(case, case.name)[1]]


@pytest.mark.parametrize("name", schema_names())
def test_schema_is_valid_2020_12(name: str) -> None:
    schema = load_schema(name)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(schema)


def _properties(schema: dict) -> list[tuple[str, dict]]:
    found = list((schema.get("properties") or {}).items())
    for spec in (schema.get("$defs") or {}).values():
        found.extend((spec.get("properties") or {}).items())
    return found


@pytest.mark.parametrize("name", schema_names())
def test_every_field_has_a_description_and_an_example(name: str) -> None:
    for field, spec in _properties(load_schema(name)):
        described = spec.get("description") or "$ref" in spec
        assert described, f"{name}: field {field} has no description"
        if "$ref" not in spec:
            assert spec.get("examples"), f"{name}: field {field} has no example"


def test_the_repository_schemas_folder_is_the_package_data() -> None:
    for name in schema_names():
        shipped = load_schema(name)
        published = json.loads((REPO / "schemas" / f"{name}.schema.json").read_text(encoding="utf-8"))
        assert shipped == published


def test_every_kind_with_a_schema_ships_it() -> None:
    for kind in KINDS.values():
        if kind.schema:
            assert kind.schema in schema_names()


def test_runbook_code_and_schema_agree() -> None:
    schema = load_schema("runbook")
    assert set(Runbook.FIELDS) == set(schema["properties"])
    assert set(Step.FIELDS) == set(schema["$defs"]["step"]["properties"])
    assert list(SEVERITIES) == schema["properties"]["severity"]["enum"]
    assert set(schema["required"]) <= set(Runbook.FIELDS)


@pytest.mark.parametrize("case", CASES, ids=[f"{c.parent.name}/{c.stem}" for c in CASES])
def test_fast_and_full_validators_agree(case: Path) -> None:
    """The quick validator decides which records get the detailed pass, so both must agree."""
    documents, _ = load_yaml_file(case, case.name)
    schema = load_schema("runbook")
    data = documents[0].data
    fast_ok = quick_validator(schema)(data)
    full_ok = jsonschema.Draft202012Validator(schema).is_valid(data)
    assert fast_ok == full_ok
