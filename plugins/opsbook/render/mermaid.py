"""Mermaid diagrams from untrusted names: every label is entity-escaped, every id is generated."""

from __future__ import annotations

import re

__all__ = ["label", "node_id"]

_SAFE = re.compile(r"[A-Za-z0-9 _.,:/+-]")


def label(text: object, limit: int = 80) -> str:
    """A quoted Mermaid label showing `text` and nothing else: no syntax, no markup, no links."""
    value = " ".join(str(text).split())
    if len(value) > limit:
        value = value[: limit - 1] + "…"
    return '"' + "".join(char if _SAFE.fullmatch(char) else f"#{ord(char)};" for char in value) + '"'


def node_id(prefix: str, index: int) -> str:
    return f"{prefix}{index}"
