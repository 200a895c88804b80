"""Post text: normalisation, Mastodon-style length counting, and safe HTML rendering."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from linkify_it import LinkifyIt
from markupsafe import Markup, escape

# Mastodon counts every URL as 23 characters, whatever its real length.
URL_WEIGHT = 23
_LINK_SCHEMES = {"http:", "https:"}
_DISPLAY_URL_MAX = 30
# The longest link a post may hold (what browsers and most servers handle).
MAX_URL_LENGTH = 2048
_PARAGRAPH_BREAK = re.compile(r"\n\s*\n")
# Every link we render has one of these schemes; text without one needs no link search.
_MAYBE_LINK = re.compile(r"https?:", re.IGNORECASE)


@dataclass(frozen=True)
class Link:
    """A URL found in text, by code-point offsets."""

    start: int
    end: int
    url: str


@lru_cache(maxsize=1)
def _linkifier() -> LinkifyIt:
    # Only links with an explicit scheme count and render, as on Mastodon.
    return LinkifyIt(options={"fuzzy_link": False, "fuzzy_email": False, "fuzzy_ip": False})


def unify_newlines(text: str) -> str:
    """Return text with Windows and old Mac line endings made ``\\n`` (browsers send CRLF)."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def normalise(text: str) -> str:
    """Return text in NFC with line endings unified: the form that is counted."""
    return unicodedata.normalize("NFC", unify_newlines(text))


def find_links(text: str) -> list[Link]:
    """Return the http(s) URLs in ``text``, in order."""
    if not _MAYBE_LINK.search(text):
        return []  # the common case, and a full link search is the slow part of rendering
    matches = _linkifier().match(text) or []
    return [Link(m.index, m.last_index, m.url) for m in matches if m.schema in _LINK_SCHEMES]


def raw_limits(max_length: int) -> tuple[int, int]:
    """The most characters and UTF-8 bytes a post's text may hold, whatever it counts as."""
    # URLs count as 23 whatever their length, so the counted length alone does not bound
    # what is stored (a 3 MB "post" once took 13 s of CPU): room for the counted text and a
    # few long links, and for every character to take 2 bytes (Latin, Greek, Cyrillic...).
    chars = 4 * max_length + MAX_URL_LENGTH
    return chars, 2 * chars


def counted(text: str, links: list[Link]) -> int:
    """The length of normalised ``text`` with its ``links``, each URL counting as 23."""
    return len(text) + sum(URL_WEIGHT - (link.end - link.start) for link in links)


def length(text: str) -> int:
    """Return the length a post counts as: code points after NFC, each URL as 23."""
    text = normalise(text)
    return counted(text, find_links(text))


def _display_url(url: str) -> str:
    shown = re.sub(r"^https?://(www\.)?", "", url)
    return shown if len(shown) <= _DISPLAY_URL_MAX else shown[:_DISPLAY_URL_MAX] + "…"


def _inline_html(text: str) -> str:
    out: list[str] = []
    pos = 0
    for link in find_links(text):
        out.append(str(escape(text[pos : link.start])))
        out.append(
            f'<a href="{escape(link.url)}" rel="nofollow noopener noreferrer" target="_blank">'
            f"{escape(_display_url(link.url))}</a>"
        )
        pos = link.end
    out.append(str(escape(text[pos:])))
    return "".join(out).replace("\n", "<br />")


# Timelines show the same posts to many readers: render each text once per process. The
# posts on 100k users' first pages did not fit in 8,192 entries (home page 1 at 0.41 of the
# bare ceiling, 0.44 with 32,768); a few hundred bytes each, tens of MB at most per process.
@lru_cache(maxsize=32768)
def to_html(text: str) -> Markup:
    """Render post text as escaped HTML paragraphs with safe links."""
    paragraphs = [p for p in _PARAGRAPH_BREAK.split(text.strip()) if p]
    return Markup("".join(f"<p>{_inline_html(p)}</p>" for p in paragraphs))  # noqa: S704
