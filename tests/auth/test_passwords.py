"""Password hashing runs off the event loop: a burst of logins cannot stall other requests."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from chirp.auth.passwords import HASH_CONCURRENCY, hash_password, hashing_now, verify_password
from chirp.db import make_engine, make_session_factory
from chirp.main import create_app
from chirp.migrate import upgrade
from chirp.users import service as users_service
from chirp.users.models import User
from tests.factories import PASSWORD, make_user
from tests.services import settings_for

# Several rounds of hashes: the burst outlasts a health check by far.
BURST = 2 * HASH_CONCURRENCY + 4


async def test_hash_and_verify() -> None:
    hashed = await hash_password("correct horse battery")
    assert await verify_password(hashed, "correct horse battery")
    assert not await verify_password(hashed, "wrong horse battery")
    assert not await verify_password(None, "correct horse battery")
    assert not await verify_password("not a hash", "correct horse battery")


async def _login(client: httpx.AsyncClient, app: dict[str, str]) -> httpx.Response:
    return await client.post(
        "/oauth/token",
        data={
            "grant_type": "password",
            "client_id": app["client_id"],
            "client_secret": app["client_secret"],
            "username": "alice",
            "password": PASSWORD,
            "scope": "read",
        },
    )


async def _until_hashing(logins: list[asyncio.Task[httpx.Response]]) -> None:
    for _ in range(6000):  # at most a minute
        if hashing_now() or all(task.done() for task in logins):
            return
        await asyncio.sleep(0.01)


async def test_health_and_reads_answer_during_a_login_burst(tmp_path: Path) -> None:
    # Its own SQLite file and engine: the shared test connection cannot serve concurrent
    # requests. The client runs on the app's event loop, so it sees whatever blocks it.
    url = f"sqlite+aiosqlite:///{tmp_path / 'burst.db'}"
    await asyncio.to_thread(upgrade, url)
    engine = make_engine(url)
    async with make_session_factory(engine)() as session:
        await make_user(session, "alice")
    await engine.dispose()
    chirp = create_app(settings_for(url, rate_limit_enabled=False))
    transport = httpx.ASGITransport(app=chirp)
    async with (
        chirp.router.lifespan_context(chirp),
        httpx.AsyncClient(transport=transport, base_url="http://t") as client,
    ):
        app = (
            await client.post(
                "/api/v1/apps",
                data={"client_name": "burst", "redirect_uris": "urn:ietf:wg:oauth:2.0:oob"},
            )
        ).json()
        logins = [asyncio.create_task(_login(client, app)) for _ in range(BURST)]
        await _until_hashing(logins)
        health = await client.get("/health")
        read = await client.get("/api/v1/accounts/lookup", params={"acct": "alice"})
        in_flight = sum(not task.done() for task in logins)
        responses = await asyncio.gather(*logins)
    assert health.status_code == 200 and read.json()["username"] == "alice"
    # Hashing on the event loop froze it for each hash in turn: nothing else ran until the
    # burst was over. Now hashes run beside the loop, HASH_CONCURRENCY at a time, holding
    # no database connection (on SQLite, no write lock) while they do.
    assert in_flight >= 1, "the checks waited for the whole burst of logins"
    assert [r.status_code for r in responses] == [200] * BURST


async def test_a_login_ends_a_transaction_that_only_read(session: AsyncSession) -> None:
    await make_user(session, "alice")
    await make_user(session, "bob")
    await users_service.get_by_username(session, "bob")
    assert session.in_transaction()
    user = await users_service.authenticate(session, login="alice", password=PASSWORD)
    # Nothing held while hashing: no pooled connection, no SQLite write lock.
    assert user is not None and user.username == "alice" and not session.in_transaction()


async def test_a_login_keeps_a_transaction_that_wrote(session: AsyncSession) -> None:
    await make_user(session, "alice")
    bob_id = (await make_user(session, "bob")).id
    await session.execute(update(User).where(User.id == bob_id).values(bio="unsaved"))
    assert await users_service.authenticate(session, login="alice", password=PASSWORD)
    assert session.in_transaction()  # the write is still the caller's to keep or undo
    await session.rollback()
    assert (await session.get_one(User, bob_id, populate_existing=True)).bio == ""
