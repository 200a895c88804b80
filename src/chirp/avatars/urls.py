"""Where an account's avatar is served: the one URL the web UI and the API both show."""

from __future__ import annotations

from typing import Protocol

from chirp.config import Settings
from chirp.media.storage import page_src, public_url

# Part of every avatar URL, so browsers (told to keep an avatar for a long time) ask again
# when what is drawn changes: bump IDENTICON_VERSION when the drawing changes.
IDENTICON_VERSION = 1


class HasId(Protocol):
    """Anything with an account id (a ``User`` or an ``Author``)."""

    @property
    def id(self) -> int: ...


class HasImages(HasId, Protocol):
    """An account with its uploaded avatar and header keys (None: not uploaded)."""

    @property
    def avatar_key(self) -> str | None: ...

    @property
    def header_key(self) -> str | None: ...


DEFAULT_HEADER_PATH = "/static/header.png"


def avatar_url(user: HasImages, settings: Settings) -> str:
    """The absolute URL of an account's avatar: its upload, else the default one."""
    if user.avatar_key:
        return public_url(settings, user.avatar_key)
    return settings.base_url + _default_avatar_path(user, settings)


def header_url(user: HasImages, settings: Settings) -> str:
    """The absolute URL of an account's header: its upload, else Chirp's default picture."""
    if user.header_key:
        return public_url(settings, user.header_key)
    return settings.base_url + DEFAULT_HEADER_PATH


def avatar_path(user: HasId, settings: Settings) -> str:
    """Where pages load an account's avatar: its upload, else the default on this server."""
    # An upload's URL names its content, so it changes whenever the image does.
    key = getattr(user, "avatar_key", None)
    if key:
        return page_src(settings, key)
    return _default_avatar_path(user, settings)


def _default_avatar_path(user: HasId, settings: Settings) -> str:
    # By id, never by email hash: the page must not tell anyone the hash of an address.
    version = "g" if settings.gravatar else f"i{IDENTICON_VERSION}"
    return f"/avatars/{user.id}?v={version}"
