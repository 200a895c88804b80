"""Every URL an HTML page makes a browser load or go to, and what would run inline in it."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

# Attributes whose value is a URL the browser loads, follows or sends to.
_URL_ATTRS = {
    "src",
    "href",
    "action",
    "formaction",
    "poster",
    "data",
    "cite",
    "background",
    "manifest",
    "ping",
    "xlink:href",
    "hx-get",
    "hx-post",
    "hx-put",
    "hx-patch",
    "hx-delete",
}
_SRCSETS = {"srcset", "imagesrcset"}
_TEXT_ATTRS = {"value", "content", "placeholder", "title", "alt", "aria-label"}
_ABSOLUTE = re.compile(r"^\s*(?:[a-z][a-z0-9+.-]*:|//)", re.IGNORECASE)
CSS_URL = re.compile(r"""url\(\s*['"]?([^'")]+)['"]?\s*\)|@import\s+['"]([^'"]+)['"]""")


@dataclass
class PageRefs:
    """What one page references (tag, attribute, URL, rel) and its inline code."""

    refs: list[tuple[str, str, str, str]] = field(default_factory=list)
    inline: list[str] = field(default_factory=list)
    stylesheets: list[str] = field(default_factory=list)


class _Parser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found = PageRefs()
        self._in: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        rel = values.get("rel", "")
        for name, value in values.items():
            # A form field's value or a meta's content is text, not something loaded.
            if name in _URL_ATTRS or (name not in _TEXT_ATTRS and _ABSOLUTE.match(value)):
                self.found.refs.append((tag, name, value, rel))
            if name in _SRCSETS:
                for candidate in value.split(","):
                    if candidate.strip():
                        self.found.refs.append((tag, name, candidate.split()[0], rel))
            if name == "style":
                self.found.inline.append(f"style attribute on <{tag}>")
            if name.startswith("on") or name.startswith("hx-on"):
                self.found.inline.append(f"{name} handler on <{tag}>")
            if value.strip().lower().startswith("javascript:"):
                self.found.inline.append(f"javascript: URL in {name} of <{tag}>")
        if tag == "meta" and values.get("http-equiv", "").lower() == "refresh":
            target = values.get("content", "").partition("url=")[2]
            if target:
                self.found.refs.append((tag, "content", target, ""))
        if tag == "link" and "stylesheet" in rel.split():
            self.found.stylesheets.append(values.get("href", ""))
        if tag == "script" and "src" not in values:
            self._in = "script"
        if tag == "style":
            self.found.inline.append("<style> element")
            self._in = "style"

    def handle_endtag(self, tag: str) -> None:
        self._in = None

    def handle_data(self, data: str) -> None:
        if self._in == "script" and data.strip():
            self.found.inline.append("inline <script>")
        if self._in == "style":
            for match in CSS_URL.finditer(data):
                self.found.refs.append(("style", "url()", match.group(1) or match.group(2), ""))


def page_refs(html: str) -> PageRefs:
    """Parse a page for the URLs it references and the code it carries inline."""
    parser = _Parser()
    parser.feed(html)
    parser.close()
    return parser.found


def foreign(base: str, page_url: str, refs: PageRefs) -> list[tuple[str, str, str]]:
    """References to any origin but ``base``'s; links people wrote in posts are theirs."""
    own = urlsplit(base)[:2]
    out = []
    for tag, attr, value, rel in refs.refs:
        if tag == "a" and attr == "href" and "nofollow" in rel.split():
            continue  # a link in a post: rendered with rel="nofollow noopener noreferrer"
        target = urlsplit(urljoin(page_url, value.strip()))
        if tag == "img" and target.scheme == "data":
            continue  # an image's blurred placeholder, in the page itself (CSP: img-src data:)
        if target[:2] != own:
            out.append((tag, attr, value))
    return out
