"""Liking in the web UI: in place with htmx (the action row answered), as plain forms (back to
the page, at the post), logged out (to the login page), and the page of the posts you liked."""

from __future__ import annotations

import re

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from tests.factories import make_post
from tests.likes.helpers import ann_posts, favourites_of, people, private_post, repost, signed_in
from tests.web.helpers import csrf, htmx, login, post_ids

_MORE = re.compile(r'hx-get="(/likes\?max_id=\d+)"')


def _row(html: str, item_id: int) -> str:
    assert html.startswith(f'<div class="post-actions" id="actions-{item_id}"'), html[:200]
    assert "<html" not in html
    return html


async def test_like_and_unlike_in_place_with_htmx(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    _, post = await ann_posts(session, "like me on the web")
    token = await signed_in(client, "bob")
    form = {"next": "/", "item": str(post.id)}

    r = await client.post(f"/posts/{post.id}/like", data=form, headers=htmx(token))
    row = _row(r.text, post.id)
    assert f'action="/posts/{post.id}/unlike"' in row and 'aria-pressed="true"' in row
    assert ">1</span>" in row  # the count beside the heart
    again = await client.post(f"/posts/{post.id}/like", data=form, headers=htmx(token))
    assert again.text == r.text
    assert await favourites_of(session, post.id) == (1, 1)
    # The home page shows it liked, with its count.
    home = (await client.get("/")).text
    assert f'id="like-{post.id}" data-focus="like" aria-pressed="true"' in home

    r = await client.post(f"/posts/{post.id}/unlike", data=form, headers=htmx(token))
    row = _row(r.text, post.id)
    assert f'action="/posts/{post.id}/like"' in row and 'aria-pressed="false"' in row
    assert await favourites_of(session, post.id) == (0, 0)


async def test_like_and_unlike_as_plain_forms_go_back_to_the_post(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    _, post = await ann_posts(session, "no javascript here")
    token = await signed_in(client, "bob")
    data = {"csrf_token": token, "next": "/@ann", "item": str(post.id)}
    r = await client.post(f"/posts/{post.id}/like", data=data)
    assert r.status_code == 303 and r.headers["location"] == f"/@ann#post-{post.id}"
    page = (await client.get("/@ann")).text
    assert f'action="/posts/{post.id}/unlike"' in page
    assert await favourites_of(session, post.id) == (1, 1)
    # Another site as ``next`` is not followed: back to the author instead.
    data["next"] = "https://evil.example/"
    r = await client.post(f"/posts/{post.id}/unlike", data=data)
    assert r.status_code == 303 and r.headers["location"] == f"/@ann#post-{post.id}"
    assert await favourites_of(session, post.id) == (0, 0)


async def test_liking_a_repost_in_a_list_answers_with_the_repost_row(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    world = await people(session)
    original = await make_post(session, world.users["dan"], "shared by ann")
    shared = await repost(session, world.users["ann"], original)
    token = await signed_in(client, "bob")
    # The form names the original; the row it answers is the repost's (its id in the list).
    r = await client.post(
        f"/posts/{original.id}/like", data={"item": str(shared.id)}, headers=htmx(token)
    )
    row = _row(r.text, shared.id)
    assert f'action="/posts/{original.id}/unlike"' in row
    assert await favourites_of(session, original.id) == (1, 1)
    # An item that is no row of this post gets the post's own row.
    r = await client.post(f"/posts/{original.id}/unlike", data={"item": "123"}, headers=htmx(token))
    _row(r.text, original.id)
    assert await favourites_of(session, original.id) == (0, 0)


async def test_hidden_posts_are_not_found_and_logged_out_visitors_go_to_login(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    world = await people(session)
    hidden = await private_post(session, world.users["ann"], "followers only")
    public = await make_post(session, world.users["ann"], "for all")
    # Logged out: the heart is a link to the login page, coming back here.
    page = (await client.get("/@ann")).text
    assert 'class="action action-like" href="/login?next=/%40ann"' in page
    token = await csrf(client, "/@ann")
    r = await client.post(f"/posts/{public.id}/like", data={"csrf_token": token})
    assert r.status_code == 303 and r.headers["location"].startswith("/login?next=")
    await login(client, "dan")
    token = await csrf(client, "/")
    for path in (f"/posts/{hidden.id}/like", "/posts/12345/like", "/posts/nope/like"):
        r = await client.post(path, data={"csrf_token": token})
        assert r.status_code == 404 and "This post doesn" in r.text, path
    assert await favourites_of(session, hidden.id) == (0, 0)


async def test_the_likes_page_lists_liked_posts_newest_like_first_with_load_more(
    make_app: object, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    world = await people(session)
    posts = [await make_post(session, world.users["ann"], f"post {i}") for i in range(5)]
    await login(client, "bob")
    empty = (await client.get("/likes")).text
    assert "No likes yet" in empty and 'href="/likes" aria-current="page"' in empty
    token = await csrf(client, "/")
    order = [3, 0, 4, 2, 1]
    for i in order:
        await client.post(f"/posts/{posts[i].id}/like", data={"item": ""}, headers=htmx(token))
    expected = [posts[i].id for i in reversed(order)]

    page = (await client.get("/likes")).text
    # Twenty per page by default: all five, newest like first, each shown liked.
    assert post_ids(page) == expected
    assert page.count('aria-pressed="true"') == 5
    assert "Load more" not in page

    # Three per page: "Load more" goes on by like id, and Back restores what was loaded.
    app = await make_app(page_size=3)  # type: ignore[operator]
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver"
    ) as small:
        await login(small, "bob")
        first = (await small.get("/likes")).text
        assert post_ids(first) == expected[:3]
        more = _MORE.search(first)
        assert more, first
        rest = (await small.get(more.group(1), headers={"HX-Request": "true"})).text
        assert "<html" not in rest and post_ids(rest) == expected[3:]
        # After "Load more" the address says ?until=<last post shown>: every page again.
        restored = (await small.get(f"/likes?until={expected[3]}")).text
        assert post_ids(restored) == expected[:4]
        # A post unliked since then: the newest page.
        assert post_ids((await small.get("/likes?until=12345")).text) == expected[:3]

    # Unliked posts leave the list; other people's likes are theirs.
    await client.post(f"/posts/{posts[1].id}/unlike", data={"item": ""}, headers=htmx(token))
    assert post_ids((await client.get("/likes")).text) == expected[1:]
    client.cookies.clear()
    await login(client, "cat")
    assert post_ids((await client.get("/likes")).text) == []
    client.cookies.clear()
    r = await client.get("/likes")
    assert r.status_code == 303 and r.headers["location"] == "/login?next=%2Flikes"
