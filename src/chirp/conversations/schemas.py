"""Mastodon's Conversation entity."""

from __future__ import annotations

from pydantic import BaseModel

from chirp.posts.schemas import StatusOut
from chirp.users.schemas import AccountOut


class ConversationOut(BaseModel):
    """Mastodon's Conversation: direct messages between the caller and ``accounts``."""

    id: str
    unread: bool
    # The participants other than the caller.
    accounts: list[AccountOut]
    # The newest message in it.
    last_status: StatusOut | None
