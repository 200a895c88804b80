"""Mastodon's stream names, what each needs, and the channel key a subscription matches."""

from __future__ import annotations

from dataclasses import dataclass

from chirp.oauth import scopes as scope_rules
from chirp.posts import entities

USER = "user"
USER_NOTIFICATION = "user:notification"
PUBLIC = "public"
PUBLIC_LOCAL = "public:local"
HASHTAG = "hashtag"
HASHTAG_LOCAL = "hashtag:local"
DIRECT = "direct"
# Chirp has only local accounts: the public and local timelines are the same posts.
PUBLIC_STREAMS = {PUBLIC, PUBLIC_LOCAL, HASHTAG, HASHTAG_LOCAL}
SUPPORTED = {USER, USER_NOTIFICATION, DIRECT} | PUBLIC_STREAMS
# Streams Mastodon has that Chirp cannot feed yet: refused rather than left silent.
NOT_YET = {
    "list": "Chirp has no lists",
    "public:media": "Chirp has no media attachments",
    "public:local:media": "Chirp has no media attachments",
    "public:remote": "Chirp has no remote accounts",
    "public:remote:media": "Chirp has no remote accounts",
}


class StreamRefused(Exception):
    """A stream that cannot be opened: ``status`` and Mastodon's error text."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class Channel:
    """One subscription: the stream as the client named it, and the key events match."""

    name: str
    tag: str | None = None

    @property
    def stream(self) -> list[str]:
        """The ``stream`` list Mastodon puts in each WebSocket message."""
        return [self.name, self.tag] if self.tag is not None else [self.name]

    @property
    def tag_key(self) -> str | None:
        """The form posts' tags are matched in (case and width folded)."""
        return entities.tag_key(self.tag) if self.tag is not None else None


def parse(name: str | None, tag: str | None) -> Channel:
    """The channel a client asks for; ``StreamRefused`` (400) for an unknown or unfed one."""
    if not name:
        raise StreamRefused(400, "Unknown stream type")
    if name in NOT_YET:
        raise StreamRefused(400, f"Stream {name} is not supported: {NOT_YET[name]}")
    if name not in SUPPORTED:
        raise StreamRefused(400, "Unknown stream type")
    if name in (HASHTAG, HASHTAG_LOCAL):
        # A leading # is how people write tags; the name without it is the tag.
        cleaned = (tag or "").strip().removeprefix("#")
        if not cleaned:
            raise StreamRefused(400, "Missing tag name parameter")
        if len(cleaned) > 100:
            raise StreamRefused(400, "Tag name too long")
        return Channel(name, cleaned)
    return Channel(name)


def check_scopes(granted: list[str], channel: Channel) -> None:
    """Mastodon's rule: public streams need any token; ``user`` and ``direct`` need read or
    read:statuses, ``user:notification`` read or read:notifications (401 otherwise)."""
    if channel.name in PUBLIC_STREAMS:
        return
    needed = "read:notifications" if channel.name == USER_NOTIFICATION else "read:statuses"
    if not scope_rules.satisfies(granted, needed):
        raise StreamRefused(401, "Access token does not have the required scopes")


def sees_notifications(granted: list[str]) -> bool:
    """Whether a ``user`` stream also carries notifications (read or read:notifications)."""
    return scope_rules.satisfies(granted, "read:notifications")
