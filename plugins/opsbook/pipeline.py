"""The pipeline every adapter runs: configuration → load → model → checks (→ render)."""

from __future__ import annotations

import gc
from dataclasses import dataclass
from pathlib import Path

from .checks import run_checks
from .config import Config, read_config
from .diagnostics import Diagnostic, Severity
from .health import health_pages
from .model import Handbook, load_handbook
from .registry import CHECKS, FAMILIES, KINDS, make_renderer
from .render import Page
from .render.code_pages import check_pages
from .render.schema_pages import schema_pages

__all__ = ["Analysis", "analyse", "load_config", "render_pages"]


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


def load_config(root: Path, file: str | None = None) -> tuple[Config, list[Diagnostic]]:
    """The configuration of the handbook at `root` (from the first of `config.CONFIG_FILES` there, or the
    engine's configuration `file` in `root` when given), and its problems."""
    return read_config(root, KINDS, file)


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
        return Analysis(config, handbook, run_checks(handbook, CHECKS, problems))
    finally:
        if enabled:
            gc.enable()


def render_pages(handbook: Handbook, diagnostics: list[Diagnostic] | None = None) -> list[Page]:
    """Every generated page: each family's pages of each kind, then the diagnostic code and schema
    references and the health dashboard."""
    renderer = make_renderer(handbook, diagnostics or ())
    pages: list[Page] = []
    for family in FAMILIES:
        for kind in family.kinds:
            maker = family.pages.get(kind.name)
            if maker is not None:
                pages.extend(maker(handbook, renderer))
    pages.extend(check_pages(renderer))
    pages.extend(schema_pages(renderer))
    pages.extend(health_pages(handbook, renderer))
    return pages
