"""The registry of kinds: each kind is one module here that declares a `KIND`."""

from __future__ import annotations

from ..model import Kind
from . import runbook

__all__ = ["KINDS", "register_kind"]

KINDS: dict[str, Kind] = {}


def register_kind(kind: Kind) -> Kind:
    """Add a kind to the registry; the loader, checks, renderer and adapters pick it up from there."""
    if kind.name in KINDS:
        raise ValueError(f"kind {kind.name!r} registered twice")
    KINDS[kind.name] = kind
    return kind


for _module in (runbook,):
    register_kind(_module.KIND)
