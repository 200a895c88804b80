"""HEAD answers wherever GET does, with GET's status and headers and no body."""

from __future__ import annotations

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from tests.factories import auth, make_post, make_token, make_user


async def test_head_answers_where_get_does(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    alice = await make_user(session, "alice")
    post = await make_post(session, alice, "hello from alice")
    token = await make_token(session, alice)
    paths = [
        "/",
        "/health",
        "/@alice",
        f"/api/v1/accounts/{alice.id}",
        f"/api/v1/statuses/{post.id}",
        "/api/v1/timelines/public",
        "/api/v1/instance",
    ]
    for path in paths:
        get = await client.get(path)
        head = await client.head(path)
        assert get.status_code == 200, path
        assert head.status_code == 200, path
        assert head.content == b"", path
        assert head.headers["content-type"] == get.headers["content-type"], path
    # Authenticated, and a miss: the same status as GET.
    home = await client.head("/api/v1/timelines/home", headers=auth(token))
    assert home.status_code == 200 and home.content == b""
    assert (await client.head("/@nobody")).status_code == 404
    assert (await client.head("/api/v1/timelines/home")).status_code == 401
