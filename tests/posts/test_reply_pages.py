"""Replies in the web UI: the thread page, the reply composer with and without htmx."""

from __future__ import annotations

import re

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from chirp.posts import service as posts_service
from chirp.posts.models import Post
from chirp.users.models import User
from tests.factories import make_post, make_user
from tests.web.helpers import csrf, htmx, login, post_ids, read_by

_DEPTHS = re.compile(
    r'<div class="thread-reply thread-depth-(\d+)">\s*<article class="post" id="post-(\d+)"'
)


async def _reply(session: AsyncSession, author: User, to: Post, text: str = "re") -> Post:
    post = await posts_service.create_post(
        session, author=author, text=text, max_length=500, in_reply_to_id=to.id
    )
    await session.commit()
    return post


async def _count(session: AsyncSession) -> int:
    return int((await session.execute(select(func.count()).select_from(Post))).scalar_one())


async def test_thread_page_shows_ancestors_the_post_and_nested_replies_oldest_first(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    ann, ben, cat = [await make_user(session, n) for n in ("ann", "ben", "cat")]
    root = await make_post(session, ann, "the root")
    middle = await _reply(session, ben, root, "the middle")
    first = await _reply(session, cat, middle, "first answer")
    second = await _reply(session, ann, middle, "second answer")
    deep = await _reply(session, ben, first, "deeper")
    r = await client.get(f"/@ben/{middle.id}")
    assert r.status_code == 200
    page = r.text
    # Ancestors above, the post, then its replies depth first, each under what it answers.
    assert post_ids(page) == [root.id, middle.id, first.id, deep.id, second.id]
    assert [(int(d), int(i)) for d, i in _DEPTHS.findall(page)] == [
        (1, first.id),
        (2, deep.id),
        (1, second.id),
    ]
    assert page.index("the root") < page.index('class="card flush post-detail"')
    # Every post shows its reply count (the action row says it in words too).
    assert "Reply, 2 replies" in page and "Reply, 1 reply" in page
    assert "This post was deleted" not in page


async def test_a_deleted_post_in_the_chain_leaves_a_placeholder(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    ann, ben = await make_user(session, "ann"), await make_user(session, "ben")
    root = await make_post(session, ann, "the root")
    reply = await _reply(session, ben, root, "kept reply")
    await login(client, "ann")
    token = await csrf(client, f"/@ann/{root.id}")
    r = await client.post(f"/posts/{root.id}/delete", data={"csrf_token": token})
    assert r.status_code == 303
    r = await client.get(f"/@ben/{reply.id}")
    assert r.status_code == 200
    assert "This post was deleted" in r.text and "kept reply" in r.text
    assert post_ids(r.text) == [reply.id]


async def test_followers_only_replies_are_left_out_for_others(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    ann, ben = await make_user(session, "ann"), await make_user(session, "ben")
    root = await make_post(session, ann, "the root")
    hidden = await posts_service.create_post(
        session,
        author=ben,
        text="for followers",
        max_length=500,
        in_reply_to_id=root.id,
        visibility="private",
    )
    await session.commit()
    r = await client.get(f"/@ann/{root.id}")
    assert "for followers" not in r.text and hidden.id not in post_ids(r.text)


async def test_reply_without_javascript_goes_through_its_page_and_lands_in_the_thread(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    _, root = await read_by(client, session, "the root", reader="ben")
    r = await client.get(f"/posts/{root.id}/reply")
    assert r.status_code == 200
    assert "@ann </textarea>" in r.text  # prefilled with the author's name
    assert f'name="in_reply_to_id" value="{root.id}"' in r.text
    token = await csrf(client, f"/posts/{root.id}/reply")
    data = {"text": "@ann hello", "in_reply_to_id": str(root.id), "csrf_token": token}
    r = await client.post("/posts", data=data)
    assert r.status_code == 303
    reply_id = max((await session.execute(select(Post.id))).scalars())
    assert r.headers["location"] == f"/@ann/{root.id}#post-{reply_id}"
    page = (await client.get(r.headers["location"])).text
    # The answered account is linked, as every mention is.
    linked = '<a href="/@ann" class="u-url mention">@<span>ann</span></a></span>'
    assert "Your reply was sent." in page and f"{linked} hello" in page
    assert post_ids(page) == [root.id, reply_id]
    # A refused reply comes back on its page with what was typed, and stores nothing.
    before = await _count(session)
    data = {"text": "x" * 141, "in_reply_to_id": str(root.id), "csrf_token": token}
    r = await client.post("/posts", data=data)
    assert r.status_code == 422 and "too long" in r.text and "x" * 141 in r.text
    assert await _count(session) == before
    # A reply to a post that is not there (or not yours to see) is a 404 page.
    for target in ("1", "abc"):
        r = await client.post("/posts", data={**data, "text": "hi", "in_reply_to_id": target})
        assert r.status_code == 404
        assert (await client.get(f"/posts/{target}/reply")).status_code == 404
    assert await _count(session) == before


async def test_reply_in_place_with_htmx(client: httpx.AsyncClient, session: AsyncSession) -> None:
    _, root = await read_by(client, session, "the root", reader="ben")
    token = await csrf(client, "/")
    r = await client.get(f"/posts/{root.id}/reply?slot={root.id}", headers=htmx(token))
    assert r.status_code == 200 and "<html" not in r.text
    assert r.text.lstrip().startswith("<form") and f'id="reply-form-{root.id}"' in r.text
    data = {"text": "@ann in place", "in_reply_to_id": str(root.id), "slot": str(root.id)}
    r = await client.post("/posts", data=data, headers=htmx(token))
    assert r.status_code == 200 and "<html" not in r.text
    linked = '<a href="/@ann" class="u-url mention">@<span>ann</span></a></span>'
    assert "Your reply was sent." in r.text and f"{linked} in place" in r.text
    # The post answered gets its action row back with the new count, out of band.
    assert f'id="actions-{root.id}"' in r.text and 'hx-swap-oob="true"' in r.text
    assert "Reply, 1 reply" in r.text
    r = await client.post("/posts", data={**data, "text": " "}, headers=htmx(token))
    assert r.status_code == 422 and r.headers["hx-retarget"] == f"#reply-error-{root.id}"
    # Logged out, the reply link leads to the login page, which comes back to the composer.
    client.cookies.clear()
    page = (await client.get(f"/@ann/{root.id}")).text
    assert f'class="action action-reply" href="/login?next=/%40ann/{root.id}"' in page
    r = await client.get(f"/posts/{root.id}/reply")
    assert r.status_code == 303 and r.headers["location"].startswith("/login?next=")
