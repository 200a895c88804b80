"""Mastodon's Tag entity."""

from __future__ import annotations

from pydantic import BaseModel


class TagHistoryOut(BaseModel):
    """A tag's use on one day: Mastodon writes every number as a string."""

    # Unix time of the day's midnight (UTC).
    day: str
    uses: str
    accounts: str


class TagOut(BaseModel):
    """Mastodon's Tag: a hashtag, its page and its last 7 days, today first."""

    name: str
    url: str
    history: list[TagHistoryOut]
    # Chirp has no tag following: never followed.
    following: bool = False
