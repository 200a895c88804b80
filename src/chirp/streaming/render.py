"""Event payloads as Mastodon sends them: each one a JSON *string* of an entity."""

from __future__ import annotations

from sqlalchemy.exc import NoResultFound
from sqlalchemy.ext.asyncio import AsyncSession

from chirp.api import present
from chirp.config import Settings
from chirp.conversations import present as conversations_present
from chirp.conversations import service as conversations_service
from chirp.errors import NotFound
from chirp.notifications import present as notifications_present
from chirp.notifications import service as notifications_service
from chirp.posts import feed as posts_feed
from chirp.posts.models import Post
from chirp.users.models import User


async def status(
    session: AsyncSession, post: Post, *, viewer: User | None, settings: Settings
) -> str | None:
    """The Status entity of a post just written, as ``viewer`` sees it; None if it is gone."""
    # ``fresh``: nobody has liked, answered or shared it yet, so no state is read for it
    # (an original's or a quoted post's state still is, for a repost or a quote).
    feed = await posts_feed.load(session, [post], viewer=viewer, fresh=True)
    if not feed.posts:
        return None  # a repost whose original is gone
    return present.status(feed, settings).model_dump_json(by_alias=True)


async def notification(
    session: AsyncSession, notification_id: int, *, recipient: User, settings: Settings
) -> str | None:
    """Mastodon's Notification entity, as the notifications API gives it; None if it is gone,
    not the recipient's, or about a post they may no longer see."""
    try:
        listing = await notifications_service.get(
            session, user=recipient, notification_id=notification_id
        )
    except NotFound:
        return None
    shown = notifications_present.notifications(listing, settings)
    return shown[0].model_dump_json(by_alias=True) if shown else None


async def conversation(
    session: AsyncSession, post: Post, *, viewer: User, settings: Settings
) -> str | None:
    """The Conversation entity a new direct message belongs to, as ``viewer`` lists it (as
    ``GET /api/v1/conversations`` gives it); None if it is no longer theirs to see."""
    if post.conversation_id is None:
        return None
    try:
        member_id = await conversations_service.member_id(
            session, conversation_id=post.conversation_id, user_id=viewer.id
        )
        found = await conversations_service.get_own(session, user=viewer, member_id=member_id)
    except (NoResultFound, NotFound):
        return None  # deleted, or hidden again by its member, since
    [entity] = await conversations_present.conversations(
        session, [found], viewer=viewer, settings=settings
    )
    return entity.model_dump_json(by_alias=True)
