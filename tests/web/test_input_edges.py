"""Hostile input to the web pages: a 404 or a form error, never a server error."""

from __future__ import annotations

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from chirp.posts.models import Post
from chirp.users.models import User
from tests.factories import PASSWORD, make_post, make_user
from tests.web.helpers import csrf, htmx, login

ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")


async def _count(session: AsyncSession, model: type[Post] | type[User]) -> int:
    return int((await session.execute(select(func.count()).select_from(model))).scalar_one())


async def test_bad_ids_and_names_in_paths_are_404(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    alice = await make_user(session, "alice")
    post = await make_post(session, alice, "here")
    assert (await client.get(f"/@alice/{post.id}")).status_code == 200
    paths = [
        "/@alice/¹",
        "/@alice/%C2%B9",
        f"/@alice/{str(post.id).translate(ARABIC_INDIC)}",
        f"/@alice/{2**63}",
        "/@%00",
        "/@a%00b/followers",
        "/@alice?max_id=①",
        f"/?max_id={'9' * 5000}",
        "/@alice/followers?max_id=²",
    ]
    for path in paths:
        r = await client.get(path)
        assert r.status_code == 404, (path, r.status_code)
        assert "<html" in r.text


async def test_pages_past_any_sane_offset_are_refused(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    await make_user(session, "alice")
    for page in (str(2**63), str(2**64), "99999999", "²", "0"):
        r = await client.get("/users", params={"page": page})
        assert r.status_code == 422 and "page" in r.text, page
    assert (await client.get("/users?page=2")).status_code == 200


async def test_unstorable_text_in_forms_is_a_form_error_naming_the_field(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    await make_user(session, "alice")
    token = await csrf(client, "/signup")
    form = {"username": "newbie", "email": "n@example.com", "password": PASSWORD}
    for field in ("username", "email", "password", "display_name"):
        r = await client.post("/signup", data={**form, field: "a\u0000b", "csrf_token": token})
        # Named as the form labels it ("display name"), in a sentence.
        said = f"The “{field.replace('_', ' ')}” field must not contain NUL characters."
        assert r.status_code == 422 and said in r.text, field
    assert await _count(session, User) == 1
    r = await client.post(
        "/login", data={"login": "alice\u0000", "password": PASSWORD, "csrf_token": token}
    )
    assert r.status_code == 422 and "login" in r.text
    await login(client, "alice")
    token = await csrf(client, "/")
    r = await client.post("/posts", data={"text": "a\u0000b", "csrf_token": token})
    assert r.status_code == 422 and "text" in r.text
    r = await client.post("/posts", data={"text": "a\u0000b"}, headers=htmx(token))
    assert r.status_code == 422 and "data-error-message" in r.text
    r = await client.post("/@b%00b/follow", headers=htmx(token))
    assert r.status_code == 404
    assert await _count(session, Post) == 0


async def test_non_ascii_in_signed_cookies_and_tokens_is_refused_not_a_500(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    await make_user(session, "alice")
    # Headers and cookies arrive as Latin-1: "é" is a byte a client may send in either.
    r = await client.get("/", headers={"cookie": "chirp_flash=x.\xe9".encode("latin-1")})
    assert r.status_code == 200 and "x.\xe9" not in r.text
    await login(client, "alice")
    r = await client.post(
        "/posts",
        data={"text": "forged"},
        headers={"x-csrf-token": "\xe9".encode("latin-1"), "hx-request": "true"},
    )
    assert r.status_code == 403
    assert await _count(session, Post) == 0
