"""Layout of the published pages: opsbook's stylesheet is shipped with the site, and dates in table cells
are kept whole (render/layout.py); the browser tests (tests/test_browser.py) measure the result."""

from __future__ import annotations

from pathlib import Path

import pytest

from opsbook.render.layout import NOWRAP_CLASS, keep_dates_whole

SPAN = f'<span class="{NOWRAP_CLASS}">'


@pytest.mark.parametrize(("html", "expected"), [
    ("<table><tr><td>2026-11-30</td></tr></table>", f"<table><tr><td>{SPAN}2026-11-30</span></td></tr></table>"),
    ("<td>due 2026-11-30 14:02 UTC, then 2027-01-01</td>",
     f"<td>due {SPAN}2026-11-30 14:02 UTC</span>, then {SPAN}2027-01-01</span></td>"),
    ("<td><a href=\"x\">2026-11-30 (pass)</a></td>", f"<td><a href=\"x\">{SPAN}2026-11-30</span> (pass)</a></td>"),
    # Not in a cell, in code, in an attribute, or not a date on its own: left alone.
    ("<p>2026-11-30</p>", "<p>2026-11-30</p>"),
    ("<td><code>2026-11-30</code></td>", "<td><code>2026-11-30</code></td>"),
    ('<td title="2026-11-30">x</td>', '<td title="2026-11-30">x</td>'),
    ("<td>orders-2026-11-30.dump 12026-11-300</td>", "<td>orders-2026-11-30.dump 12026-11-300</td>"),
    ("<td>a &amp; 2026-11-30 &lt;b&gt;</td>", f"<td>a &amp; {SPAN}2026-11-30</span> &lt;b&gt;</td>"),
    ("<td>\n\n2026-11-30\n</td>", f"<td>\n\n{SPAN}2026-11-30</span>\n</td>"),
    ("<td><pre>x</pre>2026-11-30</td>", f"<td><pre>x</pre>{SPAN}2026-11-30</span></td>"),
])
def test_dates_in_table_cells_are_kept_whole(html: str, expected: str) -> None:
    assert keep_dates_whole(html) == expected


def test_the_stylesheet_is_shipped_and_linked(tmp_path: Path, fixture_handbook) -> None:  # noqa: ANN001
    import os
    import subprocess
    import sys

    root = fixture_handbook("minimal")
    built = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "s")],
                           cwd=root, capture_output=True, text=True, env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
                           timeout=300)
    assert built.returncode == 0, built.stderr
    css = (tmp_path / "s" / "assets" / "stylesheets" / "opsbook.css").read_text(encoding="utf-8")
    assert f".{NOWRAP_CLASS}" in css and "white-space: nowrap" in css
    assert 'href="assets/stylesheets/opsbook.css"' in (tmp_path / "s" / "index.html").read_text(encoding="utf-8")


def test_material_gets_copy_buttons(tmp_path: Path, fixture_handbook) -> None:  # noqa: ANN001
    """Under Material, the plugin turns on the copy button of code blocks (the fixture's theme lists only
    `content.action.edit`), keeping the features the handbook chose."""
    import json
    import os
    import re
    import subprocess
    import sys

    root = fixture_handbook("minimal")
    built = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "s")],
                           cwd=root, capture_output=True, text=True, env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
                           timeout=300)
    assert built.returncode == 0, built.stderr
    page = (tmp_path / "s" / "index.html").read_text(encoding="utf-8")
    config = json.loads(re.search(r'<script id="__config" type="application/json">(.*?)</script>', page, re.S).group(1))
    assert config["features"] == ["content.action.edit", "content.code.copy"]
