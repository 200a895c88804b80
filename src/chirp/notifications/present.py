"""Turn notifications and their groups into Mastodon entities, in bulk."""

from __future__ import annotations

from chirp.api import present
from chirp.config import Settings
from chirp.notifications import service
from chirp.notifications.groups import GroupedPage
from chirp.notifications.models import Notification
from chirp.notifications.schemas import (
    GroupedNotificationsOut,
    NotificationGroupOut,
    NotificationOut,
    PartialAccountOut,
)
from chirp.notifications.types import REACTION
from chirp.posts.schemas import StatusOut
from chirp.users.schemas import AccountOut


def _statuses(shown: service.Shown, settings: Settings) -> dict[int, StatusOut]:
    """Status entities of the posts shown, by post id (each rendered once)."""
    return {int(s.id): s for s in present.statuses(shown.feed, settings)}


def _accounts(shown: service.Shown, settings: Settings) -> dict[int, AccountOut]:
    return {i: present.account(user, settings) for i, user in shown.accounts.items()}


def notifications(listing: service.Listing, settings: Settings) -> list[NotificationOut]:
    """Notification entities; one whose post the reader may no longer see is left out."""
    statuses = _statuses(listing.shown, settings)
    accounts = _accounts(listing.shown, settings)
    out = []
    for n in listing.notifications:
        if n.from_account_id not in accounts:
            continue
        status = statuses.get(n.post_id) if n.post_id is not None else None
        if n.post_id is not None and status is None:
            continue
        out.append(_entity(n, accounts[n.from_account_id], status))
    return out


def _entity(n: Notification, account: AccountOut, status: StatusOut | None) -> NotificationOut:
    return NotificationOut(
        id=str(n.id),
        type=n.type,
        created_at=present.iso(n.created_at),
        group_key=n.group_key,
        account=account,
        status=status,
        emoji=n.emoji if n.type == REACTION else None,
    )


def grouped(
    page: GroupedPage, settings: Settings, *, partial_avatars: bool = False
) -> GroupedNotificationsOut:
    """GroupedNotificationsResults: each account and status once, then the groups.

    ``partial_avatars``: only each group's newest account in full, the others as
    PartialAccountWithAvatar (as Mastodon's ``expand_accounts=partial_avatars``).
    """
    statuses = _statuses(page.shown, settings)
    accounts = _accounts(page.shown, settings)
    groups = []
    for g in page.groups:
        groups.append(
            NotificationGroupOut(
                group_key=g.key,
                notifications_count=g.count,
                type=g.type,
                most_recent_notification_id=str(g.most_recent_id),
                page_min_id=_str(g.page_min_id),
                page_max_id=_str(g.page_max_id),
                latest_page_notification_at=(
                    present.iso(g.latest_page_at) if g.latest_page_at is not None else None
                ),
                sample_account_ids=[str(a) for a in g.sample_account_ids if a in accounts],
                status_id=str(g.post_id) if g.post_id is not None else None,
                emoji=g.emoji if g.type == REACTION else None,
            )
        )
    if not partial_avatars:
        return GroupedNotificationsOut(
            accounts=list(accounts.values()),
            statuses=list(statuses.values()),
            notification_groups=groups,
        )
    newest = {g.sample_account_ids[0] for g in page.groups if g.sample_account_ids}
    return GroupedNotificationsOut(
        accounts=[a for i, a in accounts.items() if i in newest],
        partial_accounts=[_partial(a) for i, a in accounts.items() if i not in newest],
        statuses=list(statuses.values()),
        notification_groups=groups,
    )


def _partial(account: AccountOut) -> PartialAccountOut:
    return PartialAccountOut(
        id=account.id,
        acct=account.acct,
        url=account.url,
        avatar=account.avatar,
        avatar_static=account.avatar_static,
    )


def _str(value: int | None) -> str | None:
    return None if value is None else str(value)
