"""Statuses: create in every encoding, limits, idempotency, visibility of errors, delete."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from chirp.posts.models import Post
from tests.factories import auth, make_post, make_token, make_user


async def _count(session: AsyncSession) -> int:
    return int((await session.execute(select(func.count()).select_from(Post))).scalar_one())


@pytest.mark.parametrize("encoding", ["json", "form", "multipart", "query"])
async def test_create_accepts_every_encoding(
    client: httpx.AsyncClient, session: AsyncSession, encoding: str
) -> None:
    token = await make_token(session, await make_user(session, "alice"))
    body = {"status": f"hello via {encoding}"}
    kwargs: dict[str, object] = {
        "json": {"json": body},
        "form": {"data": body},
        "multipart": {"files": {"status": (None, body["status"])}},
        "query": {"params": body},
    }[encoding]
    r = await client.post("/api/v1/statuses", headers=auth(token), **kwargs)  # type: ignore[arg-type]
    assert r.status_code == 200, r.text
    status = r.json()
    assert status["content"] == f"<p>hello via {encoding}</p>"
    assert isinstance(status["id"], str) and status["id"].isdigit()
    assert status["created_at"].endswith("Z") and status["visibility"] == "public"
    assert status["account"]["acct"] == "alice"


async def test_too_long_blank_and_unsupported_are_422_and_store_nothing(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    token = await make_token(session, await make_user(session, "alice"))
    cases = [
        ({"status": "x" * 141}, "Text is too long"),
        ({"status": "  "}, "Text can't be blank"),
        ({"status": "hi", "media_ids[]": "1"}, "Media not found"),  # nobody's upload
        ({"status": "hi", "scheduled_at": "2030-01-01T00:00:00Z"}, "scheduled_at is not"),
    ]
    for data, message in cases:
        r = await client.post("/api/v1/statuses", data=data, headers=auth(token))
        assert r.status_code == 422
        assert r.json()["error"].startswith("Validation failed") and message in r.json()["error"]
    assert await _count(session) == 0


async def test_urls_count_as_23(client: httpx.AsyncClient, session: AsyncSession) -> None:
    token = await make_token(session, await make_user(session, "alice"))
    text = "a" * 116 + " https://example.com/" + "x" * 200  # 116 + 1 + 23 = 140
    r = await client.post("/api/v1/statuses", data={"status": text}, headers=auth(token))
    assert r.status_code == 200


async def test_idempotency_key_gives_one_status(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    token = await make_token(session, await make_user(session, "alice"))
    headers = {**auth(token), "Idempotency-Key": "abc-123"}
    first = await client.post("/api/v1/statuses", data={"status": "once"}, headers=headers)
    second = await client.post("/api/v1/statuses", data={"status": "once"}, headers=headers)
    assert first.json()["id"] == second.json()["id"]
    assert await _count(session) == 1


async def test_auth_and_scope_errors(client: httpx.AsyncClient, session: AsyncSession) -> None:
    alice = await make_user(session, "alice")
    read_only = await make_token(session, alice, scopes="read")
    r = await client.post("/api/v1/statuses", data={"status": "x"})
    assert r.status_code == 401 and r.json() == {"error": "The access token is invalid"}
    r = await client.post("/api/v1/statuses", data={"status": "x"}, headers=auth("bogus"))
    assert r.status_code == 401
    r = await client.post("/api/v1/statuses", data={"status": "x"}, headers=auth(read_only))
    assert r.status_code == 403 and "scope" in r.json()["error"]
    fine_grained = await make_token(session, alice, scopes="write:statuses")
    r = await client.post("/api/v1/statuses", data={"status": "x"}, headers=auth(fine_grained))
    assert r.status_code == 200
    assert await _count(session) == 1


async def test_show_is_public_and_unknown_is_404(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    post = await make_post(session, await make_user(session, "alice"), "public words")
    r = await client.get(f"/api/v1/statuses/{post.id}")
    assert r.status_code == 200 and r.json()["content"] == "<p>public words</p>"
    assert r.json()["favourited"] is None  # no viewer
    for bad in ("999", "abc", "-1"):
        r = await client.get(f"/api/v1/statuses/{bad}")
        assert r.status_code == 404 and r.json() == {"error": "Record not found"}


async def test_delete_own_only_and_returns_source_text(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    alice, bob = await make_user(session, "alice"), await make_user(session, "bob")
    post = await make_post(session, alice, "delete me")
    bob_token, alice_token = await make_token(session, bob), await make_token(session, alice)
    r = await client.delete(f"/api/v1/statuses/{post.id}", headers=auth(bob_token))
    # As Mastodon: none of bob's posts has this id (404, not 403), and nothing changes.
    assert r.status_code == 404 and r.json() == {"error": "Record not found"}
    assert await _count(session) == 1
    shown = await client.get(f"/api/v1/statuses/{post.id}", headers=auth(bob_token))
    assert shown.status_code == 200 and shown.json()["content"] == "<p>delete me</p>"
    r = await client.delete(f"/api/v1/statuses/{post.id}", headers=auth(alice_token))
    assert r.status_code == 200 and r.json()["text"] == "delete me"
    assert await _count(session) == 0
    assert (await client.get(f"/api/v1/statuses/{post.id}")).status_code == 404
