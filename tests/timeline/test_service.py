"""Home and public timelines: who is in them, order, and cursor paging."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from chirp.api import present
from chirp.config import Settings
from chirp.follows import service as follows_service
from chirp.likes import service as likes_service
from chirp.pagination import Cursor
from chirp.posts import service as posts_service
from chirp.posts.models import Post
from chirp.timeline import service as timeline_service
from chirp.timeline.home import HomeTimeline
from chirp.users.models import User
from tests.factories import make_post, make_user
from tests.loops import at_most


async def _home(session: AsyncSession, user_id: int, cursor: Cursor) -> list[Post]:
    # The database path (no Redis): the one every other path must agree with.
    return await HomeTimeline(Settings(), None).page(session, user_id=user_id, cursor=cursor)


async def test_home_has_own_and_followed_posts_newest_first(session: AsyncSession) -> None:
    alice, bob, carol = [await make_user(session, n) for n in ("alice", "bob", "carol")]
    await follows_service.follow(session, follower=alice, followee=bob)
    a1 = await make_post(session, alice, "a1")
    b1 = await make_post(session, bob, "b1")
    await make_post(session, carol, "c1")  # not followed: never in alice's home
    a2 = await make_post(session, alice, "a2")
    page = await _home(session, alice.id, Cursor())
    assert [p.id for p in page] == [a2.id, b1.id, a1.id]


async def test_follow_and_unfollow_change_the_home_timeline(session: AsyncSession) -> None:
    alice, bob = await make_user(session, "alice"), await make_user(session, "bob")
    old = await make_post(session, bob, "before the follow")
    assert await _home(session, alice.id, Cursor()) == []
    await follows_service.follow(session, follower=alice, followee=bob)
    page = await _home(session, alice.id, Cursor())
    assert [p.id for p in page] == [old.id]
    await follows_service.unfollow(session, follower=alice, followee=bob)
    assert await _home(session, alice.id, Cursor()) == []


async def test_cursor_paging_has_no_gaps_or_duplicates(session: AsyncSession) -> None:
    alice = await make_user(session, "alice")
    ids = [(await make_post(session, alice, f"p{i}")).id for i in range(45)]
    newest_first = sorted(ids, reverse=True)
    seen: list[int] = []
    cursor = Cursor(limit=20)
    for _ in at_most(10):
        page = await _home(session, alice.id, cursor)
        if not page:
            break
        seen.extend(p.id for p in page)
        cursor = Cursor(max_id=page[-1].id, limit=20)
    assert seen == newest_first

    # min_id walks forwards from a point, since_id gives the newest above it.
    after = await _home(session, alice.id, Cursor(min_id=newest_first[10], limit=3))
    assert [p.id for p in after] == newest_first[7:10]
    newest = await _home(session, alice.id, Cursor(since_id=newest_first[10], limit=3))
    assert [p.id for p in newest] == newest_first[:3]


async def test_public_timeline_has_everyone(session: AsyncSession) -> None:
    alice, bob = await make_user(session, "alice"), await make_user(session, "bob")
    a = await make_post(session, alice, "a")
    b = await make_post(session, bob, "b")
    page = await timeline_service.public(session, cursor=Cursor())
    assert [p.id for p in page] == [b.id, a.id]


async def test_home_rows_give_authors_follows_and_states_of_posts(
    session: AsyncSession,
) -> None:
    alice = await make_user(session, "alice", display_name="Alice A.")
    bob, carol, dan = [await make_user(session, n) for n in ("bob", "carol", "dan")]
    bob.bio = "Hi, see https://example.com"
    for follower in (alice, carol):  # counts that differ, so no two columns can swap
        await follows_service.follow(session, follower=follower, followee=bob)
    await follows_service.follow(session, follower=alice, followee=dan, reblogs=False)
    by_bob = await make_post(session, bob, "counted, and dated")
    by_carol = await make_post(session, carol, "carol is not followed by alice")
    by_dan = await make_post(session, dan, "dan's")
    to_dan, to_carol = [
        await posts_service.create_post(
            session, author=bob, text="hi", max_length=500, in_reply_to_id=parent.id
        )
        for parent in (by_dan, by_carol)
    ]
    await session.commit()
    await likes_service.like(session, user=alice, post=by_bob)
    await likes_service.like(session, user=carol, post=by_carol)
    await session.commit()
    own = await make_post(session, alice, "mine")
    wanted = [by_bob.id, by_carol.id, by_dan.id, to_dan.id, to_carol.id, own.id, 1]
    rows = await timeline_service.home_rows(session, user_id=alice.id, post_ids=wanted)
    assert set(rows) == set(wanted) - {1}  # no post 1: left out, as a deleted post is
    followed = {i for i, r in rows.items() if r.followed}
    assert followed == {by_bob.id, by_dan.id, to_dan.id, to_carol.id, own.id}
    assert {i for i, r in rows.items() if r.answers_followed} == {to_dan.id}
    assert {i for i, r in rows.items() if r.hides_reblogs} == {by_dan.id}
    assert rows[by_bob.id].state.favourites == 1 and rows[by_bob.id].state.favourited
    assert rows[by_bob.id].state.replies == 0 and rows[by_carol.id].state.replies == 1
    assert rows[by_carol.id].state.favourites == 1 and not rows[by_carol.id].state.favourited
    settings = Settings()
    for post, user in ((own, alice), (by_bob, bob)):
        author = rows[post.id].author
        assert present.account(author, settings) == present.account(user, settings)
        assert author.name == user.name


async def test_visible_home_posts_keeps_only_what_belongs_in_that_readers_home(
    session: AsyncSession,
) -> None:
    # Posts asked by id (a cached timeline's, not cached themselves) are kept only if they
    # still belong in this reader's home: carol is followed, but by erin, not by alice.
    alice, bob, carol, dan, erin = [
        await make_user(session, n) for n in ("alice", "bob", "carol", "dan", "erin")
    ]
    for follower, followee in ((alice, bob), (alice, dan), (erin, carol), (erin, bob)):
        await follows_service.follow(session, follower=follower, followee=followee)

    async def post(author: User, text: str, *, to: Post | None = None, **kw: str) -> int:
        reply_to = to.id if to is not None else None
        made = await posts_service.create_post(
            session, author=author, text=text, max_length=500, in_reply_to_id=reply_to, **kw
        )
        return made.id

    own = await make_post(session, alice, "mine")
    by_bob = await make_post(session, bob, "bob's")
    by_carol = await make_post(session, carol, "carol's")
    by_dan = await make_post(session, dan, "dan's")
    shown = {
        own.id,
        by_bob.id,
        by_dan.id,
        await post(bob, "to dan, whom alice follows", to=by_dan),
        await post(bob, "his own thread", to=by_bob),
        await post(alice, "her reply to carol", to=by_carol),
        await post(bob, "followers only", visibility="private"),
    }
    hidden = {
        by_carol.id,
        await post(bob, "to carol, whom alice does not follow", to=by_carol),
        await post(carol, "@alice to her, but carol is not followed", to=own),
        await post(bob, "@alice a direct message", visibility="direct"),
    }
    await session.commit()
    asked = sorted(shown | hidden)
    found = await timeline_service.visible_home_posts(session, user_id=alice.id, ids=asked)
    assert set(found) == shown
    assert all(found[i].id == i for i in found)
    # erin's view of the same posts differs: carol's and bob's to carol are hers.
    erins = await timeline_service.visible_home_posts(session, user_id=erin.id, ids=asked)
    assert by_carol.id in erins and own.id not in erins and by_dan.id not in erins
