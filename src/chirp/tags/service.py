"""Tag services: record a public post's tags, find tags, read a tag's timeline."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import Select, Table, exists, insert, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from chirp.db import insert_ignoring_duplicates, utcnow
from chirp.ids import new_id
from chirp.pagination import Cursor, fetch_rows
from chirp.posts import feed
from chirp.posts.entities import find_tags, tag_key, unique_names
from chirp.posts.models import Post
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


async def by_names(session: AsyncSession, names: Iterable[str]) -> dict[str, Tag]:
    """The tags that exist among ``names``, keyed by ``tag_key`` (one query)."""
    keys = {tag_key(name) for name in names}
    if not keys:
        return {}
    rows = await session.execute(select(Tag).where(Tag.name_key.in_(keys)))
    return {tag.name_key: tag for tag in rows.scalars()}


async def get(session: AsyncSession, name: str) -> Tag | None:
    """The tag named ``name`` in any case, if any post ever used it."""
    return (await by_names(session, [name])).get(tag_key(name))


@dataclass(frozen=True)
class TagFilter:
    """Which tags the posts of a tag timeline have: Mastodon's ``any[]``, ``all[]``, ``none[]``.

    A post is listed when it has one of ``any`` (the timeline's own tag and the others
    asked for), every tag of ``all`` and none of ``none``. Names, as clients send them.
    """

    any: Sequence[str]
    all: Sequence[str] = ()
    none: Sequence[str] = ()


def tagged_ids_query(
    *, any_ids: Collection[int], all_ids: Collection[int], none_ids: Collection[int]
) -> Select[int]:
    """Ids of the public posts with any of ``any_ids``, all of ``all_ids``, none of ``none_ids``.

    One tag alone is a range of the (tag_id, post_id) primary key read backwards; each
    ``all`` and ``none`` tag is one probe of that key per post.
    """
    other = aliased(PostTag, name="other")
    if len(any_ids) == 1:
        stmt = select(PostTag.post_id).where(PostTag.tag_id == next(iter(any_ids)))
    else:
        # A post with two of them is listed once.
        stmt = select(PostTag.post_id).where(PostTag.tag_id.in_(sorted(any_ids))).distinct()
    for tag_id in sorted(all_ids):
        stmt = stmt.where(exists().where(other.post_id == PostTag.post_id, other.tag_id == tag_id))
    if none_ids:
        stmt = stmt.where(
            ~exists().where(other.post_id == PostTag.post_id, other.tag_id.in_(sorted(none_ids)))
        )
    return stmt


async def timeline(session: AsyncSession, *, tags: TagFilter, cursor: Cursor) -> list[Post]:
    """One page of the public posts with ``tags``, newest first (oldest first after min_id).

    No post has a tag nobody used: an unknown ``any`` tag adds nothing, an unknown ``all``
    tag leaves nothing, an unknown ``none`` tag removes nothing.
    """
    found = await by_names(session, [*tags.any, *tags.all, *tags.none])
    any_ids = {found[k].id for k in map(tag_key, tags.any) if k in found}
    all_keys = [tag_key(name) for name in tags.all]
    if not any_ids or any(k not in found for k in all_keys):
        return []
    none_ids = {found[k].id for k in map(tag_key, tags.none) if k in found}
    stmt = tagged_ids_query(
        any_ids=any_ids, all_ids={found[k].id for k in all_keys}, none_ids=none_ids
    )
    ids = [row[0] for row in await fetch_rows(session, stmt, PostTag.post_id, cursor)]
    posts = await feed.posts_by_id(session, ids)
    # A post deleted since its id was read is left out.
    return [posts[i] for i in ids if i in posts]
