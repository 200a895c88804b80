"""Mastodon entities for statuses, and the inputs of status endpoints."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue

from chirp.media.schemas import MediaAttachmentOut
from chirp.parsing import BodyText, LongText, Token
from chirp.users.schemas import AccountOut

# Bounds the list before the service checks it against the setting (4 by default, at most 9).
MAX_MEDIA_IDS = 20
# Text with something besides white space, and no NUL (see chirp.parsing).
_NOT_BLANK = "^[^\\u0000]*[^\\s\\u0000][^\\u0000]*$"


def _refused(schema: dict[str, JsonValue]) -> None:
    # What the docs say a parameter Chirp does not support yet may be: absent or empty.
    schema.clear()
    schema.update(type="string", maxLength=0, description="Not supported yet: leave it out.")


class ApplicationOut(BaseModel):
    """The app a status was posted with."""

    # Frozen: pages share one instance among the statuses that have the same.
    model_config = ConfigDict(frozen=True)

    name: str
    website: str | None = None


class EmojiReactionOut(BaseModel):
    """One emoji on a status (Pleroma's EmojiReaction): how many, and whether you."""

    name: str
    count: int
    me: bool


class QuoteApprovalOut(BaseModel):
    """Mastodon's QuoteApproval: who may quote a status, and whether you may."""

    # Frozen: pages share one instance among the statuses that have the same.
    model_config = ConfigDict(frozen=True)

    automatic: list[str] = Field(default_factory=list)
    manual: list[str] = Field(default_factory=list)
    # "automatic" (you may), "denied" (you may not), "unknown" (logged out).
    current_user: str = "unknown"


class PleromaStatusOut(BaseModel):
    """The ``pleroma`` part of a status, where Pleroma's clients look for reactions."""

    # Frozen: pages share one instance among the statuses that have the same.
    model_config = ConfigDict(frozen=True)

    emoji_reactions: list[EmojiReactionOut] = Field(default_factory=list)


class StatusOut(BaseModel):
    """Mastodon's Status entity."""

    id: str
    uri: str
    url: str
    created_at: str
    account: AccountOut
    content: str
    visibility: str = "public"
    sensitive: bool = False
    spoiler_text: str = ""
    media_attachments: list[MediaAttachmentOut] = Field(default_factory=list)
    application: ApplicationOut | None = None
    mentions: list[dict[str, object]] = Field(default_factory=list)
    tags: list[dict[str, object]] = Field(default_factory=list)
    emojis: list[dict[str, object]] = Field(default_factory=list)
    reblogs_count: int = 0
    favourites_count: int = 0
    replies_count: int = 0
    in_reply_to_id: str | None = None
    in_reply_to_account_id: str | None = None
    reblog: StatusOut | None = None
    quote: QuoteOut | None = None
    quote_approval: QuoteApprovalOut = Field(default_factory=QuoteApprovalOut)
    quotes_count: int = 0
    emoji_reactions: list[EmojiReactionOut] = Field(default_factory=list)
    pleroma: PleromaStatusOut = Field(default_factory=PleromaStatusOut)
    poll: dict[str, object] | None = None
    card: dict[str, object] | None = None
    language: str | None = None
    text: str | None = None
    edited_at: str | None = None
    favourited: bool | None = None
    reblogged: bool | None = None
    muted: bool | None = None
    bookmarked: bool | None = None
    pinned: bool | None = None
    filtered: list[dict[str, object]] | None = None


class QuoteOut(BaseModel):
    """Mastodon's Quote: the quoted status, if it can be shown, and why not if not."""

    # "accepted", "deleted" (the quoted status is gone) or "unauthorized" (you may not see it).
    state: str
    quoted_status: StatusOut | None = None


StatusOut.model_rebuild()


class ContextOut(BaseModel):
    """Mastodon's Context: the statuses above one (oldest first) and the replies below it."""

    ancestors: list[StatusOut]
    descendants: list[StatusOut]


class StatusCreate(BaseModel):
    """Parameters of ``POST /api/v1/statuses``."""

    # Required unless ``media_ids`` are given (a post may be images only).
    status: BodyText = Field("", json_schema_extra={"pattern": _NOT_BLANK})
    # Your uploads (``POST /api/v2/media``) not yet attached, shown in this order; at most
    # ``max_media_attachments`` (the instance configuration says how many).
    media_ids: list[Token] = Field(
        default_factory=list, max_length=MAX_MEDIA_IDS, json_schema_extra={"maxItems": 9}
    )
    # The status this one answers; one that does not exist or you may not see is 404.
    in_reply_to_id: Token | None = None
    # Left out: the author's default (source.sensitive) when the status has media.
    sensitive: bool | None = None
    spoiler_text: LongText = ""
    # Left out: the author's default (source.privacy), or direct in reply to a direct
    # message. A direct one must mention another account and quote nothing (else 422).
    visibility: Literal["public", "unlisted", "private", "direct"] | None = None
    # ISO 639-1; left out: the author's default (source.language), else none.
    language: Token | None = Field(None, max_length=10)
    scheduled_at: Token | None = Field(None, json_schema_extra=_refused)
    # Mastodon 4.5's quote posts: the post quoted, and who may quote this one (left out:
    # public; a followers-only post is quotable by its author alone).
    quoted_status_id: Token | None = Field(None, max_length=30)
    quote_approval_policy: Literal["public", "followers", "nobody"] | None = None


class InteractionPolicyIn(BaseModel):
    """Parameters of ``PUT /api/v1/statuses/:id/interaction_policy``."""

    quote_approval_policy: Literal["public", "followers", "nobody"] | None = None


class ReblogIn(BaseModel):
    """Parameters of ``POST /api/v1/statuses/:id/reblog``."""

    # Left out: the reposter's default; a repost of a followers-only post stays so.
    visibility: Literal["public", "unlisted", "private"] | None = None
