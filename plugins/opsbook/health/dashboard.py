"""The handbook-health dashboard: the page and the `health` section, its figures (`figures.compute_health`)
drawn at build time as SVG charts (no JavaScript)."""

from __future__ import annotations

import html
from collections.abc import Iterator

from markupsafe import Markup

from ..model import Handbook
from ..render import Page, Renderer
from ..render.sections import section
from .figures import compute_health, share

_WIDTH, _ROW, _LABEL = 640, 28, 250


def bar_chart(title: str, rows: list[tuple[str, int, int]]) -> Markup:
    """Horizontal bars of `part` out of `whole`, as an inline SVG with its own text alternative."""
    height = 30 + _ROW * len(rows)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{_WIDTH}" height="{height}" '
             f'viewBox="0 0 {_WIDTH} {height}" font-family="sans-serif" font-size="13">',
             f"<title>{html.escape(title)}</title>",
             f'<text x="0" y="18" font-weight="bold">{html.escape(title)}</text>']
    span = _WIDTH - _LABEL - 90
    for index, (label, part, whole) in enumerate(rows):
        y = 30 + index * _ROW
        fraction = share(part, whole)
        colour = "#2e7d32" if fraction >= 0.999 else ("#f9a825" if fraction >= 0.8 else "#c62828")
        parts += [f'<text x="0" y="{y + 16}">{html.escape(label)}</text>',
                  f'<rect x="{_LABEL}" y="{y + 4}" width="{span}" height="16" fill="#e0e0e0"/>',
                  f'<rect x="{_LABEL}" y="{y + 4}" width="{round(span * fraction)}" height="16" fill="{colour}"/>',
                  f'<text x="{_LABEL + span + 8}" y="{y + 16}">{part}/{whole}</text>']
    parts.append("</svg>")
    return Markup('<div class="opsbook-chart">' + "".join(parts) + "</div>")


def count_chart(title: str, counts: dict[str, int]) -> Markup:
    """Bars of counts (diagnostics by code), scaled to the largest."""
    largest = max(counts.values(), default=0)
    return bar_chart(title, [(name, value, largest) for name, value in counts.items()]) if counts else Markup("")


@section("health", "The handbook-health dashboard: runbook coverage of alerts, steps verified in CI, reviews "
                   "and drills overdue, diagnostics by code, drawn as SVG charts.")
def health_section(handbook: Handbook, renderer: Renderer, uri: str) -> str:
    figures = compute_health(handbook, renderer.diagnostics)
    reviewed = figures.runbooks - figures.runbooks_overdue
    drilled = figures.dr_runbooks - figures.drills_overdue
    coverage_chart = bar_chart("Coverage", [
        ("Alerts with a runbook", figures.alerts_with_runbook, figures.alerts),
        ("Paging alerts with a runbook", figures.paging_alerts_with_runbook, figures.paging_alerts),
        ("Runnable steps verified in CI", figures.verified_steps, figures.runnable_steps),
        ("Runbooks reviewed on time", reviewed, figures.runbooks),
        ("DR runbooks drilled or verified", drilled, figures.dr_runbooks),
    ])
    resolve_hours = {k: round(v) for k, v in figures.resolve_hours_by_service.items()}
    return renderer.render("health.md.j2", uri, figures=figures, coverage_chart=coverage_chart,
                           diagnostics_chart=count_chart("Diagnostics by code", figures.diagnostics_by_code),
                           resolve_chart=count_chart("Mean hours to resolve, by service", resolve_hours))


def health_pages(handbook: Handbook, renderer: Renderer) -> Iterator[Page]:
    uri = "health.md"
    yield Page(uri, "# Handbook health\n\n" + health_section(handbook, renderer, uri), title="Handbook health",
               in_nav=True)
