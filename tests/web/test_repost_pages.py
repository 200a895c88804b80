"""Reposting, undoing and quoting in the web UI: in place with htmx, and as plain forms."""

from __future__ import annotations

import re

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from chirp.follows import service as follows_service
from chirp.posts.models import Post
from tests.factories import make_post, make_user
from tests.web.helpers import csrf, htmx, login, read_by


async def _reposts(session: AsyncSession) -> int:
    stmt = select(func.count()).select_from(Post).where(Post.reblog_of_id.is_not(None))
    return int((await session.execute(stmt)).scalar_one())


async def test_repost_and_undo_in_place_with_htmx(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    ann, bob, cat = [await make_user(session, n) for n in ("ann", "bob", "cat")]
    await follows_service.follow(session, follower=cat, followee=bob)
    await session.commit()
    post = await make_post(session, ann, "pass it on")
    await login(client, "bob")
    token = await csrf(client, "/")
    r = await client.post(
        f"/posts/{post.id}/repost",
        headers={
            **htmx(token),
            "HX-Target": f"actions-{post.id}",
            "HX-Current-URL": "http://testserver/",
        },
    )
    assert r.status_code == 200, r.text
    assert "<html" not in r.text
    assert r.text.lstrip().startswith(f'<div class="post-actions" id="actions-{post.id}"')
    assert f'action="/posts/{post.id}/unrepost"' in r.text and "Undo repost" in r.text
    assert "reposted by you" in r.text and 'data-refocus="repost-' in r.text
    assert await _reposts(session) == 1
    # Again: nothing more.
    await client.post(f"/posts/{post.id}/repost", headers=htmx(token))
    assert await _reposts(session) == 1

    # cat follows bob: the repost is on her home page, "bob reposted", the original inside.
    client.cookies.clear()
    await login(client, "cat")
    home = (await client.get("/")).text
    assert "pass it on" in home and re.search(r">bob</a> reposted", home)
    wrapper_id = re.search(r'id="post-(\d+)"', home)
    assert wrapper_id and int(wrapper_id.group(1)) != post.id

    # bob undoes it from his own home page, on the row of his repost: the row turns back
    # and "You reposted" goes (out of band).
    client.cookies.clear()
    await login(client, "bob")
    page = (await client.get("/")).text
    assert "You</a> reposted" in page
    token = await csrf(client, "/")
    item = wrapper_id.group(1)
    r = await client.post(
        f"/posts/{post.id}/unrepost", headers={**htmx(token), "HX-Target": f"actions-{item}"}
    )
    assert r.status_code == 200
    assert f'id="actions-{item}"' in r.text and f'action="/posts/{post.id}/repost"' in r.text
    assert f'id="repost-context-{item}" hx-swap-oob="delete"' in r.text
    assert await _reposts(session) == 0
    client.cookies.clear()
    await login(client, "cat")
    assert "pass it on" not in (await client.get("/")).text


async def test_repost_without_javascript_goes_back_to_next(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    ann, post = await read_by(client, session, "plain forms work", reader="bob")
    token = await csrf(client, f"/@ann/{post.id}")
    r = await client.post(
        f"/posts/{post.id}/repost", data={"csrf_token": token, "next": f"/@ann/{post.id}"}
    )
    assert r.status_code == 303 and r.headers["location"] == f"/@ann/{post.id}"
    page = (await client.get(f"/@ann/{post.id}")).text
    assert "You reposted it." in page and "Undo repost" in page
    r = await client.post(
        f"/posts/{post.id}/unrepost", data={"csrf_token": token, "next": "https://evil.example/"}
    )
    assert r.status_code == 303 and r.headers["location"].startswith("/")
    assert await _reposts(session) == 0
    # A post that does not exist, or one hidden from the reader: 404, nothing stored.
    r = await client.post("/posts/4242/repost", data={"csrf_token": token})
    assert r.status_code == 404
    private = await make_post(session, ann, "x")
    private.visibility = "private"
    await session.commit()
    r = await client.post(f"/posts/{private.id}/repost", data={"csrf_token": token})
    assert r.status_code == 404
    assert await _reposts(session) == 0


async def test_quote_composer_shows_the_card_and_posts_the_quote(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    _, post = await read_by(client, session, "quote me if you dare", reader="bob")
    page = await client.get(f"/posts/{post.id}/quote")
    assert page.status_code == 200
    assert f'name="quoted_status_id" value="{post.id}"' in page.text
    assert 'class="quote-card"' in page.text and "quote me if you dare" in page.text
    assert 'name="quote_approval_policy"' in page.text
    token = await csrf(client, f"/posts/{post.id}/quote")
    r = await client.post(
        "/posts",
        data={
            "text": "I dare",
            "quoted_status_id": str(post.id),
            "quote_approval_policy": "nobody",
            "csrf_token": token,
        },
    )
    assert r.status_code == 303, r.text
    shown = (await client.get(r.headers["location"])).text
    assert "I dare" in shown and 'class="quote-card"' in shown and "quote me if you dare" in shown
    quote = (await session.execute(select(Post).where(Post.quote_of_id == post.id))).scalar_one()
    assert quote.quote_approval_policy == "nobody"
    # ann's post now counts the quote; bob's own post may be quoted by nobody but bob.
    await session.refresh(post)
    assert post.quotes_count == 1
    client.cookies.clear()
    await login(client, "ann")
    refused = await client.get(f"/posts/{quote.id}/quote")
    assert refused.status_code == 403 and "does not allow you to quote" in refused.text
    # An empty quote keeps the composer with its error and the card.
    client.cookies.clear()
    await login(client, "bob")
    token = await csrf(client, f"/posts/{post.id}/quote")
    r = await client.post(
        "/posts", data={"text": " ", "quoted_status_id": str(post.id), "csrf_token": token}
    )
    assert r.status_code == 422 and "blank" in r.text and 'class="quote-card"' in r.text
