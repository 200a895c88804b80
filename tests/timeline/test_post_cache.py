"""Timeline pages are hydrated from the Redis post cache, and it never shows stale posts."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from datetime import UTC, datetime

import hypothesis
import pytest
from hypothesis import strategies as st
from redis.asyncio import Redis
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from chirp.config import Settings
from chirp.follows import service as follows_service
from chirp.pagination import Cursor
from chirp.posts import feed, reposts
from chirp.posts import service as posts_service
from chirp.posts.models import Post, PostView
from chirp.reactions import service as reactions_service
from chirp.timeline import service as timeline_service
from chirp.timeline.cache import TimelineCache
from chirp.timeline.home import HomeTimeline
from chirp.timeline.post_cache import CachedPost
from chirp.users.models import User
from tests.factories import make_post, make_user
from tests.timeline import session_statements


def _reader(settings: Settings, redis: Redis) -> HomeTimeline:
    return HomeTimeline(settings, TimelineCache.from_settings(redis, settings))


async def _alice_follows_bob(session: AsyncSession) -> tuple[User, User, User]:
    """alice, bob and carol, where alice follows bob only."""
    alice, bob, carol = [await make_user(session, n) for n in ("alice", "bob", "carol")]
    await follows_service.follow(session, follower=alice, followee=bob)
    return alice, bob, carol


async def _read_twice(
    reader: HomeTimeline, session: AsyncSession, user_id: int
) -> tuple[list[PostView], list[PostView]]:
    """A home page read cold (which fills the post cache), then again: from Redis, checked."""
    first = await reader.page(session, user_id=user_id, cursor=Cursor())
    with session_statements(session) as seen:
        again = await reader.page(session, user_id=user_id, cursor=Cursor())
    assert not [s for s in seen if "posts.text" in s], seen  # the posts came from Redis
    return first, again


async def test_a_warm_page_reads_no_posts_from_the_database(
    session: AsyncSession, settings: Settings, redis: Redis
) -> None:
    alice, bob = await make_user(session, "alice"), await make_user(session, "bob")
    await follows_service.follow(session, follower=alice, followee=bob)
    posts = [await make_post(session, bob, f"post {i}") for i in range(5)]
    await session.commit()
    reader = _reader(settings, redis)
    first = await reader.page(session, user_id=alice.id, cursor=Cursor())
    with session_statements(session) as seen:
        again = await reader.page(session, user_id=alice.id, cursor=Cursor())
    assert [p.id for p in again] == [p.id for p in first] == [p.id for p in reversed(posts)]
    assert [p.text for p in again] == [p.text for p in first]
    assert [p.created_at for p in again] == [p.created_at for p in first]
    assert not [s for s in seen if "posts.text" in s], seen  # the text came from Redis
    # The authors with the follow check, the counts and the reader's state: one query.
    assert len(seen) == 1, seen


async def test_a_page_missing_one_cached_post_reads_only_that_one(
    session: AsyncSession, settings: Settings, redis: Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    alice, bob = await make_user(session, "alice"), await make_user(session, "bob")
    await follows_service.follow(session, follower=alice, followee=bob)
    posts = [await make_post(session, bob, f"post {i}") for i in range(5)]
    await session.commit()
    reader = _reader(settings, redis)
    await reader.page(session, user_id=alice.id, cursor=Cursor())  # fills the post cache
    assert reader.cache is not None
    await redis.delete(reader.cache.posts.key(posts[-1].id))  # the newest: first on the page
    asked: list[list[int]] = []
    visible_home_posts = timeline_service.visible_home_posts

    async def recording(session: AsyncSession, *, user_id: int, ids: list[int]) -> dict[int, Post]:
        asked.append(list(ids))
        return await visible_home_posts(session, user_id=user_id, ids=ids)

    monkeypatch.setattr(timeline_service, "visible_home_posts", recording)
    page = await reader.page(session, user_id=alice.id, cursor=Cursor())
    assert [p.text for p in page] == [f"post {i}" for i in reversed(range(5))]
    assert asked == [[posts[-1].id]]


async def test_reactions_show_on_a_page_served_from_redis(
    session: AsyncSession, settings: Settings, redis: Redis
) -> None:
    alice, bob, carol = await _alice_follows_bob(session)
    liked = await make_post(session, bob, "react to this")
    quiet = await make_post(session, bob, "nothing here")
    for user in (carol, alice):
        await reactions_service.react(session, user=user, post=liked, emoji="👍")
    await reactions_service.react(session, user=carol, post=liked, emoji="🎉")
    await session.commit()
    reader = _reader(settings, redis)
    _, page = await _read_twice(reader, session, alice.id)
    shown = {p.id: p.state for p in page}
    assert shown[liked.id] is not None and shown[quiet.id] is not None
    got = sorted((r.name, r.count, r.me) for r in shown[liked.id].reactions)
    assert got == [("🎉", 1, False), ("👍", 2, True)]
    assert shown[quiet.id].reactions == ()


async def test_authors_are_always_fresh(
    session: AsyncSession, settings: Settings, redis: Redis
) -> None:
    alice = await make_user(session, "alice", display_name="Old Name")
    await make_post(session, alice, "hello")
    reader = _reader(settings, redis)
    await reader.page(session, user_id=alice.id, cursor=Cursor())
    await session.execute(update(User).where(User.id == alice.id).values(display_name="New"))
    await session.commit()
    page = await reader.page(session, user_id=alice.id, cursor=Cursor())
    assert page[0].author.display_name == "New"


async def test_cached_posts_of_an_unfollowed_author_leave_at_once(
    session: AsyncSession, settings: Settings, redis: Redis
) -> None:
    alice, bob = await make_user(session, "alice"), await make_user(session, "bob")
    await follows_service.follow(session, follower=alice, followee=bob)
    await make_post(session, bob, "bob's")
    mine = await make_post(session, alice, "mine")
    await session.commit()
    reader = _reader(settings, redis)
    assert len(await reader.page(session, user_id=alice.id, cursor=Cursor())) == 2
    await follows_service.unfollow(session, follower=alice, followee=bob)
    await session.commit()
    # No job has run: the timeline still holds bob's post, the read filters it.
    page = await reader.page(session, user_id=alice.id, cursor=Cursor())
    assert [p.id for p in page] == [mine.id]


async def test_posts_cached_by_a_read_expire_after_the_post_ttl(
    session: AsyncSession, settings: Settings, redis: Redis
) -> None:
    alice, bob, _ = await _alice_follows_bob(session)
    posts = [await make_post(session, bob, "theirs"), await make_post(session, alice, "mine")]
    reader = _reader(settings, redis)
    assert reader.cache is not None
    await redis.delete(*map(reader.cache.posts.key, (p.id for p in posts)))
    await _read_twice(reader, session, alice.id)
    # A post's entry outlives no reader for long: without an expiry Redis would keep every
    # post any home page ever showed.
    for post in posts:
        assert 0 < await redis.ttl(reader.cache.posts.key(post.id)) <= settings.post_cache_ttl


async def test_a_cache_from_settings_keeps_its_keys_under_its_prefix_for_the_set_ttls(
    session: AsyncSession, settings: Settings, redis: Redis
) -> None:
    alice, bob, _ = await _alice_follows_bob(session)
    posts = [await make_post(session, bob, "theirs"), await make_post(session, alice, "mine")]
    await redis.flushdb()
    tuned = settings.model_copy(update={"post_cache_ttl": 600, "active_days": 1})
    reader = HomeTimeline(tuned, TimelineCache.from_settings(redis, tuned, prefix="probe:"))
    page = await reader.page(session, user_id=alice.id, cursor=Cursor())
    assert [p.id for p in page] == [p.id for p in reversed(posts)]
    # Another prefix (a benchmark's, say) leaves the instance's own keys alone.
    keys = {str(k) async for k in redis.scan_iter()}
    assert {f"probe:tl:{alice.id}", f"probe:p:{posts[0].id}"} <= keys
    assert all(k.startswith("probe:") for k in keys), keys
    assert 590 < await redis.ttl(f"probe:p:{posts[0].id}") <= 600
    assert 82_700 < await redis.ttl(f"probe:tl:{alice.id}") <= 86_400 - 3600


async def test_a_reader_that_raced_a_delete_cannot_bring_the_post_back(
    session: AsyncSession, settings: Settings, redis: Redis
) -> None:
    alice = await make_user(session, "alice")
    post = await make_post(session, alice, "soon gone")
    reader = _reader(settings, redis)
    assert reader.cache is not None
    assert len(await reader.page(session, user_id=alice.id, cursor=Cursor())) == 1
    stale = await posts_service.get_post(session, post.id)
    assert stale is not None
    await reader.delete_post(session, post=post, actor=alice)
    # A request that loaded the row before the delete now tries to cache it.
    await reader.cache.posts.put_many([stale])
    # No job has run, so the timeline still holds the id: the page leaves the post out.
    assert await reader.page(session, user_id=alice.id, cursor=Cursor()) == []
    # The deleted text is gone from Redis, and the tombstone itself expires.
    assert await reader.cache.posts.get_many([post.id]) == ({}, {post.id})
    assert 0 < await redis.ttl(reader.cache.posts.key(post.id)) <= settings.post_cache_ttl


async def test_cached_posts_show_every_field_the_database_holds(
    session: AsyncSession, settings: Settings, redis: Redis
) -> None:
    alice, bob, carol = await _alice_follows_bob(session)
    question = await make_post(session, alice, "a question")
    quoted = await make_post(session, carol, "worth quoting")
    # Every cached field away from its default: a reply with a mention, a quote, an app.
    post = await posts_service.create_post(
        session,
        author=bob,
        text="@alice an answer behind a warning",
        max_length=500,
        app_name="Tusky",
        visibility="unlisted",
        spoiler_text="cw",
        language="de",
        in_reply_to_id=question.id,
        quote_of=quoted,
        quote_approval_policy="followers",
    )
    await session.commit()
    session.expunge_all()
    row = await session.get(Post, post.id)
    assert row is not None and row.mentions and row.app_name == "Tusky"
    want = {f.name: getattr(row, f.name) for f in dataclasses.fields(CachedPost)}
    reader = _reader(settings, redis)
    first, again = await _read_twice(reader, session, alice.id)
    assert [p.id for p in again] == [p.id for p in first] == [post.id, question.id]
    for shown in (first[0], again[0]):
        assert {name: getattr(shown, name) for name in want} == want
        assert shown.author.username == "bob"


def test_entries_cached_before_visibility_existed_read_as_public() -> None:
    # An upgrade keeps the cache: entries written by the previous release have four fields,
    # and every post then was public, without a warning or a language.
    cached = CachedPost.load(7, '[3, "old post", 1700000000000000, null]')
    assert (cached.author_id, cached.text, cached.visibility) == (3, "old post", "public")
    assert (cached.spoiler_text, cached.sensitive, cached.language) == ("", False, None)
    assert CachedPost.load(7, cached.dump()) == cached


_IDS = st.integers(1, 2**63 - 1)
_CACHED_POSTS = st.builds(
    CachedPost,
    id=_IDS,
    author_id=_IDS,
    text=st.text(max_size=20),
    created_at=st.datetimes(datetime(2000, 1, 1), datetime(2100, 1, 1), timezones=st.just(UTC)),
    app_name=st.none() | st.text(max_size=5),
    visibility=st.sampled_from(["public", "unlisted", "private", "direct"]),
    spoiler_text=st.sampled_from(["", "cw"]),
    sensitive=st.booleans(),
    language=st.none() | st.sampled_from(["en", "de"]),
    in_reply_to_id=st.none() | _IDS,
    in_reply_to_account_id=st.none() | _IDS,
    reblog_of_id=st.none() | _IDS,
    quote_of_id=st.none() | _IDS,
    quote_approval_policy=st.sampled_from(["public", "followers", "nobody"]),
    mentions=st.none() | st.lists(st.lists(_IDS | st.text(max_size=5), max_size=3), max_size=2),
    conversation_id=st.none() | _IDS,
)


@hypothesis.settings(max_examples=300, deadline=None)
@hypothesis.given(_CACHED_POSTS)
def test_every_cached_post_reads_back_as_written(post: CachedPost) -> None:
    assert CachedPost.load(post.id, post.dump()) == post
    assert CachedPost.load(post.id, post.dump().encode()) == post  # as Redis returns it


def test_fields_left_at_their_defaults_take_no_room() -> None:
    plain = CachedPost(1, 2, "hi", datetime(2026, 1, 1, tzinfo=UTC), None)
    assert json.loads(plain.dump()) == [2, "hi", 1767225600000000, None, "public"]
    # A field set keeps every one before it (they are read back by position).
    for field, value, length in [("spoiler_text", "cw", 6), ("language", "de", 8)]:
        changed = dataclasses.replace(plain, **{field: value})
        assert len(json.loads(changed.dump())) == length
    last = dataclasses.replace(plain, conversation_id=9)
    assert json.loads(last.dump())[5:] == [
        "",
        False,
        None,
        None,
        None,
        None,
        None,
        "public",
        None,
        9,
    ]


async def _reposted_page(
    session: AsyncSession, settings: Settings, redis: Redis
) -> tuple[HomeTimeline, User, Post, list[int]]:
    """alice follows bob, who reposted two posts of carol's (whom alice does not follow)."""
    alice, bob, carol = await _alice_follows_bob(session)
    originals = [await make_post(session, carol, f"carol {i}") for i in range(2)]
    wrappers = []
    for original in originals:
        wrapper, _ = await reposts.repost(session, actor=bob, post_id=original.id)
        wrappers.append(wrapper.id)
    await session.commit()
    reader = _reader(settings, redis)
    # The first read finds nothing cached: it caches the reposts and their originals.
    page = await reader.page(session, user_id=alice.id, cursor=Cursor())
    assert [p.id for p in page] == wrappers[::-1]
    return reader, alice, originals[-1], wrappers


async def test_reposted_originals_come_with_the_cached_page(
    session: AsyncSession, settings: Settings, redis: Redis
) -> None:
    reader, alice, newest, _ = await _reposted_page(session, settings, redis)
    asked: list[Sequence[int]] = []
    get_many = reader.cache.posts.get_many  # type: ignore[union-attr]

    async def counting(post_ids: Sequence[int]) -> tuple[dict[int, CachedPost], set[int]]:
        asked.append(post_ids)
        return await get_many(post_ids)

    reader.cache.posts.get_many = counting  # type: ignore[union-attr,method-assign]
    with session_statements(session) as seen:
        page = await reader.page(session, user_id=alice.id, cursor=Cursor())
    assert [p.shared.text for p in page] == ["carol 1", "carol 0"]  # type: ignore[attr-defined]
    assert [p.shared.author.username for p in page] == ["carol", "carol"]  # type: ignore[attr-defined]
    # The page script read the originals with the page: no other Redis read, one SQL query.
    assert [a for a in asked if a] == []
    assert len(seen) == 1, seen
    viewer = await session.get(User, alice.id)
    with session_statements(session) as seen:
        loaded = await feed.load(session, page, viewer=viewer)
    # The counts and the reader's own likes and reposts came with the page too: only the
    # images are read to show it.
    assert len(seen) == 1 and "from media_attachments" in seen[0], seen
    assert loaded.shown(page[0]).id == newest.id
    assert loaded.state(page[0]).reblogs == 1


async def test_a_followers_only_post_boosted_by_its_author_comes_with_the_cached_page(
    session: AsyncSession, settings: Settings, redis: Redis
) -> None:
    alice, bob, _ = await _alice_follows_bob(session)
    private = await posts_service.create_post(
        session, author=bob, text="for followers", max_length=500, visibility="private"
    )
    await session.commit()
    for i in range(2):
        await make_post(session, bob, f"bob {i}")
    wrapper, _ = await reposts.repost(session, actor=bob, post_id=private.id)
    await session.commit()
    # A window of two: the boost and bob's last post, not the post boosted as itself.
    tuned = settings.model_copy(update={"timeline_cache_size": 2})
    reader = _reader(tuned, redis)
    cold = await reader.page(session, user_id=alice.id, cursor=Cursor(limit=2))
    assert cold[0].id == wrapper.id
    page = await reader.page(session, user_id=alice.id, cursor=Cursor(limit=2))
    assert page[0].shared.text == "for followers"  # type: ignore[attr-defined]
    viewer = await session.get(User, alice.id)
    with session_statements(session) as seen:
        loaded = await feed.load(session, page, viewer=viewer)
    # alice follows bob, so she may see it, and it came with the page: only images are read.
    assert len(seen) == 1 and "from media_attachments" in seen[0], seen
    assert loaded.shown(page[0]).id == private.id


async def test_reposts_cached_by_an_earlier_release_still_show_their_originals(
    session: AsyncSession, settings: Settings, redis: Redis
) -> None:
    reader, alice, _, wrappers = await _reposted_page(session, settings, redis)
    # Before the page script read originals, entries named them as a JSON number.
    assert reader.cache is not None
    for wrapper_id in wrappers:
        key = reader.cache.posts.key(wrapper_id)
        raw = await redis.get(key)
        fields = json.loads(raw)
        fields[10] = int(fields[10])
        await redis.set(key, json.dumps(fields))
    with session_statements(session) as seen:
        page = await reader.page(session, user_id=alice.id, cursor=Cursor())
    assert [p.shared.text for p in page] == ["carol 1", "carol 0"]  # type: ignore[attr-defined]
    # Asked of Redis, where the first read cached them: the page's one query, no post read.
    assert len(seen) == 1, seen
