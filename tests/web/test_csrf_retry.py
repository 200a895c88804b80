"""A form whose CSRF token went stale keeps what was typed and can be sent again; htmx gets a
fresh token to retry with. A form forged by another site is still refused outright."""

from __future__ import annotations

import html
import re

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from chirp.pagination import Cursor
from chirp.posts import service as posts_service
from chirp.users import service as users_service
from tests.factories import PASSWORD, make_user
from tests.web.helpers import csrf, htmx, login

HERE = {"Origin": "http://testserver"}
DRAFT = 'A long draft <with> "quotes" & care, typed before lunch'


def _retry_form(page: str) -> tuple[str, dict[str, str]]:
    form = re.search(
        r'<form method="post" action="([^"]+)"[^>]*data-csrf-retry>(.*?)</form>', page, re.S
    )
    assert form, "no form to send again"
    fields = {
        name: html.unescape(value)
        for name, value in re.findall(r'<input[^>]*name="([^"]+)" value="([^"]*)"', form.group(2))
    }
    for name, value in re.findall(
        r'<textarea[^>]*name="([^"]+)"[^>]*>(.*?)</textarea>', form.group(2), re.S
    ):
        fields[name] = html.unescape(value)
    return form.group(1), fields


async def _lose_the_csrf_cookie(client: httpx.AsyncClient) -> str:
    """Load the home page for its token, then lose the cookie it belongs to (as a browser that
    cleared it, or a page left open across a change of server key, would)."""
    token = await csrf(client, "/")
    client.cookies.delete("chirp_csrf")
    return token


async def test_an_expired_composer_form_keeps_the_draft_to_send_again(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    author = await make_user(session, "writer")
    await login(client, "writer")
    stale = await _lose_the_csrf_cookie(client)
    r = await client.post("/posts", data={"text": DRAFT, "csrf_token": stale}, headers=HERE)
    assert r.status_code == 403
    assert "We kept what you typed" in r.text and "CSRF check" not in r.text
    action, fields = _retry_form(r.text)
    assert action == "/posts" and fields["text"] == DRAFT
    assert fields["csrf_token"] != stale and fields["csrf_token"] == r.headers["x-csrf-token"]
    assert "chirp_csrf" in r.cookies  # the fresh token's cookie came with it
    posts = await posts_service.by_author(
        session, author_id=author.id, cursor=Cursor(limit=5), viewer=author
    )
    assert posts == []  # nothing was sent the first time
    r = await client.post(action, data=fields, headers=HERE)  # "Send again"
    assert r.status_code == 303
    posts = await posts_service.by_author(
        session, author_id=author.id, cursor=Cursor(limit=5), viewer=author
    )
    assert [p.text for p in posts] == [DRAFT]


async def test_an_expired_sign_up_form_keeps_everything_but_the_password(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    stale = await csrf(client, "/signup")
    client.cookies.delete("chirp_csrf")
    typed = {"username": "late", "email": "late@example.com", "display_name": "Late Comer"}
    r = await client.post(
        "/signup", data={**typed, "password": PASSWORD, "csrf_token": stale}, headers=HERE
    )
    assert r.status_code == 403 and PASSWORD not in r.text
    action, fields = _retry_form(r.text)
    assert action == "/signup"
    assert {k: fields[k] for k in typed} == typed
    assert re.search(r'<input id="retry-password" name="password" type="password" required', r.text)
    assert "password" not in fields  # the person types it again
    r = await client.post(action, data={**fields, "password": PASSWORD}, headers=HERE)
    assert r.status_code == 303
    assert await users_service.get_by_username(session, "late") is not None


async def test_htmx_gets_a_fresh_token_to_retry_with(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    await make_user(session, "writer")
    await login(client, "writer")
    stale = await _lose_the_csrf_cookie(client)
    r = await client.post("/posts", data={"text": DRAFT}, headers=htmx(stale))
    assert r.status_code == 403 and "data-error-message" in r.text
    fresh = r.headers["x-csrf-token"]
    r = await client.post("/posts", data={"text": DRAFT}, headers=htmx(fresh))
    assert r.status_code == 200 and DRAFT in html.unescape(r.text)


async def test_a_form_forged_by_another_site_is_not_offered_back(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    author = await make_user(session, "victim")
    await login(client, "victim")
    await csrf(client, "/")
    for headers in ({"Origin": "https://evil.example"}, {}):
        r = await client.post("/posts", data={"text": "spam from elsewhere"}, headers=headers)
        assert r.status_code == 403
        assert "spam from elsewhere" not in r.text and "data-csrf-retry" not in r.text
        assert "x-csrf-token" not in r.headers
    posts = await posts_service.by_author(
        session, author_id=author.id, cursor=Cursor(limit=5), viewer=author
    )
    assert posts == []
