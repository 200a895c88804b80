"""Post services: create, fetch, delete and list posts."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy import Select, delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import make_transient_to_detached

from chirp.db import show_written, utcnow
from chirp.errors import Forbidden, NotFound, ValidationFailed
from chirp.ids import new_id
from chirp.jobs import kinds, queue
from chirp.pagination import Cursor, fetch_page
from chirp.posts import text as post_text
from chirp.posts.models import IdempotencyKey, Post
from chirp.users.models import User

# Mastodon remembers an Idempotency-Key for an hour.
IDEMPOTENCY_WINDOW = timedelta(hours=1)


def validate_text(text: str, *, max_length: int) -> str:
    """Return the text to store (as typed, newlines unified), or raise if blank or too long."""
    # Counted in NFC as Mastodon does, but stored as typed: normalising would change
    # what the author wrote (NFC replaces CJK compatibility ideographs, for one).
    text = post_text.unify_newlines(text)
    if not text.strip():
        raise ValidationFailed("Text can't be blank", field="status", code="ERR_BLANK")
    count = post_text.length(text)
    if count > max_length:
        raise ValidationFailed(
            f"Text is too long ({count} characters; the limit is {max_length})",
            field="status",
            code="ERR_TOO_LONG",
        )
    return text


async def create_post(
    session: AsyncSession,
    *,
    author: User,
    text: str,
    max_length: int,
    idempotency_key: str | None = None,
    app_name: str | None = None,
) -> Post:
    """Store a new post by ``author``; a repeated idempotency key returns the first post."""
    if idempotency_key:
        earlier = await _post_for_key(session, user_id=author.id, key=idempotency_key)
        if earlier is not None:
            return earlier
    values = {
        "id": new_id(),
        "author_id": author.id,
        "text": validate_text(text, max_length=max_length),
        "app_name": app_name,
        "created_at": utcnow(),
    }
    # A plain INSERT rather than the unit of work's flush, which cost a quarter of a post
    # request's CPU; the id is made here, so nothing needs to come back.
    await session.execute(insert(Post).values(values))
    post = Post(**values)
    post.author = author
    make_transient_to_detached(post)
    session.add(post)  # persistent from here, as a flushed one would be, with no more SQL
    if idempotency_key:
        try:
            async with session.begin_nested():
                session.add(IdempotencyKey(user_id=author.id, key=idempotency_key, post_id=post.id))
                await session.flush()
        except IntegrityError:
            # A concurrent request with the same key won; drop ours and answer with theirs.
            await session.delete(post)
            await session.flush()
            earlier = await _post_for_key(session, user_id=author.id, key=idempotency_key)
            if earlier is None:
                raise
            return earlier
    posts_count = await _bump_posts_count(session, author, 1, last_post_at=post.created_at)
    show_written(author, posts_count=posts_count, last_post_at=post.created_at)
    # Recorded in this transaction: a committed post is always fanned out, a rolled-back never.
    await queue.enqueue(session, kinds.POST_CREATED, {"post_id": post.id})
    return post


async def _bump_posts_count(session: AsyncSession, author: User, delta: int, **values: Any) -> int:
    # In SQL, in the post's transaction, so the count never drifts; returns the new count.
    stmt = (
        update(User)
        .where(User.id == author.id)
        .values(posts_count=User.posts_count + delta, **values)
        .returning(User.posts_count)
        .execution_options(synchronize_session=False)
    )
    return int((await session.execute(stmt)).scalar_one())


async def _post_for_key(session: AsyncSession, *, user_id: int, key: str) -> Post | None:
    stmt = (
        select(Post)
        .join(IdempotencyKey, IdempotencyKey.post_id == Post.id)
        .where(
            IdempotencyKey.user_id == user_id,
            IdempotencyKey.key == key,
            IdempotencyKey.created_at > utcnow() - IDEMPOTENCY_WINDOW,
        )
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def get_post(session: AsyncSession, post_id: int) -> Post | None:
    """Return the post with this id, or None."""
    return await session.get(Post, post_id)


async def get_post_or_404(session: AsyncSession, post_id: int) -> Post:
    """Return the post with this id, or raise NotFound."""
    post = await get_post(session, post_id)
    if post is None:
        raise NotFound()
    return post


async def delete_post(session: AsyncSession, *, post: Post, actor: User) -> None:
    """Delete ``post``; only its author may."""
    if post.author_id != actor.id:
        raise Forbidden("You can only delete your own posts")
    await session.execute(delete(IdempotencyKey).where(IdempotencyKey.post_id == post.id))
    await session.delete(post)
    await session.flush()
    show_written(actor, posts_count=await _bump_posts_count(session, actor, -1))
    await queue.enqueue(session, kinds.POST_DELETED, {"post_id": post.id, "author_id": actor.id})


def by_author_query(author_id: int) -> Select[Post]:
    """Return a statement for one user's posts (callers paginate by id)."""
    return select(Post).where(Post.author_id == author_id)


async def recent_ids(
    session: AsyncSession, *, author_id: int, limit: int, since: int = 0
) -> list[int]:
    """Ids of a user's newest ``limit`` posts (down to ``since``), newest first."""
    stmt = by_author_query(author_id).with_only_columns(Post.id)
    if since:
        stmt = stmt.where(Post.id >= since)
    rows = await session.execute(stmt.order_by(Post.id.desc()).limit(limit))
    return list(rows.scalars())


async def by_author(session: AsyncSession, *, author_id: int, cursor: Cursor) -> list[Post]:
    """Return one page of a user's posts, newest first."""
    return await fetch_page(session, by_author_query(author_id), Post.id, cursor)


async def get_many(session: AsyncSession, ids: Sequence[int]) -> dict[int, Post]:
    """Return the posts with these ids, keyed by id (missing ones left out)."""
    if not ids:
        return {}
    rows = await session.execute(select(Post).where(Post.id.in_(set(ids))))
    return {p.id: p for p in rows.scalars()}
