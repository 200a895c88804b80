"""Deleting an account: hidden at once by the request, its rows removed by a job in steps.

The request (``delete_account``) marks the user deleted, frees the address and ends every
session and token; from then on every ORM read leaves the account and its posts out (see
``users.service._hide_deleted_accounts``). The ``account.delete`` job then runs ``STEPS`` in
order, each removing one batch per call through the same services a user's own actions use,
so counters, timelines and notifications stay in step. A step is idempotent: a crash or a
retry runs it again from what is left. The row in ``users`` stays, emptied, so the username
remains reserved.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from chirp.accounts import sessions as account_sessions
from chirp.auth.models import AccountToken, WebSession
from chirp.conversations.models import ConversationMember
from chirp.db import utcnow
from chirp.errors import ValidationFailed
from chirp.exports import service as exports_service
from chirp.follows import service as follows_service
from chirp.follows.models import Follow
from chirp.jobs import kinds, queue
from chirp.jobs.worker import Handler, JobContext
from chirp.likes import service as likes_service
from chirp.likes.models import Favourite
from chirp.markers.models import Marker
from chirp.media import service as media_service
from chirp.notifications.models import Notification
from chirp.oauth.models import OAuthCode, OAuthToken
from chirp.posts import service as posts_service
from chirp.posts.models import IdempotencyKey, Mention, Post
from chirp.reactions import service as reactions_service
from chirp.reactions.models import Reaction, ReactionCount
from chirp.users import service as users_service
from chirp.users.models import User

log = logging.getLogger("chirp.accounts")

BATCH = 100
# Batches one job run may do before it hands over to a fresh job (so no run holds a worker
# for long, and progress is committed batch by batch).
BATCHES_PER_RUN = 50

# A step removes one batch of what the account left and returns True once nothing is left.
Step = Callable[[AsyncSession, User], Awaitable[bool]]


async def delete_account(
    session: AsyncSession, *, user: User, password: str, username: str | None = None
) -> None:
    """Delete ``user`` (the password is needed; ``username``, when given, must match).

    Call it before writing anything in ``session``: checking the password ends a read-only
    transaction.
    """
    if not await users_service.password_matches(session, user, password):
        raise ValidationFailed("Password is incorrect", field="password")
    if username is not None and username.strip().lstrip("@").lower() != user.username_key:
        raise ValidationFailed("Type your username to confirm", field="username")
    user.deleted_at = utcnow()
    # The address is free for a new account at once; the username stays taken.
    user.email = ""
    user.email_key = f"deleted-{user.id}"
    user.unconfirmed_email = None
    await account_sessions.end_sessions(session, user_id=user.id)
    await account_sessions.revoke_tokens(session, user_id=user.id)
    await session.flush()
    await queue.enqueue(session, kinds.ACCOUNT_DELETE, {"user_id": user.id})


async def _posts(session: AsyncSession, user: User) -> bool:
    # Through the post service: reposts of them, counters of the posts they answered,
    # shared or quoted, conversations and fan-out clean-up jobs, as for a post deleted by hand.
    rows = await session.execute(
        select(Post).where(Post.author_id == user.id).order_by(Post.id.desc()).limit(BATCH)
    )
    posts = list(rows.scalars())
    for post in posts:
        await posts_service.delete_post(session, post=post, actor=user)
    return len(posts) < BATCH


async def _likes(session: AsyncSession, user: User) -> bool:
    rows = await session.execute(
        select(Post)
        .join(Favourite, Favourite.post_id == Post.id)
        .where(Favourite.user_id == user.id)
        .limit(BATCH)
    )
    posts = list(rows.scalars().unique())
    for post in posts:
        await likes_service.unlike(session, user=user, post=post)
    return len(posts) < BATCH


async def _reactions(session: AsyncSession, user: User) -> bool:
    rows = await session.execute(
        select(Post, Reaction.emoji)
        .join(Reaction, Reaction.post_id == Post.id)
        .where(Reaction.user_id == user.id)
        .limit(BATCH)
    )
    found = rows.all()
    for post, emoji in found:
        await reactions_service.unreact(session, user=user, post=post, emoji=emoji)
    # An emoji nobody uses any more on a post leaves no row behind (lists skip them anyway).
    await session.execute(
        delete(ReactionCount).where(
            ReactionCount.post_id.in_({post.id for post, _ in found}), ReactionCount.count <= 0
        )
    )
    return len(found) < BATCH


async def _follows(session: AsyncSession, user: User) -> bool:
    # Both directions, through the follow service: the other side's counter moves and the
    # unfollow job takes the account's posts out of its followers' home timelines.
    rows = await session.execute(
        select(Follow.follower_id, Follow.followee_id)
        .where((Follow.follower_id == user.id) | (Follow.followee_id == user.id))
        .limit(BATCH)
    )
    pairs = rows.all()
    others = await users_service.get_many(session, [a if a != user.id else b for a, b in pairs])
    for follower_id, followee_id in pairs:
        if follower_id == user.id:
            await follows_service.unfollow(session, follower=user, followee=others[followee_id])
        else:
            await follows_service.unfollow(session, follower=others[follower_id], followee=user)
    return len(pairs) < BATCH


async def _rows(session: AsyncSession, user: User) -> bool:
    # What is the account's alone: removing it changes nothing anyone else sees.
    uid = user.id
    for stmt in (
        delete(Notification).where(
            (Notification.user_id == uid) | (Notification.from_account_id == uid)
        ),
        delete(Mention).where(Mention.user_id == uid),
        delete(ConversationMember).where(ConversationMember.user_id == uid),
        delete(Marker).where(Marker.user_id == uid),
        delete(IdempotencyKey).where(IdempotencyKey.user_id == uid),
        delete(OAuthToken).where(OAuthToken.user_id == uid),
        delete(OAuthCode).where(OAuthCode.user_id == uid),
        delete(WebSession).where(WebSession.user_id == uid),
        delete(AccountToken).where(AccountToken.user_id == uid),
    ):
        await session.execute(stmt)
    return True


async def _scrub(session: AsyncSession, user: User) -> bool:
    # The row stays to keep the username reserved; nothing else of the person is kept.
    await session.execute(
        update(User)
        .where(User.id == user.id)
        .values(
            password_hash="!",  # noqa: S106 - matches no password: argon2 refuses it
            display_name="",
            bio="",
            posts_count=0,
            followers_count=0,
            following_count=0,
            default_language=None,
        )
        .execution_options(synchronize_session=False)
    )
    return True


async def _media(session: AsyncSession, user: User) -> bool:
    await media_service.release_account(session, user=user)
    return True


# In order: posts first (they need the follows gone last, for their timeline clean-up; their
# images go with them). A domain that keeps rows or files of an account adds its step here.
STEPS: list[tuple[str, Step]] = [
    ("posts", _posts),
    ("likes", _likes),
    ("reactions", _reactions),
    ("follows", _follows),
    ("media", _media),
    ("rows", _rows),
    ("scrub", _scrub),
]


async def run_deletion(ctx: JobContext, payload: dict[str, Any]) -> None:
    """Remove a deleted account's rows, step by step and batch by batch (idempotent)."""
    user_id = int(payload["user_id"])
    batches = 0
    for name, step in STEPS:
        done = False
        while not done:
            if batches >= BATCHES_PER_RUN:
                async with ctx.session_factory() as session:
                    await queue.enqueue(session, kinds.ACCOUNT_DELETE, {"user_id": user_id})
                    await session.commit()
                return
            async with ctx.session_factory() as session:
                session.info[users_service.INCLUDE_DELETED] = True
                user = await session.get(User, user_id)
                if user is None or user.deleted_at is None:
                    return  # not a deleted account: nothing to do
                done = await step(session, user)
                await session.commit()
            batches += 1
            log.debug("account %s: deletion step %s, batch %s", user_id, name, batches)
    # Archives of the account's data: files the database does not hold.
    async with ctx.session_factory() as session:
        await exports_service.delete_for_user(session, ctx.settings, user_id=user_id)
        await session.commit()
    if ctx.timeline_cache is not None:
        await ctx.timeline_cache.forget_user(user_id)


HANDLERS: dict[str, Handler] = {kinds.ACCOUNT_DELETE: run_deletion}
