"""The handbook-health dashboard: the page and the `health` section, its figures (`figures.compute_health`)
drawn at build time as SVG charts (no JavaScript).

Every bar is as long as its value is on its scale, and coloured by how bad the value is: a share that
should be whole (alerts with a runbook, steps verified) is green when whole, amber from 80 %, red below;
diagnostics are red for an error code and amber for a warning code; a mean time to resolve is red past
the service's recovery time objective, green within it, blue where the service states none. A figure with
nothing to count (no alerts yet) says so, with no bar: it is neither good nor bad. The table under each
chart holds the same figures, the chart's text alternative for a screen reader and for a test.
"""

from __future__ import annotations

import html
from collections.abc import Iterator
from dataclasses import dataclass

from markupsafe import Markup

from ..durations import duration_in_words, parse_duration
from ..kinds.recovery.records import Component
from ..model import Handbook
from ..render import Page, Renderer
from ..render.sections import section
from .figures import Health, compute_health

__all__ = ["Bar", "bar_chart", "coverage_bars", "diagnostic_bars", "health_pages", "health_section",
           "resolve_bars"]

_WIDTH, _ROW, _LABEL, _TEXT = 700, 28, 250, 190
#: Colours by tone, (bar, track): the track is a tint of the bar, so that an empty bar still shows its tone.
TONES = {"good": ("#2e7d32", "#c8e6c9"), "warn": ("#b26a00", "#ffe0b2"), "bad": ("#c62828", "#ffcdd2"),
         "neutral": ("#1565c0", "#bbdefb")}
#: The share from which a figure that should be whole is amber rather than red.
WARN_FROM = 0.8


@dataclass(frozen=True)
class Bar:
    """One bar of a chart: `value` on a `scale` (a full bar), shown with `text`, coloured by `tone`
    (`good`, `warn`, `bad` or `neutral`); a scale of 0 is "nothing to count" and draws no bar."""

    label: str
    value: float
    scale: float
    text: str
    tone: str = "neutral"

    @property
    def fraction(self) -> float:
        return min(max(self.value / self.scale, 0.0), 1.0) if self.scale > 0 else 0.0


def share_bar(label: str, part: int, whole: int) -> Bar:
    """A figure that should be whole: `part` of `whole`, toned by how far from whole it is."""
    if whole <= 0:
        return Bar(label, 0, 0, "nothing to count")
    fraction = part / whole
    tone = "good" if part >= whole else "warn" if fraction >= WARN_FROM else "bad"
    return Bar(label, part, whole, f"{part} of {whole} ({_percent(part, whole)})", tone)


def _percent(part: int, whole: int) -> str:
    """A share as a whole percentage that never says 100 % of what is not whole, nor 0 % of some."""
    value = round(100 * part / whole)
    if part < whole:
        value = min(value, 99)
    if part > 0:
        value = max(value, 1)
    return f"{value}\u00a0%"  # a no-break space: the figure never wraps apart from its unit


def bar_chart(title: str, bars: list[Bar]) -> Markup:
    """Horizontal bars as an inline SVG, titled for screen readers (the page's heading names it for the
    eye); each bar's group carries its figures (`data-value`, `data-scale`) beside the geometry that draws
    them. The chart scrolls inside its own box on a narrow screen."""
    height = 4 + _ROW * len(bars)
    span = _WIDTH - _LABEL - _TEXT
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{_WIDTH}" height="{height}" '
             f'viewBox="0 0 {_WIDTH} {height}" font-family="sans-serif" font-size="13">',
             f"<title>{html.escape(title)}</title>"]
    for index, bar in enumerate(bars):
        y = index * _ROW
        label = html.escape(bar.label)
        parts.append(f'<g class="opsbook-bar" data-label="{label}" data-value="{bar.value:g}" '
                     f'data-scale="{bar.scale:g}" data-tone="{bar.tone if bar.scale > 0 else "none"}">')
        parts.append(f'<text x="0" y="{y + 16}">{label}</text>')
        if bar.scale > 0:
            colour, tint = TONES[bar.tone]
            parts += [f'<rect class="track" x="{_LABEL}" y="{y + 4}" width="{span}" height="16" fill="{tint}" '
                      f'stroke="{colour}" stroke-width="1"/>',
                      f'<rect class="value" x="{_LABEL}" y="{y + 4}" width="{round(span * bar.fraction, 1):g}" '
                      f'height="16" fill="{colour}"/>',
                      f'<text x="{_LABEL + span + 8}" y="{y + 16}">{html.escape(bar.text)}</text>']
        else:
            parts += [f'<rect class="track" x="{_LABEL}" y="{y + 4}" width="{span}" height="16" fill="none" '
                      f'stroke="#757575" stroke-width="1" stroke-dasharray="4 3"/>',
                      f'<text x="{_LABEL + 8}" y="{y + 16}" fill="#555555" font-style="italic">'
                      f'{html.escape(bar.text)}</text>']
        parts.append("</g>")
    parts.append("</svg>")
    return Markup('<div class="opsbook-chart" style="overflow-x: auto">' + "".join(parts) + "</div>")


def coverage_bars(figures: Health) -> list[Bar]:
    """The shares that should be whole: alerts with a runbook, steps verified in CI, reviews, drills."""
    return [
        share_bar("Alerts with a runbook", figures.alerts_with_runbook, figures.alerts),
        share_bar("Paging alerts with a runbook", figures.paging_alerts_with_runbook, figures.paging_alerts),
        share_bar("Runnable steps verified in CI", figures.verified_steps, figures.runnable_steps),
        share_bar("Runbooks reviewed on time", figures.runbooks - figures.runbooks_overdue, figures.runbooks),
        share_bar("DR runbooks drilled or verified", figures.dr_runbooks - figures.drills_overdue,
                  figures.dr_runbooks),
    ]


def diagnostic_bars(counts: dict[str, int], severity_of: dict[str, str]) -> list[Bar]:
    """Diagnostics by code, scaled to the most frequent; red for an error code, amber for a warning code."""
    largest = max(counts.values(), default=0)
    tone = {"error": "bad", "warning": "warn"}
    return [Bar(code, count, largest, f"{count} {severity_of.get(code, '')}".rstrip(),
                tone.get(severity_of.get(code, ""), "neutral")) for code, count in counts.items()]


def resolve_bars(handbook: Handbook, hours_by_service: dict[str, float]) -> list[Bar]:
    """Mean time to resolve by service, scaled to the longest, judged against the service's RTO."""
    longest = max(hours_by_service.values(), default=0.0) * 3600
    bars = []
    for service, hours in hours_by_service.items():
        seconds = hours * 3600
        component = handbook.record_of(Component, service)
        rto = parse_duration(component.rto) if component is not None else None
        tone = "neutral" if rto is None else "good" if seconds <= rto else "bad"
        text = duration_in_words(seconds) + ("" if rto is None else f" (RTO {duration_in_words(rto)})")
        bars.append(Bar(service, round(seconds), round(longest), text, tone))
    return bars


@section("health", "The handbook-health dashboard: runbook coverage of alerts, steps verified in CI, reviews "
                   "and drills overdue, diagnostics by code, mean time to resolve by service, drawn as SVG charts.")
def health_section(handbook: Handbook, renderer: Renderer, uri: str) -> str:
    figures = compute_health(handbook, renderer.diagnostics)
    coverage = coverage_bars(figures)
    diagnostics = diagnostic_bars(figures.diagnostics_by_code, figures.severity_of)
    resolve = resolve_bars(handbook, figures.resolve_hours_by_service)
    return renderer.render("health.md.j2", uri, figures=figures, coverage=coverage,
                           coverage_chart=bar_chart("Coverage", coverage),
                           diagnostics=diagnostics, diagnostics_chart=bar_chart("Diagnostics by code", diagnostics),
                           resolve=resolve, resolve_chart=bar_chart("Mean time to resolve, by service", resolve),
                           checks=handbook.config.page_dir("checks", "reference/checks"))


def health_pages(handbook: Handbook, renderer: Renderer) -> Iterator[Page]:
    uri = "health.md"
    yield Page(uri, "# Handbook health\n\n" + health_section(handbook, renderer, uri), title="Handbook health",
               in_nav=True)
