"""The http(s) links in post text, found as Mastodon finds them."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from linkify_it import LinkifyIt

_LINK_SCHEMES = {"http:", "https:"}
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


def find_links(text: str) -> list[Link]:
    """Return the http(s) URLs in ``text``, in order."""
    if not _MAYBE_LINK.search(text):
        return []  # the common case, and a full link search is the slow part of rendering
    matches = _linkifier().match(text) or []
    return [Link(m.index, m.last_index, m.url) for m in matches if m.schema in _LINK_SCHEMES]
