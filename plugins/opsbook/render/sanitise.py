"""The HTML of generated pages, sanitised with an allow-list (nh3, the bindings to Rust's ammonia).

Free text from sources reaches a page in two forms. Most fields are escaped into text
(`render/markdown.py`: `md_inline`, `md_block`), so that no character of theirs can start markup. A
few are meant to be Markdown (an incident's postmortem): `md_source` keeps their Markdown but defuses
what Markdown could turn into dangerous HTML before it is emitted, since opsbook's output is Markdown
that another engine turns into HTML (MkDocs, or whatever reads the files `opsbook build` writes).

That first layer is a rewrite of Markdown, and Markdown has many dialects and extensions; so the MkDocs
plugin also sanitises the HTML that MkDocs made of every generated page, and of every generated
section embedded in a hand-written page, with `sanitise_html`: only the tags and attributes opsbook's
templates and the Markdown extensions produce survive, links keep only `http`, `https`, `mailto` and
relative targets, and an image loads only from the site itself or from a host of the `image_hosts`
option (any other becomes a link to it). Whatever a source manages to slip past the Markdown layer, the
page the browser gets holds no script, no event handler, no frame and nothing loaded from elsewhere.
Hand-written pages are the project's own and are not sanitised.
"""

from __future__ import annotations

import html
import re
from collections.abc import Collection
from urllib.parse import urlsplit

import nh3

__all__ = ["LINK_SCHEMES", "safe_link", "loads_image", "sanitise_html"]

#: The schemes a link may have (a target without a scheme is relative, within the site).
LINK_SCHEMES = frozenset({"http", "https", "mailto"})

_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*):")
# Browsers drop ASCII tabs and newlines anywhere in a URL, and C0 controls and spaces at its ends.
_IGNORED = re.compile(r"[\x00-\x20\x7f]")

_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "caption", "code", "dd", "del", "details", "div", "dl", "dt", "em",
    "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "ins", "kbd", "li", "mark", "ol", "p", "pre",
    "s", "small", "span", "strong", "sub", "summary", "sup", "table", "tbody", "td", "tfoot", "th", "thead",
    "tr", "ul",
    # The health dashboard's charts (`health/dashboard.py`).
    "svg", "title", "text", "rect",
}
_ATTRIBUTES = {
    "*": {"class", "id", "title"},
    "a": {"href"},
    "img": {"src", "alt", "width", "height"},
    "ol": {"start"},
    "td": {"align", "style"},
    "th": {"align", "style"},
    "details": {"open"},
    "svg": {"xmlns", "role", "width", "height", "viewBox", "viewbox", "font-family", "font-size"},
    "text": {"x", "y", "font-weight"},
    "rect": {"x", "y", "width", "height", "fill"},
}
_ALIGN = re.compile(r"\s*text-align:\s*(left|right|center)\s*;?\s*")
_IMG = re.compile(r'<img((?:\s+[a-z-]+(?:="[^"]*")?)*)\s*/?>')
_ATTRIBUTE = re.compile(r'\s([a-z-]+)="([^"]*)"')


def _bare(url: str) -> str:
    """A URL as a browser reads it: without the characters it ignores, `\\` read as `/`."""
    return _IGNORED.sub("", url).replace("\\", "/")


def safe_link(url: str) -> bool:
    """Whether a link may point there: a relative target, or one of `LINK_SCHEMES`."""
    bare = _bare(url).strip("<>")
    scheme = _SCHEME.match(bare)
    return scheme is None or scheme.group(1).lower() in LINK_SCHEMES


def loads_image(url: str, hosts: Collection[str] = ()) -> bool:
    """Whether an image may be loaded from there: the site itself (a relative address), or `http(s)` from
    one of `hosts`."""
    bare = _bare(url).strip("<>")
    scheme = _SCHEME.match(bare)
    if scheme is None:
        return not bare.startswith("//")  # `//host/x.gif` is another host
    if scheme.group(1).lower() not in ("http", "https"):
        return False
    try:
        host = urlsplit(bare).hostname
    except ValueError:
        return False
    return host is not None and host.lower() in {h.lower() for h in hosts}


def _attribute_filter(element: str, attribute: str, value: str) -> str | None:
    if attribute == "style":  # only a table column's alignment, as the `tables` extension writes it
        return value if _ALIGN.fullmatch(value) else None
    return value


def sanitise_html(fragment: str, image_hosts: Collection[str] = ()) -> str:
    """The HTML with only allowed tags, attributes and URL schemes left; an image from a host other than
    the site's and `image_hosts` becomes a link to it."""
    clean = nh3.clean(fragment, tags=_TAGS, attributes=_ATTRIBUTES, url_schemes=set(LINK_SCHEMES),
                      attribute_filter=_attribute_filter, link_rel=None, strip_comments=True)
    return _IMG.sub(lambda match: _image(match, image_hosts), clean)


def _image(match: re.Match[str], hosts: Collection[str]) -> str:
    # nh3's output is normalised: lowercase names, every value double-quoted and escaped.
    attributes = dict(_ATTRIBUTE.findall(match.group(1)))
    src = html.unescape(attributes.get("src", ""))
    if src and loads_image(src, hosts):
        return match.group(0)
    if not src:
        return html.escape(html.unescape(attributes.get("alt", "")))
    text = html.unescape(attributes.get("alt", "")) or src
    return f'<a href="{html.escape(src, quote=True)}">{html.escape(text)}</a>'
