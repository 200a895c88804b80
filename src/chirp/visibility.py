"""Who may see a post: Mastodon's visibilities, those Chirp supports and what each means.

- ``public``: everywhere (the public timeline, profiles, home timelines, by link).
- ``unlisted``: as public, except the public timeline (and tag pages, when Chirp has them).
- ``private``: the author and their current followers only, anywhere; others get a 404.
- ``direct``: refused until Chirp has direct messages.
"""

from __future__ import annotations

from typing import Literal, get_args

from chirp.errors import ValidationFailed

Visibility = Literal["public", "unlisted", "private"]
PUBLIC: Visibility = "public"
UNLISTED: Visibility = "unlisted"
PRIVATE: Visibility = "private"
CHOICES: tuple[Visibility, ...] = get_args(Visibility)
# What each looks like to a reader, for pages and the composer.
LABELS: dict[str, str] = {
    "public": "Public",
    "unlisted": "Unlisted (not on the public timeline)",
    "private": "Followers only",
}


def parse(raw: str | None, *, default: str, field: str = "visibility") -> Visibility:
    """A visibility from input (``default`` when absent); ``direct`` and unknown ones are 422."""
    value = default if raw is None or raw == "" else raw
    if value == "direct":
        raise ValidationFailed(
            f"Direct messages are not supported yet: {field} must be public, unlisted or private",
            field=field,
        )
    for choice in CHOICES:
        if value == choice:
            return choice
    raise ValidationFailed(f"{field} must be one of public, unlisted or private", field=field)


def shown_to(visibility: str, *, is_author_or_follower: bool) -> bool:
    """Whether a post of this visibility may be shown to a reader in that relation."""
    return visibility != PRIVATE or is_author_or_follower
