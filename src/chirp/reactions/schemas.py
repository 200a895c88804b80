"""Pleroma's emoji reaction entities."""

from __future__ import annotations

from pydantic import BaseModel, Field

from chirp.users.schemas import AccountOut


class EmojiReactionGroupOut(BaseModel):
    """One emoji on a status, as ``GET /api/v1/pleroma/statuses/:id/reactions`` lists it."""

    name: str
    count: int
    me: bool
    # Pleroma's image URL for a custom emoji: always null here (Unicode emoji only).
    url: str | None = None
    # The first reactors (at most 80), oldest reaction first; ``account_ids`` are theirs.
    accounts: list[AccountOut] = Field(default_factory=list)
    account_ids: list[str] = Field(default_factory=list)
