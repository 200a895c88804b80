"""Tag services: record a public post's tags."""

from __future__ import annotations

from sqlalchemy import Table, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from chirp.db import insert_ignoring_duplicates, utcnow
from chirp.ids import new_id
from chirp.posts.entities import find_tags, tag_key, unique_names
from chirp.tags.models import PostTag, Tag


def names_in(text: str) -> list[str]:
    """The tags in ``text``, each once, as first written, in order."""
    return unique_names(find_tags(text))


async def record_uses(session: AsyncSession, *, post_id: int, author_id: int, text: str) -> None:
    """Record the tags of a new public post (creating tags seen for the first time)."""
    names = names_in(text)
    if not names:
        return
    keys = [tag_key(name) for name in names]
    tags = Tag.__table__
    assert isinstance(tags, Table)
    now = utcnow()
    # A tag two posts introduce at once is created once: the other insert is a no-op.
    await session.execute(
        insert_ignoring_duplicates(
            session,
            tags,
            [
                {"id": new_id(), "name": name, "name_key": key, "created_at": now}
                for name, key in zip(names, keys, strict=True)
            ],
        )
    )
    ids = (await session.execute(select(Tag.id).where(Tag.name_key.in_(keys)))).scalars().all()
    await session.execute(
        insert(PostTag).values(
            [{"tag_id": tag_id, "post_id": post_id, "author_id": author_id} for tag_id in ids]
        )
    )
