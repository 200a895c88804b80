"""The streams one process holds, and the filter that decides what each of them receives.

Each event arrives once per process (``streaming.bus``) and is matched here against every
open stream in memory: whom its reader follows (read when the stream opens, updated by
follow events), the post's visibility and mentions, the tags a stream follows. Only when
some stream here wants it is anything read: the post once, whom of the readers it would
reach really follow its author (one query), and its Status as each reader sees it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import NamedTuple

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from chirp import visibility as post_visibility
from chirp.config import Settings
from chirp.ops.logging import FailureLog
from chirp.posts import feed as posts_feed
from chirp.posts import service as posts_service
from chirp.posts.models import Post
from chirp.streaming import channels, events, render
from chirp.streaming import service as streaming_service
from chirp.streaming.bus import Event
from chirp.streaming.channels import Channel
from chirp.timeline import service as timeline_service
from chirp.users.models import User

log = logging.getLogger("chirp.streaming")

# Events a stream may have waiting before its client counts as gone (it stopped reading).
QUEUE_SIZE = 256
HEARTBEAT_SECONDS = 15.0
DIRECT = post_visibility.DIRECT


class Message(NamedTuple):
    """One event for one stream: the stream's name list, the event and its JSON payload."""

    stream: list[str]
    event: str
    payload: str


@dataclass(eq=False)
class Subscriber:
    """One open stream (an SSE response, a WebSocket or the web UI's event stream)."""

    viewer: User
    notifications: bool
    channels: set[Channel] = field(default_factory=set)
    following: set[int] = field(default_factory=set)
    # The web UI's stream: ids only (the page fetches HTML), so nothing is rendered for it.
    brief: bool = False
    queue: asyncio.Queue[Message] = field(default_factory=lambda: asyncio.Queue(QUEUE_SIZE))
    # Whether the credential the stream was opened with still works (None: not checked).
    valid: Callable[[AsyncSession], Awaitable[bool]] | None = None
    # Set when the client stopped reading and its queue filled, or its credential ended:
    # the stream ends.
    dropped: bool = False

    def send(self, message: Message) -> None:
        """Queue ``message``; a client too slow to take it is dropped rather than buffered."""
        try:
            self.queue.put_nowait(message)
        except asyncio.QueueFull:
            self.dropped = True

    def end(self) -> None:
        """End the stream now: its writer wakes on ``END`` and stops."""
        self.dropped = True
        with contextlib.suppress(asyncio.QueueFull):  # a full queue ends it just as well
            self.queue.put_nowait(END)


# Queued to wake a stream's writer when the stream ends; never sent to a client.
END = Message([], "", "")


class Hub:
    """Every stream open in this process, and the delivery of events to them."""

    def __init__(
        self,
        settings: Settings,
        session_factory: Callable[[], async_sessionmaker[AsyncSession]],
    ) -> None:
        self.settings = settings
        self._session_factory = session_factory
        self.subscribers: set[Subscriber] = set()
        self._by_user: dict[int, set[Subscriber]] = {}
        self._failures = FailureLog(log)
        self.delivered = 0
        # Seconds between heartbeats on an idle stream (Mastodon: 15).
        self.heartbeat = HEARTBEAT_SECONDS

    # Streams opening and closing.

    async def following(self, session: AsyncSession, user_id: int) -> set[int]:
        """Whom ``user_id`` follows, for a stream about to open (shared with their others)."""
        others = self._by_user.get(user_id)
        if others:
            # Another stream of the same reader is kept current already: no query.
            return set(next(iter(others)).following)
        found = await streaming_service.followed_ids(session, user_ids=[user_id])
        return found[user_id]

    def add(self, subscriber: Subscriber) -> None:
        """Start delivering to ``subscriber``."""
        self.subscribers.add(subscriber)
        self._by_user.setdefault(subscriber.viewer.id, set()).add(subscriber)

    def close(self, subscriber: Subscriber) -> None:
        """Stop delivering to ``subscriber`` and forget it (idempotent)."""
        self.subscribers.discard(subscriber)
        mine = self._by_user.get(subscriber.viewer.id)
        if mine is not None:
            mine.discard(subscriber)
            if not mine:
                del self._by_user[subscriber.viewer.id]

    # Events.

    async def deliver(self, event: Event) -> None:
        """Deliver one event to the streams here that may have it (errors are logged)."""
        try:
            kind = event.get("type")
            if kind == events.POST_CREATED:
                await self._post_created(event)
            elif kind == events.POST_DELETED:
                self._post_deleted(event)
            elif kind == events.FOLLOW_CHANGED:
                await self._follow_changed(event)
            elif kind == events.NOTIFICATION:
                await self._notification(event)
            elif kind == events.ACCESS_ENDED:
                await self._access_ended(event)
        except Exception as exc:  # one bad event must not end the subscription
            self._failures.report(
                "deliver", f"streaming: an event was not delivered: {exc!r}", exc=exc
            )

    async def _post_created(self, event: Event) -> None:
        author_id = int(event["author_id"])
        shown_to = str(event["visibility"])
        mentioned = set(event["mentioned"])
        repost = event["reblog_of_id"] is not None
        replied = event["in_reply_to_account_id"]
        tags = set(event["tags"])
        on_public = (
            shown_to == post_visibility.PUBLIC
            and not repost
            and (replied is None or replied == author_id)
        )
        wanted: list[tuple[Subscriber, Channel]] = []
        followers: set[int] = set()  # readers reached only by following the author
        for sub in self.subscribers:
            reader = sub.viewer.id
            for channel in sub.channels:
                name = channel.name
                if name == channels.DIRECT:
                    # Each participant's ``direct`` stream gets the conversation as theirs.
                    ok = shown_to == DIRECT and (reader == author_id or reader in mentioned)
                elif name == channels.USER:
                    if shown_to == DIRECT:
                        ok = False  # in no home timeline (see ``timeline.fanout``)
                    elif reader == author_id:
                        ok = True
                    else:
                        # The home timeline's rules: a followed author, and Mastodon's
                        # rule for replies (to the reader, or to someone they follow too).
                        ok = author_id in sub.following and timeline_service.shows_reply(
                            user_id=reader,
                            author_id=author_id,
                            replied_to=replied,
                            followed=sub.following,
                        )
                        if ok:
                            followers.add(reader)
                elif name in (channels.PUBLIC, channels.PUBLIC_LOCAL):
                    ok = on_public
                elif name in (channels.HASHTAG, channels.HASHTAG_LOCAL):
                    ok = shown_to == post_visibility.PUBLIC and channel.tag_key in tags
                else:
                    ok = False
                if ok:
                    wanted.append((sub, channel))
        if not wanted:
            return
        async with self._session_factory()() as session:
            post = await posts_service.get_post(session, int(event["post_id"]))
            if post is None:
                return  # deleted before its event arrived
            confirmed = await streaming_service.followers_among(
                session, author_id=author_id, candidates=followers, reblogs=repost
            )
            unconfirmed = followers - confirmed
            rendered: dict[tuple[str, int], str | None] = {}
            for sub, channel in wanted:
                if channel.name == channels.USER and sub.viewer.id in unconfirmed:
                    continue
                if sub.brief:
                    # The web UI's stream: new posts by id, and a message from someone else
                    # as a nudge to fetch the unread-messages badge anew.
                    if channel.name != channels.DIRECT:
                        sub.send(Message(channel.stream, "update", str(post.id)))
                    elif sub.viewer.id != author_id:
                        sub.send(Message(channel.stream, "conversation", str(post.id)))
                    continue
                if channel.name == channels.DIRECT:
                    conversation = await render.conversation(
                        session, post, viewer=sub.viewer, settings=self.settings
                    )
                    if conversation is not None:
                        sub.send(Message(channel.stream, "conversation", conversation))
                        self.delivered += 1
                    continue
                key = _rendering(post, sub)
                if key not in rendered:
                    rendered[key] = await render.status(
                        session, post, viewer=sub.viewer, settings=self.settings
                    )
                payload = rendered[key]
                if payload is not None:
                    sub.send(Message(channel.stream, "update", payload))
                    self.delivered += 1

    def _post_deleted(self, event: Event) -> None:
        author_id = int(event["author_id"])
        shown_to = event.get("visibility")
        mentioned = set(event.get("mentioned") or [])
        payload = str(event["post_id"])  # Mastodon's delete payload: the id, as a string
        for sub in self.subscribers:
            reader = sub.viewer.id
            for channel in sub.channels:
                name = channel.name
                if name in (channels.USER, channels.DIRECT):
                    if shown_to == DIRECT:
                        ok = reader == author_id or reader in mentioned
                    else:
                        ok = name == channels.USER and (
                            reader == author_id or author_id in sub.following
                        )
                elif name in channels.PUBLIC_STREAMS:
                    ok = shown_to == post_visibility.PUBLIC
                else:
                    ok = False
                if ok:
                    sub.send(Message(channel.stream, "delete", payload))

    async def _access_ended(self, event: Event) -> None:
        """End the user's streams whose token or web session no longer works."""
        mine = [s for s in self._by_user.get(int(event["user_id"]), ()) if s.valid is not None]
        if not mine:
            return
        async with self._session_factory()() as session:
            for subscriber in mine:
                assert subscriber.valid is not None
                if not await subscriber.valid(session):
                    subscriber.end()
                    self.close(subscriber)

    async def _follow_changed(self, event: Event) -> None:
        follower_id = int(event["follower_id"])
        mine = self._by_user.get(follower_id)
        if not mine:
            return
        async with self._session_factory()() as session:
            found = await streaming_service.followed_ids(session, user_ids=[follower_id])
        for sub in self._by_user.get(follower_id, ()):
            sub.following = set(found[follower_id])

    async def _notification(self, event: Event) -> None:
        user_id = int(event["user_id"])
        targets = [
            (sub, channel)
            for sub in self._by_user.get(user_id, ())
            for channel in sub.channels
            if channel.name == channels.USER_NOTIFICATION
            or (channel.name == channels.USER and sub.notifications)
        ]
        if not targets:
            return
        brief = [(sub, channel) for sub, channel in targets if sub.brief]
        for sub, channel in brief:
            sub.send(Message(channel.stream, "notification", str(event["notification_id"])))
        targets = [(sub, channel) for sub, channel in targets if not sub.brief]
        if not targets:
            return
        async with self._session_factory()() as session:
            payload = await render.notification(
                session,
                int(event["notification_id"]),
                recipient=targets[0][0].viewer,
                settings=self.settings,
            )
        if payload is None:
            return
        for sub, channel in targets:
            sub.send(Message(channel.stream, "notification", payload))


def _rendering(post: Post, sub: Subscriber) -> tuple[str, int]:
    """Which readers see a new post alike, so its Status is rendered once for all of them.

    A post just written has no likes, reposts or reactions yet: every reader's flags are
    false, and only whether they may quote it differs. A repost or a quote shows another
    post, whose state is each reader's own.
    """
    if post.reblog_of_id is not None or post.quote_of_id is not None:
        return ("reader", sub.viewer.id)
    followed = {post.author_id} if post.author_id in sub.following else set()
    may_quote = posts_feed.Feed(posts=[post], viewer=sub.viewer, followed=followed).may_quote(post)
    return ("quote", int(bool(may_quote)))
