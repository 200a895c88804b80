"""A new post's mentions: which local accounts its ``@names`` are, and the rows naming them."""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from chirp.posts.entities import find_mentions, unique_names
from chirp.posts.models import Mention
from chirp.users.models import User


async def resolve(session: AsyncSession, text: str) -> list[list[Any]]:
    """``[id, username]`` of each account ``text`` mentions, in order; unknown names are text."""
    keys = [name.lower() for name in unique_names(find_mentions(text))]
    if not keys:
        return []
    rows = await session.execute(
        select(User.username_key, User.id, User.username).where(User.username_key.in_(keys))
    )
    found = {key: [user_id, username] for key, user_id, username in rows}
    return [found[key] for key in keys if key in found]


async def store(session: AsyncSession, *, post_id: int, mentioned: list[list[Any]]) -> None:
    """Record that ``post_id`` mentions each of ``mentioned`` (pairs from ``resolve``)."""
    if mentioned:
        rows = [{"post_id": post_id, "user_id": user_id} for user_id, _ in mentioned]
        await session.execute(insert(Mention).values(rows))


def mentioned_ids(mentions: list[list[Any]] | None) -> list[int]:
    """The account ids in a post's ``mentions`` column."""
    return [int(user_id) for user_id, _ in mentions or []]
