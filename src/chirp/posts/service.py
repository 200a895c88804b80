"""Post services: create, fetch, delete and list posts."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy import Select, Table, Update, delete, insert, literal_column, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import make_transient_to_detached

from chirp import languages
from chirp import visibility as post_visibility
from chirp.conversations import service as conversations_service
from chirp.db import on_postgresql, show_written, utcnow
from chirp.errors import NotFound, ValidationFailed
from chirp.follows import service as follows_service
from chirp.ids import new_id
from chirp.jobs import kinds, queue
from chirp.media import service as media_service
from chirp.notifications import outbox as notifications_outbox
from chirp.pagination import Cursor, fetch_page
from chirp.posts import mentions
from chirp.posts import text as post_text
from chirp.posts.models import IdempotencyKey, Post
from chirp.tags import service as tags_service
from chirp.users import service as users_service
from chirp.users.models import User

# A new post's counters.
NEW_COUNTS = {"replies_count": 0, "reblogs_count": 0, "favourites_count": 0, "quotes_count": 0}
# Why a direct message is refused when it is for nobody (it would be a note to oneself).
NOBODY_MENTIONED = "A direct message must mention at least one other account (@username)"
NO_DIRECT_QUOTE = "A direct message cannot quote a post"
# Mastodon's words when the post answered does not exist or is not the replier's to see.
REPLY_TARGET_NOT_FOUND = "The post you are trying to reply to does not appear to exist."
# Mastodon remembers an Idempotency-Key for an hour.
IDEMPOTENCY_WINDOW = timedelta(hours=1)


def validate_text(text: str, *, max_length: int, blank_ok: bool = False) -> str:
    """Return the text to store (as typed, newlines unified), or raise if blank or too long.

    ``blank_ok``: the post has images, so it may have no text (then stored as "").
    """
    max_chars, max_bytes = post_text.raw_limits(max_length)
    # Checked before anything that costs time in the text's length (normalising, link search).
    if len(text) > max_chars or len(text.encode("utf-8", "surrogatepass")) > max_bytes:
        raise ValidationFailed(
            f"Text is too long (the limit is {max_length} characters)",
            field="status",
            code="ERR_TOO_LONG",
        )
    text = post_text.unify_newlines(text)
    if not text.strip() and blank_ok:
        return ""
    if not text.strip():
        raise ValidationFailed("Text can't be blank", field="status", code="ERR_BLANK")
    # Counted in NFC as Mastodon does, but stored as typed: normalising would change
    # what the author wrote (NFC replaces CJK compatibility ideographs, for one).
    normal = post_text.normalise(text)
    links = post_text.find_links(normal)
    if any(link.end - link.start > post_text.MAX_URL_LENGTH for link in links):
        raise ValidationFailed(
            f"A link is too long (the limit is {post_text.MAX_URL_LENGTH} characters)",
            field="status",
            code="ERR_TOO_LONG",
        )
    count = post_text.counted(normal, links)
    if count > max_length:
        raise ValidationFailed(
            f"Text is too long ({count} characters; the limit is {max_length})",
            field="status",
            code="ERR_TOO_LONG",
        )
    return text


def validate_spoiler(spoiler_text: str, *, max_length: int) -> str:
    """Return the content warning to store (trimmed), or raise if it is too long."""
    spoiler = post_text.unify_newlines(spoiler_text).strip()
    # A warning is a line, not a second post: it gets the post's own limit.
    if len(post_text.normalise(spoiler)) > max_length:
        raise ValidationFailed(
            f"Content warning is too long (the limit is {max_length} characters)",
            field="spoiler_text",
            code="ERR_TOO_LONG",
        )
    return spoiler


def blank_values(*, author: User) -> dict[str, Any]:
    """Every column of a new post by ``author`` with nothing in it yet (its own new id)."""
    return {
        "id": new_id(),
        "author_id": author.id,
        "text": "",
        "app_name": None,
        "created_at": utcnow(),
        "visibility": author.default_privacy,
        "spoiler_text": "",
        "sensitive": False,
        "language": None,
        "in_reply_to_id": None,
        "in_reply_to_account_id": None,
        "reblog_of_id": None,
        "quote_of_id": None,
        "quote_approval_policy": "public",
        "mentions": None,
        "conversation_id": None,
        **NEW_COUNTS,
    }


async def create_post(
    session: AsyncSession,
    *,
    author: User,
    text: str,
    max_length: int,
    idempotency_key: str | None = None,
    app_name: str | None = None,
    visibility: str | None = None,
    spoiler_text: str = "",
    sensitive: bool = False,
    language: str | None = None,
    in_reply_to_id: int | None = None,
    quote_of: Post | None = None,
    quote_approval_policy: str = "public",
    media_ids: Sequence[int] = (),
    max_media: int = 4,
) -> Post:
    """Store a new post by ``author``; a repeated idempotency key returns the first post.

    ``media_ids``: the author's uploads shown with it, in order (at most ``max_media``,
    each unattached; 422 otherwise); with them, the text may be blank.
    Without a ``visibility`` the author's default is used; without a ``language``, theirs.
    ``in_reply_to_id`` names a post the author may see (else ``NotFound``); a reply to a
    repost answers the original.
    ``quote_of``: the post it quotes, already checked (``reposts.quotable``); quoting a
    followers-only post keeps the quote followers-only, as Mastodon does.
    A direct message must mention another account and quotes nothing (422 otherwise); a
    reply to one is direct unless ``visibility`` says otherwise, and continues its
    conversation.
    """
    shown_to = post_visibility.parse_post(visibility, default=author.default_privacy)
    if quote_of is not None and shown_to == post_visibility.DIRECT:
        raise ValidationFailed(NO_DIRECT_QUOTE, field="quoted_status_id")
    if quote_of is not None and quote_of.visibility == post_visibility.PRIVATE:
        shown_to = post_visibility.PRIVATE
    # Every input is checked before anything is read or written: a refused post (a direct
    # message, a bad language) changes nothing, not even an idempotency key.
    values: dict[str, Any] = {
        "id": new_id(),
        "author_id": author.id,
        "text": validate_text(text, max_length=max_length, blank_ok=bool(media_ids)),
        "app_name": app_name,
        "created_at": utcnow(),
        "visibility": shown_to,
        "spoiler_text": validate_spoiler(spoiler_text, max_length=max_length),
        # A content warning marks the post sensitive, as Mastodon does.
        "sensitive": bool(sensitive or spoiler_text.strip()),
        "language": languages.language(language) or author.default_language,
        "in_reply_to_id": None,
        "in_reply_to_account_id": None,
        "reblog_of_id": None,
        "quote_of_id": quote_of.id if quote_of is not None else None,
        # A followers-only post is quotable by its author alone (Mastodon: "nobody").
        "quote_approval_policy": (
            "nobody" if post_visibility.hidden_from_others(shown_to) else quote_approval_policy
        ),
        "mentions": None,
        "conversation_id": None,
        # Every column set, so the returned post is complete without reading it back.
        **NEW_COUNTS,
    }
    if idempotency_key:
        earlier = await _post_for_key(session, user_id=author.id, key=idempotency_key)
        if earlier is not None:
            return earlier
    media = await media_service.attachable(
        session, account=author, media_ids=media_ids, most=max_media
    )
    parent = None
    if in_reply_to_id is not None:
        parent = await reply_target(session, in_reply_to_id, viewer=author)
        values["in_reply_to_id"] = parent.id
        values["in_reply_to_account_id"] = parent.author_id
        if not visibility and parent.visibility == post_visibility.DIRECT and quote_of is None:
            # As Mastodon's composer: a reply to a direct message is one too.
            values["visibility"] = post_visibility.DIRECT
            values["quote_approval_policy"] = "nobody"
    values["mentions"] = await mentions.resolve(session, values["text"]) or None
    if values["visibility"] == post_visibility.DIRECT:
        if not set(mentions.mentioned_ids(values["mentions"])) - {author.id}:
            raise ValidationFailed(NOBODY_MENTIONED, field="status")
        values["conversation_id"] = conversations_service.conversation_for(parent)
    notifies = notifications_outbox.post_notifies(
        values, quoted_author_id=quote_of.author_id if quote_of is not None else None
    )
    if idempotency_key:
        await _forget_old_keys(session, user_id=author.id)
        try:
            # The post and its key stand or fall together.
            async with session.begin_nested():
                posts_count = await _store(session, values, notifies=notifies)
                await _store_entities(session, values)
                await media_service.attach(session, media=media, post_id=values["id"])
                key = IdempotencyKey(user_id=author.id, key=idempotency_key, post_id=values["id"])
                session.add(key)
                await session.flush()
        except IntegrityError:
            # A concurrent request with the same key won: ours is rolled back, answer with theirs.
            earlier = await _post_for_key(session, user_id=author.id, key=idempotency_key)
            if earlier is None:
                raise
            return earlier
    else:
        posts_count = await _store(session, values, notifies=notifies)
        await _store_entities(session, values)
        await media_service.attach(session, media=media, post_id=values["id"])
    if posts_count is not None:
        show_written(author, posts_count=posts_count, last_post_at=values["created_at"])
    post = Post(**values)
    post.author = author
    make_transient_to_detached(post)
    session.add(post)  # persistent, as a flushed one would be, with no more SQL
    return post


async def _store(session: AsyncSession, values: dict[str, Any], *, notifies: bool) -> int | None:
    """Insert a post, count it on its author, queue its fan-out (and its notifications when it
    ``notifies`` someone); return the author's count (None for a direct message: uncounted)."""
    if values["visibility"] == post_visibility.DIRECT:
        await _store_direct(session, values, notifies=notifies)
        return None
    # Plain statements rather than the unit of work's flush, which cost a quarter of a post
    # request's CPU; the id is made in Python, so nothing needs to come back but the count.
    stored = insert(Post).values(values)
    counted = users_service.counter_update(
        values["author_id"], User.posts_count, 1, last_post_at=values["created_at"]
    )
    # Recorded in this transaction: a committed post is always fanned out, a rolled-back never.
    queued = queue.job_insert(kinds.POST_CREATED, {"post_id": values["id"]})
    parent = values["in_reply_to_id"]
    answered = _replies_moved(parent, 1) if parent is not None else None
    # Only a post that concerns someone else queues a notification job: most posts cost none.
    notified = notifications_outbox.post_job(values["id"]) if notifies else None
    # A quote moves the quoted post's count in the same transaction.
    await _count_quote(session, values["quote_of_id"], 1)
    if on_postgresql(session):
        # One statement, one round trip: PostgreSQL runs every part of a WITH that writes,
        # all or none, whether or not the query reads its output.
        count = counted.cte("counted")
        writes = [stored.cte("stored"), queued.cte("queued")]
        if answered is not None:
            writes.append(answered.cte("answered"))
        if notified is not None:
            writes.append(notified.cte("notified"))
        both = select(count.c.posts_count).add_cte(*writes)
        return int((await session.execute(both)).scalar_one())
    await session.execute(stored)
    posts_count = int((await session.execute(counted)).scalar_one())
    await session.execute(queued)
    if answered is not None:
        await session.execute(answered)
    if notified is not None:
        await session.execute(notified)
    return posts_count


async def _store_direct(session: AsyncSession, values: dict[str, Any], *, notifies: bool) -> None:
    """Insert a direct message and queue its jobs (live updates, and notifications).

    Nobody else may learn it exists: neither its author's post count (nor last post time)
    nor the count of replies of the post it answers moves.
    """
    await session.execute(insert(Post).values(values))
    await session.execute(queue.job_insert(kinds.POST_CREATED, {"post_id": values["id"]}))
    if notifies:
        await session.execute(notifications_outbox.post_job(values["id"]))


async def _store_entities(session: AsyncSession, values: dict[str, Any]) -> None:
    """Record whom a new post mentions and, when public, its tags (nothing when it has none);
    a direct message's conversation members too."""
    await mentions.store(session, post_id=values["id"], mentioned=values["mentions"] or [])
    if values["visibility"] == post_visibility.DIRECT:
        await conversations_service.add_message(
            session,
            conversation_id=values["conversation_id"],
            post_id=values["id"],
            author_id=values["author_id"],
            mentioned=mentions.mentioned_ids(values["mentions"]),
        )
    if values["visibility"] == post_visibility.PUBLIC:
        await tags_service.record_uses(
            session, post_id=values["id"], author_id=values["author_id"], text=values["text"]
        )


def _replies_moved(post_id: int, by: int) -> Update:
    """Move a post's reply count by ``by`` in SQL (no row when the post is gone)."""
    # On the table, not the ORM class: a loaded copy of the post keeps its row as read.
    posts = Post.__table__
    assert isinstance(posts, Table)
    stmt = update(posts).where(posts.c.id == post_id)
    if by < 0:
        stmt = stmt.where(posts.c.replies_count > 0)
    return stmt.values(replies_count=posts.c.replies_count + by)


async def reply_target(session: AsyncSession, post_id: int, *, viewer: User) -> Post:
    """The post a reply to ``post_id`` answers: the original for a repost; NotFound if unseen."""
    try:
        post = await get_visible_post_or_404(session, post_id, viewer=viewer)
        if post.reblog_of_id is not None:
            post = await get_visible_post_or_404(session, post.reblog_of_id, viewer=viewer)
    except NotFound as exc:
        raise NotFound(REPLY_TARGET_NOT_FOUND) from exc
    return post


async def _count_quote(session: AsyncSession, quoted_id: int | None, delta: int) -> None:
    """Move the quoted post's quote count (in SQL; nothing if it is gone)."""
    if quoted_id is None:
        return
    await session.execute(
        update(Post)
        .where(Post.id == quoted_id)
        .values(quotes_count=Post.quotes_count + delta)
        .execution_options(synchronize_session=False)
    )


async def _forget_old_keys(session: AsyncSession, *, user_id: int) -> None:
    # Keys are remembered for an hour: a key used again after that posts afresh, and the
    # table holds no more than an hour of each author's keyed posts.
    await session.execute(
        delete(IdempotencyKey).where(
            IdempotencyKey.user_id == user_id,
            IdempotencyKey.created_at <= utcnow() - IDEMPOTENCY_WINDOW,
        )
    )


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


async def sees_private_posts(session: AsyncSession, *, viewer: User | None, author_id: int) -> bool:
    """Whether ``viewer`` may see ``author_id``'s followers-only posts: self or a follower now."""
    if viewer is None:
        return False
    if viewer.id == author_id:
        return True
    return await follows_service.is_following(session, follower_id=viewer.id, followee_id=author_id)


async def can_see(session: AsyncSession, *, post: Post, viewer: User | None) -> bool:
    """Whether ``viewer`` (None: logged out) may see ``post``."""
    if post.visibility == post_visibility.DIRECT:
        return post_visibility.direct_shown_to(
            post.author_id, mentions.mentioned_ids(post.mentions), viewer.id if viewer else None
        )
    if post.visibility != post_visibility.PRIVATE:
        return True
    return await sees_private_posts(session, viewer=viewer, author_id=post.author_id)


async def get_visible_post_or_404(
    session: AsyncSession, post_id: int, *, viewer: User | None
) -> Post:
    """Return the post with this id if ``viewer`` may see it; else NotFound, as if absent."""
    post = await get_post_or_404(session, post_id)
    if not await can_see(session, post=post, viewer=viewer):
        raise NotFound()  # as Mastodon: a followers-only post does not exist for others
    return post


async def delete_post(session: AsyncSession, *, post: Post, actor: User) -> list[int]:
    """Delete ``post``; only its author may. Return the ids of its reposts, deleted with it."""
    if post.author_id != actor.id:
        # As Mastodon: among the actor's posts there is none with this id (404, not 403).
        raise NotFound()
    # Its idempotency keys go with it (foreign key): a retry with one posts afresh, as
    # Mastodon's does once the post it remembered is gone. Its images go with it too;
    # their files once nothing else uses them.
    await media_service.release_post_media(session, post_id=post.id)
    # Its reposts go with it (the foreign key would cascade): each is deleted here so its
    # author's count moves and its own purge job takes it out of its readers' timelines.
    reposts = (
        await session.execute(
            delete(Post)
            .where(Post.reblog_of_id == post.id)
            .returning(Post.id, Post.author_id)
            .execution_options(synchronize_session=False)
        )
    ).all()
    if reposts:
        # One repost per account and post: one UPDATE moves every reposter's count.
        await session.execute(
            update(User)
            .where(User.id.in_([reposter_id for _, reposter_id in reposts]))
            .values(posts_count=User.posts_count - 1)
            .execution_options(synchronize_session=False)
        )
    for repost_id, reposter_id in reposts:
        await queue.enqueue(
            session, kinds.POST_DELETED, {"post_id": repost_id, "author_id": reposter_id}
        )
    if post.reblog_of_id is not None:
        await session.execute(
            update(Post)
            .where(Post.id == post.reblog_of_id)
            .values(reblogs_count=Post.reblogs_count - 1)
            .execution_options(synchronize_session=False)
        )
    await _count_quote(session, post.quote_of_id, -1)
    await session.delete(post)
    await session.flush()
    if post.visibility == post_visibility.DIRECT:
        # Never counted (see ``_store_direct``); its conversation moves to the message before.
        await conversations_service.remove_message(session, post)
    else:
        if post.in_reply_to_id is not None:
            # The post answered, if it still exists, counts one reply fewer.
            await session.execute(_replies_moved(post.in_reply_to_id, -1))
        await users_service.move_counter(session, actor, User.posts_count, -1)
    # Visibility and mentions: live streams tell only those who could see it (``streaming``).
    deleted = {"visibility": post.visibility, "mentions": post.mentions}
    await queue.enqueue(
        session, kinds.POST_DELETED, {"post_id": post.id, "author_id": actor.id, **deleted}
    )
    return [repost_id for repost_id, _ in reposts]


def by_author_query(
    author_id: int,
    *,
    private: bool = True,
    replies: bool = True,
    reblogs: bool = True,
    only_media: bool = False,
) -> Select[Post]:
    """Return a statement for one user's posts, followers-only ones when ``private``, replies
    to others when ``replies`` (their own threads stay, as Mastodon's ``exclude_replies``),
    their reposts when ``reblogs``; with ``only_media``, only their posts with images (no
    reposts, as Mastodon). Direct messages never: they are in no one's profile or
    home timeline (their participants read them under Messages).

    Callers paginate by id.
    """
    stmt = select(Post).where(
        Post.author_id == author_id, Post.visibility != literal_column("'direct'")
    )
    if not private:
        stmt = stmt.where(Post.visibility != post_visibility.PRIVATE)
    if not replies:
        stmt = stmt.where(
            or_(Post.in_reply_to_account_id.is_(None), Post.in_reply_to_account_id == author_id)
        )
    if not reblogs or only_media:
        stmt = stmt.where(Post.reblog_of_id.is_(None))
    if only_media:
        stmt = stmt.where(media_service.has_media(Post.id))
    return stmt


async def recent_ids(
    session: AsyncSession, *, author_id: int, limit: int, since: int = 0
) -> list[int]:
    """Ids of a user's newest ``limit`` posts (down to ``since``), newest first.

    Followers-only posts are included: this list feeds followers' home timelines, and each
    reader's page is filtered by who they follow.
    """
    stmt = by_author_query(author_id).with_only_columns(Post.id)
    if since:
        stmt = stmt.where(Post.id >= since)
    rows = await session.execute(stmt.order_by(Post.id.desc()).limit(limit))
    return list(rows.scalars())


async def by_author(
    session: AsyncSession,
    *,
    author_id: int,
    cursor: Cursor,
    viewer: User | None,
    replies: bool = True,
    reblogs: bool = True,
    only_media: bool = False,
) -> list[Post]:
    """Return one page of a user's posts (and reposts) that ``viewer`` may see, newest first."""
    private = await sees_private_posts(session, viewer=viewer, author_id=author_id)
    stmt = by_author_query(
        author_id, private=private, replies=replies, reblogs=reblogs, only_media=only_media
    )
    return await fetch_page(session, stmt, Post.id, cursor)
