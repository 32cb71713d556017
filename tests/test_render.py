"""Rendered pages: golden files for a sample handbook, and no source text ever becoming markup."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from collections.abc import Callable
from pathlib import Path

import markdown
import pytest

from opsbook import analyse
from opsbook.render.markdown import code_block, inline_code, md_block, md_inline

PAYLOADS = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "[click](javascript:alert(1))",
    "![x](https://evil.example/x.png)",
    "{: onclick=alert(1) }",
    "<a href='javascript:alert(1)'>x</a>",
    "&lt;script&gt;alert(1)&lt;/script&gt;",
    "# heading\n- item\n1. item\n    code",
    "**bold** _em_ `code` ~~del~~ | pipe |",
    "{{ config.secret }} {% raw %} {#",
    "<!-- comment --> <![CDATA[x]]>",
    "!!! danger \"x\"\n    admonition",
    "```\nfence\n```",
    "\\<script>",
]

EXTENSIONS = ["admonition", "tables", "toc", "attr_list", "md_in_html", "pymdownx.superfences"]


def _html(text: str) -> str:
    return markdown.markdown(text, extensions=EXTENSIONS)


def _visible_text(html: str) -> str:
    import html as html_module

    return html_module.unescape(re.sub(r"<[^>]+>", "", html))


class _Elements(HTMLParser):
    """Every element and attribute of an HTML fragment, as a browser's parser sees them."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: set[str] = set()
        self.attributes: set[str] = set()
        self.comments = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        self.attributes.update(name for name, _ in attrs)

    def handle_comment(self, data: str) -> None:
        self.comments += 1


def _markup_of(html: str) -> _Elements:
    parser = _Elements()
    parser.feed(html)
    parser.close()
    return parser


def _assert_no_markup(html: str, allowed: set[str]) -> None:
    found = _markup_of(html)
    assert found.tags <= allowed, html
    assert not {a for a in found.attributes if a.startswith("on") or a in ("href", "src")}, html
    assert found.comments == 0, html


@pytest.mark.parametrize("payload", PAYLOADS)
def test_inline_text_never_becomes_markup(payload: str) -> None:
    html = _html(f"Text: {md_inline(payload)}")
    _assert_no_markup(html, {"p"})
    assert _visible_text(html) == "Text: " + " ".join(payload.split())


@pytest.mark.parametrize("payload", PAYLOADS)
def test_block_text_never_becomes_markup(payload: str) -> None:
    html = _html(str(md_block(payload)))
    _assert_no_markup(html, {"p"})


@pytest.mark.parametrize("payload", PAYLOADS)
def test_code_is_shown_verbatim(payload: str) -> None:
    html = _html("Before\n\n" + code_block(payload, "bash") + "\n\nAfter")
    found = _markup_of(html)
    assert found.tags <= {"p", "div", "pre", "code", "span"}, html  # the highlighter's own markup only
    assert found.attributes <= {"class"}, html
    assert payload.rstrip("\n") in _visible_text(html)
    assert "After" in _visible_text(html).split(payload.rstrip("\n"))[-1]


@pytest.mark.parametrize("payload", ["a`b", "``x``", "`", "plain"])
def test_inline_code_holds_backticks(payload: str) -> None:
    html = _html(f"x {inline_code(payload)} y")
    assert f"<code>{payload}</code>" in html.replace("&amp;", "&")


def test_pages_of_the_minimal_handbook(fixture_handbook: Callable[[str], Path],
                                       golden: Callable[[str, str], None]) -> None:
    analysis = analyse(fixture_handbook("minimal"))
    assert analysis.diagnostics == []
    pages = {page.uri: page for page in analysis.pages()}
    golden("minimal/runbooks/cache-flush.md", pages["runbooks/cache-flush.md"].text)
    golden("minimal/runbooks/web-restart.md", pages["runbooks/web-restart.md"].text)
    golden("minimal/runbooks/index.md", pages["runbooks/index.md"].text)
    golden("minimal/reference/checks/OB021.md", pages["reference/checks/OB021.md"].text)
    golden("minimal/reference/schemas/runbook.md", pages["reference/schemas/runbook.md"].text)
    assert pages["runbooks/cache-flush.md"].source == "runbooks/cache-flush.yaml"
    assert pages["runbooks/index.md"].in_nav and not pages["runbooks/cache-flush.md"].in_nav


def test_back_references_and_links(fixture_handbook: Callable[[str], Path]) -> None:
    analysis = analyse(fixture_handbook("minimal"))
    pages = {page.uri: page.text for page in analysis.pages()}
    # cache-flush names web-restart as related: web-restart's page links back.
    assert "[Flush the &lt;b&gt;cache&lt;/b&gt; &amp; restart](cache-flush.md)" in pages["runbooks/web-restart.md"]
    assert "[web-restart](web-restart.md)" not in pages["runbooks/web-restart.md"]


def test_secret_input_values_are_not_shown(fixture_handbook: Callable[[str], Path]) -> None:
    analysis = analyse(fixture_handbook("minimal"))
    page = next(p for p in analysis.pages() if p.uri == "runbooks/cache-flush.md").text
    row = next(line for line in page.splitlines() if "CACHE_TOKEN" in line)
    assert "hidden" in row and "none" not in row


def test_sections_embed_in_hand_written_pages(make_handbook: Callable[..., Path], tmp_path: Path) -> None:
    from click.testing import CliRunner

    from opsbook.cli import main

    page = ("# Operations\n\nProse.\n\n<!-- opsbook: runbooks -->\n\n```markdown\n<!-- opsbook: not-expanded -->\n```\n"
            "\nMore prose.\n")
    root = make_handbook({"docs/guide/ops.md": page, "runbooks/r.yaml": "title: R\nsteps: [{name: S, run: 'true'}]\n"})
    assert analyse(root).diagnostics == []
    out = tmp_path / "out"
    assert CliRunner().invoke(main, ["build", str(root), "--out", str(out)]).exit_code == 0
    text = (out / "docs" / "guide" / "ops.md").read_text(encoding="utf-8")
    assert "[R](../runbooks/r.md)" in text  # links relative to the embedding page
    assert "<!-- opsbook: runbooks -->" not in text and "# Runbooks" not in text
    assert "<!-- opsbook: not-expanded -->" in text and text.rstrip().endswith("More prose.")
    (root / "docs" / "guide" / "ops.md").write_text(page + "\n<!-- opsbook: runbook -->\n", encoding="utf-8")
    (problem,) = analyse(root).diagnostics
    assert (problem.code, problem.path, problem.line, problem.column) == ("OB060", "docs/guide/ops.md", 13, 1)
    assert "sections: " in problem.message and "runbooks" in problem.message


# Fences and section directives read by a CommonMark parser (#16, item 7)

def _outside(text: str) -> list[int]:
    from opsbook.render.markdown import lines_outside_fences

    return [number for number, _ in lines_outside_fences(text)]


def _directive_names(text: str) -> list[str]:
    from opsbook.render.sections import directives

    return [name for _, _, name in directives(text)]


def test_an_indented_code_block_holding_a_fence_hides_nothing_after_it() -> None:
    text = "# Page\n\nSome text:\n\n    ```\n    code\n\n<!-- opsbook: later -->\n"
    assert _directive_names(text) == ["later"]
    assert _outside(text) == [1, 2, 3, 4, 7, 8]


def test_directives_inside_code_are_not_expanded() -> None:
    fenced = "```\n<!-- opsbook: a -->\n```\n<!-- opsbook: b -->\n"
    indented = "Text\n\n    <!-- opsbook: a -->\n\n<!-- opsbook: b -->\n"
    assert _directive_names(fenced) == ["b"]
    assert _directive_names(indented) == ["b"]


def test_fence_forms() -> None:
    # tildes; a longer closing fence; a shorter or other-character run does not close
    assert _outside("~~~\nx\n~~~\nout\n") == [4]
    assert _outside("````\n```\n~~~~\n`````\nout\n") == [5]
    # an unclosed fence runs to the end of the page
    assert _outside("out\n```\n<!-- opsbook: a -->\nstill code\n") == [1]
    assert _directive_names("```\n<!-- opsbook: a -->\n") == []
    # a fence inside a list item, and after it the list's directive
    text = "- item\n\n  ```\n  <!-- opsbook: a -->\n  ```\n\n  <!-- opsbook: b -->\n"
    assert _directive_names(text) == ["b"]
    # backticks in the info string of a backtick fence make it no fence
    assert _outside("``` a`b\nout\n") == [1, 2]


def _commonmark_code_lines(text: str) -> set[int]:
    from markdown_it import MarkdownIt

    inside: set[int] = set()
    for token in MarkdownIt("commonmark").parse(text):
        if token.type in ("fence", "code_block") and token.map:
            inside.update(range(token.map[0] + 1, token.map[1] + 1))
    return inside


def _mutants(pages: list[str], count: int, seed: int = 16) -> list[str]:
    import random

    pieces = ["```", "~~~", "````", "    ```", "   ```", "- ```", "> ```", "1. ~~~", "    code",
              "<!-- opsbook: x -->", "    <!-- opsbook: y -->", "", "- item", "  ```", "```python",
              "text", "> quote", "<!--", "-->", "\t```", "``` a`b", "~~~ a`b"]
    chooser = random.Random(seed)
    result = []
    for _ in range(count):
        lines = chooser.choice(pages).splitlines()[:80]
        for _ in range(chooser.randint(1, 8)):
            lines.insert(chooser.randint(0, len(lines)), chooser.choice(pieces))
        result.append("\n".join(lines) + ("\n" if chooser.random() < 0.5 else ""))
    return result


def test_lines_outside_code_agree_with_commonmark() -> None:
    """Differential: every docs page and 400 seeded mutants; the lines called outside code are exactly
    those no `fence` or `code_block` token of markdown-it covers."""
    root = Path(__file__).resolve().parent.parent / "docs"
    pages = [path.read_text(encoding="utf-8") for path in sorted(root.rglob("*.md"))]
    assert pages
    for text in pages + _mutants(pages, 400):
        code = _commonmark_code_lines(text)  # once: in the comprehension it would parse the text for every line
        expected = [n for n in range(1, len(text.splitlines()) + 1) if n not in code]
        assert _outside(text) == expected


def test_no_section_brings_a_title_of_its_own() -> None:
    """A section is embedded under the headings of the page that holds it: none starts a new page title
    (an H1), so that a hand-written page never shows two; the generated pages add their own."""
    import re

    from opsbook.registry import SECTIONS, make_renderer

    analysis = analyse(Path(__file__).parent.parent)
    renderer = make_renderer(analysis.handbook, analysis.diagnostics)
    titled = {name: re.findall(r"^# .*", section.render(analysis.handbook, renderer, "guide/x.md"), flags=re.M)
              for name, section in SECTIONS.items()}
    assert len(titled) > 20
    assert {name: found for name, found in titled.items() if found} == {}


def test_the_first_command_on_a_runbook_page_is_a_real_step() -> None:
    """On every runbook page of the reference handbook, the first command block a reader meets is a step
    of Steps or Verify; every command of the CI sandbox (setup, cleanup) comes after them, folded."""
    import re

    from opsbook.kinds.runbooks.records import Runbook

    analysis = analyse(Path(__file__).parent.parent)
    pages = {p.uri: p.text for p in analysis.pages()}
    checked = 0
    for runbook in analysis.handbook.records_of(Runbook):
        text = pages[f"runbooks/{runbook.id}.md"]
        reader = [s.run for name in ("steps", "verify") for s in runbook.section(name) if s.run is not None]
        sandbox = [s.run for name in ("setup", "cleanup") for s in runbook.section(name) if s.run is not None]
        blocks = [block.strip() for block in re.findall(r"^ *```bash\n(.*?)^ *```$", text, flags=re.S | re.M)]
        if not reader:
            continue
        checked += 1
        assert blocks[0] == reader[0].strip(), runbook.id
        if sandbox:
            folded = text.split('??? danger "Not for production', 1)
            assert len(folded) == 2 and all(command.strip() not in folded[0].split("## Steps", 1)[1]
                                            for command in sandbox if command not in reader), runbook.id
    assert checked >= 8
