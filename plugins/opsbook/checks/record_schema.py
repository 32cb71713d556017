"""Schema checks: every record against its kind's published JSON Schema (OB010, OB011)."""

from __future__ import annotations

from collections.abc import Iterator

from ..diagnostics import Diagnostic, make
from ..model import Handbook
from ..schema_validation import OB010, validate_record


def check_schemas(handbook: Handbook) -> Iterator[Diagnostic]:
    """OB010 and OB011: each record is validated against `schemas/<kind>.schema.json`.

    Failing (`severity` outside its set, `sumary` unknown):

        title: Restart the API
        sumary: When the API stops answering.
        severity: urgent

    Passing:

        title: Restart the API
        summary: When the API stops answering.
        severity: critical
    """
    for kind_name, records in handbook.loaded.items():
        kind = handbook.kinds[kind_name]
        if kind.records_from is not None:
            continue  # such kinds validate whole documents as they read them
        for record in records:
            if not isinstance(record.document.data, dict):
                line, column = record.document.position(())
                yield make(OB010, record.path, line, column,
                           f"a {kind.name} file must hold a mapping of fields, not "
                           f"{type(record.document.data).__name__}")
                continue
            yield from validate_record(kind, record)
