"""Mentions (``@name``) and hashtags (``#tag``) in post text, found as Mastodon finds them."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from chirp.posts.links import Link, find_links

# ``@name``, not inside a word, a path or a query (``bob@example.com``, ``/@alice``, ``a=@b``).
# The name takes every Unicode word character so ``@aliceé`` is not read as ``@alice``; a
# name with a domain (``@alice@other.example``) is an account elsewhere, which Chirp does not
# reach, so it stays text.
_MENTION = re.compile(r"(?<![=/\w@])@(\w+)(@[\w.-]*\w)?")
# ``#tag``: Unicode letters, digits and ``_``, at least one of them not a digit (``#1`` is a
# number), not inside a word, a path or a query (``page#anchor``, ``/#top``, ``a=#b``).
_TAG = re.compile(r"(?<![=/)\w&#])#(\w*[^\W\d]\w*)")
_TAG_NAME = re.compile(r"\w*[^\W\d]\w*")
# The longest tag stored (Mastodon's limit is close); a longer one stays text.
MAX_TAG_LENGTH = 100


@dataclass(frozen=True)
class Found:
    """A mention's or tag's name as written, and where the ``@`` or ``#`` starts and it ends."""

    start: int
    end: int
    name: str


def _outside_links(text: str, found: list[Found], links: list[Link] | None) -> list[Found]:
    if not found:
        return found
    if links is None:
        links = find_links(text)
    return [f for f in found if not any(lk.start <= f.start < lk.end for lk in links)]


def find_mentions(text: str, links: list[Link] | None = None) -> list[Found]:
    """Every ``@name`` of a local account in ``text``, in order (names not yet looked up).

    ``links``: the links of ``text``, when the caller has found them already.
    """
    if "@" not in text:
        return []
    found = [
        Found(m.start(), m.end(), m.group(1)) for m in _MENTION.finditer(text) if m.group(2) is None
    ]
    return _outside_links(text, found, links)


def find_tags(text: str, links: list[Link] | None = None) -> list[Found]:
    """Every ``#tag`` in ``text``, in order, as written (``links``: as for ``find_mentions``)."""
    if "#" not in text:
        return []
    found = [
        Found(m.start(), m.end(), m.group(1))
        for m in _TAG.finditer(text)
        if len(m.group(1)) <= MAX_TAG_LENGTH
    ]
    return _outside_links(text, found, links)


def is_tag_name(name: str) -> bool:
    """Whether ``name`` (without the ``#``) is a whole tag, as ``find_tags`` would find it."""
    return len(name) <= MAX_TAG_LENGTH and _TAG_NAME.fullmatch(name) is not None


def tag_key(name: str) -> str:
    """The form tags are matched by: ``#Café``, ``#CAFÉ`` and ``#café`` are one tag."""
    return unicodedata.normalize("NFKC", name).casefold()


def unique_names(found: list[Found]) -> list[str]:
    """The names in ``found``, first spelling of each, by their lower-case form, in order."""
    seen: dict[str, str] = {}
    for item in found:
        seen.setdefault(tag_key(item.name), item.name)
    return list(seen.values())
