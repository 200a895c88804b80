"""Event payloads as Mastodon sends them: each one a JSON *string* of an entity."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from chirp.api import present
from chirp.config import Settings
from chirp.notifications.models import Notification
from chirp.posts import feed as posts_feed
from chirp.posts import service as posts_service
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
    session: AsyncSession,
    note: Notification,
    *,
    actor: User,
    recipient: User,
    settings: Settings,
) -> str | None:
    """Mastodon's Notification entity (id, type, created_at, group_key, account, status)."""
    entity: dict[str, Any] = {
        "id": str(note.id),
        "type": note.type,
        "created_at": present.iso(note.created_at),
        "group_key": note.group_key,
        "account": present.account(actor, settings).model_dump(mode="json", by_alias=True),
        "status": None,
    }
    if note.emoji:
        entity["emoji"] = note.emoji  # Pleroma's emoji reaction notifications carry it
    if note.post_id is not None:
        post = await posts_service.get_post(session, note.post_id)
        if post is None or not await posts_service.can_see(session, post=post, viewer=recipient):
            return None  # deleted since: Mastodon drops such notifications too
        feed = await posts_feed.load(session, [post], viewer=recipient)
        if not feed.posts:
            return None
        entity["status"] = present.status(feed, settings).model_dump(mode="json", by_alias=True)
    return json.dumps(entity, separators=(",", ":"))
