"""The pipeline every adapter runs: configuration → load → model → checks (→ render)."""

from __future__ import annotations

import gc
from dataclasses import dataclass
from pathlib import Path

from .checks import run_checks
from .config import Config, load_config
from .diagnostics import Diagnostic, Severity
from .kinds import KINDS
from .model import Handbook, load_handbook
from .render import Page, render_pages

__all__ = ["Analysis", "analyse"]


@dataclass
class Analysis:
    """A checked handbook: its configuration, model and diagnostics."""

    config: Config
    handbook: Handbook
    diagnostics: list[Diagnostic]

    def failures(self, threshold: Severity | None = None) -> list[Diagnostic]:
        """Diagnostics at or above the threshold (the configured `fail_on` by default)."""
        limit = threshold if threshold is not None else self.config.threshold
        return [d for d in self.diagnostics if d.severity >= limit]

    def pages(self) -> list[Page]:
        return render_pages(self.handbook, self.diagnostics)


def analyse(root: Path, config: Config | None = None) -> Analysis:
    """Load and check the handbook at `root` (configuration from `mkdocs.yml` unless given)."""
    problems: list[Diagnostic] = []
    # The model is many small objects and no garbage cycles: collection passes would only cost time
    # (a third of a large handbook's check).
    enabled = gc.isenabled()
    gc.disable()
    try:
        if config is None:
            config, problems = load_config(root)
        handbook = load_handbook(config, KINDS)
        return Analysis(config, handbook, run_checks(handbook, problems))
    finally:
        if enabled:
            gc.enable()
