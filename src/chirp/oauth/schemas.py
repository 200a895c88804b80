"""OAuth and application entities and inputs."""

from __future__ import annotations

from pydantic import BaseModel, Field, field_validator

from chirp.oauth.models import OAuthApp
from chirp.oauth.service import IssuedToken
from chirp.parsing import LongText, ShortText, Token

MAX_REDIRECT_URIS = 20


class AppCreate(BaseModel):
    """Parameters of ``POST /api/v1/apps``."""

    client_name: ShortText = ""
    redirect_uris: list[LongText] = Field(default_factory=list, max_length=MAX_REDIRECT_URIS)
    scopes: LongText = "read"
    website: LongText | None = None

    @field_validator("redirect_uris", mode="before")
    @classmethod
    def _split(cls, value: object) -> object:
        # Mastodon takes one URI, several separated by newlines, or an array.
        if isinstance(value, str):
            return [u for u in value.split() if u]
        return value


class AppOut(BaseModel):
    """Mastodon's (Credential)Application entity."""

    id: str
    name: str
    website: str | None
    scopes: list[str]
    redirect_uri: str
    redirect_uris: list[str]
    vapid_key: str = ""
    client_id: str | None = None
    client_secret: str | None = None
    client_secret_expires_at: int = 0

    @classmethod
    def of(cls, app: OAuthApp, *, with_secret: bool) -> AppOut:
        """The entity for an app (its credentials only right after registration)."""
        return cls(
            id=str(app.id),
            name=app.name,
            website=app.website,
            scopes=app.scopes.split(),
            redirect_uri="\n".join(app.redirect_uri_list),
            redirect_uris=app.redirect_uri_list,
            client_id=app.client_id if with_secret else None,
            client_secret=app.client_secret if with_secret else None,
        )


class TokenIn(BaseModel):
    """Parameters of ``POST /oauth/token``."""

    grant_type: Token = ""
    client_id: Token | None = None
    client_secret: Token | None = None
    code: Token | None = None
    redirect_uri: LongText | None = None
    scope: LongText | None = None
    username: ShortText | None = None
    password: LongText | None = None
    code_verifier: Token | None = None


class RevokeIn(BaseModel):
    """Parameters of ``POST /oauth/revoke``."""

    client_id: Token | None = None
    client_secret: Token | None = None
    token: Token = ""


class TokenOut(BaseModel):
    """Mastodon's Token entity."""

    access_token: str
    token_type: str = "Bearer"  # noqa: S105 - the scheme name, not a secret
    scope: str
    created_at: int

    @classmethod
    def of(cls, issued: IssuedToken) -> TokenOut:
        """The entity for a freshly issued token."""
        return cls(
            access_token=issued.access_token,
            scope=issued.token.scopes,
            created_at=int(issued.token.created_at.timestamp()),
        )


class AuthorizationServerOut(BaseModel):
    """OAuth 2.0 Authorization Server Metadata (RFC 8414), the fields Mastodon 4.3 serves."""

    issuer: str
    service_documentation: str
    authorization_endpoint: str
    token_endpoint: str
    app_registration_endpoint: str
    revocation_endpoint: str
    scopes_supported: list[str]
    response_types_supported: list[str]
    response_modes_supported: list[str]
    grant_types_supported: list[str]
    token_endpoint_auth_methods_supported: list[str]
    code_challenge_methods_supported: list[str]
