"""A user's posting defaults (source.privacy, source.language) and the locale of sign-up."""

from __future__ import annotations

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from chirp.posts.models import Post
from chirp.users.models import User
from tests.api.helpers import client_token, register_app
from tests.factories import PASSWORD, auth, make_token, make_user, reload
from tests.web.helpers import csrf, login


async def _source(client: httpx.AsyncClient, token: str) -> dict[str, object]:
    r = await client.get("/api/v1/accounts/verify_credentials", headers=auth(token))
    assert r.status_code == 200, r.text
    source: dict[str, object] = r.json()["source"]
    return source


async def test_default_privacy_set_by_api_applies_to_posts_without_visibility(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    ann = await make_user(session, "ann")
    token = await make_token(session, ann)
    source = await _source(client, token)
    assert (source["privacy"], source["language"]) == ("public", None)
    url = "/api/v1/accounts/update_credentials"
    # Forms send source[privacy]; JSON nests it.
    r = await client.patch(url, data={"source[privacy]": "private"}, headers=auth(token))
    assert r.status_code == 200, r.text
    assert r.json()["source"]["privacy"] == "private"
    r = await client.patch(url, json={"source": {"language": "fr"}}, headers=auth(token))
    assert r.json()["source"] == {**r.json()["source"], "privacy": "private", "language": "fr"}
    assert (await _source(client, token))["privacy"] == "private"

    post = await client.post("/api/v1/statuses", data={"status": "hi"}, headers=auth(token))
    assert (post.json()["visibility"], post.json()["language"]) == ("private", "fr")
    # A visibility or language given with the post wins over the defaults.
    other = await client.post(
        "/api/v1/statuses",
        data={"status": "hello", "visibility": "public", "language": "en"},
        headers=auth(token),
    )
    assert (other.json()["visibility"], other.json()["language"]) == ("public", "en")
    # Strangers and visitors do not see the post that took the followers-only default.
    public = (await client.get("/api/v1/timelines/public")).json()
    assert [s["id"] for s in public] == [other.json()["id"]]


async def test_bad_defaults_are_refused_and_change_nothing(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    ann = await make_user(session, "ann")
    token = await make_token(session, ann)
    url = "/api/v1/accounts/update_credentials"
    for body, named in (
        ({"source[privacy]": "direct"}, "cannot be direct"),
        ({"source[privacy]": "friends"}, "privacy"),
        ({"source[language]": "zz", "display_name": "Ann"}, "language"),
        ({"bot": "true"}, "bot"),
        ({"discoverable": "false"}, "discoverable"),
    ):
        r = await client.patch(url, data=body, headers=auth(token))
        assert r.status_code == 422 and named in r.json()["error"], r.text
    fresh = await reload(session, ann)
    assert (fresh.default_privacy, fresh.default_language, fresh.display_name) == (
        "public",
        None,
        "",
    )
    # A token without write:accounts may not change them.
    read_only = await make_token(session, ann, scopes="read")
    r = await client.patch(url, data={"source[privacy]": "private"}, headers=auth(read_only))
    assert r.status_code == 403


async def test_settings_page_sets_the_default_the_composer_starts_with(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    ann = await make_user(session, "ann")
    token = await make_token(session, ann)
    await login(client, "ann")
    assert 'href="/settings"' in (await client.get("/@ann")).text
    form = await csrf(client, "/settings")
    r = await client.post(
        "/settings", data={"privacy": "unlisted", "language": "de", "csrf_token": form}
    )
    assert r.status_code == 303 and r.headers["location"] == "/settings"
    assert '<option value="unlisted" selected>' in (await client.get("/settings")).text
    home = (await client.get("/")).text
    assert '<option value="unlisted" selected>' in home  # the composer's starting choice
    assert (await _source(client, token))["privacy"] == "unlisted"
    assert (await _source(client, token))["language"] == "de"
    # A form without a visibility (an older page, a script) gets the default too.
    token_form = await csrf(client, "/")
    await client.post("/posts", data={"text": "by default", "csrf_token": token_form})
    row = (await session.execute(select(Post.visibility, Post.language))).one()
    assert tuple(row) == ("unlisted", "de")
    r = await client.post("/settings", data={"privacy": "direct", "csrf_token": form})
    assert r.status_code == 422 and "cannot be direct" in r.text
    assert (await reload(session, ann)).default_privacy == "unlisted"


async def test_sign_up_keeps_the_locale(client: httpx.AsyncClient, session: AsyncSession) -> None:
    app = await register_app(client)
    app_token = await client_token(client, app)
    base = {"password": PASSWORD, "agreement": "true"}
    for name, locale, stored in (("ana", "pt-br", "pt-BR"), ("dan", "de", "de")):
        r = await client.post(
            "/api/v1/accounts",
            data={**base, "username": name, "email": f"{name}@example.com", "locale": locale},
            headers=auth(app_token),
        )
        assert r.status_code == 200, r.text
        user = (await session.execute(select(User).where(User.username == name))).scalar_one()
        assert user.locale == stored
    for locale in ("klingon", "xx", "en-QQ"):
        r = await client.post(
            "/api/v1/accounts",
            data={**base, "username": "eve", "email": "eve@example.com", "locale": locale},
            headers=auth(app_token),
        )
        assert r.status_code == 422 and "locale" in r.json()["error"], r.text
    assert (await session.execute(select(User).where(User.username == "eve"))).first() is None


async def test_update_credentials_answers_other_methods_with_405_naming_patch(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    ann = await make_user(session, "ann")
    token = await make_token(session, ann)
    r = await client.put("/api/v1/accounts/update_credentials", headers=auth(token))
    assert r.status_code == 405 and r.headers["allow"] == "PATCH"
    # Account ids are still read as before, and a name that is no id is still not found.
    assert (await client.get(f"/api/v1/accounts/{ann.id}")).json()["username"] == "ann"
    assert (await client.get("/api/v1/accounts/ann")).status_code == 404
