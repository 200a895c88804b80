"""Mastodon entities for statuses, and the inputs of status endpoints."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from chirp.users.schemas import AccountOut


class ApplicationOut(BaseModel):
    """The app a status was posted with."""

    name: str
    website: str | None = None


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
    media_attachments: list[dict[str, object]] = Field(default_factory=list)
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


class StatusCreate(BaseModel):
    """Parameters of ``POST /api/v1/statuses``."""

    status: str = ""
    media_ids: list[str] = Field(default_factory=list)
    in_reply_to_id: str | None = None
    sensitive: bool = False
    spoiler_text: str = ""
    visibility: Literal["public", "unlisted", "private", "direct"] = "public"
    language: str | None = Field(None, max_length=10)
    scheduled_at: str | None = None
