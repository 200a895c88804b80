"""A profile's bio and fields as safe HTML, rendered as post text is."""

from __future__ import annotations

from functools import lru_cache

from markupsafe import Markup, escape

from chirp.posts.links import find_links
from chirp.posts.text import mention_names, to_html
from chirp.users.profile import Profile

# Links in fields claim the page as the account's own (rel="me"), as Mastodon marks them.
_FIELD_LINK_REL = "me nofollow noopener"


def note_html(user: Profile, base: str = "") -> Markup:
    """The bio as HTML: links, hashtags and the mentions it had when saved, all escaped."""
    if not user.bio:
        return Markup("")
    return to_html(user.bio, mention_names(user.bio_mentions), base)


@lru_cache(maxsize=8192)
def field_value_html(value: str) -> Markup:
    """A field's value as HTML: escaped text, its http(s) links made ``rel="me"`` links."""
    out: list[str] = []
    pos = 0
    for link in find_links(value):
        url = escape(link.url)
        out.append(str(escape(value[pos : link.start])))
        out.append(
            f'<a href="{url}" rel="{_FIELD_LINK_REL}" target="_blank" translate="no">'
            f"{escape(value[link.start : link.end])}</a>"
        )
        pos = link.end
    out.append(str(escape(value[pos:])))
    return Markup("".join(out))  # noqa: S704 - every piece was escaped above


def fields_html(user: Profile) -> list[tuple[str, Markup]]:
    """Each field's name (plain text) and value (HTML), in order."""
    return [(f["name"], field_value_html(f["value"])) for f in user.fields or []]
