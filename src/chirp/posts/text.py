"""Post text: normalisation, Mastodon-style length counting, and safe HTML rendering."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import Any
from urllib.parse import quote

from markupsafe import Markup, escape

from chirp.posts.entities import find_mentions, find_tags
from chirp.posts.links import Link
from chirp.posts.links import find_links as find_links  # read from here by posts.service
from chirp.posts.models import PostView

# Mastodon counts every URL as 23 characters, whatever its real length.
URL_WEIGHT = 23
_DISPLAY_URL_MAX = 30
# The longest link a post may hold (what browsers and most servers handle).
MAX_URL_LENGTH = 2048
_PARAGRAPH_BREAK = re.compile(r"\n\s*\n")


def unify_newlines(text: str) -> str:
    """Return text with Windows and old Mac line endings made ``\\n`` (browsers send CRLF)."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def normalise(text: str) -> str:
    """Return text in NFC with line endings unified: the form that is counted."""
    return unicodedata.normalize("NFC", unify_newlines(text))


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


def _link_html(link: Link) -> str:
    return (
        f'<a href="{escape(link.url)}" rel="nofollow noopener noreferrer" target="_blank">'
        f"{escape(_display_url(link.url))}</a>"
    )


def _mention_html(written: str, username: str, base: str) -> str:
    # Mastodon's shape (an h-card around a u-url mention), so clients style and route it.
    return (
        f'<span class="h-card"><a href="{escape(base)}/@{escape(username)}" '
        f'class="u-url mention">@<span>{escape(written)}</span></a></span>'
    )


def tag_path(name: str) -> str:
    """The path of a tag's page: ``/tags/`` and the name, percent-encoded."""
    return "/tags/" + quote(name, safe="")


def _tag_html(name: str, base: str) -> str:
    return (
        f'<a href="{escape(base + tag_path(name))}" class="mention hashtag" rel="tag">'
        f"#<span>{escape(name)}</span></a>"
    )


def _inline_html(text: str, mentioned: dict[str, str], base: str) -> str:
    links = find_links(text)
    # (start, end, html) of every piece rendered as a link; the rest is escaped text.
    pieces = [(link.start, link.end, _link_html(link)) for link in links]
    if mentioned:
        # Only the accounts the post was found to mention when written: any other @name
        # (nobody's, or someone's who signed up later) stays text.
        for found in find_mentions(text, links):
            username = mentioned.get(found.name.lower())
            if username is not None:
                pieces.append((found.start, found.end, _mention_html(found.name, username, base)))
    pieces.extend((t.start, t.end, _tag_html(t.name, base)) for t in find_tags(text, links))
    pieces.sort()
    out: list[str] = []
    pos = 0
    for start, end, html in pieces:
        out.append(str(escape(text[pos:start])))
        out.append(html)
        pos = end
    out.append(str(escape(text[pos:])))
    return "".join(out).replace("\n", "<br />")


def mention_names(mentions: list[list[Any]] | None) -> tuple[str, ...]:
    """The usernames in a post's ``mentions`` column, as ``to_html`` takes them."""
    return tuple(str(username) for _, username in mentions) if mentions else ()


# Timelines show the same posts to many readers: render each text once per process. The
# posts on 100k users' first pages did not fit in 8,192 entries (home page 1 at 0.41 of the
# bare ceiling, 0.44 with 32,768); a few hundred bytes each, tens of MB at most per process.
@lru_cache(maxsize=32768)
def to_html(text: str, mentions: tuple[str, ...] = (), base: str = "") -> Markup:
    """Render post text as escaped HTML paragraphs with safe links, mentions and tags.

    ``mentions``: the usernames the post mentions (``mention_names``); ``base``: what
    profile and tag links start with (the site's address for the API, none for pages).
    """
    mentioned = {name.lower(): name for name in mentions}
    paragraphs = [p for p in _PARAGRAPH_BREAK.split(text.strip()) if p]
    return Markup(  # noqa: S704
        "".join(f"<p>{_inline_html(p, mentioned, base)}</p>" for p in paragraphs)
    )


def post_html(post: PostView | str) -> Markup:
    """A post's text as HTML for a page, its mentions linked (plain text: no mentions)."""
    if isinstance(post, str):
        return to_html(post)
    return to_html(post.text, mention_names(post.mentions))
