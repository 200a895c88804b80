"""OAuth services: register apps, grant codes and tokens, resolve and revoke tokens."""

from __future__ import annotations

import base64
import functools
import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlsplit

from sqlalchemy import Select, bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from chirp.auth.tokens import digest, new_token, same_secret
from chirp.db import read_outside_transaction, utcnow
from chirp.errors import ValidationFailed
from chirp.oauth import scopes as scope_rules
from chirp.oauth.models import OAuthApp, OAuthCode, OAuthToken
from chirp.streaming import access
from chirp.users import service as users_service
from chirp.users.models import User

OOB_REDIRECT = "urn:ietf:wg:oauth:2.0:oob"
CODE_LIFETIME = timedelta(minutes=10)
GRANT_TYPES = ("authorization_code", "password", "client_credentials")
# What the columns hold (oauth_apps.website and every scopes column are VARCHAR(500)).
MAX_WEBSITE_LENGTH = 500
MAX_SCOPES_LENGTH = 500


class OAuthError(Exception):
    """An OAuth protocol error (RFC 6749 section 5.2)."""

    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(description)
        self.error = error
        self.description = description
        self.status = status


@dataclass(frozen=True)
class IssuedToken:
    """A freshly issued access token (the only time its secret is known)."""

    access_token: str
    token: OAuthToken


# Doorkeeper's words for every refused grant, as Mastodon clients see them.
_INVALID_GRANT = (
    "The provided authorization grant is invalid, expired, revoked, does not match the "
    "redirection URI used in the authorization request, or was issued to another client."
)


def _invalid_grant() -> OAuthError:
    return OAuthError("invalid_grant", _INVALID_GRANT)


def _check_scopes(requested: str | None, allowed: str) -> list[str]:
    scopes = scope_rules.parse(requested) or [scope_rules.DEFAULT]
    if (
        scope_rules.unknown(scopes)
        or not scope_rules.is_subset(scopes, scope_rules.parse(allowed))
        or len(" ".join(scopes)) > MAX_SCOPES_LENGTH
    ):
        raise OAuthError(
            "invalid_scope",
            "The requested scope is invalid, unknown, or malformed.",
        )
    return scopes


async def create_app(
    session: AsyncSession,
    *,
    name: str,
    redirect_uris: list[str],
    scopes: str | None,
    website: str | None,
) -> OAuthApp:
    """Register a client application."""
    name = name.strip()
    if not name:
        raise ValidationFailed("Name can't be blank", field="client_name", code="ERR_BLANK")
    if len(name) > 100:
        raise ValidationFailed("Name is too long", field="client_name", code="ERR_TOO_LONG")
    uris = [u.strip() for u in redirect_uris if u.strip()]
    if not uris:
        raise ValidationFailed(
            "Redirect URI can't be blank", field="redirect_uris", code="ERR_BLANK"
        )
    for uri in uris:
        if uri != OOB_REDIRECT and ":" not in uri:
            raise ValidationFailed(
                "Redirect URI must be an absolute URI", field="redirect_uris", code="ERR_INVALID"
            )
    website = (website or "").strip() or None
    if website is not None and not _is_web_url(website):
        raise ValidationFailed(
            "Website is invalid: it must be an http(s) URL", field="website", code="ERR_INVALID"
        )
    if website is not None and len(website) > MAX_WEBSITE_LENGTH:
        raise ValidationFailed(
            f"Website is too long (at most {MAX_WEBSITE_LENGTH} characters)",
            field="website",
            code="ERR_TOO_LONG",
        )
    scope_list = scope_rules.parse(scopes) or [scope_rules.DEFAULT]
    if bad := scope_rules.unknown(scope_list):
        raise ValidationFailed(
            f"Scopes are not valid: {' '.join(bad)}", field="scopes", code="ERR_INVALID"
        )
    if len(" ".join(scope_list)) > MAX_SCOPES_LENGTH:
        # Every sub-scope spelled out: a parent scope (read, write, ...) says the same in less.
        raise ValidationFailed(
            f"Scopes are too long (at most {MAX_SCOPES_LENGTH} characters): "
            "ask for a parent scope such as read or write instead of all of its parts",
            field="scopes",
            code="ERR_TOO_LONG",
        )
    app = OAuthApp(
        name=name,
        website=website,
        redirect_uris="\n".join(uris),
        scopes=" ".join(scope_list),
        client_id=secrets.token_urlsafe(32),
        client_secret=secrets.token_urlsafe(32),
    )
    session.add(app)
    await session.flush()
    return app


def _is_web_url(value: str) -> bool:
    # Mastodon's rule for an app's website: an absolute http or https URL with a host.
    try:
        parts = urlsplit(value)
    except ValueError:  # an unclosed IPv6 bracket, say
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname)


async def get_app(session: AsyncSession, client_id: str) -> OAuthApp | None:
    """Return the app with this client id, or None."""
    stmt = select(OAuthApp).where(OAuthApp.client_id == client_id)
    return (await session.execute(stmt)).scalar_one_or_none()


async def authenticate_client(
    session: AsyncSession, *, client_id: str | None, client_secret: str | None
) -> OAuthApp:
    """Return the app whose id and secret match, or raise invalid_client."""
    app = await get_app(session, client_id or "")
    if app is None or not same_secret(app.client_secret, client_secret or ""):
        raise OAuthError(
            "invalid_client",
            "Client authentication failed due to unknown client, no client authentication "
            "included, or unsupported authentication method.",
            status=401,
        )
    return app


def check_authorize_request(app: OAuthApp, *, redirect_uri: str, scope: str | None) -> list[str]:
    """Validate an authorisation request; return the scopes to grant."""
    if redirect_uri not in app.redirect_uri_list:
        raise OAuthError("invalid_request", "The redirect uri included is not valid.")
    return _check_scopes(scope, app.scopes)


async def grant_code(
    session: AsyncSession,
    *,
    app: OAuthApp,
    user: User,
    redirect_uri: str,
    scopes: list[str],
    code_challenge: str | None = None,
) -> str:
    """Create a one-time authorisation code for ``user`` and return it."""
    code = new_token()
    session.add(
        OAuthCode(
            code_hash=digest(code),
            app_id=app.id,
            user_id=user.id,
            redirect_uri=redirect_uri,
            scopes=" ".join(scopes),
            code_challenge=code_challenge,
            expires_at=utcnow() + CODE_LIFETIME,
        )
    )
    await session.flush()
    return code


async def _issue(
    session: AsyncSession, *, app: OAuthApp, user: User | None, scopes: list[str]
) -> IssuedToken:
    secret = new_token()
    token = OAuthToken(
        token_hash=digest(secret),
        app=app,
        user_id=user.id if user else None,
        scopes=" ".join(scopes),
    )
    session.add(token)
    await session.flush()
    return IssuedToken(access_token=secret, token=token)


async def exchange_code(
    session: AsyncSession,
    *,
    app: OAuthApp,
    code: str,
    redirect_uri: str | None,
    code_verifier: str | None = None,
) -> IssuedToken:
    """Trade an authorisation code for a user token; each code works once.

    The redirect URI must be sent and be the one of the authorisation request (RFC 6749
    4.1.3): a missing one is ``invalid_request`` and another one ``invalid_grant``, as
    Doorkeeper answers for Mastodon; either way nothing is issued.
    """
    if not redirect_uri:
        raise OAuthError("invalid_request", "Missing required parameter: redirect_uri.")
    stmt = select(OAuthCode).where(OAuthCode.code_hash == digest(code or ""))
    grant = (await session.execute(stmt)).scalar_one_or_none()
    invalid = _invalid_grant()
    if grant is None or grant.app_id != app.id or grant.expires_at < utcnow():
        raise invalid
    if redirect_uri != grant.redirect_uri:
        raise invalid
    if grant.code_challenge and not _pkce_ok(grant.code_challenge, code_verifier):
        raise invalid
    await session.delete(grant)
    user = await users_service.get(session, grant.user_id)
    if user is None:
        raise invalid
    return await _issue(session, app=app, user=user, scopes=scope_rules.parse(grant.scopes))


def _pkce_ok(challenge: str, verifier: str | None) -> bool:
    if not verifier:
        return False
    computed = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=")
    return same_secret(challenge, computed.decode())


async def password_grant(
    session: AsyncSession, *, app: OAuthApp, user: User | None, scope: str | None
) -> IssuedToken:
    """Issue a user token for the user a password log-in found (None: the password failed)."""
    scopes = _check_scopes(scope, app.scopes)
    if user is None:
        raise _invalid_grant()
    return await _issue(session, app=app, user=user, scopes=scopes)


async def client_credentials_grant(
    session: AsyncSession, *, app: OAuthApp, scope: str | None
) -> IssuedToken:
    """Issue an app-only token (used, for example, to register accounts)."""
    return await _issue(session, app=app, user=None, scopes=_check_scopes(scope, app.scopes))


async def issue_for_user(
    session: AsyncSession, *, app: OAuthApp, user: User, scopes: list[str]
) -> IssuedToken:
    """Issue a user token directly (after registration through the API)."""
    return await _issue(session, app=app, user=user, scopes=scopes)


@functools.cache
def token_with_user() -> Select[OAuthToken, User]:
    """The live token with a given ``token_hash``, and its user."""
    # Built once (cached): every API call runs it, and building it cost more than running it.
    return (
        select(OAuthToken, User)
        .outerjoin(User, User.id == OAuthToken.user_id)
        .where(OAuthToken.token_hash == bindparam("token_hash"), OAuthToken.revoked_at.is_(None))
    )


async def resolve_with_user(
    session: AsyncSession, access_token: str
) -> tuple[OAuthToken, User | None] | None:
    """Return the live token for a bearer secret and its user, in one query; None if unknown."""
    rows = await read_outside_transaction(
        session, token_with_user(), {"token_hash": digest(access_token)}
    )
    if not rows:
        return None
    token, user = rows[0]
    if token.user_id is not None and user is None:
        return None  # the account is gone
    return token, user


# Written at most this often per token, so API calls don't each write.
LAST_USED_EVERY = timedelta(minutes=5)


async def mark_used(session: AsyncSession, token: OAuthToken) -> bool:
    """Record that a token was just used (at most every few minutes); return if it wrote."""
    now = utcnow()
    if token.last_used_at is not None and now - token.last_used_at < LAST_USED_EVERY:
        return False
    await session.execute(
        update(OAuthToken)
        .where(OAuthToken.id == token.id)
        .values(last_used_at=now)
        .execution_options(synchronize_session=False)
    )
    return True


async def revoke(session: AsyncSession, *, app: OAuthApp, access_token: str) -> None:
    """Revoke a token issued to ``app`` (RFC 7009).

    An unknown token is ignored (200, as RFC 7009 says); another client's token is refused
    with 403 ``unauthorized_client``, as Doorkeeper answers for Mastodon, and stays valid.
    """
    found = (
        await session.execute(
            select(OAuthToken.app_id, OAuthToken.user_id).where(
                OAuthToken.token_hash == digest(access_token)
            )
        )
    ).one_or_none()
    if found is None:
        return
    owner, user_id = found
    if owner != app.id:
        raise OAuthError("unauthorized_client", "You are not authorized to revoke this token", 403)
    await session.execute(
        update(OAuthToken)
        .where(OAuthToken.token_hash == digest(access_token), OAuthToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
    if user_id is not None:
        access.ended(session, user_id)
