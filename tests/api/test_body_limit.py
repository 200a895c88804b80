"""The request body limit: 413 before parsing, streaming, with or without a declared length."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from chirp.config import Settings
from chirp.main import create_app
from chirp.posts.models import Post
from tests.factories import auth, make_token, make_user
from tests.web.helpers import csrf, login

MiB = 2**20
CHUNK = 64 * 1024


async def _posts(session: AsyncSession) -> int:
    return int((await session.execute(select(func.count()).select_from(Post))).scalar_one())


class Stream:
    """A request body of ``size`` bytes that counts how much of it the server read."""

    def __init__(self, size: int, first: bytes = b"") -> None:
        self.size = size
        self.first = first
        self.sent = 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        if self.first:
            self.sent += len(self.first)
            yield self.first
        while self.sent < self.size:  # bounded: size / CHUNK steps at most
            self.sent += CHUNK
            yield b"a" * CHUNK


async def test_declared_oversized_json_is_413_in_mastodon_shape(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    token = await make_token(session, await make_user(session, "alice"))
    r = await client.post("/api/v1/statuses", json={"status": "x" * (2 * MiB)}, headers=auth(token))
    assert r.status_code == 413 and r.json() == {"error": "Payload too large"}
    assert await _posts(session) == 0


async def test_chunked_body_is_cut_off_as_it_arrives(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    token = await make_token(session, await make_user(session, "alice"))
    # 100 MB without a Content-Length (chunked): refused once a little over 1 MiB arrived.
    body = Stream(100 * MiB, first=b'{"status": "')
    headers = {**auth(token), "content-type": "application/json"}
    r = await client.post("/api/v1/statuses", content=body, headers=headers)
    assert r.status_code == 413 and r.json() == {"error": "Payload too large"}
    assert body.sent <= 2 * MiB
    form = Stream(100 * MiB, first=b"status=")
    headers = {**auth(token), "content-type": "application/x-www-form-urlencoded"}
    r = await client.post("/api/v1/statuses", content=form, headers=headers)
    assert r.status_code == 413 and form.sent <= 2 * MiB
    assert await _posts(session) == 0


async def test_multipart_bodies_may_be_larger_up_to_their_own_limit(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    token = await make_token(session, await make_user(session, "alice"))
    # A 5 MB file part fits the multipart limit (media uploads will come this way).
    files = {"status": (None, "with an attachment"), "file": ("a.bin", b"\0" * (5 * MiB))}
    r = await client.post("/api/v1/statuses", files=files, headers=auth(token))
    assert r.status_code == 200, r.text
    files = {"status": (None, "too big"), "file": ("a.bin", b"\0" * (20 * MiB))}
    r = await client.post("/api/v1/statuses", files=files, headers=auth(token))
    assert r.status_code == 413 and r.json() == {"error": "Payload too large"}
    assert await _posts(session) == 1


async def test_web_forms_get_the_error_page(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    await make_user(session, "alice")
    await login(client, "alice")
    token = await csrf(client, "/")
    body = Stream(10 * MiB, first=f"csrf_token={token}&text=".encode())
    headers = {"content-type": "application/x-www-form-urlencoded"}
    r = await client.post("/posts", content=body, headers=headers)
    assert r.status_code == 413 and "Payload too large" in r.text and "<html" in r.text
    assert body.sent <= 2 * MiB
    assert await _posts(session) == 0


async def test_the_limits_are_settings(
    settings: Settings, db: async_sessionmaker[AsyncSession], session: AsyncSession
) -> None:
    token = await make_token(session, await make_user(session, "alice"))
    small = settings.model_copy(update={"max_json_body_bytes": 2048, "max_body_bytes": 4096})
    transport = httpx.ASGITransport(app=create_app(small, session_factory=db))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        r = await client.post("/api/v1/statuses", json={"status": "x" * 3000}, headers=auth(token))
        assert r.status_code == 413
        files = {"status": (None, "hi"), "file": ("a.bin", b"\0" * 3000)}
        r = await client.post("/api/v1/statuses", files=files, headers=auth(token))
        assert r.status_code == 200, r.text
        files = {"status": (None, "hi"), "file": ("a.bin", b"\0" * 5000)}
        r = await client.post("/api/v1/statuses", files=files, headers=auth(token))
        assert r.status_code == 413
