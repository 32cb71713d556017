"""The published JSON Schemas (2020-12), shipped as package data, and validation with exact positions.

Validation runs in two passes: `jsonschema-rs` (compiled Rust, offline: it never fetches a `$ref`)
says yes or no quickly for the many records that are valid; only a record it rejects is validated
again by `jsonschema`, which lists every error with its path, and each path is mapped back to the key
or item at fault. `quick_validator` is that first pass for any schema (the GitHub workflow schema too).
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Callable, Iterator
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any, cast

import jsonschema_rs

from .diagnostics import Code, Diagnostic, Severity, make
from .loader import Document
from .model import Kind, Record

if TYPE_CHECKING:  # jsonschema is imported only when a document is invalid: most runs never need it
    import jsonschema

__all__ = ["load_schema", "published_path", "quick_validator", "schema_error_diagnostics", "schema_names",
           "validate_data", "validate_record", "validated_items"]

OB010 = Code("OB010", Severity.ERROR, "Value does not match the schema",
         "A field has the wrong type, a value outside its allowed set, a required field is missing, or a "
         "value does not have the required form. The schema in `schemas/` is the contract; the message "
         "says which rule the value broke.",
         failing="# runbooks/orders-db-restore.yaml\n"
                 "severity: urgent   # not one of critical, high, medium, low\n",
         passing="# runbooks/orders-db-restore.yaml\n"
                 "severity: critical\n")
OB011 = Code("OB011", Severity.ERROR, "Unknown field",
         "A field that the kind's schema does not define. Unknown fields are errors so that a typo "
         "(`sumary:`) does not pass silently; the hint names the closest known field.",
         failing="# runbooks/orders-db-restore.yaml\n"
                 "sumary: When the orders database is lost or corrupt.\n",
         passing="# runbooks/orders-db-restore.yaml\n"
                 "summary: When the orders database is lost or corrupt.\n")

_PACKAGE = "opsbook.schemas"
_MAX_SHOWN = 80
#: Unknown fields of one mapping reported one by one; the rest are counted in one more diagnostic (a file
#: of 50,000 unknown keys is not 50,000 diagnostics, each with its closest-match search).
_MAX_UNKNOWN = 100


def published_path(name: str) -> str:
    """Where a schema is published, relative to the site (`site_url`) or to a repository's root: the path
    that the plugin serves, that `opsbook schema --out schemas` writes and that `opsbook new`'s editor
    header names. A schema's `$id` is its own file name, so that it resolves to wherever it is served."""
    return f"schemas/{name}.schema.json"


def schema_names() -> list[str]:
    """Kinds that have a published schema (`runbook`, ...)."""
    names = []
    for entry in resources.files(_PACKAGE).iterdir():
        if entry.name.endswith(".schema.json"):
            names.append(entry.name.removesuffix(".schema.json"))
    return sorted(names)


@cache
def schema_text(name: str) -> str:
    return resources.files(_PACKAGE).joinpath(f"{name}.schema.json").read_text(encoding="utf-8")


@cache
def load_schema(name: str) -> dict[str, Any]:
    """The schema of a kind, as a dictionary."""
    return json.loads(schema_text(name))


def _no_retrieval(uri: str) -> Any:
    raise ValueError(f"opsbook does not fetch {uri}")  # a schema's `$ref` to elsewhere is never fetched


def quick_validator(schema: dict[str, Any]) -> Callable[[Any], bool]:
    """A yes/no validator compiled by jsonschema-rs, formats not asserted (as `jsonschema` does by default).

    It answers False, never raises, for what it cannot judge (a schema it cannot compile, a value it
    cannot convert): False only means "ask `jsonschema`", which decides and explains.
    """
    try:
        compiled = jsonschema_rs.validator_for(schema, validate_formats=False, retriever=_no_retrieval)
    except Exception:
        return lambda data: False

    def valid(data: Any) -> bool:
        try:
            return bool(compiled.is_valid(data)) and _plain(data)
        except Exception:
            return False

    return valid


# Rust's regular expressions and Python's agree on ASCII text, except that Python's `\s` also matches
# the separators \x1c-\x1f. Beyond ASCII they differ (`\s`, `\w`, `\b` on U+0085, U+FEFF, marks…),
# so a "yes" is trusted only for data whose every text is plain ASCII; other data goes to `jsonschema`.
_ESCAPED_SEPARATOR = re.compile(r"\\u001[c-f]")


def _plain(data: Any) -> bool:
    """Whether every key and text value in the data is ASCII without the \\x1c-\\x1f separators: tested
    on the data as the C JSON encoder writes it (separators as `\\u001c`…). Data it cannot encode is
    not plain: the full validator decides."""
    try:
        encoded = json.dumps(data, ensure_ascii=False, check_circular=False)
    except (TypeError, ValueError, RecursionError):
        return False
    return encoded.isascii() and _ESCAPED_SEPARATOR.search(encoded) is None


@cache
def _quick(name: str) -> Callable[[Any], bool]:
    return quick_validator(load_schema(name))


@cache
def _full(name: str) -> jsonschema.protocols.Validator:
    import jsonschema

    validator = jsonschema.validators.extend(jsonschema.Draft202012Validator, {"pattern": _pattern})
    return cast("jsonschema.protocols.Validator", validator(load_schema(name)))


def _pattern(validator: Any, pattern: str, instance: Any, schema: Any) -> Iterator[jsonschema.ValidationError]:
    """The `pattern` keyword as JSON Schema (ECMA-262) and jsonschema-rs read it: `$` ends the text. Python's
    `re` also lets it match before a final newline, so that an id `x\n`, or a file named `x\n.yaml`,
    would pass `^[a-z0-9]+$`."""
    import jsonschema

    if validator.is_type(instance, "string") and not _ecma(pattern).search(instance):
        yield jsonschema.ValidationError(f"{instance!r} does not match {pattern!r}")


@cache
def _ecma(pattern: str) -> re.Pattern[str]:
    """A JSON Schema pattern compiled for Python's `re`, each `$` outside a character class made `\\Z`."""
    out: list[str] = []
    escaped = in_class = False
    for char in pattern:
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif in_class:
            in_class = char != "]"
        elif char == "[":
            in_class = True
        elif char == "$":
            char = r"\Z"
        out.append(char)
    return re.compile("".join(out))


def _shown(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str) if not isinstance(value, str) else repr(value)
    return text if len(text) <= _MAX_SHOWN else text[: _MAX_SHOWN - 1] + "…"


def _field_name(path: tuple[str | int, ...]) -> str:
    parts: list[str] = []
    for part in path:
        parts.append(f"[{part}]" if isinstance(part, int) else (("." if parts else "") + part))
    return "".join(parts) or "the document"


_TYPE_WORDS = {"string": "text", "integer": "a whole number", "number": "a number", "boolean": "true or false",
               "array": "a list", "object": "a mapping", "null": "empty"}


def _message(error: jsonschema.ValidationError) -> str:
    where = _field_name(tuple(error.absolute_path))
    validator, expected = error.validator, cast(Any, error.validator_value)
    if validator == "type":
        wanted = expected if isinstance(expected, list) else [expected]
        words = " or ".join(_TYPE_WORDS.get(t, str(t)) for t in wanted)
        return f"{where} must be {words}, not {_shown(error.instance)}"
    if validator == "enum":
        return f"{where} must be one of {', '.join(map(str, expected))}, not {_shown(error.instance)}"
    if validator == "pattern":
        return f"{where} {_shown(error.instance)} does not match the pattern {expected}"
    if validator == "required":
        missing = [name for name in expected if isinstance(error.instance, dict) and name not in error.instance]
        return f"{where} is missing the required field{'s' if len(missing) > 1 else ''} {', '.join(missing)}"
    if validator in ("minLength", "minItems"):
        return f"{where} must not be empty"
    if validator == "const":
        return f"{where} must be {_shown(expected)}"
    return f"{where}: {error.message[:200]}"


def validate_record(kind: Kind, record: Record) -> list[Diagnostic]:
    """Diagnostics for one record against its kind's schema, each at the exact key or item."""
    if kind.schema is None:
        return []
    schema_error = kind.schema_error
    hook = (lambda error: schema_error(error, record)) if schema_error is not None else None
    return validate_data(kind.schema, record.data, record.document, hook)


def validate_data(name: str, data: Any, document: Document,
                  hook: Callable[[Any], Diagnostic | bool | None] | None = None) -> list[Diagnostic]:
    """Diagnostics for a whole document's data against the schema `name`.

    `hook` may turn an error into a diagnostic of its own (return it), drop it (return True), or
    leave it to the generic messages (return None).
    """
    if _quick(name)(data):
        return []
    found: list[Diagnostic] = []
    for error in sorted(_full(name).iter_errors(data), key=lambda e: [str(p) for p in e.absolute_path]):
        if hook is not None:
            special = hook(error)
            if special is True:
                continue
            if isinstance(special, Diagnostic):
                found.append(special)
                continue
        found.extend(schema_error_diagnostics(error, document))
    return sorted(set(found), key=lambda d: (d.line, d.column, d.code))


def schema_error_diagnostics(error: jsonschema.ValidationError, document: Document, *, code: Code = OB010,
                             unknown_code: Code = OB011) -> list[Diagnostic]:
    """Diagnostics for one validation error, each at the exact key or item at fault."""
    path = tuple(error.absolute_path)
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        schema = cast(dict[str, Any], error.schema)
        known = list((schema.get("properties") or {}).keys())
        patterns = [re.compile(p) for p in (schema.get("patternProperties") or {})]
        out = []
        unknown = [key for key in error.instance if key not in known and not any(p.search(key) for p in patterns)]
        for number, key in enumerate(unknown):
            line, column = document.position(path + (key,), key=True)
            if number == _MAX_UNKNOWN:
                out.append(make(unknown_code, document.path, line, column,
                                f"unknown field '{_field_name(path + (key,))}' and {len(unknown) - number - 1:,} "
                                "more unknown fields after it in this mapping, not listed one by one",
                                f"known fields: {', '.join(known)}"))
                break
            close = difflib.get_close_matches(key, known, n=1)
            hint = f"did you mean '{close[0]}'?" if close else f"known fields: {', '.join(known)}"
            out.append(make(unknown_code, document.path, line, column,
                            f"unknown field '{_field_name(path + (key,))}'", hint))
        return out
    if error.validator in ("oneOf", "anyOf") and error.context:
        # Report the branch that came closest, rather than "not valid under any of the given schemas".
        from jsonschema.exceptions import best_match

        best = best_match(error.context)
        if best is not None:
            return schema_error_diagnostics(best, document, code=code, unknown_code=unknown_code)
    key = error.validator == "required"
    line, column = document.position(path, key=key and bool(path))
    return [make(code, document.path, line, column, _message(error))]


def validated_items(document: Document, name: str, key: str) -> tuple[list[Diagnostic], list[Any]]:
    """For a file that holds a list of records under `key` (routing tests, the metrics catalog): the
    schema's diagnostics, and the items when there are none."""
    if document.data is None:
        return [], []
    problems = validate_data(name, document.data, document)
    return problems, ([] if problems else list(document.data[key]))
