"""Every endpoint's queries use indexes on PostgreSQL, bounded by a page, not by the database.

Each route's queries are listed here (by the route that runs them). On small test tables a
sequential scan is cheapest, so scans are switched off: if no index can serve a query, the
planner still has to scan, and the plan shows it. A plain Sort over a table (rather than an
index read in order) and an Aggregate (a COUNT) both read every row the filter lets through.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Select, insert, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from chirp.auth.models import WebSession
from chirp.conversations import service as conversations_service
from chirp.db import utcnow
from chirp.follows import service as follows_service
from chirp.follows.models import Follow
from chirp.jobs.models import PENDING, Job
from chirp.likes import service as likes_service
from chirp.likes.models import Favourite
from chirp.markers import service as markers_service
from chirp.markers.models import Marker
from chirp.notifications import grouping, groups
from chirp.notifications import service as notifications_service
from chirp.notifications.models import Notification
from chirp.oauth import service as oauth_service
from chirp.oauth.models import OAuthApp, OAuthCode
from chirp.pagination import Cursor, apply_cursor
from chirp.posts import reposts, threads
from chirp.posts import service as posts_service
from chirp.posts.models import IdempotencyKey, Post
from chirp.timeline import service as timeline_service
from chirp.users import service as users_service
from chirp.users.models import User

USER = 913_000_000_000_000_001
POST = 913_000_000_000_000_500


ACCOUNTS = 200  # a populated instance: USER and 199 others, each following ten
POSTS = 4_000  # 20 each, around POST, a tenth of them replies


@pytest.fixture
async def populated_statistics(engine: AsyncEngine, session: AsyncSession) -> None:
    """Plans are made with the statistics of a populated instance, whatever ran before."""
    if engine.dialect.name == "postgresql":
        await _populate(session, public_tenths=8)


async def _populate(session: AsyncSession, *, public_tenths: int) -> None:
    """Adds ACCOUNTS users, their follows and POSTS posts, and has PostgreSQL ANALYZE them.

    On tiny tables the planner's pick hinges on statistics: those autovacuum took of rows an
    earlier test committed (one author's posts, say) made reading posts through the primary
    key cost as little as through their author's index, and the pick was a coin toss. The
    rows and the column statistics roll back with the test (the row counts ANALYZE writes do
    not, which is why each test that needs them populates the tables itself).
    """
    now = utcnow()
    await session.execute(
        insert(User),
        [
            {
                "id": USER + n,
                "username": f"queryplan{n}",
                "username_key": f"queryplan{n}",
                "email": f"queryplan{n}@example.com",
                "email_key": f"queryplan{n}@example.com",
                "password_hash": "-",
                "created_at": now,
                "last_active_at": now,
            }
            for n in range(ACCOUNTS)
        ],
    )
    await session.execute(
        insert(Follow),
        [
            {"follower_id": USER + n, "followee_id": USER + (n + k) % ACCOUNTS, "created_at": now}
            for n in range(ACCOUNTS)
            for k in range(1, 11)
        ],
    )
    first = POST - POSTS // 2
    hidden = ("unlisted", "private")
    await session.execute(
        insert(Post),
        [
            {
                "id": first + n,
                "author_id": USER + n % ACCOUNTS,
                "text": "post",
                "created_at": now,
                "visibility": "public" if n % 10 < public_tenths else hidden[n % 2],
                "in_reply_to_id": first + n - 1 if n % 10 == 3 else None,
                "in_reply_to_account_id": USER + (n - 1) % ACCOUNTS if n % 10 == 3 else None,
            }
            for n in range(POSTS)
        ],
    )
    for table in ("users", "follows", "posts"):
        await session.execute(text(f"ANALYZE {table}"))


def _fanout_batch() -> Select:  # type: ignore[type-arg]
    return follows_service.follower_batch_query(
        followee_id=USER, after_id=0, limit=1000, reblogs=False
    )


def _home(cursor: Cursor) -> Select:  # type: ignore[type-arg]
    return timeline_service.post_ids_query(user_id=USER, cursor=cursor)


def _page(stmt: Select, key: Any, cursor: Cursor = Cursor()) -> Select:  # type: ignore[type-arg]
    return apply_cursor(stmt, key, cursor)


def _hot_paths() -> dict[str, Select]:  # type: ignore[type-arg]
    return {
        # GET / and /api/v1/timelines/home (SQL path and Redis rebuilds)
        "home page 1": _home(Cursor()),
        "home deep page": _home(Cursor(max_id=POST)),
        "home since": _home(Cursor(min_id=POST)),
        # GET /?until= (Back after "Load more"): every page down to a post
        "home down to a post": _home(Cursor(since_id=POST, limit=200)),
        "home posts by id": timeline_service.visible_home_posts_statement(array=True).params(
            user_id=USER, ids=[POST, POST + 1]
        ),
        "home posts' authors and states by id": timeline_service.home_rows_statement(
            array=True
        ).params(user_id=USER, viewer_id=USER, ids=[POST, POST + 1]),
        "large account's recent posts": posts_service.by_author_query(USER)
        .with_only_columns(Post.id)
        .order_by(Post.id.desc())
        .limit(800),
        # GET / logged out, /api/v1/timelines/public
        "public timeline": _page(timeline_service.public_query(), Post.id),
        "public timeline deep page": _page(
            timeline_service.public_query(), Post.id, Cursor(max_id=POST)
        ),
        # GET /@name, /api/v1/accounts/:id/statuses (the author and followers)
        "profile posts": _page(posts_service.by_author_query(USER), Post.id),
        "profile posts down to a post": _page(
            posts_service.by_author_query(USER), Post.id, Cursor(since_id=POST, limit=200)
        ),
        "public timeline down to a post": _page(
            timeline_service.public_query(), Post.id, Cursor(since_id=POST, limit=200)
        ),
        "profile posts deep page": _page(
            posts_service.by_author_query(USER), Post.id, Cursor(max_id=POST)
        ),
        # the same for everyone else: followers-only posts left out
        "profile posts, not a follower": _page(
            posts_service.by_author_query(USER, private=False), Post.id
        ),
        "profile posts, not a follower, deep page": _page(
            posts_service.by_author_query(USER, private=False), Post.id, Cursor(max_id=POST)
        ),
        # /@name/followers, /api/v1/accounts/:id/followers (and following)
        "followers list": _page(follows_service.followers_query(USER), Follow.id),
        "followers deep page": _page(
            follows_service.followers_query(USER), Follow.id, Cursor(max_id=POST)
        ),
        "following list": _page(follows_service.following_query(USER), Follow.id),
        "following deep page": _page(
            follows_service.following_query(USER), Follow.id, Cursor(max_id=POST)
        ),
        # /users, /api/v1/directory
        "directory, active": users_service.directory_query(order="active").limit(40),
        "directory, new": users_service.directory_query(order="new").limit(40),
        # GET / on an empty home: who to follow
        "who to follow": follows_service.suggestions_query(USER).limit(5),
        # /api/v1/admin/accounts
        "admin accounts": _page(users_service.admin_query(), User.id),
        "admin staff": _page(users_service.admin_query(staff=True), User.id),
        # relationships, follow buttons, follow and unfollow
        "is following": select(Follow.id).where(
            Follow.follower_id == USER, Follow.followee_id == USER + 1
        ),
        "followed among a page": select(Follow.followee_id).where(
            Follow.follower_id == USER, Follow.followee_id.in_([USER + 1, USER + 2])
        ),
        "follow options among a page": select(
            Follow.followee_id, Follow.show_reblogs, Follow.notify
        ).where(Follow.follower_id == USER, Follow.followee_id.in_([USER + 1, USER + 2])),
        "followed by among a page": select(Follow.follower_id).where(
            Follow.followee_id == USER, Follow.follower_id.in_([USER + 1, USER + 2])
        ),
        # every API call, every logged-in page
        "token and its user": oauth_service.token_with_user().params(token_hash="x"),
        "web session and its user": select(User)
        .join(WebSession, WebSession.user_id == User.id)
        .where(WebSession.token_hash == "x", WebSession.expires_at > utcnow()),
        # profiles, lookup, login, sign-up checks
        "user by name": select(User).where(User.username_key == "alice"),
        "user by name or email": select(User).where(
            (User.username_key == "alice") | (User.email_key == "alice")
        ),
        "users by id": select(User).where(User.id.in_([USER, USER + 1])),
        # /api/v1/statuses/:id/context and the thread page: one recursive read each way
        "thread ancestors": threads.ancestors_query(POST),
        "thread descendants": threads.descendants_query(POST),
        # replies: fan-out of a reply, and a newly followed account's posts
        "followers among a batch": select(Follow.follower_id).where(
            Follow.followee_id == USER, Follow.follower_id.in_([USER + 1, USER + 2])
        ),
        "followed account's posts for a home": timeline_service.followee_posts_statement().params(
            user_id=USER, author_id=USER + 1, limit=800
        ),
        "replies to a followed account by the others followed": (
            timeline_service.followed_replies_statement(lateral=True).params(
                user_id=USER, account_id=USER + 1, low=POST, limit=800
            )
        ),
        # statuses: show, delete, idempotent create
        "post by id": select(Post).where(Post.id == POST),
        "post for idempotency key": select(Post)
        .join(IdempotencyKey, IdempotencyKey.post_id == Post.id)
        .where(IdempotencyKey.user_id == USER, IdempotencyKey.key == "k"),
        # likes: the button's state, your likes (/likes, /api/v1/favourites), who liked a post
        "like of a post": select(Favourite.id).where(
            Favourite.user_id == USER, Favourite.post_id == POST
        ),
        "liked posts": _page(likes_service.liked_query(USER), Favourite.id),
        "liked posts deep page": _page(
            likes_service.liked_query(USER), Favourite.id, Cursor(max_id=POST)
        ),
        "liked posts down to a like": _page(
            likes_service.liked_query(USER), Favourite.id, Cursor(since_id=POST, limit=200)
        ),
        "likers of a post": _page(likes_service.likers_query(POST), Favourite.id),
        "likers deep page": _page(
            likes_service.likers_query(POST), Favourite.id, Cursor(max_id=POST)
        ),
        # OAuth
        "app by client id": select(OAuthApp).where(OAuthApp.client_id == "x"),
        "code by hash": select(OAuthCode).where(OAuthCode.code_hash == "x"),
        # reposts and quotes: who reposted, quotes of a post, a reader's repost of a post,
        # which of a page are reposts, whose reposts a reader hides, a profile without them
        "reposted by": _page(reposts.reblogged_by_query(POST), Post.id),
        "quotes of a post": _page(select(Post).where(Post.quote_of_id == POST), Post.id),
        "a reader's repost": select(Post).where(Post.author_id == USER, Post.reblog_of_id == POST),
        "reposts among ids": select(Post.id, Post.reblog_of_id).where(
            Post.id.in_([POST, POST + 1]), Post.reblog_of_id.is_not(None)
        ),
        "hiding reposts among a page": select(Follow.followee_id).where(
            Follow.follower_id == USER,
            Follow.followee_id.in_([USER + 1, USER + 2]),
            Follow.show_reblogs.is_(False),
        ),
        "profile posts without reposts": _page(
            posts_service.by_author_query(USER, reblogs=False), Post.id
        ),
        "fan-out batch of a repost": follows_service.follower_batch_query(
            followee_id=USER, after_id=0, limit=1000, reblogs=True
        ),
        # notifications: /notifications, /api/v1/notifications (filtered), the badge on every
        # page and unread_count (at most its cap of index entries), grouping
        "notifications": _page(notifications_service.browse_query(USER), Notification.id),
        "notifications deep page": _page(
            notifications_service.browse_query(USER), Notification.id, Cursor(max_id=POST)
        ),
        "notifications since": _page(
            notifications_service.browse_query(USER), Notification.id, Cursor(min_id=POST)
        ),
        "mentions": _page(
            notifications_service.browse_query(USER, notifications_service.MENTIONS),
            Notification.id,
        ),
        "notifications from one account": _page(
            notifications_service.browse_query(
                USER, notifications_service.Filter(account_id=USER + 1)
            ),
            Notification.id,
        ),
        "unread notifications (the badge)": notifications_service.unread_query(
            USER, notifications_service.ALL, limit=notifications_service.BADGE_CAP
        ),
        "unread conversations (the badge)": conversations_service.unread_query(
            USER, limit=notifications_service.BADGE_CAP
        ),
        "a notification group's latest": grouping.latest_group_query(USER, f"favourite-{POST}"),
        "notification groups' sizes": groups.sizes_query(
            USER, [f"favourite-{POST}-1", "follow-2"], low=POST, high=POST + 9
        ),
        "notification groups' newest accounts": groups.samples_query(
            USER, [f"favourite-{POST}-1", "follow-2"]
        ),
        "markers": select(Marker).where(
            Marker.user_id == USER, Marker.timeline.in_(markers_service.TIMELINES)
        ),
        # fan-out and the job queue
        "fan-out batch": _fanout_batch(),
        "ready jobs": select(Job.id)
        .where(Job.status == PENDING, Job.run_at <= utcnow())
        .order_by(Job.id)
        .limit(10),
    }


# Pages merged from one index range per followed account, each bounded by the page size: the
# Sort orders those few rows (see timeline.service.post_ids_statement).
MERGED = {
    "home page 1",
    "home deep page",
    "home since",
    "home down to a post",
    "replies to a followed account by the others followed",
}
# Counts bounded by design: the badge counts at most BADGE_CAP index entries (a LIMIT under
# the Aggregate); a group's size and sample read that group's own index entries only.
BOUNDED_AGGREGATES = {
    "unread notifications (the badge)",
    "unread conversations (the badge)",
    "notification groups' sizes",
    "notification groups' newest accounts",
}

# Tables that grow with the instance; a lookup in any of them must go through an index.
TABLES = (
    "posts",
    "follows",
    "users",
    "jobs",
    "oauth_tokens",
    "oauth_codes",
    "oauth_apps",
    "web_sessions",
    "idempotency_keys",
    "favourites",
    "reactions",
    "reaction_counts",
    "notifications",
    "markers",
    "conversation_members",
)


@pytest.mark.parametrize("name", list(_hot_paths()))
@pytest.mark.usefixtures("populated_statistics")
async def test_hot_path_uses_an_index(
    engine: AsyncEngine, session: AsyncSession, name: str
) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("query plans are checked on PostgreSQL")
    stmt = _hot_paths()[name]
    # On small test tables a scan and a sort are cheapest; forbidding them reveals whether an
    # index can serve the query, in order, at all (if none can, the planner still has to).
    for setting in ("enable_seqscan", "enable_sort"):
        await session.execute(text(f"SET LOCAL {setting} = off"))
    plan = await _plan(engine, session, stmt)
    for table in TABLES:
        assert f"Seq Scan on {table}" not in plan, plan
    # A full Sort (not an Incremental Sort of an index read in order) or an Aggregate reads
    # every matching row: the whole table for a directory ordered by an unindexed expression.
    nodes = [line.strip().removeprefix("->").strip() for line in plan.splitlines()]
    forbidden = ("Aggregate  (",) if name in MERGED else ("Sort  (", "Aggregate  (")
    if name in BOUNDED_AGGREGATES:
        forbidden = ("Sort  (",)
    assert not [n for n in nodes if n.startswith(forbidden)], plan
    if name in MERGED:
        # The reader's follows, then each account's index range under a LIMIT of its own,
        # then the page's: never a walk back through posts until enough of them match.
        # (Which follows index reads the reader's rows is the planner's choice on small
        # tables: both cost the same, so only the reader's condition on that scan is checked.)
        posts_by_author = _condition_of_scan_on(plan, "posts", "ix_posts_author_id_id")
        assert posts_by_author.startswith("Index Cond: "), plan
        assert "(author_id = follows.followee_id)" in posts_by_author, plan
        assert f"follower_id = '{USER}'" in _condition_of_scan_on(plan, "follows"), plan
        assert sum(n.startswith("Limit  (") for n in nodes) == 2, plan


def _condition_of_scan_on(plan: str, table: str, index: str = "") -> str:
    """The Index Cond or Filter line under the plan's first scan of ``table`` (not an alias),
    through ``index`` if given."""
    lines = [line.strip() for line in plan.splitlines()]
    for at, line in enumerate(lines):
        if f"{index} on {table}  (" in line and at + 1 < len(lines):
            return lines[at + 1]
    return ""


async def _plan(engine: AsyncEngine, session: AsyncSession, stmt: Select) -> str:  # type: ignore[type-arg]
    compiled = stmt.compile(engine.sync_engine, compile_kwargs={"literal_binds": True})
    return "\n".join(row[0] for row in await session.execute(text(f"EXPLAIN {compiled}")))


@pytest.mark.usefixtures("populated_statistics")
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


@pytest.mark.parametrize("cursor", [Cursor(), Cursor(max_id=POST), Cursor(min_id=POST)])
async def test_public_timeline_reads_only_public_posts_from_its_index(
    engine: AsyncEngine, session: AsyncSession, cursor: Cursor
) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("query plans are checked on PostgreSQL")
    # Read through the primary key, a run of unlisted or followers-only posts would be read
    # and thrown away before a page filled; the partial index holds public posts alone.
    # The planner cannot know of runs, only of shares: an instance where most posts are not
    # public (with bitmap scans off, as they would not serve a page in order anyway).
    await _populate(session, public_tenths=3)
    for setting in ("enable_seqscan", "enable_bitmapscan"):
        await session.execute(text(f"SET LOCAL {setting} = off"))
    plan = await _plan(engine, session, _page(timeline_service.public_query(), Post.id, cursor))
    assert "using ix_posts_public_id on posts" in plan, plan
    assert not [line for line in plan.splitlines() if "visibility" in line], plan  # no filter


async def test_the_unread_messages_badge_reads_only_unread_rows(
    engine: AsyncEngine, session: AsyncSession
) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("query plans are checked on PostgreSQL")
    # Through the list's index, a user with thousands of read conversations would have them
    # all visited on every page view; the partial index holds the unread, listed ones alone.
    for setting in ("enable_seqscan", "enable_bitmapscan"):
        await session.execute(text(f"SET LOCAL {setting} = off"))
    stmt = conversations_service.unread_query(USER, limit=notifications_service.BADGE_CAP)
    plan = await _plan(engine, session, stmt)
    assert "using ix_conversation_members_unread on conversation_members" in plan, plan
