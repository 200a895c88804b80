"""Conversations: which direct messages belong together, and each member's list of them.

A direct message starts a conversation (a new id in ``posts.conversation_id``) or, when it
answers a direct message, continues that one. Every participant (the author and the accounts
mentioned) has a ``conversation_members`` row: Mastodon's Conversation, listed newest
message first, with its own unread and hidden flags.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Select, case, delete, exists, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from chirp import visibility as post_visibility
from chirp.conversations.models import ConversationMember
from chirp.db import on_postgresql
from chirp.errors import NotFound, ValidationFailed
from chirp.ids import new_id
from chirp.pagination import Cursor, fetch_page
from chirp.posts.models import Mention, Post
from chirp.users.models import User

# Mastodon's answer for a conversation that is not the caller's (or was removed).
NOT_FOUND = "Record not found"
# The messages a conversation's page shows at most (the newest, oldest first).
MESSAGES_SHOWN = 100
# The most people one new message (on the web form) may be addressed to.
MAX_RECIPIENTS = 20
_NAMES = re.compile(r"[\s,]+")


def conversation_for(parent: Post | None) -> int:
    """The conversation a new direct message joins: its parent's, when that is a direct
    message, else a new one."""
    if (
        parent is not None
        and parent.visibility == post_visibility.DIRECT
        and parent.conversation_id is not None
    ):
        return parent.conversation_id
    return new_id()


async def add_message(
    session: AsyncSession,
    *,
    conversation_id: int,
    post_id: int,
    author_id: int,
    mentioned: Sequence[int],
) -> None:
    """Make a new direct message the latest of its conversation for each participant: unread
    for all but its author, and back in the list of those who had removed it."""
    table = ConversationMember.__table__
    members = sorted({author_id, *mentioned})  # one order: concurrent writers never deadlock
    rows = [
        {
            "id": new_id(),
            "conversation_id": conversation_id,
            "user_id": user_id,
            "last_post_id": post_id,
            "unread": user_id != author_id,
            "hidden": False,
        }
        for user_id in members
    ]
    dialect: Any = postgresql if on_postgresql(session) else sqlite
    stmt = dialect.insert(table).values(rows)
    newer = stmt.excluded.last_post_id > func.coalesce(table.c.last_post_id, 0)
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=["conversation_id", "user_id"],
            set_={
                # Two messages written at once: the newer stays the latest, whichever lands last.
                "last_post_id": case(
                    (newer, stmt.excluded.last_post_id), else_=table.c.last_post_id
                ),
                "unread": case((newer, stmt.excluded.unread), else_=table.c.unread),
                "hidden": False,
            },
        )
    )


def _seen_by(user_id: Any) -> Any:
    """Messages ``user_id`` may see: written by them, or mentioning them."""
    mentioned = exists().where(Mention.post_id == Post.id, Mention.user_id == user_id)
    return or_(Post.author_id == user_id, mentioned)


async def remove_message(session: AsyncSession, post: Post) -> None:
    """After a direct message is deleted: each member whose latest it was gets the one
    before it, and a conversation with nothing left goes from their list."""
    members = (
        await session.execute(
            select(ConversationMember).where(
                ConversationMember.conversation_id == post.conversation_id,
                ConversationMember.last_post_id == post.id,
            )
        )
    ).scalars()
    for member in list(members):
        before = select(func.max(Post.id)).where(
            Post.conversation_id == post.conversation_id,
            Post.id != post.id,
            _seen_by(member.user_id),
        )
        latest = (await session.execute(before)).scalar_one_or_none()
        if latest is None:
            await session.execute(
                delete(ConversationMember).where(ConversationMember.id == member.id)
            )
        else:
            await session.execute(
                update(ConversationMember)
                .where(ConversationMember.id == member.id)
                .values(last_post_id=latest)
                .execution_options(synchronize_session=False)
            )


def listed_query(user_id: int) -> Select[ConversationMember]:
    """A user's conversations that are in their list (callers page by latest message id)."""
    return select(ConversationMember).where(
        ConversationMember.user_id == user_id,
        ConversationMember.hidden.is_(False),
        ConversationMember.last_post_id.is_not(None),
    )


def unread_query(user_id: int, *, limit: int) -> Select[Any]:
    """How many of a user's listed conversations have an unread message, up to ``limit``."""
    # A partial index holds only unread, listed rows: this reads at most ``limit`` entries.
    unread = (
        listed_query(user_id)
        .with_only_columns(ConversationMember.id)
        .where(ConversationMember.unread.is_(True))
        .limit(limit)
        .subquery()
    )
    return select(func.count()).select_from(unread)


async def unread_count(session: AsyncSession, *, user_id: int, limit: int) -> int:
    """How many of a user's listed conversations have an unread message, up to ``limit``."""
    return int((await session.execute(unread_query(user_id, limit=limit))).scalar_one())


# Pages go by the latest message's id, as Mastodon pages conversations.
_LATEST = cast(InstrumentedAttribute[int], ConversationMember.last_post_id)


@dataclass
class Conversation:
    """A conversation as one member lists it."""

    member: ConversationMember
    # The other participants, in the order they joined.
    accounts: list[User]
    # Its latest message (None only if it was deleted meanwhile).
    last: Post | None


async def page(session: AsyncSession, *, user: User, cursor: Cursor) -> list[Conversation]:
    """One page of ``user``'s conversations, newest message first (three queries)."""
    members = await fetch_page(session, listed_query(user.id), _LATEST, cursor)
    return await _with_details(session, members, user=user)


async def get_own(session: AsyncSession, *, user: User, member_id: int) -> Conversation:
    """One of ``user``'s listed conversations by its id; NotFound for any other."""
    member = (
        await session.execute(listed_query(user.id).where(ConversationMember.id == member_id))
    ).scalar_one_or_none()
    if member is None:
        raise NotFound(NOT_FOUND)
    return (await _with_details(session, [member], user=user))[0]


async def _with_details(
    session: AsyncSession, members: Sequence[ConversationMember], *, user: User
) -> list[Conversation]:
    """Members' rows with their conversations' other participants and latest messages."""
    if not members:
        return []
    ids = [m.conversation_id for m in members]
    others = await session.execute(
        select(ConversationMember.conversation_id, User)
        .join(User, User.id == ConversationMember.user_id)
        .where(ConversationMember.conversation_id.in_(ids), ConversationMember.user_id != user.id)
        .order_by(ConversationMember.id)
    )
    accounts: dict[int, list[User]] = {}
    for conversation_id, account in others:
        accounts.setdefault(conversation_id, []).append(account)
    latest = [m.last_post_id for m in members if m.last_post_id is not None]
    posts = {
        p.id: p for p in (await session.execute(select(Post).where(Post.id.in_(latest)))).scalars()
    }
    return [
        Conversation(
            member=m,
            accounts=accounts.get(m.conversation_id, []),
            last=posts.get(m.last_post_id) if m.last_post_id is not None else None,
        )
        for m in members
    ]


async def mark_read(session: AsyncSession, conversation: Conversation) -> None:
    """Mark a conversation read for its member."""
    await _set(session, conversation.member, unread=False)


async def hide(session: AsyncSession, conversation: Conversation) -> None:
    """Take a conversation out of its member's list (theirs only); a new message brings it back."""
    await _set(session, conversation.member, hidden=True)


async def _set(session: AsyncSession, member: ConversationMember, **values: bool) -> None:
    await session.execute(
        update(ConversationMember)
        .where(ConversationMember.id == member.id)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    for key, value in values.items():
        setattr(member, key, value)


async def messages(session: AsyncSession, conversation: Conversation, *, user: User) -> list[Post]:
    """The newest ``MESSAGES_SHOWN`` messages of a conversation that ``user`` may see, oldest
    first."""
    stmt = (
        select(Post)
        .where(
            Post.conversation_id == conversation.member.conversation_id,
            Post.visibility == post_visibility.DIRECT,
            _seen_by(user.id),
        )
        .order_by(Post.id.desc())
        .limit(MESSAGES_SHOWN)
    )
    return list((await session.execute(stmt)).scalars())[::-1]


async def recipients(session: AsyncSession, raw: str, *, sender: User) -> list[str]:
    """The usernames a new message is for, from ``@ann, bob`` (as spelt by their owners);
    422 naming any that is nobody's."""
    names = [name.lstrip("@") for name in _NAMES.split(raw) if name.lstrip("@")]
    if not names:
        raise ValidationFailed("Name at least one person to write to", field="to")
    keys = list(dict.fromkeys(name.lower() for name in names))
    if len(keys) > MAX_RECIPIENTS:
        raise ValidationFailed(f"A message may go to at most {MAX_RECIPIENTS} people", field="to")
    rows = await session.execute(
        select(User.username_key, User.username).where(User.username_key.in_(keys))
    )
    found = {key: username for key, username in rows}
    missing = [key for key in keys if key not in found]
    if missing:
        unknown = ", ".join(f"@{name}" for name in names if name.lower() in missing)
        raise ValidationFailed(f"There is no account named {unknown}", field="to")
    chosen = [found[key] for key in keys if key != sender.username_key]
    if not chosen:
        raise ValidationFailed("Name at least one person other than you", field="to")
    return chosen


async def member_id(session: AsyncSession, *, conversation_id: int, user_id: int) -> int:
    """The id of ``user_id``'s row in a conversation (Mastodon's Conversation id)."""
    stmt = select(ConversationMember.id).where(
        ConversationMember.conversation_id == conversation_id,
        ConversationMember.user_id == user_id,
    )
    return int((await session.execute(stmt)).scalar_one())
