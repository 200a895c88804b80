"""The directory reads an index in order, and refuses pages too deep to serve cheaply."""

from __future__ import annotations

from datetime import timedelta

import httpx
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from chirp.db import utcnow
from chirp.users.models import User
from chirp.users.service import MAX_DIRECTORY_OFFSET
from tests.factories import make_post, make_user


async def test_directory_lists_the_most_recently_active_first(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    seen = {"alice": 50, "bob": 2, "carol": 30, "dave": 10}  # hours since last seen
    for name, hours in seen.items():
        user = await make_user(session, name)
        await session.execute(
            update(User)
            .where(User.id == user.id)
            .values(last_active_at=utcnow() - timedelta(hours=hours))
        )
        if name == "alice":
            await make_post(session, user)  # posting long ago does not count as active now
    await session.commit()
    r = await client.get("/api/v1/directory?order=active")
    assert [a["username"] for a in r.json()] == ["bob", "dave", "carol", "alice"]
    r = await client.get("/api/v1/directory?order=active&offset=1&limit=2")
    assert [a["username"] for a in r.json()] == ["dave", "carol"]
    page = (await client.get("/users")).text
    assert page.index("@bob") < page.index("@dave") < page.index("@carol") < page.index("@alice")


async def test_directory_refuses_pages_past_the_deepest(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    await make_user(session, "alice")
    r = await client.get(f"/api/v1/directory?offset={MAX_DIRECTORY_OFFSET}")
    assert r.status_code == 200 and r.json() == []
    r = await client.get(f"/api/v1/directory?offset={MAX_DIRECTORY_OFFSET + 1}")
    assert r.status_code == 422 and "offset" in r.json()["error"]
    assert (await client.get("/users?page=100000")).status_code == 422
