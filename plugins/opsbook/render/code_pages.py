"""The reference pages of the diagnostic codes: one per code, and their index."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

from ..diagnostics import example_files
from ..model import Handbook
from . import Page, Renderer
from .sections import section

__all__ = ["check_codes_section", "check_pages"]


def check_pages(renderer: Renderer) -> Iterator[Page]:
    """A page per code of the renderer's catalogue, with where it occurs in this handbook, and their index."""
    folder = renderer.handbook.config.page_dir("checks", "reference/checks")
    counts = Counter(diagnostic.code for diagnostic in renderer.diagnostics)
    codes = [renderer.codes[name] for name in sorted(renderer.codes)]
    for code in codes:
        uri = f"{folder}/{code.code}.md"
        found = [d for d in renderer.diagnostics if d.code == code.code]
        yield Page(uri, renderer.render("check.md.j2", uri, code=code, found=found,
                                        failing=example_files(code.failing), passing=example_files(code.passing)),
                   title=f"{code.code}: {code.title}")
    uri = f"{folder}/index.md"
    yield Page(uri, renderer.render("checks_index.md.j2", uri, codes=codes, counts=counts),
               title="Diagnostic codes", in_nav=True)


@section("check-codes", "Every diagnostic code opsbook reports, with its severity and how often it occurs here.")
def check_codes_section(handbook: Handbook, renderer: Renderer, uri: str) -> str:
    folder = renderer.handbook.config.page_dir("checks", "reference/checks")
    found: dict[str, int] = {}
    for diagnostic in renderer.diagnostics:
        found[diagnostic.code] = found.get(diagnostic.code, 0) + 1
    return renderer.render("check_codes.md.j2", uri, codes=[renderer.codes[c] for c in sorted(renderer.codes)],
                           found=found, folder=folder)
