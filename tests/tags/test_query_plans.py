"""Tag timelines and trends read ``post_tags`` through its indexes on PostgreSQL.

As in tests/test_query_plans.py: scans and sorts are switched off on the empty test tables,
so a plan that still shows one has no index to serve it.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Select, distinct, func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from chirp.db import utcnow
from chirp.ids import id_at
from chirp.pagination import Cursor, apply_cursor
from chirp.tags import service as tags_service
from chirp.tags.models import PostTag

TAG = 913_000_000_000_000_001
POST = 913_000_000_000_000_500


def _tagged(cursor: Cursor, **tags: set[int]) -> Select[Any]:
    stmt = tags_service.tagged_ids_query(
        any_ids=tags.get("any", {TAG}),
        all_ids=tags.get("all", set()),
        none_ids=tags.get("none", set()),
    )
    return apply_cursor(stmt, PostTag.post_id, cursor)


async def _plan(
    engine: AsyncEngine,
    session: AsyncSession,
    stmt: Select[Any],
    off: tuple[str, ...] = ("enable_seqscan", "enable_sort"),
) -> str:
    for setting in off:
        await session.execute(text(f"SET LOCAL {setting} = off"))
    compiled = stmt.compile(engine.sync_engine, compile_kwargs={"literal_binds": True})
    return "\n".join(row[0] for row in await session.execute(text(f"EXPLAIN {compiled}")))


@pytest.mark.parametrize(
    "cursor", [Cursor(), Cursor(max_id=POST), Cursor(min_id=POST), Cursor(since_id=POST)]
)
async def test_a_tag_timeline_is_a_range_of_the_primary_key(
    engine: AsyncEngine, session: AsyncSession, cursor: Cursor
) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("query plans are checked on PostgreSQL")
    for stmt in (
        _tagged(cursor),
        _tagged(cursor, all={TAG + 1}, none={TAG + 2, TAG + 3}),
    ):
        plan = await _plan(engine, session, stmt)
        assert "Index Only Scan" in plan and "pk_post_tags" in plan, plan
        assert "Seq Scan" not in plan and "Sort  (" not in plan, plan


async def test_trends_read_only_the_last_day(engine: AsyncEngine, session: AsyncSession) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("query plans are checked on PostgreSQL")
    day_ago = id_at(utcnow() - timedelta(days=1))
    stmt = (
        select(PostTag.tag_id, func.count(distinct(PostTag.author_id)))
        .where(PostTag.post_id >= day_ago)
        .group_by(PostTag.tag_id)
    )
    # The day's uses are grouped by tag (hashed or sorted): only they are read.
    plan = await _plan(engine, session, stmt, off=("enable_seqscan",))
    assert "ix_post_tags_post_id" in plan and "Seq Scan" not in plan, plan
