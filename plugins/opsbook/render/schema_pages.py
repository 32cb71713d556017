"""The schema reference: one page per published schema, a table of its fields, generated from `schemas/`."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from ..model import Handbook
from ..schema_validation import load_schema, schema_names
from . import Page, Renderer
from .sections import section

__all__ = ["schema_pages", "schema_reference_section"]


def _type_of(spec: dict[str, Any]) -> str:
    if "$ref" in spec:
        return spec["$ref"].rsplit("/", 1)[-1]
    if "enum" in spec:
        return " | ".join(json.dumps(v) for v in spec["enum"])
    kind = spec.get("type", "any")
    if kind == "array":
        items = spec.get("items", {})
        return f"list of {_type_of(items)}" if isinstance(items, dict) else "list"
    if kind == "object" and isinstance(spec.get("additionalProperties"), dict):
        return f"map of {_type_of(spec['additionalProperties'])}"
    return " or ".join(kind) if isinstance(kind, list) else str(kind)


def _rows(schema: dict[str, Any]) -> list[dict[str, str]]:
    required = set(schema.get("required", []))
    rows = []
    for name, spec in (schema.get("properties") or {}).items():
        examples = spec.get("examples") or []
        rows.append({
            "name": name,
            "type": _type_of(spec),
            "required": "yes" if name in required else "",
            "description": spec.get("description", ""),
            "example": json.dumps(examples[0], ensure_ascii=False) if examples else "",
        })
    return rows


def schema_pages(renderer: Renderer) -> Iterator[Page]:
    """A page per published schema, a table of its fields, and their index."""
    folder = renderer.handbook.config.page_dir("schemas", "reference/schemas")
    names = schema_names()
    for name in names:
        schema = load_schema(name)
        sections = [("Fields", schema.get("description", ""), _rows(schema))]
        for def_name, spec in sorted((schema.get("$defs") or {}).items()):
            if spec.get("properties"):
                sections.append((def_name, spec.get("description", ""), _rows(spec)))
        uri = f"{folder}/{name}.md"
        yield Page(uri, renderer.render("schema.md.j2", uri, name=name, schema=schema, sections=sections),
                   title=f"{name} schema")
    uri = f"{folder}/index.md"
    yield Page(uri, renderer.render("schemas_index.md.j2", uri, names=names,
                                    titles={n: load_schema(n).get("title", n) for n in names}),
               title="Schemas", in_nav=True)


@section("schema-reference", "The published JSON Schemas, with every field of every kind.")
def schema_reference_section(handbook: Handbook, renderer: Renderer, uri: str) -> str:
    folder = renderer.handbook.config.page_dir("schemas", "reference/schemas")
    rows = [(name, load_schema(name).get("title", name), load_schema(name).get("description", ""),
             f"{folder}/{name}.md", len(load_schema(name).get("properties", {}))) for name in schema_names()]
    return renderer.render("schema_reference.md.j2", uri, rows=rows)
