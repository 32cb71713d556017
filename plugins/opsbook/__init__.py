"""opsbook: documentation-as-code for operations.

Load a handbook's sources into one linked model, check every reference and policy, and render
Markdown pages for MkDocs or any other site engine.

Example:
    >>> from pathlib import Path
    >>> from opsbook import analyse
    >>> analysis = analyse(Path("."))                      # doctest: +SKIP
    >>> [d.location() for d in analysis.failures()]        # doctest: +SKIP
"""

from __future__ import annotations

from .config import Config
from .diagnostics import Code, Diagnostic, Severity
from .model import Handbook, Kind, Record, Ref, load_handbook
from .pipeline import Analysis, analyse, load_config, render_pages
from .registry import CODES, FAMILIES, KINDS
from .render import Page

__all__ = [
    "CODES",
    "FAMILIES",
    "KINDS",
    "Analysis",
    "Code",
    "Config",
    "Diagnostic",
    "Handbook",
    "Kind",
    "Page",
    "Record",
    "Ref",
    "Severity",
    "analyse",
    "load_config",
    "load_handbook",
    "render_pages",
]

__version__ = "0.1.0"
