"""Where an account's avatar is served: the one URL the web UI and the API both show."""

from __future__ import annotations

from typing import Protocol

from chirp.config import Settings

# Part of every avatar URL, so browsers (told to keep an avatar for a long time) ask again
# when what is drawn changes: bump IDENTICON_VERSION when the drawing changes.
IDENTICON_VERSION = 1


class HasId(Protocol):
    """Anything with an account id (a ``User`` or an ``Author``)."""

    @property
    def id(self) -> int: ...


def avatar_path(user: HasId, settings: Settings) -> str:
    """The path of an account's avatar on this server (the API prefixes the site's URL)."""
    # By id, never by email hash: the page must not tell anyone the hash of an address.
    # Uploaded avatars will return their own versioned path from here.
    version = "g" if settings.gravatar else f"i{IDENTICON_VERSION}"
    return f"/avatars/{user.id}?v={version}"
