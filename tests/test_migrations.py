"""Migrations build exactly the schema the models describe, on both databases."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from chirp import models  # noqa: F401 - registers every table
from chirp.db import Base, UTCDateTime, make_engine
from chirp.follows import service as follows_service
from chirp.media import service as media_service
from chirp.migrate import (
    alembic_config,
    current_revision,
    head_revision,
    upgrade,
    upgrade_connection,
)
from chirp.pagination import Cursor
from chirp.posts import feed
from chirp.posts import service as posts_service
from chirp.timeline import service as timeline_service
from chirp.users.models import User


def _diff(connection: Connection) -> list[object]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, Base.metadata))


async def test_migrated_schema_matches_models(engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        assert await conn.run_sync(_diff) == []


async def test_database_is_at_head(engine: AsyncEngine) -> None:
    assert await current_revision(engine) == head_revision()


# The scratch schema of the upgrade test on PostgreSQL, beside the session's migrated one.
SCRATCH = "upgrade_0005"
NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
# Tables as the previous head (0004) has them, to write rows the way that release did.
_users = sa.table(
    "users",
    *(sa.column(c) for c in ("id", "username", "username_key", "email", "email_key")),
    *(sa.column(c) for c in ("password_hash", "display_name", "bio", "is_admin")),
    *(sa.column(c) for c in ("posts_count", "followers_count", "following_count")),
    sa.column("created_at", UTCDateTime()),
    sa.column("last_active_at", UTCDateTime()),
)
_follows = sa.table(
    "follows",
    *(sa.column(c) for c in ("id", "follower_id", "followee_id")),
    sa.column("created_at", UTCDateTime()),
)
_posts = sa.table(
    "posts",
    *(sa.column(c) for c in ("id", "author_id", "text", "app_name")),
    sa.column("created_at", UTCDateTime()),
)


def _user(user_id: int, name: str, **counts: int) -> dict[str, object]:
    return {
        "id": user_id,
        "username": name,
        "username_key": name,
        "email": f"{name}@example.com",
        "email_key": f"{name}@example.com",
        "password_hash": "x",
        "display_name": "",
        "bio": "",
        "is_admin": False,
        "posts_count": counts.get("posts", 0),
        "followers_count": counts.get("followers", 0),
        "following_count": counts.get("following", 0),
        "created_at": NOW,
        "last_active_at": NOW,
    }


def _populate_previous_release(connection: Connection) -> None:
    upgrade_connection(connection, "0004")
    connection.execute(
        _users.insert(),
        [_user(1, "ann", posts=2, followers=1), _user(2, "bob", following=1)],
    )
    connection.execute(
        _follows.insert(), [{"id": 10, "follower_id": 2, "followee_id": 1, "created_at": NOW}]
    )
    connection.execute(
        _posts.insert(),
        [
            {"id": 100, "author_id": 1, "text": "first", "app_name": None, "created_at": NOW},
            {"id": 101, "author_id": 1, "text": "second", "app_name": "app", "created_at": NOW},
        ],
    )


@asynccontextmanager
async def _scratch_connection(
    engine: AsyncEngine, tmp_path: Path
) -> AsyncIterator[AsyncConnection]:
    """A connection to an empty database (SQLite) or schema (PostgreSQL) of the test's own."""
    if engine.dialect.name == "sqlite":
        scratch = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'upgrade.db'}")
        try:
            async with scratch.connect() as conn:
                yield conn
        finally:
            await scratch.dispose()
        return
    async with engine.connect() as conn:
        await conn.execute(sa.text(f"DROP SCHEMA IF EXISTS {SCRATCH} CASCADE"))
        await conn.execute(sa.text(f"CREATE SCHEMA {SCRATCH}"))
        await conn.execute(sa.text(f"SET search_path TO {SCRATCH}"))
        try:
            yield conn
        finally:
            await conn.rollback()
            await conn.execute(sa.text(f"DROP SCHEMA IF EXISTS {SCRATCH} CASCADE"))
            await conn.execute(sa.text("SET search_path TO public"))
            await conn.commit()


async def test_0005_upgrades_a_populated_database_and_keeps_its_data(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    async with _scratch_connection(engine, tmp_path) as conn:
        await conn.run_sync(_populate_previous_release)
        await conn.run_sync(upgrade_connection)
        assert (
            await conn.run_sync(
                lambda sync: MigrationContext.configure(sync).get_current_revision()
            )
            == head_revision()
        )
        # Every earlier post stays public, as it was shown; follows keep showing reposts.
        posts = (
            await conn.execute(
                sa.text(
                    "SELECT id, text, app_name, visibility, spoiler_text, sensitive, language"
                    " FROM posts ORDER BY id"
                )
            )
        ).all()
        assert [tuple(p) for p in posts] == [
            (100, "first", None, "public", "", False, None),
            (101, "second", "app", "public", "", False, None),
        ]
        follows = (await conn.execute(sa.text("SELECT show_reblogs, notify FROM follows"))).all()
        assert [tuple(f) for f in follows] == [(True, False)]
        users = (
            await conn.execute(
                sa.text(
                    "SELECT username, posts_count, default_privacy, default_language, locale"
                    " FROM users ORDER BY id"
                )
            )
        ).all()
        assert [tuple(u) for u in users] == [
            ("ann", 2, "public", None, "en"),
            ("bob", 0, "public", None, "en"),
        ]
        # The services read the upgraded rows: the public timeline (its new partial index
        # covers the old posts) and a stranger's view of the profile.
        async with AsyncSession(bind=conn) as session:
            public = await timeline_service.public(session, cursor=Cursor())
            assert [p.id for p in public] == [101, 100]
            profile = await posts_service.by_author(
                session, author_id=1, cursor=Cursor(), viewer=None
            )
            assert [p.id for p in profile] == [101, 100]
            [rel] = await follows_service.relationships(session, viewer_id=2, ids=[1])
            assert (rel.following, rel.showing_reblogs, rel.notifying) == (True, True, False)


_posts_0005 = sa.table(
    "posts",
    *(sa.column(c) for c in ("id", "author_id", "text", "app_name", "visibility")),
    *(sa.column(c) for c in ("spoiler_text", "sensitive", "language")),
    sa.column("created_at", UTCDateTime()),
)


def _populate_0005(connection: Connection) -> None:
    upgrade_connection(connection, "0005")
    connection.execute(
        _users.insert(),
        [_user(1, "ann", posts=2, followers=1), _user(2, "bob", following=1)],
    )
    connection.execute(
        _follows.insert(), [{"id": 10, "follower_id": 2, "followee_id": 1, "created_at": NOW}]
    )
    common = {"app_name": None, "created_at": NOW, "sensitive": False, "language": "en"}
    connection.execute(
        _posts_0005.insert(),
        [
            {
                "id": 100,
                "author_id": 1,
                "text": "open",
                "visibility": "public",
                "spoiler_text": "",
                **common,
            },
            {
                "id": 101,
                "author_id": 1,
                "text": "inner",
                "visibility": "private",
                "spoiler_text": "cw",
                **common,
            },
        ],
    )


async def test_0006_upgrades_a_populated_database_and_keeps_its_data(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    async with _scratch_connection(engine, tmp_path) as conn:
        await conn.run_sync(_populate_0005)
        await conn.run_sync(upgrade_connection)
        rows = (
            await conn.execute(
                sa.text(
                    "SELECT id, text, visibility, spoiler_text, in_reply_to_id, reblog_of_id,"
                    " quote_of_id, quote_approval_policy, replies_count, reblogs_count,"
                    " favourites_count, quotes_count FROM posts ORDER BY id"
                )
            )
        ).all()
        # Earlier posts answer, share and quote nothing, may be quoted by anyone, count zero.
        assert [tuple(r) for r in rows] == [
            (100, "open", "public", "", None, None, None, "public", 0, 0, 0, 0),
            (101, "inner", "private", "cw", None, None, None, "public", 0, 0, 0, 0),
        ]
        # The new tables and constraints work on the upgraded rows: bob likes and reposts
        # ann's post once; a second repost by bob is refused by the new unique index.
        await conn.execute(
            sa.text(
                "INSERT INTO favourites (id, user_id, post_id, created_at) VALUES (1, 2, 100, :now)"
            ),
            {"now": NOW},
        )
        repost = (
            "INSERT INTO posts (id, author_id, text, created_at, reblog_of_id)"
            " VALUES (:id, 2, '', :now, 100)"
        )
        await conn.execute(sa.text(repost), {"id": 102, "now": NOW})
        async with conn.begin_nested() as nested:
            try:
                await conn.execute(sa.text(repost), {"id": 103, "now": NOW})
            except sa.exc.IntegrityError:
                await nested.rollback()
            else:
                raise AssertionError("a second repost of the same post by the same account")
        # Deleting the original takes its repost with it (and its likes).
        await conn.execute(sa.text("DELETE FROM posts WHERE id = 100"))
        left = (await conn.execute(sa.text("SELECT id FROM posts ORDER BY id"))).scalars().all()
        assert left == [101]
        likes = (await conn.execute(sa.text("SELECT count(*) FROM favourites"))).scalar_one()
        assert likes == 0
        async with AsyncSession(bind=conn) as session:
            profile = await posts_service.by_author(
                session, author_id=1, cursor=Cursor(), viewer=None
            )
            assert [p.id for p in profile] == []  # the private post is not for strangers


def _populate_0006(connection: Connection) -> None:
    _populate_0005(connection)
    upgrade_connection(connection, "0006")
    connection.execute(
        sa.text(
            "INSERT INTO posts (id, author_id, text, created_at, in_reply_to_id,"
            " in_reply_to_account_id) VALUES (102, 2, '@ann #hi', :now, 100, 1)"
        ),
        {"now": NOW},
    )


async def test_0007_upgrades_a_populated_database_and_keeps_its_data(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    async with _scratch_connection(engine, tmp_path) as conn:
        await conn.run_sync(_populate_0006)
        await conn.run_sync(upgrade_connection)
        rows = (
            await conn.execute(
                sa.text(
                    "SELECT id, text, visibility, in_reply_to_id, mentions, conversation_id"
                    " FROM posts ORDER BY id"
                )
            )
        ).all()
        # Earlier posts mention nobody as far as Chirp knew (their text was never linked)
        # and are in no conversation: they read as before.
        assert [tuple(r) for r in rows] == [
            (100, "open", "public", None, None, None),
            (101, "inner", "private", None, None, None),
            (102, "@ann #hi", "public", 100, None, None),
        ]
        # The new tables take rows that refer to the upgraded ones, and follow their deletes.
        await conn.execute(sa.text("INSERT INTO mentions (post_id, user_id) VALUES (102, 1)"))
        await conn.execute(
            sa.text(
                "INSERT INTO notifications (id, user_id, type, from_account_id, post_id,"
                " target_id, group_key, created_at) VALUES (1, 1, 'mention', 2, 102, 102,"
                " 'ungrouped-1', :now)"
            ),
            {"now": NOW},
        )
        await conn.execute(
            sa.text(
                "INSERT INTO markers (user_id, timeline, last_read_id, updated_at)"
                " VALUES (1, 'notifications', 1, :now)"
            ),
            {"now": NOW},
        )
        await conn.execute(sa.text("DELETE FROM posts WHERE id = 102"))
        left = [
            (await conn.execute(sa.text(f"SELECT count(*) FROM {table}"))).scalar_one()  # noqa: S608
            for table in ("mentions", "notifications", "markers")
        ]
        assert left == [0, 0, 1]
        async with AsyncSession(bind=conn) as session:
            public = await timeline_service.public(session, cursor=Cursor())
            assert [p.id for p in public] == [100]
            assert public[0].mentions is None


def _populate_0007(connection: Connection) -> None:
    _populate_0006(connection)
    upgrade_connection(connection, "0007")
    connection.execute(sa.text("INSERT INTO mentions (post_id, user_id) VALUES (102, 1)"))
    connection.execute(
        sa.text("UPDATE users SET display_name = 'Ann', bio = 'Hello @bob' WHERE id = 1")
    )
    connection.execute(
        sa.text(
            "INSERT INTO web_sessions (id, token_hash, user_id, created_at, expires_at)"
            " VALUES (1, 'h1', 1, :now, :now)"
        ),
        {"now": NOW},
    )
    connection.execute(
        sa.text(
            "INSERT INTO oauth_apps (id, name, redirect_uris, scopes, client_id, client_secret,"
            " created_at) VALUES (1, 'app', 'urn:ietf:wg:oauth:2.0:oob', 'read', 'c', 's', :now)"
        ),
        {"now": NOW},
    )
    connection.execute(
        sa.text(
            "INSERT INTO oauth_tokens (id, token_hash, app_id, user_id, scopes, created_at)"
            " VALUES (1, 't1', 1, 2, 'read', :now)"
        ),
        {"now": NOW},
    )


async def test_0008_upgrades_a_populated_database_and_keeps_its_data(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    async with _scratch_connection(engine, tmp_path) as conn:
        await conn.run_sync(_populate_0007)
        await conn.run_sync(upgrade_connection)
        users = (
            await conn.execute(
                sa.text("SELECT id, username, avatar_key, header_key FROM users ORDER BY id")
            )
        ).all()
        # Nobody had uploaded a picture: every account shows the defaults, as before.
        assert [tuple(u) for u in users] == [(1, "ann", None, None), (2, "bob", None, None)]
        posts = (await conn.execute(sa.text("SELECT id FROM posts ORDER BY id"))).scalars()
        assert list(posts) == [100, 101, 102]
        # The new table takes images of the upgraded posts, and follows their deletes.
        for media_id, post_id in ((1, 100), (2, 101), (3, None)):
            await conn.execute(
                sa.text(
                    "INSERT INTO media_attachments (id, account_id, post_id, position, type,"
                    " status, description, focus_x, focus_y, blurhash, content_type,"
                    " original_key, original_width, original_height, original_size, small_key,"
                    " small_width, small_height, created_at) VALUES (:id, 1, :post, 0, 'image',"
                    " 'ready', '', 0, 0, NULL, 'image/png', 'k', 10, 10, 100, 's', 10, 10, :now)"
                ),
                {"id": media_id, "post": post_id, "now": NOW},
            )
        async with AsyncSession(bind=conn) as session:
            found = await media_service.for_posts(session, [100, 101, 102])
            assert {post_id: [m.id for m in items] for post_id, items in found.items()} == {
                100: [1],
                101: [2],
            }
        await conn.execute(sa.text("DELETE FROM posts WHERE id = 100"))
        left = (await conn.execute(sa.text("SELECT id FROM media_attachments ORDER BY id"))).all()
        assert [r[0] for r in left] == [2, 3]


async def test_0008_keeps_profiles_and_takes_exports_on_a_populated_database(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    async with _scratch_connection(engine, tmp_path) as conn:
        await conn.run_sync(_populate_0007)
        await conn.run_sync(upgrade_connection)
        rows = (
            await conn.execute(
                sa.text(
                    "SELECT id, display_name, bio, fields, bio_mentions, locked,"
                    " default_sensitive FROM users ORDER BY id"
                )
            )
        ).all()
        # Existing accounts: no fields, unlocked, media not sensitive by default; the bio's
        # mentions are linked from its next save (as posts written before 0007 are not).
        assert [tuple(r) for r in rows] == [
            (1, "Ann", "Hello @bob", None, None, False, False),
            (2, "", "", None, None, False, False),
        ]
        async with AsyncSession(bind=conn) as session:
            [ann] = (await session.execute(sa.select(User).where(User.id == 1))).scalars()
            assert (ann.fields, ann.locked, ann.default_sensitive) == (None, False, False)
            # The feed reads authors with the new columns.
            public = await timeline_service.public(session, cursor=Cursor())
            authors = await feed.load(session, public, viewer=None)
            assert [p.author.name for p in authors.posts] == ["Ann"]
        # Exports refer to users and go with them; one unfinished per user.
        insert = (
            "INSERT INTO exports (id, user_id, status, progress, created_at)"
            " VALUES (:id, 2, :status, 0, :now)"
        )
        await conn.execute(sa.text(insert), {"id": 1, "status": "done", "now": NOW})
        await conn.execute(sa.text(insert), {"id": 2, "status": "pending", "now": NOW})
        async with conn.begin_nested() as nested:
            try:
                await conn.execute(sa.text(insert), {"id": 3, "status": "running", "now": NOW})
            except sa.exc.IntegrityError:
                await nested.rollback()
            else:
                raise AssertionError("a second unfinished export of the same user")
        await conn.execute(sa.text("DELETE FROM users WHERE id = 2"))
        left = (await conn.execute(sa.text("SELECT count(*) FROM exports"))).scalar_one()
        assert left == 0


async def test_0008_confirms_existing_accounts_and_keeps_their_sessions(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    async with _scratch_connection(engine, tmp_path) as conn:
        await conn.run_sync(_populate_0007)
        await conn.run_sync(upgrade_connection)
        users = (
            await conn.execute(
                sa.text(
                    "SELECT username, email_confirmed_at, created_at, unconfirmed_email,"
                    " deleted_at FROM users ORDER BY id"
                )
            )
        ).all()
        # Everyone who signed up before counts as confirmed (when they signed up), and is live.
        assert [(u[0], u[1] == u[2], u[3], u[4]) for u in users] == [
            ("ann", True, None, None),
            ("bob", True, None, None),
        ]
        sessions = (
            await conn.execute(sa.text("SELECT user_agent, ip, last_seen_at FROM web_sessions"))
        ).all()
        assert [tuple(s) for s in sessions] == [(None, None, None)]
        tokens = (await conn.execute(sa.text("SELECT last_used_at FROM oauth_tokens"))).all()
        assert [tuple(t) for t in tokens] == [(None,)]
        # The new table takes links for the upgraded accounts and follows their deletion.
        await conn.execute(
            sa.text(
                "INSERT INTO account_tokens (id, user_id, kind, token_hash, expires_at,"
                " created_at) VALUES (1, 2, 'password_reset', 'x', :now, :now)"
            ),
            {"now": NOW},
        )
        await conn.execute(sa.text("DELETE FROM users WHERE id = 2"))
        left = (await conn.execute(sa.text("SELECT count(*) FROM account_tokens"))).scalar_one()
        assert left == 0
        async with AsyncSession(bind=conn) as session:
            public = await timeline_service.public(session, cursor=Cursor())
            assert [p.id for p in public] == [100]


async def test_sqlite_downgrades_keep_every_row_that_refers_to_a_rebuilt_table(
    tmp_path: Path,
) -> None:
    # SQLite drops a column by rebuilding the table; with foreign keys on, dropping the old
    # users table would delete (cascade) every post, follow and session that refers to it.
    url = f"sqlite+aiosqlite:///{tmp_path / 'downgrade.db'}"
    scratch = make_engine(url)
    try:
        async with scratch.connect() as conn:
            await conn.run_sync(_populate_0007)
            await conn.commit()
    finally:
        await scratch.dispose()
    await asyncio.to_thread(upgrade, url)
    for revision in ("0007", "0006", "0005", "0004"):
        await asyncio.to_thread(command.downgrade, alembic_config(url), revision)
        check = make_engine(url)
        try:
            async with check.connect() as conn:
                users = (await conn.execute(sa.text("SELECT id FROM users ORDER BY id"))).all()
                posts = (await conn.execute(sa.text("SELECT id FROM posts ORDER BY id"))).all()
                follows = (await conn.execute(sa.text("SELECT count(*) FROM follows"))).scalar()
                fks = (await conn.execute(sa.text("PRAGMA foreign_keys"))).scalar()
        finally:
            await check.dispose()
        assert [u[0] for u in users] == [1, 2], revision
        assert [p[0] for p in posts] == [100, 101, 102], revision
        assert follows == 1, revision
        assert fks == 1, revision  # a later connection has them on again
