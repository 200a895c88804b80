"""Conversation entities, in bulk (one feed for all the latest messages of a page)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from chirp.api import present
from chirp.config import Settings
from chirp.conversations.schemas import ConversationOut
from chirp.conversations.service import Conversation
from chirp.posts import feed
from chirp.posts.models import Post
from chirp.users.models import User


async def conversations(
    session: AsyncSession, found: Sequence[Conversation], *, viewer: User, settings: Settings
) -> list[ConversationOut]:
    """Conversation entities for ``viewer``, their latest messages loaded all at once."""
    lasts: list[Post] = [c.last for c in found if c.last is not None]
    statuses = present.statuses(await feed.load(session, lasts, viewer=viewer), settings)
    by_id = {int(s.id): s for s in statuses}
    return [
        ConversationOut(
            id=str(c.member.id),
            unread=c.member.unread,
            accounts=[present.account(account, settings) for account in c.accounts],
            last_status=by_id.get(c.last.id) if c.last is not None else None,
        )
        for c in found
    ]
