"""Content warnings, the sensitive flag and the language: stored, returned and shown."""

from __future__ import annotations

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from chirp.posts.models import Post
from tests.factories import auth, make_token, make_user
from tests.web.helpers import csrf, login


async def test_content_warning_sensitive_and_language_round_trip(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    ann = await make_user(session, "ann")
    bob = await make_user(session, "bob")
    token, bob_token = await make_token(session, ann), await make_token(session, bob)
    await client.post(f"/api/v1/accounts/{ann.id}/follow", headers=auth(bob_token))
    r = await client.post(
        "/api/v1/statuses",
        json={"status": "the ending, explained", "spoiler_text": "Film spoilers", "language": "EN"},
        headers=auth(token),
    )
    assert r.status_code == 200, r.text
    created = r.json()
    # A warning makes the post sensitive, as on Mastodon; the language is stored in lower case.
    assert (created["spoiler_text"], created["sensitive"], created["language"]) == (
        "Film spoilers",
        True,
        "en",
    )
    plain = await client.post(
        "/api/v1/statuses", data={"status": "no warning", "sensitive": "true"}, headers=auth(token)
    )
    assert plain.json()["sensitive"] is True and plain.json()["spoiler_text"] == ""
    assert plain.json()["language"] is None  # no language given and no default set
    # The same fields wherever the post is read (the home timeline twice: the second read is
    # served from the Redis post cache on that backend).
    wanted = {
        created["id"]: ("Film spoilers", True, "en"),
        plain.json()["id"]: ("", True, None),
    }
    reads = [
        (f"/api/v1/statuses/{created['id']}", None),
        ("/api/v1/timelines/public", None),
        (f"/api/v1/accounts/{ann.id}/statuses", None),
        ("/api/v1/timelines/home", bob_token),
        ("/api/v1/timelines/home", bob_token),
    ]
    for url, reader in reads:
        body = (await client.get(url, headers=auth(reader) if reader else {})).json()
        statuses = body if isinstance(body, list) else [body]
        for status in statuses:
            got = (status["spoiler_text"], status["sensitive"], status["language"])
            assert got == wanted[status["id"]], url

    # On the web, the warning shows and the text waits behind "Show more" (no script needed).
    page = (await client.get(f"/@ann/{created['id']}")).text
    assert '<details class="post-cw">' in page
    summary = page[page.index("<summary>") : page.index("</summary>")]
    assert "Film spoilers" in summary and "Show more" in summary
    assert "the ending, explained" not in summary
    assert 'lang="en"' in page
    title = page[page.index("<title>") : page.index("</title>")]
    assert "Film spoilers" in title and "the ending" not in title


async def test_bad_language_and_long_warning_are_refused(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    ann = await make_user(session, "ann")
    token = await make_token(session, ann)
    for body, named in (
        ({"status": "hi", "language": "xx"}, "language"),
        ({"status": "hi", "language": "english"}, "language"),
        ({"status": "hi", "spoiler_text": "w" * 141}, "Content warning"),
    ):
        r = await client.post("/api/v1/statuses", data=body, headers=auth(token))
        assert r.status_code == 422 and named in r.json()["error"], r.text
    count = (await session.execute(select(func.count()).select_from(Post))).scalar_one()
    assert count == 0


async def test_web_composer_sends_a_content_warning(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    await make_user(session, "ann")
    await login(client, "ann")
    token = await csrf(client, "/")
    assert 'name="spoiler_text"' in (await client.get("/")).text
    r = await client.post(
        "/posts", data={"text": "hidden text", "spoiler_text": "Politics", "csrf_token": token}
    )
    assert r.status_code == 303
    home = (await client.get("/")).text
    assert '<details class="post-cw">' in home and "Politics" in home
    row = (await session.execute(select(Post.spoiler_text, Post.sensitive))).one()
    assert tuple(row) == ("Politics", True)


async def test_an_accounts_last_status_day_follows_its_posts_and_reposts_not_messages(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    people = {name: await make_user(session, name) for name in ("ann", "bob", "cat")}
    tokens = {name: await make_token(session, user) for name, user in people.items()}

    async def last_status_at(name: str) -> str | None:
        r = await client.get(f"/api/v1/accounts/{people[name].id}")
        assert r.status_code == 200, r.text
        return r.json()["last_status_at"]  # type: ignore[no-any-return]

    assert [await last_status_at(n) for n in people] == [None, None, None]
    post = await client.post(
        "/api/v1/statuses", data={"status": "first"}, headers=auth(tokens["ann"])
    )
    day = post.json()["created_at"][:10]  # Mastodon gives the day only
    # The answer to the post shows its author as the post left them.
    assert post.json()["account"]["last_status_at"] == day
    assert post.json()["account"]["statuses_count"] == 1
    shared = await client.post(
        f"/api/v1/statuses/{post.json()['id']}/reblog", headers=auth(tokens["bob"])
    )
    assert shared.status_code == 200
    # A direct message is nobody else's business: it moves no count and no date.
    dm = await client.post(
        "/api/v1/statuses",
        data={"status": "@ann between us", "visibility": "direct"},
        headers=auth(tokens["cat"]),
    )
    assert dm.status_code == 200
    assert [await last_status_at(n) for n in people] == [day, day, None]
