"""Favourites through the Mastodon API: idempotent, counted exactly, each reader's own state,
404 for what a reader cannot see, reposts liking their original, lists paged by favourite id."""

from __future__ import annotations

import re

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from chirp.follows import service as follows_service
from chirp.likes.models import Favourite
from tests.factories import auth, make_post, make_token
from tests.likes.helpers import ann_posts, favourites_of, people, private_post, repost, same_twice
from tests.loops import at_most

_NEXT = re.compile(r'<([^>]+)>; rel="next"')
_PREV = re.compile(r'<([^>]+)>; rel="prev"')


def _url(link: str, rel: re.Pattern[str]) -> str:
    found = rel.search(link)
    assert found, link
    return found.group(1).removeprefix("http://testserver")


async def _fav(client: httpx.AsyncClient, token: str, post_id: int, verb: str) -> httpx.Response:
    return await client.post(f"/api/v1/statuses/{post_id}/{verb}", headers=auth(token))


async def test_favourite_is_idempotent_counted_once_and_each_reader_sees_their_own(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    world, post = await ann_posts(session, "like me")
    tokens = world.tokens

    first = await same_twice(lambda: _fav(client, tokens["bob"], post.id, "favourite"))
    assert first.json()["favourited"] is True and first.json()["favourites_count"] == 1
    assert (await _fav(client, tokens["cat"], post.id, "favourite")).json()["favourites_count"] == 2
    # The author may like their own post.
    own = await _fav(client, tokens["ann"], post.id, "favourite")
    assert own.json()["favourited"] is True and own.json()["favourites_count"] == 3
    assert await favourites_of(session, post.id) == (3, 3)

    for reader, liked in (("bob", True), ("cat", True), ("ann", True), ("dan", False)):
        r = await client.get(f"/api/v1/statuses/{post.id}", headers=auth(tokens[reader]))
        assert (r.json()["favourited"], r.json()["favourites_count"]) == (liked, 3), reader
    anonymous = (await client.get(f"/api/v1/statuses/{post.id}")).json()
    assert anonymous["favourites_count"] == 3 and anonymous.get("favourited") is None
    # Every list shows the reader's own state: bob's home, dan's public timeline, a profile.
    home = (await client.get("/api/v1/timelines/home", headers=auth(tokens["bob"]))).json()
    assert [(s["id"], s["favourited"]) for s in home] == [(str(post.id), True)]
    public = (await client.get("/api/v1/timelines/public", headers=auth(tokens["dan"]))).json()
    assert [(s["id"], s["favourited"], s["favourites_count"]) for s in public] == [
        (str(post.id), False, 3)
    ]
    ann_id = world.users["ann"].id
    profile = await client.get(f"/api/v1/accounts/{ann_id}/statuses", headers=auth(tokens["cat"]))
    assert profile.json()[0]["favourited"] is True

    undone = await _fav(client, tokens["bob"], post.id, "unfavourite")
    undone_again = await _fav(client, tokens["bob"], post.id, "unfavourite")
    assert undone.json() == undone_again.json()
    assert (undone.json()["favourited"], undone.json()["favourites_count"]) == (False, 2)
    # Unliking a post you never liked is fine and changes nothing.
    never = await _fav(client, tokens["dan"], post.id, "unfavourite")
    assert never.status_code == 200
    assert (never.json()["favourited"], never.json()["favourites_count"]) == (False, 2)
    assert await favourites_of(session, post.id) == (2, 2)


async def test_posts_you_cannot_see_or_that_do_not_exist_are_404_and_change_nothing(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    world = await people(session)
    tokens = world.tokens
    hidden = await private_post(session, world.users["ann"], "for my followers")
    for verb in ("favourite", "unfavourite"):
        for reader in ("cat", "dan"):  # neither follows ann
            r = await _fav(client, tokens[reader], hidden.id, verb)
            assert r.status_code == 404 and r.json() == {"error": "Record not found"}, r.text
        for missing in ("12345", "99999999999999999999", "abc"):
            r = await client.post(f"/api/v1/statuses/{missing}/{verb}", headers=auth(tokens["bob"]))
            assert r.status_code == 404, (missing, r.text)
    assert await favourites_of(session, hidden.id) == (0, 0)
    # A follower may like it; after unfollowing, it is gone for them, liked or not.
    assert (await _fav(client, tokens["bob"], hidden.id, "favourite")).status_code == 200
    await follows_service.unfollow(
        session, follower=world.users["bob"], followee=world.users["ann"]
    )
    await session.commit()
    assert (await _fav(client, tokens["bob"], hidden.id, "unfavourite")).status_code == 404
    assert await favourites_of(session, hidden.id) == (1, 1)
    # Anonymous callers have no token to like with.
    assert (await client.post(f"/api/v1/statuses/{hidden.id}/favourite")).status_code == 401


async def test_favouriting_a_repost_favourites_the_post_it_shares(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    world = await people(session)
    tokens = world.tokens
    original = await make_post(session, world.users["ann"], "worth sharing")
    shared = await repost(session, world.users["bob"], original)

    r = await _fav(client, tokens["cat"], shared.id, "favourite")
    assert r.status_code == 200, r.text
    # As Mastodon: the answer is the status named (the repost), its original liked.
    assert r.json()["id"] == str(shared.id)
    assert r.json()["reblog"]["id"] == str(original.id)
    assert r.json()["reblog"]["favourited"] is True
    assert r.json()["reblog"]["favourites_count"] == 1
    assert (await _fav(client, tokens["cat"], original.id, "favourite")).json()[
        "favourites_count"
    ] == 1
    assert await favourites_of(session, original.id) == (1, 1)
    assert await favourites_of(session, shared.id) == (0, 0)
    listed = (await client.get("/api/v1/favourites", headers=auth(tokens["cat"]))).json()
    assert [s["id"] for s in listed] == [str(original.id)]
    # The likes are the original's: the repost itself has none (as on Mastodon).
    likers = (await client.get(f"/api/v1/statuses/{original.id}/favourited_by")).json()
    assert [a["username"] for a in likers] == ["cat"]
    assert (await client.get(f"/api/v1/statuses/{shared.id}/favourited_by")).json() == []

    r = await _fav(client, tokens["cat"], shared.id, "unfavourite")
    assert r.json()["reblog"]["favourited"] is False
    assert await favourites_of(session, original.id) == (0, 0)


async def test_favourites_are_paged_by_favourite_id_newest_like_first(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    world = await people(session)
    token = world.tokens["bob"]
    posts = [await make_post(session, world.users["ann"], f"post {i}") for i in range(5)]
    order = [2, 0, 4, 1, 3]  # liked in this order, not in the posts' order
    for i in order:
        assert (await _fav(client, token, posts[i].id, "favourite")).status_code == 200
    expected = [str(posts[i].id) for i in reversed(order)]
    like_ids = {
        post_id: like_id
        for like_id, post_id in (
            await session.execute(
                select(Favourite.id, Favourite.post_id).where(
                    Favourite.user_id == world.users["bob"].id
                )
            )
        ).all()
    }

    seen: list[str] = []
    url = "/api/v1/favourites?limit=2"
    first_link = ""
    for _ in at_most(5):
        r = await client.get(url, headers=auth(token))
        assert r.status_code == 200, r.text
        page = [s["id"] for s in r.json()]
        if not page:
            assert "link" not in r.headers
            break
        first_link = first_link or r.headers["link"]
        assert all(s["favourited"] for s in r.json())
        seen += page
        # The cursors are favourite ids (when each was liked), never status ids.
        next_url = _url(r.headers["link"], _NEXT)
        assert next_url.endswith(f"max_id={like_ids[int(page[-1])]}"), next_url
        assert _url(r.headers["link"], _PREV).endswith(f"min_id={like_ids[int(page[0])]}")
        url = next_url
    assert seen == expected

    # The page before the first is empty; the page before the second is the first.
    prev = await client.get(_url(first_link, _PREV), headers=auth(token))
    assert prev.json() == []
    older = like_ids[posts[4].id]
    r = await client.get(f"/api/v1/favourites?limit=2&min_id={older}", headers=auth(token))
    assert [s["id"] for s in r.json()] == expected[:2]
    r = await client.get(f"/api/v1/favourites?since_id={older}", headers=auth(token))
    assert [s["id"] for s in r.json()] == expected[:2]
    # A status id as cursor is taken as a favourite id: every like came after these posts.
    r = await client.get(f"/api/v1/favourites?max_id={posts[4].id}", headers=auth(token))
    assert r.json() == []
    # Each reader has their own list.
    assert (await client.get("/api/v1/favourites", headers=auth(world.tokens["cat"]))).json() == []


async def test_favourites_leave_out_followers_only_posts_no_longer_visible(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    world = await people(session)
    bob, token = world.users["bob"], world.tokens["bob"]
    visible = await make_post(session, world.users["ann"], "for all")
    hidden = await private_post(session, world.users["ann"], "for followers")
    for post in (visible, hidden):
        assert (await _fav(client, token, post.id, "favourite")).status_code == 200
    listed = (await client.get("/api/v1/favourites", headers=auth(token))).json()
    assert [s["id"] for s in listed] == [str(hidden.id), str(visible.id)]
    await follows_service.unfollow(session, follower=bob, followee=world.users["ann"])
    await session.commit()
    listed = (await client.get("/api/v1/favourites", headers=auth(token))).json()
    assert [s["id"] for s in listed] == [str(visible.id)]


async def test_favourited_by_lists_accounts_newest_like_first_paged_by_favourite_id(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    world, post = await ann_posts(session, "popular")
    for name in ("cat", "dan", "bob"):
        assert (await _fav(client, world.tokens[name], post.id, "favourite")).status_code == 200
    r = await client.get(f"/api/v1/statuses/{post.id}/favourited_by?limit=2")
    assert [a["username"] for a in r.json()] == ["bob", "dan"]
    r = await client.get(_url(r.headers["link"], _NEXT))
    assert [a["username"] for a in r.json()] == ["cat"]
    r = await client.get(_url(r.headers["link"], _NEXT))
    assert r.json() == [] and "link" not in r.headers
    cat_like = await session.scalar(
        select(Favourite.id).where(Favourite.user_id == world.users["cat"].id)
    )
    r = await client.get(f"/api/v1/statuses/{post.id}/favourited_by?since_id={cat_like}")
    assert [a["username"] for a in r.json()] == ["bob", "dan"]
    r = await client.get(f"/api/v1/statuses/{post.id}/favourited_by?limit=1&max_id={cat_like}")
    assert r.json() == []

    hidden = await private_post(session, world.users["ann"], "followers only")
    await _fav(client, world.tokens["bob"], hidden.id, "favourite")
    assert (await client.get(f"/api/v1/statuses/{hidden.id}/favourited_by")).status_code == 404
    as_dan = auth(world.tokens["dan"])
    r = await client.get(f"/api/v1/statuses/{hidden.id}/favourited_by", headers=as_dan)
    assert r.status_code == 404
    as_bob = auth(world.tokens["bob"])
    r = await client.get(f"/api/v1/statuses/{hidden.id}/favourited_by", headers=as_bob)
    assert [a["username"] for a in r.json()] == ["bob"]


async def test_favourites_need_their_scopes(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    world, post = await ann_posts(session, "scoped")
    bob = world.users["bob"]
    read_only = await make_token(session, bob, scopes="read")
    r = await _fav(client, read_only, post.id, "favourite")
    assert r.status_code == 403, r.text
    write_favourites = await make_token(session, bob, scopes="write:favourites")
    assert (await _fav(client, write_favourites, post.id, "favourite")).status_code == 200
    r = await client.get("/api/v1/favourites", headers=auth(write_favourites))
    assert r.status_code == 403
    read_favourites = await make_token(session, bob, scopes="read:favourites")
    r = await client.get("/api/v1/favourites", headers=auth(read_favourites))
    assert [s["id"] for s in r.json()] == [str(post.id)]
    assert (await client.get("/api/v1/favourites")).status_code == 401
    assert await favourites_of(session, post.id) == (1, 1)
