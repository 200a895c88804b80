"""Mastodon's Notification, NotificationGroup and GroupedNotificationsResults entities."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, SerializerFunctionWrapHandler, model_serializer

from chirp.posts.schemas import StatusOut
from chirp.users.schemas import AccountOut


class _LeavesOutAbsent(BaseModel):
    """Fields in ``_optional`` are left out when empty, as Mastodon leaves them out."""

    _optional: tuple[str, ...] = ()

    @model_serializer(mode="wrap")
    def _drop_absent(self, handler: SerializerFunctionWrapHandler) -> Any:
        data = handler(self)
        if isinstance(data, dict):
            for name in self._optional:
                if data.get(name) is None:
                    data.pop(name, None)
        return data


class NotificationOut(_LeavesOutAbsent):
    """Mastodon's Notification entity (with Pleroma's ``emoji`` for reactions)."""

    _optional = ("status", "emoji")

    id: str
    type: str
    created_at: str
    group_key: str
    account: AccountOut
    # The post concerned: liked, reposted or reacted to (yours), or mentioning or quoting you.
    status: StatusOut | None = None
    # The emoji of a ``pleroma:emoji_reaction``.
    emoji: str | None = None


class NotificationGroupOut(_LeavesOutAbsent):
    """Mastodon 4.3's NotificationGroup entity."""

    _optional = ("status_id", "emoji", "page_min_id", "page_max_id", "latest_page_notification_at")

    group_key: str
    notifications_count: int
    type: str
    most_recent_notification_id: str
    page_min_id: str | None = None
    page_max_id: str | None = None
    latest_page_notification_at: str | None = None
    sample_account_ids: list[str]
    status_id: str | None = None
    emoji: str | None = None


class PartialAccountOut(BaseModel):
    """Mastodon's PartialAccountWithAvatar: enough to draw an avatar in a group."""

    id: str
    acct: str
    url: str
    avatar: str
    avatar_static: str
    avatar_description: str = ""
    locked: bool = False
    bot: bool = False


class GroupedNotificationsOut(_LeavesOutAbsent):
    """Mastodon 4.3's GroupedNotificationsResults: groups, and their accounts and statuses."""

    _optional = ("partial_accounts",)

    accounts: list[AccountOut]
    # With ``expand_accounts=partial_avatars``: the accounts not the newest of any group.
    partial_accounts: list[PartialAccountOut] | None = None
    statuses: list[StatusOut]
    notification_groups: list[NotificationGroupOut]


class UnreadCountOut(BaseModel):
    """How many notifications are unread (capped)."""

    count: int
