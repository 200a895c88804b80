"""Entities and limits clients rely on: Role for every user, instance URLs, account pages."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import httpx
import pytest
from fastapi import FastAPI
from pydantic import ValidationError
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from chirp.config import Settings
from chirp.follows import service as follows_service
from chirp.ids import new_id
from chirp.users.models import User
from tests.conftest import MakeApp, client_of
from tests.factories import auth, make_token, make_user

ROLE_FIELDS = {"id", "name", "permissions", "color", "highlighted"}


async def test_credential_account_has_a_role_for_every_user(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    alice = await make_user(session, "alice")
    root = await make_user(session, "root", is_admin=True)
    me = await client.get(
        "/api/v1/accounts/verify_credentials", headers=auth(await make_token(session, alice))
    )
    role = me.json()["role"]
    # Mastodon's default role (everyone): id -99, no name, not highlighted; Chirp grants
    # none of its permissions (not even invitations, which it does not have).
    assert role == {"id": "-99", "name": "", "permissions": "0", "color": "", "highlighted": False}
    admin = await client.get(
        "/api/v1/accounts/verify_credentials", headers=auth(await make_token(session, root))
    )
    admin_role = admin.json()["role"]
    assert set(admin_role) == ROLE_FIELDS and admin_role["name"] == "Admin"
    assert int(admin_role["permissions"]) & 1  # Mastodon's "administrator" bit
    # The admin API presents the same roles.
    listed = await client.get(
        "/api/v1/admin/accounts",
        headers=auth(await make_token(session, root, scopes="admin:read")),
    )
    roles = {a["username"]: a["role"] for a in listed.json()}
    assert roles["alice"] == role and roles["root"] == admin_role


_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_URL = re.compile(r"^(https?|wss?)://[^\s/]+")


async def test_instance_urls_and_email_are_valid_or_left_out(make_app: MakeApp) -> None:
    plain: FastAPI = await make_app()
    async with client_of(plain) as c:
        v1 = (await c.get("/api/v1/instance")).json()
        v2 = (await c.get("/api/v2/instance")).json()
    # No contact address configured: the key is left out, never "". The web processes serve
    # the streaming API themselves, at the instance's own address.
    assert "email" not in v1 and "email" not in v2["contact"]
    assert v1["urls"]["streaming_api"] == v2["configuration"]["urls"]["streaming"]
    assert _URL.match(v1["urls"]["streaming_api"])
    assert _URL.match(v1["thumbnail"]) and _URL.match(v2["thumbnail"]["url"])
    configured = await make_app(contact_email="admin@chirp.example")
    async with client_of(configured) as c:
        v1 = (await c.get("/api/v1/instance")).json()
        v2 = (await c.get("/api/v2/instance")).json()
    assert v1["email"] == "admin@chirp.example" == v2["contact"]["email"]
    assert _EMAIL.match(v1["email"])


def test_a_contact_email_that_is_not_an_address_is_refused_at_start() -> None:
    with pytest.raises(ValidationError, match="contact_email"):
        Settings(contact_email="not an address")
    assert Settings(contact_email="").contact_email == ""


async def _people_who_never_log_in(session: AsyncSession, count: int) -> list[User]:
    # Inserted directly: hashing 85 passwords would be most of the test's time.
    now = datetime.now(UTC)
    ids = [new_id() for _ in range(count)]
    rows = [
        {
            "id": uid,
            "username": f"fan{i}",
            "username_key": f"fan{i}",
            "email": f"fan{i}@example.com",
            "email_key": f"fan{i}@example.com",
            "password_hash": "!",  # matches no password
            "created_at": now,
            "last_active_at": now,
        }
        for i, uid in enumerate(ids)
    ]
    await session.execute(insert(User), rows)
    await session.commit()
    return list((await session.execute(select(User).where(User.id.in_(ids)))).scalars())


async def test_followers_and_following_pages_are_40_by_default_and_80_at_most(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    star = await make_user(session, "star")
    fans = await _people_who_never_log_in(session, 85)
    for fan in fans:
        await follows_service.follow(session, follower=fan, followee=star)
        await follows_service.follow(session, follower=star, followee=fan)
    await session.commit()
    for which in ("followers", "following"):
        url = f"/api/v1/accounts/{star.id}/{which}"
        default = await client.get(url)
        assert default.status_code == 200 and len(default.json()) == 40, which
        assert 'rel="next"' in default.headers["link"]
        assert len((await client.get(f"{url}?limit=80")).json()) == 80, which
        assert len((await client.get(f"{url}?limit=500")).json()) == 80, which
        assert len((await client.get(f"{url}?limit=5")).json()) == 5, which
    # Statuses keep Mastodon's 20 and 40.
    assert "At most 40" in (await client.get("/openapi.json")).text


async def test_openapi_documents_every_status_each_operation_can_answer(
    client: httpx.AsyncClient,
) -> None:
    spec = (await client.get("/openapi.json")).json()
    # Any API call may be refused for its token (401, 403, or 422 for an app-only token on a
    # user endpoint), its parameters (400, 404, 422), its size (413), the rate limits (429),
    # or fail (500, 503); OAuth's revoke answers 403 for another client's token.
    every = {"200", "400", "401", "403", "404", "413", "422", "429", "500", "503"}
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            documented = set(operation["responses"])
            expected = (
                {"200", "500", "503"}
                if path == "/health"
                # Needs no token and reads nothing: only the API's rate limit can refuse it.
                else {"200", "429", "500"}
                if path == "/api/v1/streaming/health"
                else every
            )
            assert expected <= documented, (method, path, expected - documented)
