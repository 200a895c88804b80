"""A world of four accounts with overlapping follows, and a direct message among them."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from chirp.follows import service as follows_service
from chirp.users.models import User
from tests.factories import auth, make_token, make_user
from tests.loops import at_most

_LINK_NEXT = re.compile(r'<([^>]+)>; rel="next"')


@dataclass
class World:
    """ann writes to bob and dan. bob and cat follow ann; dan follows nobody; ann follows cat.

    So a follower of the author (cat) is not mentioned, and a mentioned account (dan) does
    not follow the author.
    """

    users: dict[str, User]
    tokens: dict[str, str]

    def user(self, name: str) -> User:
        return self.users[name]


async def world(session: AsyncSession) -> World:
    """The four accounts, their follows and a token each."""
    users = {name: await make_user(session, name) for name in ("ann", "bob", "cat", "dan")}
    for follower, followee in (("bob", "ann"), ("cat", "ann"), ("ann", "cat")):
        await follows_service.follow(session, follower=users[follower], followee=users[followee])
    await session.commit()
    tokens = {name: await make_token(session, user) for name, user in users.items()}
    return World(users, tokens)


async def post(client: httpx.AsyncClient, token: str, text: str, **fields: str) -> dict[str, Any]:
    """Publish a status through the API; return its entity."""
    r = await client.post("/api/v1/statuses", data={"status": text, **fields}, headers=auth(token))
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


async def conversations(client: httpx.AsyncClient, token: str) -> list[dict[str, Any]]:
    """Every conversation in a user's list, following the Link headers, two at a time."""
    seen: list[dict[str, Any]] = []
    url = "/api/v1/conversations?limit=2"
    for _ in at_most(20):
        r = await client.get(url, headers=auth(token))
        assert r.status_code == 200, r.text
        if not r.json():
            break
        seen += r.json()
        link = _LINK_NEXT.search(r.headers["link"])
        assert link, r.headers["link"]
        url = link.group(1)
    return seen
