"""Reads outside a transaction on PostgreSQL: no transaction held, rows still usable."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import bindparam, delete, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from chirp.db import make_session_factory, read_outside_transaction
from chirp.users import service as users_service
from chirp.users.models import User
from tests.factories import PASSWORD, make_user

BY_NAME = select(User).where(User.username == bindparam("name"))


@pytest.fixture
async def factory(engine: AsyncEngine) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """Sessions on the engine itself, as requests have: what they commit stays committed."""
    factory = make_session_factory(engine)
    yield factory
    async with factory() as s:
        await s.execute(delete(User).where(User.username.in_(["reader", "later"])))
        await s.commit()


async def test_a_read_leaves_no_transaction_open_on_postgresql(
    factory: async_sessionmaker[AsyncSession], backend: str
) -> None:
    async with factory() as s:
        await make_user(s, "reader")
    async with factory() as s:
        [row] = await read_outside_transaction(s, BY_NAME, {"name": "reader"})
        assert row[0].username == "reader"
        # No BEGIN was sent, so there is nothing to end and no connection held.
        assert s.in_transaction() is (backend == "sqlite")


async def test_rows_read_first_take_later_changes_and_writes_stay_atomic(
    factory: async_sessionmaker[AsyncSession],
) -> None:
    async with factory() as s:
        await make_user(s, "reader")
    async with factory() as s:
        [(reader,)] = await read_outside_transaction(s, BY_NAME, {"name": "reader"})
        reader.display_name = "Changed"  # still tracked by the session
        await s.commit()
    async with factory() as s:
        [(reader,)] = await read_outside_transaction(s, BY_NAME, {"name": "reader"})
        assert reader.display_name == "Changed"
        # What follows the read is one transaction, not autocommitted statement by statement.
        reader.display_name = "Undone"
        await s.flush()
        await users_service.register(
            s, username="later", email="later@example.com", password=PASSWORD
        )
        # With a transaction open, a read runs inside it and sees its uncommitted rows.
        assert await read_outside_transaction(s, BY_NAME, {"name": "later"})
        await s.rollback()
    async with factory() as s:
        names = {u.username: u.display_name for u in (await s.scalars(select(User))).all()}
        assert names["reader"] == "Changed" and "later" not in names
