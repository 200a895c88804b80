"""Small factories for test data, going through the real services."""

from __future__ import annotations

import itertools

from sqlalchemy.ext.asyncio import AsyncSession

from chirp.oauth import service as oauth_service
from chirp.posts import service as posts_service
from chirp.posts.models import Post
from chirp.users import service as users_service
from chirp.users.models import User

PASSWORD = "correct horse battery"
_counter = itertools.count(1)


async def make_user(
    session: AsyncSession,
    username: str | None = None,
    *,
    email: str | None = None,
    password: str = PASSWORD,
    is_admin: bool = False,
    display_name: str = "",
) -> User:
    """Create and flush a user."""
    username = username or f"user{next(_counter)}"
    user = await users_service.register(
        session,
        username=username,
        email=email or f"{username.lower()}@example.com",
        password=password,
        display_name=display_name,
        is_admin=is_admin,
    )
    await session.commit()
    return user


async def make_post(session: AsyncSession, author: User, text: str = "hello world") -> Post:
    """Create and commit a post."""
    post = await posts_service.create_post(session, author=author, text=text, max_length=500)
    await session.commit()
    return post


async def make_token(session: AsyncSession, user: User, scopes: str = "read write follow") -> str:
    """Register an app and return a bearer token for ``user``."""
    app = await oauth_service.create_app(
        session,
        name="test app",
        redirect_uris=[oauth_service.OOB_REDIRECT],
        scopes=scopes,
        website=None,
    )
    issued = await oauth_service.issue_for_user(session, app=app, user=user, scopes=scopes.split())
    await session.commit()
    return issued.access_token


async def reload(session: AsyncSession, user: User) -> User:
    """Read a user's row again from the database."""
    fresh = await session.get(User, user.id, populate_existing=True)
    assert fresh is not None
    return fresh


def auth(token: str) -> dict[str, str]:
    """Authorization header for a bearer token."""
    return {"Authorization": f"Bearer {token}"}
