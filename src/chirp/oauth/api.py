"""OAuth endpoints for clients: register apps, obtain and revoke tokens."""

from __future__ import annotations

import base64
from typing import Annotated

from fastapi import APIRouter, Depends, Request

from chirp.api.auth import TokenContext, require_token
from chirp.api.params import body_docs, params
from chirp.auth import login as auth_login
from chirp.auth.login import LoginLocked
from chirp.deps import SessionDep, SettingsDep
from chirp.oauth import scopes as scope_rules
from chirp.oauth import service as oauth_service
from chirp.oauth.schemas import (
    AppCreate,
    AppOut,
    AuthorizationServerOut,
    RevokeIn,
    TokenIn,
    TokenOut,
)
from chirp.oauth.service import OAuthError
from chirp.parsing import text_problem
from chirp.ratelimit.deps import PerIp

router = APIRouter(tags=["oauth"])

MAX_CLIENT_ID = 512


@router.post("/api/v1/apps", response_model=AppOut, openapi_extra=body_docs(AppCreate))
async def create_app(
    session: SessionDep, body: Annotated[AppCreate, Depends(params(AppCreate))]
) -> AppOut:
    """Register a client application and get its credentials."""
    app = await oauth_service.create_app(
        session,
        name=body.client_name,
        redirect_uris=body.redirect_uris,
        scopes=body.scopes,
        website=body.website,
    )
    await session.commit()
    return AppOut.of(app, with_secret=True)


@router.get("/api/v1/apps/verify_credentials", response_model=AppOut)
async def verify_app(ctx: Annotated[TokenContext, Depends(require_token())]) -> AppOut:
    """The application the token belongs to."""
    return AppOut.of(ctx.token.app, with_secret=False)


def _basic_auth(request: Request) -> tuple[str | None, str | None]:
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return None, None
    try:
        client_id, _, secret = base64.b64decode(value).decode().partition(":")
    except ValueError:
        return None, None
    if text_problem(client_id) or len(client_id) > MAX_CLIENT_ID:
        return None, None  # no app has such an id: the client is unknown (401)
    return client_id, secret


@router.post(
    "/oauth/token",
    response_model=TokenOut,
    openapi_extra=body_docs(TokenIn),
    dependencies=[Depends(PerIp("login_ip"))],
)
async def token(
    request: Request, session: SessionDep, body: Annotated[TokenIn, Depends(params(TokenIn))]
) -> TokenOut:
    """Obtain a token (authorization_code, password or client_credentials grant)."""
    basic_id, basic_secret = _basic_auth(request)
    app = await oauth_service.authenticate_client(
        session,
        client_id=body.client_id or basic_id,
        client_secret=body.client_secret or basic_secret,
    )
    if body.grant_type == "authorization_code":
        issued = await oauth_service.exchange_code(
            session,
            app=app,
            code=body.code or "",
            redirect_uri=body.redirect_uri,
            code_verifier=body.code_verifier,
        )
    elif body.grant_type == "password":
        try:
            user = await auth_login.log_in(
                request, session, login=body.username or "", password=body.password or ""
            )
        except LoginLocked as exc:
            raise OAuthError(
                "invalid_grant", "Too many failed attempts; try again later.", 429
            ) from exc
        issued = await oauth_service.password_grant(session, app=app, user=user, scope=body.scope)
    elif body.grant_type == "client_credentials":
        issued = await oauth_service.client_credentials_grant(session, app=app, scope=body.scope)
    else:
        raise OAuthError(
            "unsupported_grant_type",
            "The authorization grant type is not supported by the authorization server.",
        )
    await session.commit()
    return TokenOut.of(issued)


@router.post("/oauth/revoke", openapi_extra=body_docs(RevokeIn))
async def revoke(
    request: Request, session: SessionDep, body: Annotated[RevokeIn, Depends(params(RevokeIn))]
) -> dict[str, str]:
    """Revoke a token issued to this client."""
    basic_id, basic_secret = _basic_auth(request)
    app = await oauth_service.authenticate_client(
        session,
        client_id=body.client_id or basic_id,
        client_secret=body.client_secret or basic_secret,
    )
    await oauth_service.revoke(session, app=app, access_token=body.token)
    await session.commit()
    return {}


@router.get("/.well-known/oauth-authorization-server", response_model=AuthorizationServerOut)
async def authorization_server(settings: SettingsDep) -> AuthorizationServerOut:
    """This server's OAuth 2.0 metadata (RFC 8414), so clients discover its endpoints."""
    base = settings.base_url
    return AuthorizationServerOut(
        issuer=f"{base}/",
        service_documentation=f"{base}/docs",
        authorization_endpoint=f"{base}/oauth/authorize",
        token_endpoint=f"{base}/oauth/token",
        # Mastodon's own (non-RFC 7591) registration endpoint, under the name it uses.
        app_registration_endpoint=f"{base}/api/v1/apps",
        revocation_endpoint=f"{base}/oauth/revoke",
        scopes_supported=scope_rules.supported(),
        response_types_supported=["code"],
        # The code comes back in the redirect's query string: the one mode Chirp answers in.
        response_modes_supported=["query"],
        grant_types_supported=list(oauth_service.GRANT_TYPES),
        token_endpoint_auth_methods_supported=["client_secret_basic", "client_secret_post"],
        code_challenge_methods_supported=["S256"],
    )
