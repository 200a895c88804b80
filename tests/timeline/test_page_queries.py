"""A page of posts with likes, reposts, reactions, replies and quotes costs a fixed number of
queries, whatever its length, and shows each post's counts and the reader's own state."""

from __future__ import annotations

from datetime import timedelta

import httpx
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from chirp.db import utcnow
from chirp.follows import service as follows_service
from chirp.ids import new_id
from chirp.likes.models import Favourite
from chirp.posts.models import Post
from chirp.reactions.models import Reaction, ReactionCount
from chirp.users.models import User
from tests.factories import auth, make_post, make_token, make_user
from tests.timeline import session_statements
from tests.web.helpers import login


async def _like(session: AsyncSession, user: User, post: Post) -> None:
    session.add(Favourite(user_id=user.id, post_id=post.id))
    await session.execute(
        update(Post).where(Post.id == post.id).values(favourites_count=Post.favourites_count + 1)
    )


async def _react(session: AsyncSession, user: User, post: Post, emoji: str, count: int) -> None:
    session.add(Reaction(user_id=user.id, post_id=post.id, emoji=emoji))
    session.add(ReactionCount(post_id=post.id, emoji=emoji, count=count))


async def _repost(session: AsyncSession, user: User, original: Post) -> Post:
    wrapper = Post(id=new_id(), author_id=user.id, text="", reblog_of_id=original.id)
    session.add(wrapper)
    await session.execute(
        update(Post).where(Post.id == original.id).values(reblogs_count=Post.reblogs_count + 1)
    )
    return wrapper


async def _timeline(session: AsyncSession, size: int) -> tuple[User, list[Post], dict[str, Post]]:
    """A reader following ann and bob; ``size`` posts by ann, and one of each kind of act."""
    reader, ann, bob, carol = [
        await make_user(session, n) for n in ("reader", "ann", "bob", "carol")
    ]
    for followee in (ann, bob):
        await follows_service.follow(session, follower=reader, followee=followee)
    await session.commit()
    posts = [await make_post(session, ann, f"ann {i}") for i in range(size)]
    carols = await make_post(session, carol, "carol's, reposted by bob")
    quote = Post(
        id=new_id(),
        author_id=bob.id,
        text="bob quotes carol",
        quote_of_id=carols.id,
        created_at=utcnow() + timedelta(seconds=1),
    )
    reply = Post(
        id=new_id(),
        author_id=bob.id,
        text="bob answers ann",
        in_reply_to_id=posts[0].id,
        in_reply_to_account_id=ann.id,
    )
    session.add_all([quote, reply])
    await session.execute(update(Post).where(Post.id.in_([carols.id])).values(quotes_count=1))
    await session.execute(update(Post).where(Post.id == posts[0].id).values(replies_count=1))
    wrapper = await _repost(session, bob, carols)
    await _like(session, reader, posts[0])
    await _like(session, bob, posts[0])
    await _like(session, bob, carols)
    await _react(session, reader, posts[-1], "🎉", 2)
    session.add(Reaction(user_id=bob.id, post_id=posts[-1].id, emoji="🎉"))
    await session.commit()
    return reader, posts, {"carols": carols, "quote": quote, "reply": reply, "wrapper": wrapper}


async def _home_statements(client: httpx.AsyncClient, session: AsyncSession, token: str) -> int:
    await client.get("/api/v1/timelines/home?limit=40", headers=auth(token))  # builds caches
    with session_statements(session) as seen:
        r = await client.get("/api/v1/timelines/home?limit=40", headers=auth(token))
    assert r.status_code == 200
    return len(seen)


async def test_a_home_page_shows_counts_and_the_readers_own_state(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    reader, posts, extra = await _timeline(session, 3)
    token = await make_token(session, reader)
    r = await client.get("/api/v1/timelines/home?limit=40", headers=auth(token))
    by_id = {s["id"]: s for s in r.json()}
    first, last = by_id[str(posts[0].id)], by_id[str(posts[-1].id)]
    assert (first["favourites_count"], first["favourited"], first["replies_count"]) == (2, True, 1)
    assert last["emoji_reactions"] == [{"name": "🎉", "count": 2, "me": True}]
    assert last["pleroma"]["emoji_reactions"] == last["emoji_reactions"]
    wrapper = by_id[str(extra["wrapper"].id)]
    assert wrapper["account"]["username"] == "bob" and wrapper["content"] == ""
    original = wrapper["reblog"]
    assert original["id"] == str(extra["carols"].id)
    # Liked by bob, not by the reader: the count is everyone's, the flag the reader's own.
    assert (original["favourites_count"], original["favourited"]) == (1, False)
    assert (original["reblogs_count"], original["quotes_count"]) == (1, 1)
    quote = by_id[str(extra["quote"].id)]
    assert quote["quote"]["state"] == "accepted"
    assert quote["quote"]["quoted_status"]["id"] == str(extra["carols"].id)
    reply = by_id[str(extra["reply"].id)]
    assert reply["in_reply_to_id"] == str(posts[0].id)
    assert reply["in_reply_to_account_id"] == str(posts[0].author_id)


async def test_a_longer_home_page_costs_no_more_queries(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    reader, _, _ = await _timeline(session, 3)
    short = await _home_statements(client, session, await make_token(session, reader))
    many_reader, _, _ = await _timeline_for_more(session)
    long = await _home_statements(client, session, await make_token(session, many_reader))
    assert long == short


async def _timeline_for_more(session: AsyncSession) -> tuple[User, list[Post], dict[str, Post]]:
    """The same shape as ``_timeline`` with ten times the posts, for other accounts."""
    reader, ann, bob, carol = [
        await make_user(session, n) for n in ("reader2", "ann2", "bob2", "carol2")
    ]
    for followee in (ann, bob):
        await follows_service.follow(session, follower=reader, followee=followee)
    await session.commit()
    posts = [await make_post(session, ann, f"ann {i}") for i in range(30)]
    carols = [await make_post(session, carol, f"carol {i}") for i in range(5)]
    for post in carols:
        await _repost(session, bob, post)
        await _like(session, bob, post)
    for post in posts[::3]:
        await _like(session, reader, post)
        await _react(session, reader, post, "👍", 1)
    session.add(Post(id=new_id(), author_id=bob.id, text="quote", quote_of_id=carols[0].id))
    session.add(
        Post(
            id=new_id(),
            author_id=bob.id,
            text="reply",
            in_reply_to_id=posts[1].id,
            in_reply_to_account_id=ann.id,
        )
    )
    await session.commit()
    return reader, posts, {}


async def test_the_web_home_page_costs_no_more_queries_when_longer(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    await _timeline(session, 3)
    await login(client, "reader")
    await client.get("/")
    with session_statements(session) as short:
        assert (await client.get("/")).status_code == 200
    await _timeline_for_more(session)
    await client.post("/logout")
    await login(client, "reader2")
    await client.get("/")
    with session_statements(session) as long:
        page = await client.get("/")
    assert page.status_code == 200
    assert "@ann2" in page.text and "reposted" in page.text and "quote-card" in page.text
    assert len(long) == len(short), (short, long)
