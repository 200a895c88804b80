"""Plain post data in Redis, so a timeline page is hydrated without reading the posts table.

Only what never changes after a post is written is cached (id, author, text, time, app,
visibility, content warning, sensitive flag, language, what it answers, shares or quotes,
whom it mentions and its conversation). Counts and the reader's own likes and reposts
change, so they are read per page. Authors are not: names and counts change, and whether
the reader still follows them decides what they may see, so those come from the database in
one small query per page.

A deleted post leaves a tombstone instead of a gap: a reader that loaded the post from the
database just before the delete cannot put it back, because entries are only ever added
where nothing is stored (``SET NX``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from redis.asyncio import Redis

from chirp.posts.models import Post, PostView
from chirp.posts.state import State
from chirp.users.profile import Profile

TOMBSTONE = "-"
# Deletes entries, but keeps tombstones: a deleted post must stay deleted.
_DROP_UNLESS_DELETED = """
for _, key in ipairs(KEYS) do
  if redis.call('GET', key) ~= '-' then redis.call('DEL', key) end
end
return 1
"""
# Times are whole microseconds since the epoch, counted in integers: through a float's
# seconds, some came back a microsecond early.
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
# What the fields after the visibility are when a cached entry leaves them out.
_DEFAULTS: list[object] = ["", False, None, None, None, None, None, "public", None, None]


@dataclass(frozen=True)
class CachedPost:
    """The immutable part of a post, as stored in Redis."""

    id: int
    author_id: int
    text: str
    created_at: datetime
    app_name: str | None
    visibility: str = "public"
    spoiler_text: str = ""
    sensitive: bool = False
    language: str | None = None
    in_reply_to_id: int | None = None
    in_reply_to_account_id: int | None = None
    reblog_of_id: int | None = None
    quote_of_id: int | None = None
    quote_approval_policy: str = "public"
    mentions: list[list[Any]] | None = None
    conversation_id: int | None = None

    @classmethod
    def of(cls, post: Post) -> CachedPost:
        """The cacheable part of a post row."""
        return cls(
            post.id,
            post.author_id,
            post.text,
            post.created_at,
            post.app_name,
            post.visibility,
            post.spoiler_text,
            post.sensitive,
            post.language,
            post.in_reply_to_id,
            post.in_reply_to_account_id,
            post.reblog_of_id,
            post.quote_of_id,
            post.quote_approval_policy,
            post.mentions,
            post.conversation_id,
        )

    def dump(self) -> str:
        """Serialise compactly (the id is in the key)."""
        micros = (self.created_at - _EPOCH) // _MICROSECOND
        fields = [self.author_id, self.text, micros, self.app_name, self.visibility]
        # Trailing fields at their defaults are left out (and read back as defaults).
        tail: list[object] = [self.spoiler_text, self.sensitive, self.language, *self._links()]
        while tail and tail[-1] == _DEFAULTS[len(tail) - 1]:
            tail.pop()
        return json.dumps(fields + tail, ensure_ascii=False)

    def _links(self) -> list[object]:
        # The shared post's id as a string: the page script reads it (see ``scripts.PAGE``).
        reblog_of = str(self.reblog_of_id) if self.reblog_of_id is not None else None
        return [
            self.in_reply_to_id,
            self.in_reply_to_account_id,
            reblog_of,
            self.quote_of_id,
            self.quote_approval_policy,
            self.mentions,
            self.conversation_id,
        ]

    @classmethod
    def load(cls, post_id: int, raw: str | bytes) -> CachedPost:
        """Read back what ``dump`` wrote (or an older release wrote: a public post)."""
        author_id, text, micros, app_name, *rest = json.loads(raw)
        created_at = _EPOCH + int(micros) * _MICROSECOND
        # Entries cached before visibility existed end at app_name: every such post was public.
        visibility, *tail = rest or ["public"]
        (
            spoiler,
            sensitive,
            language,
            reply_to,
            reply_to_account,
            reblog_of,
            quote_of,
            policy,
            mentions,
            conversation_id,
        ) = tail + _DEFAULTS[len(tail) :]
        return cls(
            post_id,
            int(author_id),
            str(text),
            created_at,
            app_name,
            str(visibility),
            str(spoiler),
            bool(sensitive),
            language,
            reply_to,
            reply_to_account,
            int(reblog_of) if reblog_of is not None else None,
            quote_of,
            str(policy),
            mentions,
            conversation_id,
        )

    def with_author(
        self, author: Profile, *, shared: PostView | None = None, state: State | None = None
    ) -> CachedPostWithAuthor:
        """This post with its author, ready to show (a ``PostView``); with its state when read
        along, and for a repost the post it shares when the reader may see it."""
        return CachedPostWithAuthor(
            self.id,
            self.author_id,
            self.text,
            self.created_at,
            self.app_name,
            self.visibility,
            self.spoiler_text,
            self.sensitive,
            self.language,
            self.in_reply_to_id,
            self.in_reply_to_account_id,
            self.reblog_of_id,
            self.quote_of_id,
            self.quote_approval_policy,
            self.mentions,
            self.conversation_id,
            author,
            shared,
            state,
        )


@dataclass(frozen=True, slots=True)
class CachedPostWithAuthor:
    """A cached post and its author, shown like a ``Post`` row."""

    # Not a detached ``Post``: making ORM instances cost more than everything else a
    # timeline page does with a post.

    id: int
    author_id: int
    text: str
    created_at: datetime
    app_name: str | None
    visibility: str
    spoiler_text: str
    sensitive: bool
    language: str | None
    in_reply_to_id: int | None
    in_reply_to_account_id: int | None
    reblog_of_id: int | None
    quote_of_id: int | None
    quote_approval_policy: str
    mentions: list[list[Any]] | None
    conversation_id: int | None
    author: Profile
    # Read along with a home page (``posts.feed`` reads what is missing): a repost's
    # original, and the post's counts and the reader's own likes and reposts.
    shared: PostView | None = None
    state: State | None = None


class PostCache:
    """Reads and writes cached posts; missing entries are simply read from the database."""

    def __init__(self, redis: Redis, *, ttl: int, prefix: str = "chirp:") -> None:
        self.redis = redis
        self.ttl = ttl
        self.prefix = prefix

    def key(self, post_id: int | str) -> str:
        """The Redis key of a post (``key("")`` is the prefix of them all)."""
        return f"{self.prefix}p:{post_id}"

    @staticmethod
    def decode(
        ids: Sequence[int], values: Sequence[bytes | str | None]
    ) -> tuple[dict[int, CachedPost], set[int]]:
        """Read raw values fetched for ``ids``: the cached posts, and the ids known deleted."""
        found: dict[int, CachedPost] = {}
        deleted: set[int] = set()
        for post_id, raw in zip(ids, values, strict=True):
            if raw is None:
                continue
            if raw in (TOMBSTONE, TOMBSTONE.encode()):
                deleted.add(post_id)
            else:
                found[post_id] = CachedPost.load(post_id, raw)
        return found, deleted

    async def get_many(self, post_ids: Sequence[int]) -> tuple[dict[int, CachedPost], set[int]]:
        """Cached posts by id, and the ids known deleted; the others are not cached."""
        if not post_ids:
            return {}, set()
        values = await self.redis.mget([self.key(i) for i in post_ids])
        return self.decode(post_ids, values)

    async def put_many(self, posts: Iterable[Post]) -> None:
        """Cache posts read from the database, never over an entry or a tombstone."""
        pipe = self.redis.pipeline(transaction=False)
        count = 0
        for post in posts:
            pipe.set(self.key(post.id), CachedPost.of(post).dump(), nx=True, ex=self.ttl)
            count += 1
        if count:
            await pipe.execute()

    async def refresh(self, post_ids: Sequence[int]) -> None:
        """Drop posts' entries (never a tombstone), so the next read caches them afresh."""
        if post_ids:
            await self.redis.eval(_DROP_UNLESS_DELETED, len(post_ids), *map(self.key, post_ids))

    async def forget(self, post_ids: Sequence[int]) -> None:
        """Mark posts deleted, so no reader shows or re-caches them."""
        if not post_ids:
            return
        pipe = self.redis.pipeline(transaction=False)
        for post_id in post_ids:
            pipe.set(self.key(post_id), TOMBSTONE, ex=self.ttl)
        await pipe.execute()
