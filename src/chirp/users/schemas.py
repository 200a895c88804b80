"""Mastodon entities for accounts, and the inputs of account endpoints."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field, model_validator

from chirp.parsing import LongText, ShortText, Token

# There are fewer than 200 ISO 639-1 languages.
MAX_LANGUAGES = 200


class AccountOut(BaseModel):
    """Mastodon's Account entity."""

    id: str
    username: str
    acct: str
    display_name: str
    locked: bool = False
    bot: bool = False
    discoverable: bool = True
    indexable: bool = True
    group: bool = False
    hide_collections: bool = False
    noindex: bool = False
    created_at: str
    note: str
    url: str
    uri: str
    avatar: str
    avatar_static: str
    header: str
    header_static: str
    followers_count: int
    following_count: int
    statuses_count: int
    last_status_at: str | None
    emojis: list[dict[str, str]] = Field(default_factory=list)
    fields: list[dict[str, str]] = Field(default_factory=list)
    roles: list[dict[str, str]] = Field(default_factory=list)


class RoleOut(BaseModel):
    """Mastodon's Role entity (permissions are a bitmask written as a decimal string)."""

    id: str
    name: str
    permissions: str
    color: str
    highlighted: bool


class SourceOut(BaseModel):
    """The editable source of a profile (CredentialAccount.source)."""

    privacy: str = "public"
    sensitive: bool = False
    # The default language of new posts (ISO 639-1), null when none is set, as on Mastodon.
    language: str | None = None
    note: str
    fields: list[dict[str, str]] = Field(default_factory=list)
    follow_requests_count: int = 0
    hide_collections: bool = False
    discoverable: bool = True
    indexable: bool = True


class CredentialAccountOut(AccountOut):
    """The authenticated user's own Account, with its source."""

    source: SourceOut
    role: RoleOut


class RelationshipOut(BaseModel):
    """Mastodon's Relationship entity."""

    id: str
    following: bool
    showing_reblogs: bool
    notifying: bool = False
    languages: list[str] | None = None
    followed_by: bool
    blocking: bool = False
    blocked_by: bool = False
    muting: bool = False
    muting_notifications: bool = False
    requested: bool = False
    requested_by: bool = False
    domain_blocking: bool = False
    endorsed: bool = False
    note: str = ""


class AdminAccountOut(BaseModel):
    """Mastodon's Admin::Account entity."""

    id: str
    username: str
    domain: str | None = None
    created_at: str
    email: str
    ip: str | None = None
    ips: list[dict[str, str]] = Field(default_factory=list)
    locale: str = ""
    invite_request: str | None = None
    role: RoleOut
    confirmed: bool = True
    approved: bool = True
    disabled: bool = False
    silenced: bool = False
    suspended: bool = False
    sensitized: bool = False
    account: AccountOut


class RegistrationIn(BaseModel):
    """Parameters of ``POST /api/v1/accounts``."""

    username: ShortText = ""
    email: ShortText = ""
    password: LongText = ""
    agreement: bool = False
    locale: Token = "en"
    reason: LongText | None = None


class FollowIn(BaseModel):
    """Parameters of ``POST /api/v1/accounts/:id/follow`` (accepted, not all acted on)."""

    # None: a new follow takes Mastodon's defaults (reblogs shown, no notifications), an
    # existing one keeps its options.
    reblogs: bool | None = None
    notify: bool | None = None
    languages: list[Token] | None = Field(None, max_length=MAX_LANGUAGES)


class SourceIn(BaseModel):
    """``source[...]`` of ``PATCH /api/v1/accounts/update_credentials``."""

    # The visibility of posts made without one; "direct" is refused (422) for now.
    privacy: Literal["public", "unlisted", "private", "direct"] | None = None
    # ISO 639-1 language of posts made without one; "" clears it.
    language: Token | None = Field(None, max_length=10)
    sensitive: bool | None = Field(None, description="Only false: Chirp has no media yet.")


class UpdateCredentialsIn(BaseModel):
    """Parameters of ``PATCH /api/v1/accounts/update_credentials``."""

    display_name: ShortText | None = None
    note: LongText | None = None
    # What Chirp's accounts always are; any other value is refused (422), not ignored.
    locked: bool | None = Field(None, description="Only false.")
    bot: bool | None = Field(None, description="Only false.")
    discoverable: bool | None = Field(None, description="Only true.")
    hide_collections: bool | None = Field(None, description="Only false.")
    indexable: bool | None = Field(None, description="Only true.")
    source: SourceIn | None = None

    @model_validator(mode="before")
    @classmethod
    def _nest_source(cls, data: Any) -> Any:
        # Forms send ``source[privacy]=private``; JSON sends {"source": {"privacy": ...}}.
        if not isinstance(data, dict):
            return data
        flat = {k: v for k, v in data.items() if k.startswith("source[") and k.endswith("]")}
        if not flat:
            return data
        nested = {k: v for k, v in data.items() if k not in flat}
        source = nested.get("source")
        source = dict(source) if isinstance(source, dict) else {}
        source.update({key[len("source[") : -1]: value for key, value in flat.items()})
        nested["source"] = source
        return nested
