"""Mastodon entities for accounts, and the inputs of account endpoints."""

from __future__ import annotations

from pydantic import BaseModel, Field

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
    language: str = ""
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

    reblogs: bool = True
    notify: bool = False
    languages: list[Token] | None = Field(None, max_length=MAX_LANGUAGES)
