"""Account rules: registration, uniqueness, login."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from chirp.errors import ValidationFailed
from chirp.users import service as users_service
from tests.factories import PASSWORD, make_user


async def test_register_stores_argon2_hash_not_password(session: AsyncSession) -> None:
    user = await make_user(session, "alice")
    assert user.password_hash.startswith("$argon2id$")
    assert PASSWORD not in user.password_hash


@pytest.mark.parametrize("name", ["", "a" * 31, "bad name", "bad-name", "ünï", "@alice"])
async def test_register_refuses_bad_usernames(session: AsyncSession, name: str) -> None:
    with pytest.raises(ValidationFailed) as err:
        await users_service.register(
            session, username=name, email="x@example.com", password=PASSWORD
        )
    assert err.value.field == "username"
    assert await users_service.count_users(session) == 0


async def test_username_unique_without_regard_to_case(session: AsyncSession) -> None:
    await make_user(session, "Alice")
    with pytest.raises(ValidationFailed, match="taken"):
        await users_service.register(
            session, username="aLICE", email="other@example.com", password=PASSWORD
        )


async def test_email_unique_and_valid(session: AsyncSession) -> None:
    await make_user(session, "alice", email="Alice@Example.com")
    with pytest.raises(ValidationFailed, match="Email has already been taken"):
        await users_service.register(
            session, username="bob", email="alice@example.COM", password=PASSWORD
        )
    with pytest.raises(ValidationFailed, match="Email is invalid"):
        await users_service.register(
            session, username="bob", email="not-an-email", password=PASSWORD
        )


async def test_short_password_refused(session: AsyncSession) -> None:
    with pytest.raises(ValidationFailed, match="too short"):
        await users_service.register(
            session, username="bob", email="b@example.com", password="1234567"
        )


async def test_login_by_username_or_email_any_case(session: AsyncSession) -> None:
    user = await make_user(session, "Alice", email="alice@example.com")
    for login in ("alice", "ALICE", "@alice", "Alice@Example.com"):
        found = await users_service.authenticate(session, login=login, password=PASSWORD)
        assert found is not None and found.id == user.id


async def test_login_wrong_password_or_unknown_user_is_none(session: AsyncSession) -> None:
    await make_user(session, "alice")
    assert (
        await users_service.authenticate(session, login="alice", password="wrong password") is None
    )
    assert await users_service.authenticate(session, login="nobody", password=PASSWORD) is None
