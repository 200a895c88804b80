"""React to posts with an emoji, take it back, and list who reacted with what."""

from __future__ import annotations

from collections.abc import Awaitable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, cast

from sqlalchemy import (
    BigInteger,
    String,
    Table,
    bindparam,
    case,
    delete,
    exists,
    func,
    literal,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from chirp.db import UTCDateTime, insert_ignoring_duplicates, on_postgresql, utcnow
from chirp.errors import NotFound
from chirp.ids import new_id
from chirp.notifications import outbox as notifications_outbox
from chirp.notifications import types as notification_types
from chirp.posts.models import Post
from chirp.reactions import emoji as emoji_rules
from chirp.reactions.models import Reaction, ReactionCount
from chirp.users.models import User

# Core tables, not mapped classes: statements with a WITH return rows the ORM cannot match.
_REACTIONS = cast(Table, Reaction.__table__)
_COUNTS = cast(Table, ReactionCount.__table__)


# Accounts listed under each emoji by GET .../reactions: its first reactors, oldest first.
ACCOUNTS_PER_EMOJI = 80


class EmojiChange(Protocol):
    """``react`` or ``unreact``: what the page and the API handlers apply alike."""

    def __call__(
        self, session: AsyncSession, *, user: User, post: Post, emoji: str
    ) -> Awaitable[bool]:
        """Apply the change; nothing is committed."""
        ...


async def react(session: AsyncSession, *, user: User, post: Post, emoji: str) -> bool:
    """Add ``user``'s ``emoji`` (any spelling of one emoji) to ``post``; False if already there."""
    name = emoji_rules.normalise(emoji)
    now = utcnow()
    added = insert_ignoring_duplicates(
        session,
        _REACTIONS,
        {"id": new_id(), "user_id": user.id, "post_id": post.id, "emoji": name, "created_at": now},
    ).returning(_REACTIONS.c.id)
    dialect = postgresql if on_postgresql(session) else sqlite
    # The emoji's count on the post: a new row, or one more. An emoji whose count had gone
    # back to 0 starts again as the newest on the post.
    upsert: Any = dialect.insert(_COUNTS)
    upsert = upsert.on_conflict_do_update(
        index_elements=[_COUNTS.c.post_id, _COUNTS.c.emoji],
        set_={
            "count": _COUNTS.c.count + 1,
            "first_at": case(
                (_COUNTS.c.count == 0, upsert.excluded.first_at),
                else_=_COUNTS.c.first_at,
            ),
        },
    )
    try:
        if not await _store(session, added, upsert, post_id=post.id, name=name, now=now):
            return False
    except IntegrityError as exc:
        # The post was deleted after it was read: there is nothing to react to.
        raise NotFound() from exc
    await notifications_outbox.act(
        session,
        type=notification_types.REACTION,
        user_id=post.author_id,
        from_account_id=user.id,
        post_id=post.id,
        emoji=name,
    )
    return True


async def _store(
    session: AsyncSession, added: Any, upsert: Any, *, post_id: int, name: str, now: datetime
) -> bool:
    """Insert the reaction and, only if it was new, add it to the emoji's count."""
    if on_postgresql(session):
        # One statement: the count is inserted or moved only if the reaction row was written.
        written = added.cte("written")
        values = select(
            literal(post_id, BigInteger),
            literal(name, String),
            literal(1),
            literal(now, UTCDateTime()),
        ).where(exists(select(written.c.id)))
        stmt = upsert.from_select(["post_id", "emoji", "count", "first_at"], values)
        result = await session.execute(stmt.returning(_COUNTS.c.count).add_cte(written))
        return result.first() is not None
    if (await session.execute(added)).first() is None:
        return False
    values_row = {"post_id": post_id, "emoji": name, "count": 1, "first_at": now}
    await session.execute(upsert.values(values_row))
    return True


async def unreact(session: AsyncSession, *, user: User, post: Post, emoji: str) -> bool:
    """Take back ``user``'s ``emoji`` on ``post``; False if they had not reacted with it."""
    name = emoji_rules.normalise(emoji)
    removed = (
        delete(_REACTIONS)
        .where(
            _REACTIONS.c.post_id == post.id,
            _REACTIONS.c.emoji == name,
            _REACTIONS.c.user_id == user.id,
        )
        .returning(_REACTIONS.c.id)
    )
    counted = (
        update(_COUNTS)
        .where(_COUNTS.c.post_id == post.id, _COUNTS.c.emoji == name)
        .values(count=_COUNTS.c.count - 1)
        .returning(_COUNTS.c.count)
    )
    if on_postgresql(session):
        written = removed.cte("written")
        stmt = counted.where(exists(select(written.c.id))).add_cte(written)
        if (await session.execute(stmt)).first() is None:
            return False
    elif (await session.execute(removed)).first() is None:
        return False
    else:
        # Rows at 0 stay (a reaction coming back finds its row); lists leave them out.
        await session.execute(counted)
    await notifications_outbox.withdraw(
        session,
        type=notification_types.REACTION,
        user_id=post.author_id,
        from_account_id=user.id,
        post_id=post.id,
        emoji=name,
    )
    return True


@dataclass
class Group:
    """One emoji on a post: how many reacted with it, whether the viewer did, and who."""

    name: str
    count: int
    me: bool
    accounts: list[User] = field(default_factory=list)


async def groups(
    session: AsyncSession, *, post_id: int, viewer_id: int | None, emoji: str | None = None
) -> list[Group]:
    """A post's emoji in the order they were first used (one emoji's, if given), with reactors."""
    mine: Any = literal(False)
    if viewer_id is not None:
        mine = exists().where(
            Reaction.post_id == ReactionCount.post_id,
            Reaction.emoji == ReactionCount.emoji,
            Reaction.user_id == viewer_id,
        )
    stmt = select(ReactionCount.emoji, ReactionCount.count, mine).where(
        ReactionCount.post_id == post_id, ReactionCount.count > 0
    )
    if emoji is not None:
        stmt = stmt.where(ReactionCount.emoji == emoji_rules.normalise(emoji))
    rows = await session.execute(stmt.order_by(ReactionCount.first_at, ReactionCount.emoji))
    found = [Group(name=row[0], count=row[1], me=bool(row[2])) for row in rows]
    if not found:
        return []
    by_name = {g.name: g for g in found}
    for name, user in await _reactors(session, post_id=post_id, names=list(by_name)):
        by_name[name].accounts.append(user)
    return found


async def _reactors(
    session: AsyncSession, *, post_id: int, names: Sequence[str]
) -> list[tuple[str, User]]:
    """(emoji, account) of the first reactors with each emoji, oldest reaction first."""
    rank = func.row_number().over(partition_by=Reaction.emoji, order_by=Reaction.id).label("rank")
    ranked = (
        select(Reaction.emoji, Reaction.user_id, Reaction.id, rank)
        .where(Reaction.post_id == post_id, Reaction.emoji.in_(bindparam("names", expanding=True)))
        .subquery()
    )
    stmt = (
        select(ranked.c.emoji, User)
        .join(User, User.id == ranked.c.user_id)
        .where(ranked.c.rank <= ACCOUNTS_PER_EMOJI)
        .order_by(ranked.c.emoji, ranked.c.id)
    )
    rows = await session.execute(stmt, {"names": list(names)})
    return [(row[0], row[1]) for row in rows]
