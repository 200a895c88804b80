"""Hostile input to the API: refused with 4xx naming what was wrong, and nothing stored."""

from __future__ import annotations

import json

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from chirp.posts.models import Post
from chirp.users.models import User
from tests.api.helpers import client_token, register_app
from tests.factories import PASSWORD, auth, make_post, make_token, make_user

# The same digits in another script: str.isdigit() says yes, and int() reads them.
ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")


async def _count(session: AsyncSession, model: type[Post] | type[User]) -> int:
    return int((await session.execute(select(func.count()).select_from(model))).scalar_one())


def _names(r: httpx.Response, field: str) -> None:
    """The answer is a 422 in Mastodon's shape that names ``field``."""
    assert r.status_code == 422, r.text
    error = r.json()
    assert error["error"].startswith("Validation failed")
    assert field in error["error"] or field in error.get("details", {}), error


async def test_ids_in_paths_are_ascii_digits_in_range_or_not_found(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    alice = await make_user(session, "alice")
    post = await make_post(session, alice, "find me")
    assert (await client.get(f"/api/v1/statuses/{post.id}")).status_code == 200
    for raw in ("%C2%B9", "①", str(post.id).translate(ARABIC_INDIC), f"+{post.id}", "9" * 5000):
        for path in (f"/api/v1/statuses/{raw}", f"/api/v1/accounts/{raw}"):
            r = await client.get(path)
            assert r.status_code == 404, (path, r.status_code)
            assert r.json() == {"error": "Record not found"}
    assert (await client.get(f"/api/v1/statuses/{2**63}")).status_code == 404


@pytest.mark.parametrize("cursor", ["max_id", "since_id", "min_id"])
async def test_cursors_are_ascii_digits_in_range_or_422(
    client: httpx.AsyncClient, session: AsyncSession, cursor: str
) -> None:
    alice = await make_user(session, "alice")
    token = await make_token(session, alice)
    post = await make_post(session, alice, "one")
    for raw in ("①", "¹", str(post.id + 1).translate(ARABIC_INDIC), str(2**63), "1_0", " 5"):
        for path in ("/api/v1/timelines/public", "/api/v1/timelines/home"):
            r = await client.get(path, params={cursor: raw}, headers=auth(token))
            _names(r, cursor)


async def test_limit_offset_and_id_lists_are_parsed_or_422(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    alice, bob = await make_user(session, "alice"), await make_user(session, "bob")
    token = await make_token(session, alice)
    for raw in ("²", "١٢", str(2**63), "1e3", "-1"):
        _names(await client.get("/api/v1/directory", params={"offset": raw}), "offset")
        _names(await client.get("/api/v1/directory", params={"limit": raw}), "limit")
        _names(await client.get("/api/v1/timelines/public", params={"limit": raw}), "limit")
        r = await client.get(
            "/api/v1/accounts/relationships",
            params={"id[]": [str(bob.id), raw]},
            headers=auth(token),
        )
        _names(r, "id")
    # Read as numbers by int() but not written as one: said so, not just "not valid".
    for raw in ("١٢", "1_0", " 5", "+5"):
        r = await client.get("/api/v1/directory", params={"limit": raw})
        _names(r, "limit")
        assert r.json()["error"] == "Validation failed: limit must be a whole number", raw
    _names(await client.get("/api/v1/directory", params={"offset": str(2**63 + 1)}), "offset")
    # In range they work, and a large limit is clamped as Mastodon does.
    r = await client.get("/api/v1/directory", params={"offset": "1", "limit": str(2**62)})
    assert r.status_code == 200 and len(r.json()) == 1
    r = await client.get(
        "/api/v1/accounts/relationships", params={"id[]": [str(bob.id)]}, headers=auth(token)
    )
    assert r.status_code == 200 and [rel["id"] for rel in r.json()] == [str(bob.id)]


@pytest.mark.parametrize("bad", ["a\u0000b", "\ud800", "ok \udfff"])
async def test_nul_and_lone_surrogates_in_a_post_are_422_and_store_nothing(
    client: httpx.AsyncClient, session: AsyncSession, bad: str
) -> None:
    token = await make_token(session, await make_user(session, "alice"))
    body = json.dumps({"status": bad})  # \u escapes: valid JSON carrying unstorable text
    headers = {**auth(token), "content-type": "application/json"}
    _names(await client.post("/api/v1/statuses", content=body, headers=headers), "status")
    if "\u0000" in bad:
        r = await client.post("/api/v1/statuses", data={"status": bad}, headers=auth(token))
        _names(r, "status")
    assert await _count(session, Post) == 0


async def test_unstorable_text_anywhere_in_the_api_is_422_naming_the_field(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    token = await make_token(session, await make_user(session, "alice"), "read write follow")
    _names(await client.get("/api/v1/accounts/lookup", params={"acct": "\u0000"}), "acct")
    app = await register_app(client)
    app_token = await client_token(client, app)
    json_headers = {**auth(app_token), "content-type": "application/json"}
    registration = {"username": "newbie", "email": "n@example.com", "password": PASSWORD}
    # Sign-ups are limited to 5 per IP: one bad value per field.
    for field, bad, why in [
        ("username", "x\u0000y", "must not contain NUL characters"),
        ("email", "\ud800", "should be a valid string"),
        ("password", "pass\u0000word", "must not contain NUL characters"),
    ]:
        body = json.dumps({**registration, field: bad, "agreement": True})
        r = await client.post("/api/v1/accounts", content=body, headers=json_headers)
        _names(r, field)
        assert why in r.json()["error"]
    users_before = await _count(session, User)
    apps = [
        ({"client_name": "a\u0000", "redirect_uris": "urn:ietf:wg:oauth:2.0:oob"}, "client_name"),
        ({"client_name": "a", "redirect_uris": ["\ud800"]}, "redirect_uris"),
        (
            {"client_name": "a", "redirect_uris": "urn:ietf:wg:oauth:2.0:oob", "website": "\x00"},
            "website",
        ),
    ]
    for body_fields, field in apps:
        r = await client.post(
            "/api/v1/apps",
            content=json.dumps(body_fields),
            headers={"content-type": "application/json"},
        )
        _names(r, field)
    grants = [
        {"grant_type": "authorization_code", "code": "\ud800"},
        {"grant_type": "password", "username": "alice\u0000", "password": PASSWORD},
        {"grant_type": "password", "username": "alice", "password": "\ud800"},
    ]
    for grant in grants:
        body = json.dumps(
            {**grant, "client_id": app["client_id"], "client_secret": app["client_secret"]}
        )
        r = await client.post(
            "/oauth/token", content=body, headers={"content-type": "application/json"}
        )
        assert r.status_code == 422, r.text
    r = await client.post(
        "/api/v1/statuses",
        data={"status": "keyed"},
        headers={**auth(token), "Idempotency-Key": "k\u0000"},
    )
    _names(r, "idempotency-key")
    assert await _count(session, User) == users_before
    assert await _count(session, Post) == 0


async def test_long_urls_cannot_smuggle_a_huge_post(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    token = await make_token(session, await make_user(session, "alice"))
    # Counted as 23 characters whatever its length: bounded as raw text, and as a link.
    for text, message in [
        ("https://e.example/" + "a" * 50_000, "Text is too long"),
        ("see https://e.example/" + "a" * 2_100, "A link is too long"),
    ]:
        r = await client.post("/api/v1/statuses", json={"status": text}, headers=auth(token))
        _names(r, "status")
        assert message in r.json()["error"]
    # Megabytes of it are refused before the app reads them (the request body limit).
    r = await client.post(
        "/api/v1/statuses",
        json={"status": "https://e.example/" + "a" * 5_000_000},
        headers=auth(token),
    )
    assert r.status_code == 413 and r.json() == {"error": "Payload too large"}
    assert await _count(session, Post) == 0
    # A long link in a short post is still fine.
    r = await client.post(
        "/api/v1/statuses",
        json={"status": "see https://e.example/" + "a" * 1_000},
        headers=auth(token),
    )
    assert r.status_code == 200, r.text


async def test_deeply_nested_json_is_400(client: httpx.AsyncClient, session: AsyncSession) -> None:
    token = await make_token(session, await make_user(session, "alice"))
    headers = {**auth(token), "content-type": "application/json"}
    for body in ('{"status": "hi", "x": ' + "[" * 5000 + "]" * 5000 + "}", "[" * 5000):
        r = await client.post("/api/v1/statuses", content=body, headers=headers)
        assert r.status_code == 400 and "nested" in r.json()["error"]
    # Brackets inside strings are text, not nesting.
    r = await client.post("/api/v1/statuses", json={"status": "[" * 100}, headers=auth(token))
    assert r.status_code == 200, r.text
    assert await _count(session, Post) == 1


async def test_non_ascii_client_secrets_are_refused_not_a_500(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    app = await register_app(client)
    for secret in ("\xe9", "sécret"):
        r = await client.post(
            "/oauth/token",
            data={
                "grant_type": "client_credentials",
                "client_id": app["client_id"],
                "client_secret": secret,
            },
        )
        assert r.status_code == 401 and r.json()["error"] == "invalid_client"


async def test_method_not_allowed_lists_every_method_of_the_path(
    client: httpx.AsyncClient,
) -> None:
    # GET and DELETE are two routes at one path: Starlette named only the first one's.
    r = await client.request("PUT", "/api/v1/statuses/1")
    assert r.status_code == 405 and r.json() == {"error": "Method not allowed"}
    assert {m.strip() for m in r.headers["allow"].split(",")} >= {"GET", "DELETE"}
