"""A token's last use: recorded when it is used, at most every few minutes, for that token alone."""

from __future__ import annotations

from datetime import datetime, timedelta

import httpx
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from chirp.db import utcnow
from chirp.oauth.models import OAuthToken
from chirp.oauth.service import LAST_USED_EVERY
from tests.factories import auth, make_token, make_user


async def _last_used(session: AsyncSession, user_id: int) -> datetime | None:
    stmt = select(OAuthToken.last_used_at).where(OAuthToken.user_id == user_id)
    return (await session.execute(stmt)).scalar_one()


async def test_a_token_records_its_last_use_at_most_every_few_minutes(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    alice, bob = await make_user(session, "alice"), await make_user(session, "bob")
    alices, bobs = await make_token(session, alice), await make_token(session, bob)
    alice_id, bob_id = alice.id, bob.id
    assert await _last_used(session, alice_id) is None

    async def use(token: str) -> None:
        r = await client.get("/api/v1/accounts/verify_credentials", headers=auth(token))
        assert r.status_code == 200

    before = utcnow()
    await use(alices)
    first = await _last_used(session, alice_id)
    assert first is not None and before <= first <= utcnow()
    assert await _last_used(session, bob_id) is None  # that token alone
    await use(alices)
    assert await _last_used(session, alice_id) == first  # not again within the interval

    # Once the interval has passed, the next use is recorded.
    earlier = utcnow() - LAST_USED_EVERY - timedelta(seconds=1)
    await session.execute(
        update(OAuthToken).where(OAuthToken.user_id == alice_id).values(last_used_at=earlier)
    )
    await session.commit()
    before = utcnow()
    await use(alices)
    latest = await _last_used(session, alice_id)
    assert latest is not None and before <= latest <= utcnow()
    await use(bobs)
    assert await _last_used(session, bob_id) is not None
