"""The events that travel on the bus, built from what was committed.

Raised by the job handlers (``timeline.fanout``) once the write is committed, in the worker
or in the embedded process: a committed post always has its job, so its event is never lost
with a web process that dies after the commit, and the API and the web pages need no call of
their own. A job that runs twice publishes twice; clients (and ``chirp.js``) go by id.
"""

from __future__ import annotations

from typing import Any

from chirp.posts import entities
from chirp.posts.models import Post
from chirp.streaming.bus import Event, Publisher

POST_CREATED = "post.created"
POST_DELETED = "post.deleted"
FOLLOW_CHANGED = "follow.changed"
NOTIFICATION = "notification"
ACCESS_ENDED = "access.ended"


def mentioned_ids(mentions: list[Any] | None) -> list[int]:
    """The user ids in a post's ``mentions`` column (``[user_id, username]`` pairs)."""
    return [int(pair[0]) for pair in mentions or []]


def post_created(post: Post) -> Event:
    """What a stream needs to decide who sees a new post, without reading it."""
    return {
        "type": POST_CREATED,
        "post_id": post.id,
        "author_id": post.author_id,
        "visibility": post.visibility,
        "mentioned": mentioned_ids(post.mentions),
        "reblog_of_id": post.reblog_of_id,
        "in_reply_to_account_id": post.in_reply_to_account_id,
        # Tag streams show public posts, as tag pages do (only their uses are recorded).
        "tags": sorted({entities.tag_key(t.name) for t in entities.find_tags(post.text)})
        if post.visibility == "public" and post.reblog_of_id is None
        else [],
    }


def post_deleted(payload: dict[str, Any]) -> Event:
    """A deleted post, from its job's payload (visibility and mentions when it carries them)."""
    return {
        "type": POST_DELETED,
        "post_id": int(payload["post_id"]),
        "author_id": int(payload["author_id"]),
        "visibility": payload.get("visibility"),
        "mentioned": mentioned_ids(payload.get("mentions")),
    }


def follow_changed(*, follower_id: int, followee_id: int) -> Event:
    """A follow made or undone: the follower's streams read whom they follow again."""
    return {"type": FOLLOW_CHANGED, "follower_id": follower_id, "followee_id": followee_id}


def access_ended(user_id: int) -> Event:
    """Some credentials of ``user_id`` ended: their streams check theirs again."""
    return {"type": ACCESS_ENDED, "user_id": user_id}


async def publish(publisher: Publisher | None, event: Event) -> None:
    """Publish ``event`` when this process has a bus (a worker without one has no streams)."""
    if publisher is not None:
        await publisher.publish(event)


async def publish_notification(
    publisher: Publisher | None, *, user_id: int, notification_id: int
) -> None:
    """Deliver a committed notification to its recipient's ``user`` and notification streams."""
    await publish(
        publisher, {"type": NOTIFICATION, "user_id": user_id, "notification_id": notification_id}
    )
