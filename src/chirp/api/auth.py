"""Bearer-token authentication and scope checks for API endpoints."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from fastapi import Request

from chirp.accounts import service as accounts_service
from chirp.deps import SessionDep
from chirp.errors import Forbidden, Unauthorized, UserRequired
from chirp.oauth import scopes as scope_rules
from chirp.oauth import service as oauth_service
from chirp.oauth.models import OAuthToken
from chirp.ratelimit.deps import enforce_account
from chirp.users import service as users_service
from chirp.users.models import User


@dataclass
class TokenContext:
    """The authenticated token, and its user when it belongs to one."""

    token: OAuthToken
    user: User | None


@dataclass
class UserContext:
    """An authenticated token that belongs to a user."""

    token: OAuthToken
    user: User


def bearer_token(request: Request) -> str | None:
    """Return the bearer token from the Authorization header or ``access_token`` parameter."""
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return request.query_params.get("access_token") or None


async def _resolve(request: Request, session: SessionDep) -> TokenContext | None:
    secret = bearer_token(request)
    if secret is None:
        return None
    resolved = await oauth_service.resolve_with_user(session, secret)
    if resolved is None:
        raise Unauthorized("The access token is invalid")
    token, user = resolved
    used = await oauth_service.mark_used(session, token)
    if user is not None:
        await enforce_account(request, user.id)
        if await users_service.mark_active(session, user=user) or used:
            await session.commit()
    elif used:
        await session.commit()
    return TokenContext(token=token, user=user)


def _check_scope(ctx: TokenContext, *scopes: str) -> None:
    granted = scope_rules.parse(ctx.token.scopes)
    if not any(scope_rules.satisfies(granted, scope) for scope in scopes):
        raise Forbidden("This action is outside the authorized scopes")


def require_user(
    scope: str, *alternatives: str, unconfirmed: bool = False
) -> Callable[..., Coroutine[Any, Any, UserContext]]:
    """Dependency: a user token holding ``scope`` or one of ``alternatives`` (401, 403, 422),
    of a confirmed account where the server requires confirmation (403, as Mastodon) unless
    ``unconfirmed`` allows it."""

    async def dependency(request: Request, session: SessionDep) -> UserContext:
        ctx = await _resolve(request, session)
        if ctx is None:
            raise Unauthorized("The access token is invalid")
        _check_scope(ctx, scope, *alternatives)
        if ctx.user is None:
            raise UserRequired()
        if not unconfirmed:
            accounts_service.check_confirmed(request.app.state.settings, ctx.user)
        return UserContext(token=ctx.token, user=ctx.user)

    return dependency


def require_token(scope: str | None = None) -> Callable[..., Coroutine[Any, Any, TokenContext]]:
    """Dependency: any valid token (app or user), holding ``scope`` when one is given."""

    async def dependency(request: Request, session: SessionDep) -> TokenContext:
        ctx = await _resolve(request, session)
        if ctx is None:
            raise Unauthorized("The access token is invalid")
        if scope:
            _check_scope(ctx, scope)
        return ctx

    return dependency


def optional_user(scope: str = "read") -> Callable[..., Coroutine[Any, Any, UserContext | None]]:
    """Dependency: the user behind a token if one is sent (public endpoints).

    As Mastodon's ``authorize_if_got_token!``: no token is fine, but a token sent must be
    valid (401) and hold ``scope`` (403), an app's token as much as a user's.
    """

    async def dependency(request: Request, session: SessionDep) -> UserContext | None:
        ctx = await _resolve(request, session)
        if ctx is None:
            return None
        _check_scope(ctx, scope)
        if ctx.user is None:
            return None
        return UserContext(token=ctx.token, user=ctx.user)

    return dependency
