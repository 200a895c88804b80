"""Mastodon entities for accounts, and the inputs of account endpoints."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from chirp.parsing import LongText, ShortText, Token
from chirp.users.models import User

# There are fewer than 200 ISO 639-1 languages.
MAX_LANGUAGES = 200
# More fields than this are refused before they are read (only 4 are ever kept).
MAX_FIELD_PARAMS = 16


class FieldOut(BaseModel):
    """Mastodon's Field entity: a profile field (its value HTML in Account, plain in source)."""

    name: str
    value: str
    # Chirp verifies no links, so none is ever marked verified.
    verified_at: str | None = None


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
    fields: list[FieldOut] = Field(default_factory=list)
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
    fields: list[FieldOut] = Field(default_factory=list)
    follow_requests_count: int = 0
    hide_collections: bool = False
    discoverable: bool = True
    indexable: bool = True


class CredentialAccountOut(AccountOut):
    """The authenticated user's own Account, with its source."""

    source: SourceOut
    role: RoleOut


class PreferencesOut(BaseModel):
    """Mastodon's Preferences entity (keys with colons, as Mastodon spells them)."""

    model_config = ConfigDict(populate_by_name=True, serialize_by_alias=True)

    posting_default_visibility: str = Field(alias="posting:default:visibility")
    posting_default_sensitive: bool = Field(alias="posting:default:sensitive")
    posting_default_language: str | None = Field(alias="posting:default:language")
    # Chirp shows media and content warnings as each post asks: Mastodon's defaults.
    reading_expand_media: Literal["default", "show_all", "hide_all"] = Field(
        "default", alias="reading:expand:media"
    )
    reading_expand_spoilers: bool = Field(False, alias="reading:expand:spoilers")

    @classmethod
    def of(cls, user: User) -> PreferencesOut:
        """A user's preferences."""
        return cls(
            posting_default_visibility=user.default_privacy,
            posting_default_sensitive=user.default_sensitive,
            posting_default_language=user.default_language,
        )


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
    # Whether new media is marked sensitive when the post does not say.
    sensitive: bool | None = None


class FieldIn(BaseModel):
    """One profile field of ``fields_attributes``: a label and its content."""

    name: LongText = ""
    value: LongText = ""


class UpdateCredentialsIn(BaseModel):
    """Parameters of ``PATCH /api/v1/accounts/update_credentials``."""

    display_name: ShortText | None = None
    note: LongText | None = None
    # Stored and shown; follows are not held for approval yet.
    locked: bool | None = Field(
        None, description="Manually approve followers (stored; follows still take effect)."
    )
    # Mastodon's hash keyed by index (forms: ``fields_attributes[0][name]``) or a JSON list.
    fields_attributes: dict[str, FieldIn] | list[FieldIn] | None = Field(
        None,
        max_length=MAX_FIELD_PARAMS,
        description="Profile fields (at most 4), replacing the current ones; [] clears them.",
    )
    # What Chirp's accounts always are; any other value is refused (422), not ignored.
    bot: bool | None = Field(None, description="Only false.")
    discoverable: bool | None = Field(None, description="Only true.")
    hide_collections: bool | None = Field(None, description="Only false.")
    indexable: bool | None = Field(None, description="Only true.")
    source: SourceIn | None = None

    @model_validator(mode="before")
    @classmethod
    def _nest_brackets(cls, data: Any) -> Any:
        # Forms send ``source[privacy]=private`` and ``fields_attributes[0][name]=...``; JSON
        # sends {"source": {"privacy": ...}} and {"fields_attributes": [{"name": ...}]}.
        if not isinstance(data, dict):
            return data
        nested = dict(data)
        source = _nest(nested, "source")
        if source:
            nested["source"] = source
        fields: dict[str, Any] = {}
        for key, part in _nest(nested, "fields_attributes").items():
            index, _, rest = key.partition("][")
            if rest:
                fields.setdefault(index, {})[rest] = part
            elif isinstance(part, dict):
                fields.setdefault(index, {}).update(part)
        if fields:
            nested["fields_attributes"] = fields
        return nested

    def field_pairs(self) -> list[tuple[str, str]] | None:
        """The fields sent, as (name, value) in order of their index; None if not sent."""
        sent = self.fields_attributes
        if sent is None:
            return None
        if isinstance(sent, list):
            return [(f.name, f.value) for f in sent]
        order = sorted(sent, key=lambda k: (not k.isdigit(), int(k) if k.isdigit() else 0, k))
        return [(sent[k].name, sent[k].value) for k in order]


def _nest(data: dict[str, Any], name: str) -> dict[str, Any]:
    """Take ``name[...]`` keys out of ``data``, merged with a ``name`` object sent as JSON."""
    prefix = name + "["
    flat = {k: data.pop(k) for k in [k for k in data if k.startswith(prefix) and k.endswith("]")]}
    if not flat:
        return {}
    sent = data.get(name)
    merged = dict(sent) if isinstance(sent, dict) else {}
    merged.update({key[len(prefix) : -1]: value for key, value in flat.items()})
    return merged
