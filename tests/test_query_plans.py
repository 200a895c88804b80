"""Hot-path queries use indexes on PostgreSQL: no sequential scan of posts or follows."""

from __future__ import annotations

import pytest
from sqlalchemy import Select, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from chirp.db import utcnow
from chirp.follows import service as follows_service
from chirp.follows.models import Follow
from chirp.jobs.models import PENDING, Job
from chirp.oauth import service as oauth_service
from chirp.pagination import Cursor, apply_cursor
from chirp.posts import service as posts_service
from chirp.posts.models import Post
from chirp.timeline import service as timeline_service

USER = 913_000_000_000_000_001
POST = 913_000_000_000_000_500


def _fanout_batch() -> Select:  # type: ignore[type-arg]
    return follows_service.follower_batch_query(followee_id=USER, after_id=0, limit=1000)


def _home(cursor: Cursor) -> Select:  # type: ignore[type-arg]
    return timeline_service.post_ids_query(user_id=USER, cursor=cursor)


def _hot_paths() -> dict[str, Select]:  # type: ignore[type-arg]
    return {
        "home page 1": _home(Cursor()),
        "home deep page": _home(Cursor(max_id=POST)),
        "home since": _home(Cursor(min_id=POST)),
        "large account's recent posts": posts_service.by_author_query(USER)
        .with_only_columns(Post.id)
        .order_by(Post.id.desc())
        .limit(800),
        "profile posts": apply_cursor(posts_service.by_author_query(USER), Post.id, Cursor()),
        "public timeline": apply_cursor(timeline_service.public_query(), Post.id, Cursor()),
        "fan-out batch": _fanout_batch(),
        "followers list": select(Follow.id)
        .where(Follow.followee_id == USER)
        .order_by(Follow.id.desc())
        .limit(40),
        "following list": select(Follow.id)
        .where(Follow.follower_id == USER)
        .order_by(Follow.id.desc())
        .limit(40),
        "is following": select(Follow.id).where(
            Follow.follower_id == USER, Follow.followee_id == USER + 1
        ),
        "home posts by id": timeline_service.visible_home_posts_statement(array=True).params(
            user_id=USER, ids=[POST, POST + 1]
        ),
        "home authors by id": timeline_service.visible_authors_statement(array=True).params(
            user_id=USER, ids=[USER + 1, USER + 2]
        ),
        "token and its user": oauth_service.token_with_user().params(token_hash="x"),
        "ready jobs": select(Job.id)
        .where(Job.status == PENDING, Job.run_at <= utcnow())
        .order_by(Job.id)
        .limit(10),
    }


@pytest.mark.parametrize("name", list(_hot_paths()))
async def test_hot_path_uses_an_index(
    engine: AsyncEngine, session: AsyncSession, name: str
) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("query plans are checked on PostgreSQL")
    stmt = _hot_paths()[name]
    # On empty test tables a sequential scan is cheapest; forbidding it reveals whether an
    # index can serve the query at all (if none can, the planner still has to scan).
    await session.execute(text("SET LOCAL enable_seqscan = off"))
    plan = await _plan(engine, session, stmt)
    for table in ("posts", "follows", "jobs", "users", "oauth_tokens"):
        assert f"Seq Scan on {table}" not in plan, plan


async def _plan(engine: AsyncEngine, session: AsyncSession, stmt: Select) -> str:  # type: ignore[type-arg]
    compiled = stmt.compile(engine.sync_engine, compile_kwargs={"literal_binds": True})
    return "\n".join(row[0] for row in await session.execute(text(f"EXPLAIN {compiled}")))


async def test_fanout_batches_read_follows_from_the_index_alone(
    engine: AsyncEngine, session: AsyncSession
) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("query plans are checked on PostgreSQL")
    # Followers are scattered over the heap; visiting it once per follower was the bulk of
    # fan-out time. The index carries the follower id, so it can answer on its own.
    for setting in ("enable_seqscan", "enable_bitmapscan"):
        await session.execute(text(f"SET LOCAL {setting} = off"))
    plan = await _plan(engine, session, _fanout_batch())
    assert "Index Only Scan using ix_follows_followee_id_id on follows" in plan, plan
    assert "users" not in plan, plan  # activity is Redis's concern (see fanout)
