"""Reposts (Mastodon's reblogs) and quote posts: who may share or quote a post, and the rows.

A repost is a post row of its own (own time-ordered id, empty text) whose ``reblog_of_id``
names the original; it enters followers' home timelines through the same durable job and
fan-out as a post. A quote post is an ordinary post whose ``quote_of_id`` names the post it
shows inside it.
"""

from __future__ import annotations

from typing import Literal, get_args

from sqlalchemy import Select, delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import make_transient_to_detached

from chirp import visibility as post_visibility
from chirp.db import show_written
from chirp.errors import Forbidden, NotFound, ValidationFailed
from chirp.follows import service as follows_service
from chirp.jobs import kinds, queue
from chirp.notifications import outbox as notifications_outbox
from chirp.notifications import types as notification_types
from chirp.pagination import Cursor, fetch_page, fetch_rows
from chirp.posts import service as posts_service
from chirp.posts.models import Post
from chirp.users import service as users_service
from chirp.users.models import User

QuotePolicy = Literal["public", "followers", "nobody"]
QUOTE_POLICIES: tuple[QuotePolicy, ...] = get_args(QuotePolicy)
# What each looks like in the composer.
QUOTE_POLICY_LABELS: dict[str, str] = {
    "public": "Anyone can quote",
    "followers": "Followers can quote",
    "nobody": "Only you can quote",
}
# Mastodon's answer when the policy refuses a reblog (a followers-only post of someone else).
NOT_ALLOWED = "This action is not allowed"


async def shared(session: AsyncSession, post_id: int, *, viewer: User | None) -> Post:
    """The post a repost or quote of ``post_id`` shares: the original for a repost (404 if
    the viewer may not see it)."""
    post = await posts_service.get_visible_post_or_404(session, post_id, viewer=viewer)
    if post.reblog_of_id is not None:
        # A repost of a repost shares the original (as Mastodon).
        post = await posts_service.get_visible_post_or_404(
            session, post.reblog_of_id, viewer=viewer
        )
    return post


async def repost(
    session: AsyncSession, *, actor: User, post_id: int, visibility: str | None = None
) -> tuple[Post, bool]:
    """Repost ``post_id`` as ``actor``; return the wrapper and whether it is new.

    Reposting again returns the existing wrapper with nothing changed. Only its author may
    repost a followers-only post (403, as Mastodon); the wrapper of such a repost stays
    followers-only whatever ``visibility`` asks, others take ``visibility`` or the
    reposter's default.
    """
    original = await shared(session, post_id, viewer=actor)
    if original.visibility == post_visibility.DIRECT:
        raise Forbidden(NOT_ALLOWED)  # as Mastodon: nobody may repost a direct message
    if original.visibility == post_visibility.PRIVATE and original.author_id != actor.id:
        raise Forbidden(NOT_ALLOWED)
    if original.visibility == post_visibility.PRIVATE:
        shown_to = post_visibility.PRIVATE
    else:
        shown_to = post_visibility.parse(visibility, default=actor.default_privacy)
    existing = await _wrapper_of(session, actor_id=actor.id, original_id=original.id)
    if existing is not None:
        return existing, False
    values = {
        **posts_service.blank_values(author=actor),
        "visibility": shown_to,
        "reblog_of_id": original.id,
        "language": None,
    }
    try:
        async with session.begin_nested():
            await session.execute(insert(Post).values(values))
    except IntegrityError:
        # A concurrent repost by the same account won (one per account and post): answer
        # with it, counts unchanged.
        existing = await _wrapper_of(session, actor_id=actor.id, original_id=original.id)
        if existing is None:
            raise
        return existing, False
    # Moved only when the row was really inserted, in its transaction (as Mastodon counts
    # reblogs in statuses_count too).
    await _move_reblogs(session, original, 1)
    count = users_service.counter_update(
        actor.id, User.posts_count, 1, last_post_at=values["created_at"]
    )
    posts_count = (await session.execute(count)).scalar_one()
    show_written(actor, posts_count=posts_count, last_post_at=values["created_at"])
    # The same durable job as a post: fan-out (or the large-account list) delivers it.
    await queue.enqueue(session, kinds.POST_CREATED, {"post_id": values["id"]})
    if original.author_id != actor.id:
        await notifications_outbox.post(session, post_id=values["id"])
    wrapper = Post(**values)
    wrapper.author = actor
    make_transient_to_detached(wrapper)
    session.add(wrapper)
    return wrapper, True


async def unrepost(session: AsyncSession, *, actor: User, post_id: int) -> tuple[Post, int | None]:
    """Undo ``actor``'s repost of ``post_id``; return the original and the wrapper id removed.

    Nothing to undo is no error (Mastodon answers with the original either way).
    """
    original = await shared(session, post_id, viewer=actor)
    removed = (
        await session.execute(
            delete(Post)
            .where(Post.author_id == actor.id, Post.reblog_of_id == original.id)
            .returning(Post.id)
            .execution_options(synchronize_session=False)
        )
    ).scalar_one_or_none()
    if removed is None:
        return original, None
    await _move_reblogs(session, original, -1)
    await users_service.move_counter(session, actor, User.posts_count, -1)
    await notifications_outbox.withdraw(
        session,
        type=notification_types.REBLOG,
        user_id=original.author_id,
        from_account_id=actor.id,
        post_id=original.id,
    )
    # The same purge as a deleted post: out of every timeline it was delivered to.
    await queue.enqueue(session, kinds.POST_DELETED, {"post_id": removed, "author_id": actor.id})
    return original, removed


async def _move_reblogs(session: AsyncSession, original: Post, delta: int) -> None:
    count = (
        await session.execute(
            update(Post)
            .where(Post.id == original.id)
            .values(reblogs_count=Post.reblogs_count + delta)
            .returning(Post.reblogs_count)
            .execution_options(synchronize_session=False)
        )
    ).scalar_one()
    show_written(original, reblogs_count=count)


async def _wrapper_of(session: AsyncSession, *, actor_id: int, original_id: int) -> Post | None:
    stmt = select(Post).where(Post.author_id == actor_id, Post.reblog_of_id == original_id)
    return (await session.execute(stmt)).scalar_one_or_none()


def reblogged_by_query(original_id: int) -> Select[int, User]:
    """(wrapper id, reposter) of a post's public and unlisted reposts (callers page by id)."""
    # Followers-only reposts are left out, as Mastodon does: they are for the reposter's
    # followers, not for everyone who can see the original.
    return (
        select(Post.id, User)
        .join(User, User.id == Post.author_id)
        .where(
            Post.reblog_of_id == original_id,
            Post.visibility != post_visibility.PRIVATE,
        )
    )


async def reblogged_by(
    session: AsyncSession, *, post_id: int, viewer: User | None, cursor: Cursor
) -> list[tuple[int, User]]:
    """(wrapper id, account) of who reposted a post the viewer may see, newest first."""
    original = await shared(session, post_id, viewer=viewer)
    rows = await fetch_rows(session, reblogged_by_query(original.id), Post.id, cursor)
    return [(row[0], row[1]) for row in rows]


# ---- Quote posts (Mastodon 4.5).


def parse_quote_policy(raw: str | None, *, visibility: str) -> QuotePolicy:
    """Who may quote a new post; a followers-only post is quotable by nobody but its author
    (and a direct message by nobody at all)."""
    if post_visibility.hidden_from_others(visibility):
        return "nobody"  # as Mastodon: ignored for private posts
    value = raw or "public"
    for choice in QUOTE_POLICIES:
        if value == choice:
            return choice
    raise ValidationFailed(
        "quote_approval_policy must be one of public, followers or nobody",
        field="quote_approval_policy",
    )


async def may_quote(session: AsyncSession, *, post: Post, viewer: User) -> bool:
    """Whether ``viewer`` may quote ``post`` (which they can see), by its policy."""
    if post.visibility == post_visibility.DIRECT:
        return False  # as Mastodon: nobody, its author neither
    if post.author_id == viewer.id:
        return True
    if post.visibility == post_visibility.PRIVATE:
        return False
    if post.quote_approval_policy == "public":
        return True
    if post.quote_approval_policy == "followers":
        return await follows_service.is_following(
            session, follower_id=viewer.id, followee_id=post.author_id
        )
    return False


async def quotable(session: AsyncSession, *, post_id: int, author: User) -> Post:
    """The post ``author`` quotes, or 422 if it is gone, hidden from them or its policy refuses."""
    try:
        post = await shared(session, post_id, viewer=author)
    except NotFound as exc:
        raise ValidationFailed(
            "The quoted post does not exist or is not visible to you", field="quoted_status_id"
        ) from exc
    if not await may_quote(session, post=post, viewer=author):
        raise ValidationFailed(
            "The author of the quoted post does not allow you to quote it",
            field="quoted_status_id",
        )
    return post


async def quotes(
    session: AsyncSession, *, post_id: int, viewer: User, cursor: Cursor
) -> list[Post]:
    """Posts quoting a post the viewer may see, those the viewer may see, newest first."""
    original = await shared(session, post_id, viewer=viewer)
    stmt = select(Post).where(Post.quote_of_id == original.id)
    # Followers-only quotes only from the viewer and the accounts they follow; a page may be
    # short where others' are left out, and the Link header still leads on.
    found = await fetch_page(session, stmt, Post.id, cursor)
    private_authors = [
        p.author_id
        for p in found
        if p.visibility == post_visibility.PRIVATE and p.author_id != viewer.id
    ]
    followed = await follows_service.following_ids(
        session, viewer_id=viewer.id, candidates=private_authors
    )
    return [
        p
        for p in found
        if p.visibility != post_visibility.PRIVATE
        or p.author_id == viewer.id
        or p.author_id in followed
    ]


async def set_quote_policy(
    session: AsyncSession, *, actor: User, post_id: int, policy: str | None
) -> Post:
    """Change who may quote one of your posts (past quotes stay); 404 for anyone else's."""
    post = await posts_service.get_visible_post_or_404(session, post_id, viewer=actor)
    if post.author_id != actor.id or post.reblog_of_id is not None:
        raise NotFound()  # as Mastodon: not among your statuses
    if policy is None:
        raise ValidationFailed(
            "quote_approval_policy must be one of public, followers or nobody",
            field="quote_approval_policy",
        )
    chosen = parse_quote_policy(policy, visibility=post.visibility)
    await session.execute(
        update(Post)
        .where(Post.id == post.id)
        .values(quote_approval_policy=chosen)
        .execution_options(synchronize_session=False)
    )
    show_written(post, quote_approval_policy=chosen)
    return post
