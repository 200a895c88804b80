"""Who may see a post: Mastodon's visibilities, those Chirp supports and what each means.

- ``public``: everywhere (the public timeline, profiles, home timelines, by link).
- ``unlisted``: as public, except the public timeline and tag pages.
- ``private``: the author and their current followers only, anywhere; others get a 404.
- ``direct``: a private mention: the author and the accounts it mentions only, anywhere;
  others get a 404. It is in no home timeline, profile, public or tag list and moves no
  count anyone else sees; its participants read it in their conversations ("Messages").
"""

from __future__ import annotations

from typing import Literal, get_args

from chirp.errors import ValidationFailed

Visibility = Literal["public", "unlisted", "private", "direct"]
PUBLIC: Visibility = "public"
UNLISTED: Visibility = "unlisted"
PRIVATE: Visibility = "private"
DIRECT: Visibility = "direct"
# What a post may have; a default or a repost only the first three.
POST_CHOICES: tuple[Visibility, ...] = get_args(Visibility)
CHOICES: tuple[Visibility, ...] = (PUBLIC, UNLISTED, PRIVATE)
# What each looks like to a reader, for pages and the composer (a default has no "direct").
LABELS: dict[str, str] = {
    "public": "Public",
    "unlisted": "Unlisted (not on the public timeline)",
    "private": "Followers only",
}
POST_LABELS: dict[str, str] = {**LABELS, "direct": "Direct (mentioned people only)"}


def parse(raw: str | None, *, default: str, field: str = "visibility") -> Visibility:
    """A default or repost visibility from input (``default`` when absent); ``direct`` and
    unknown ones are 422."""
    value = default if raw is None or raw == "" else raw
    if value == DIRECT:
        raise ValidationFailed(
            f"{field} cannot be direct here: it must be public, unlisted or private", field=field
        )
    for choice in CHOICES:
        if value == choice:
            return choice
    raise ValidationFailed(f"{field} must be one of public, unlisted or private", field=field)


def parse_post(raw: str | None, *, default: str, field: str = "visibility") -> Visibility:
    """A new post's visibility from input (``default`` when absent); unknown ones are 422."""
    value = default if raw is None or raw == "" else raw
    for choice in POST_CHOICES:
        if value == choice:
            return choice
    raise ValidationFailed(
        f"{field} must be one of public, unlisted, private or direct", field=field
    )


def hidden_from_others(visibility: str) -> bool:
    """Whether a post of this visibility is only for some readers (followers, or mentioned)."""
    return visibility in (PRIVATE, DIRECT)


def shown_to(visibility: str, *, is_author_or_follower: bool) -> bool:
    """Whether a non-direct post of this visibility may be shown to a reader in that relation."""
    return visibility != PRIVATE or is_author_or_follower


def direct_shown_to(author_id: int, mentioned: list[int], viewer_id: int | None) -> bool:
    """Whether a direct post is shown to ``viewer_id``: its author or an account it mentions."""
    return viewer_id is not None and (viewer_id == author_id or viewer_id in mentioned)
