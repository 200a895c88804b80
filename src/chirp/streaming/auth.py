"""Who holds a stream: a token as Mastodon's streaming server reads it, or a web session."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import HTTPConnection

from chirp.auth import service as auth_service
from chirp.oauth import scopes as scope_rules
from chirp.oauth import service as oauth_service
from chirp.streaming.channels import StreamRefused
from chirp.users import service as users_service
from chirp.users.models import User
from chirp.web.session import SESSION_COOKIE


@dataclass
class Holder:
    """The reader of a stream and the scopes it was opened with."""

    user: User
    scopes: list[str]
    # Whether the credential the stream was opened with still works (checked again when
    # some credential of the user ends: ``streaming.access``).
    valid: Callable[[AsyncSession], Awaitable[bool]]
    # Set when the token came as the WebSocket subprotocol, which the answer must repeat.
    subprotocol: str | None = None


def token_of(connection: HTTPConnection) -> tuple[str | None, str | None]:
    """The token, from the Authorization header, ``access_token`` or the WebSocket protocol.

    Returns the token and, when it came as ``Sec-WebSocket-Protocol``, that protocol.
    """
    scheme, _, value = connection.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip(), None
    query = connection.query_params.get("access_token")
    if query:
        return query, None
    protocol = connection.headers.get("sec-websocket-protocol", "").split(",")[0].strip()
    return (protocol, protocol) if protocol else (None, None)


async def by_token(session: AsyncSession, connection: HTTPConnection) -> Holder:
    """The user behind the request's token (401 as Mastodon: missing, invalid, an app's)."""
    secret, subprotocol = token_of(connection)
    if secret is None:
        raise StreamRefused(401, "Missing access token")
    resolved = await oauth_service.resolve_with_user(session, secret)
    # Mastodon's streaming server reads tokens joined to their user: an app's own is invalid.
    token, user = resolved if resolved is not None else (None, None)
    if token is None or user is None:
        raise StreamRefused(401, "Invalid access token")
    if await users_service.mark_active(session, user=user):
        await session.commit()

    async def valid(session: AsyncSession) -> bool:
        found = await oauth_service.resolve_with_user(session, secret)
        return found is not None and found[1] is not None

    return Holder(
        user=user, scopes=scope_rules.parse(token.scopes), valid=valid, subprotocol=subprotocol
    )


async def by_session(session: AsyncSession, connection: HTTPConnection) -> Holder:
    """The user logged in on the web (the cookie session); 401 when nobody is."""
    cookie = connection.cookies.get(SESSION_COOKIE)
    user = await auth_service.user_for_session(session, cookie) if cookie else None
    if user is None or cookie is None:
        raise StreamRefused(401, "Log in to see live updates")
    token = cookie

    async def valid(session: AsyncSession) -> bool:
        return await auth_service.user_for_session(session, token) is not None

    # The web UI's stream shows what the pages show: the reader's timeline and notifications.
    return Holder(user=user, scopes=["read"], valid=valid)
