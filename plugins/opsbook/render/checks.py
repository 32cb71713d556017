"""The reference pages of the diagnostic codes: one per code, and their index."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

from ..diagnostics import CODES
from . import Page, Renderer


def check_pages(renderer: Renderer) -> Iterator[Page]:
    folder = renderer.handbook.config.page_dir("checks", "reference/checks")
    counts = Counter(diagnostic.code for diagnostic in renderer.diagnostics)
    codes = [CODES[name] for name in sorted(CODES)]
    for code in codes:
        uri = f"{folder}/{code.code}.md"
        found = [d for d in renderer.diagnostics if d.code == code.code]
        yield Page(uri, renderer.render("check.md.j2", uri, code=code, found=found),
                   title=f"{code.code}: {code.title}")
    uri = f"{folder}/index.md"
    yield Page(uri, renderer.render("checks_index.md.j2", uri, codes=codes, counts=counts),
               title="Diagnostic codes", in_nav=True)
