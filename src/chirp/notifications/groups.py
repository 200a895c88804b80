"""Grouped notifications as Mastodon 4.3 pages them (``GET /api/v2/notifications``, the web page).

A page holds up to ``limit`` groups: walking the user's notifications newest first (oldest
first after ``min_id``), the first notification met of each group stands for it. Each
group then carries its whole size, its newest accounts and the ids of its members within
the page's range, read in bulk by group key.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, case, delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from chirp.errors import NotFound
from chirp.markers import service as markers_service
from chirp.notifications import grouping, service, types
from chirp.notifications.models import Notification
from chirp.pagination import Cursor, fetch_page
from chirp.parsing import ascii_int
from chirp.users.models import User

# Accounts shown per group (Mastodon's SAMPLE_ACCOUNTS_SIZE).
SAMPLE_ACCOUNTS = 8
# Notifications read per step of the walk, and at most per page: a page of one huge group
# stops there, and its Link goes on from the last notification read.
SCAN_STEP = 200
MAX_SCAN = 4000


@dataclass
class Group:
    """One group of a page (a lone notification is a group of one)."""

    key: str
    type: str
    post_id: int | None
    emoji: str
    count: int
    most_recent_id: int
    sample_account_ids: list[int]
    # Members within the page's range (None for a group read on its own).
    page_min_id: int | None
    page_max_id: int | None
    latest_page_at: datetime | None


@dataclass
class GroupedPage:
    """A page of groups, newest first, with what showing them needs and where paging goes."""

    groups: list[Group]
    shown: service.Shown
    # Link targets: older than ``next_max_id``, newer than ``prev_min_id`` (None: empty page).
    next_max_id: int | None = None
    prev_min_id: int | None = None
    reached_end: bool = False


def effective_key(notification: Notification, grouped: Collection[str]) -> str:
    """The group a notification is shown in, when only ``grouped`` types may be grouped."""
    if notification.type in grouped and not notification.group_key.startswith("ungrouped-"):
        return notification.group_key
    return grouping.ungrouped(notification.id)


def grouped_types(requested: Sequence[str] | None) -> tuple[str, ...]:
    """The types a page groups: those asked for that Chirp groups (all of them by default)."""
    if requested is None:
        return types.GROUPABLE
    return tuple(t for t in types.GROUPABLE if t in requested)


async def page(
    session: AsyncSession,
    *,
    user: User,
    cursor: Cursor,
    chosen: service.Filter = service.ALL,
    grouped: Sequence[str] = types.GROUPABLE,
) -> GroupedPage:
    """One page of ``user``'s notification groups, newest first."""
    picked, cut_at, exhausted = await _walk(session, user.id, cursor, chosen, grouped)
    if not picked:
        return GroupedPage(
            groups=[],
            shown=await service.load_shown(session, account_ids=(), post_ids=(), viewer=user),
            reached_end=True,
        )
    ids = [n.id for n in picked]
    low, high = min(ids), max(ids)
    groups, shown = await _build(session, user, picked, grouped, low=low, high=high)
    oldest = min(low, cut_at) if cut_at is not None else low
    return GroupedPage(
        groups=groups,
        shown=shown,
        next_max_id=oldest,
        prev_min_id=high,
        reached_end=exhausted and cursor.min_id is None,
    )


async def one(session: AsyncSession, *, user: User, key: str) -> GroupedPage:
    """The group with this key (``ungrouped-<id>``: one notification); NotFound if none."""
    stmt = (
        service.browse_query(user.id)
        .where(_of_group(key))
        .order_by(Notification.id.desc())
        .limit(1)
    )
    found = (await session.execute(stmt)).scalars().first()
    grouped = () if key.startswith("ungrouped-") else types.GROUPABLE
    if found is not None:
        groups, shown = await _build(session, user, [found], grouped, low=found.id, high=found.id)
        if groups:
            [group] = groups
            group.page_min_id = group.page_max_id = group.latest_page_at = None
            return GroupedPage(groups=groups, shown=shown)
    raise NotFound("Record not found")


async def accounts(
    session: AsyncSession, *, user: User, key: str, cursor: Cursor
) -> list[tuple[int, User]]:
    """Who acted in a group, newest first, each with the notification id that pages it.

    A key with no notifications (or someone else's) is an empty list, as Mastodon answers.
    """
    stmt = service.browse_query(user.id).where(_of_group(key))
    found: list[Notification] = await fetch_page(session, stmt, Notification.id, cursor)
    by_id = await service.accounts_by_id(session, {n.from_account_id for n in found})
    return [(n.id, by_id[n.from_account_id]) for n in found if n.from_account_id in by_id]


async def dismiss(session: AsyncSession, *, user_id: int, key: str) -> None:
    """Delete the user's notifications of one group (none: nothing to do)."""
    await session.execute(
        delete(Notification).where(Notification.user_id == user_id, _of_group(key))
    )


def _of_group(key: str) -> Any:
    """The notifications of a group key: ``ungrouped-<id>`` names one notification."""
    lone = key.removeprefix("ungrouped-")
    if lone != key:
        return Notification.id == (ascii_int(lone) if ascii_int(lone) is not None else -1)
    return Notification.group_key == key


async def unread_groups(
    session: AsyncSession,
    *,
    user: User,
    chosen: service.Filter,
    grouped: Sequence[str],
    limit: int,
) -> int:
    """How many groups the notifications newer than the user's marker make, up to ``limit``."""
    last_read = await markers_service.last_read(
        session, user_id=user.id, timeline=markers_service.NOTIFICATIONS
    )
    cursor = Cursor(min_id=last_read or 0, limit=limit)
    picked, _, _ = await _walk(session, user.id, cursor, chosen, grouped)
    return len(picked)


async def _build(
    session: AsyncSession,
    user: User,
    picked: list[Notification],
    grouped: Sequence[str],
    *,
    low: int,
    high: int,
) -> tuple[list[Group], service.Shown]:
    """Groups for the notifications that stand for them, and what showing them needs."""
    keys = [k for n in picked if not (k := effective_key(n, grouped)).startswith("ungrouped-")]
    data = await _group_data(session, user.id, keys, low=low, high=high)
    groups = []
    for n in picked:
        key = effective_key(n, grouped)
        if key in data:
            groups.append(_group(n, key, data[key]))
        else:
            alone = [n.from_account_id]
            groups.append(
                Group(key, n.type, n.post_id, n.emoji, 1, n.id, alone, n.id, n.id, n.created_at)
            )
    shown = await service.load_shown(
        session,
        account_ids={a for g in groups for a in g.sample_account_ids},
        post_ids={g.post_id for g in groups if g.post_id is not None},
        viewer=user,
    )
    # Groups whose post the reader may no longer see are gone with it (the walk kept only
    # notifications they may see; a post deleted meanwhile takes its group along).
    return [g for g in groups if g.post_id is None or g.post_id in shown.posts], shown


def _group(n: Notification, key: str, row: dict[str, Any]) -> Group:
    return Group(
        key=key,
        type=n.type,
        post_id=n.post_id,
        emoji=n.emoji,
        count=row["count"],
        most_recent_id=row["most_recent_id"],
        sample_account_ids=row["samples"] or [n.from_account_id],
        page_min_id=row["page_min_id"] or n.id,
        page_max_id=row["page_max_id"] or n.id,
        latest_page_at=row["latest_page_at"] or n.created_at,
    )


async def _walk(
    session: AsyncSession,
    user_id: int,
    cursor: Cursor,
    chosen: service.Filter,
    grouped: Sequence[str],
) -> tuple[list[Notification], int | None, bool]:
    """The first notification of each group met, newest first; the last id read when the walk
    stopped at MAX_SCAN (else None); and whether it read to the end."""
    forward = cursor.min_id is not None
    base = service.browse_query(user_id, chosen)
    if cursor.max_id is not None:
        base = base.where(Notification.id < cursor.max_id)
    lower = max(x for x in (cursor.min_id, cursor.since_id, -1) if x is not None)
    if lower >= 0:
        base = base.where(Notification.id > lower)
    picked: dict[str, Notification] = {}
    edge: int | None = None
    scanned = 0
    while scanned < MAX_SCAN:
        stmt = base
        if edge is not None:
            stmt = stmt.where(Notification.id > edge if forward else Notification.id < edge)
        order = Notification.id.asc() if forward else Notification.id.desc()
        rows = list((await session.execute(stmt.order_by(order).limit(SCAN_STEP))).scalars())
        scanned += len(rows)
        for n in rows:
            picked.setdefault(effective_key(n, grouped), n)
            if len(picked) >= cursor.limit:
                return _ordered(picked, forward), None, False
        if len(rows) < SCAN_STEP:
            return _ordered(picked, forward), None, True
        edge = rows[-1].id
    return _ordered(picked, forward), edge if not forward else None, False


def _ordered(picked: dict[str, Notification], forward: bool) -> list[Notification]:
    found = list(picked.values())
    return list(reversed(found)) if forward else found


def sizes_query(
    user_id: int, keys: Sequence[str], *, low: int, high: int
) -> Select[*tuple[Any, ...]]:
    """Per group key: its size, newest id, and its oldest and newest ids within ``low..high``.

    Served by the index (user_id, group_key, id) alone: each group's own entries, no others.
    """
    return (
        select(
            Notification.group_key,
            func.count(),
            func.max(Notification.id),
            func.min(case((Notification.id >= low, Notification.id))),
            func.max(case((Notification.id <= high, Notification.id))),
        )
        .where(Notification.user_id == user_id, Notification.group_key.in_(keys))
        .group_by(Notification.group_key)
    )


def samples_query(user_id: int, keys: Sequence[str]) -> Select[*tuple[Any, ...]]:
    """(group key, account id) of the newest SAMPLE_ACCOUNTS members of each group."""
    rank = (
        func.row_number()
        .over(partition_by=Notification.group_key, order_by=Notification.id.desc())
        .label("rank")
    )
    ranked = (
        select(Notification.group_key, Notification.from_account_id, Notification.id, rank)
        .where(Notification.user_id == user_id, Notification.group_key.in_(keys))
        .subquery()
    )
    return (
        select(ranked.c.group_key, ranked.c.from_account_id)
        .where(ranked.c.rank <= SAMPLE_ACCOUNTS)
        .order_by(ranked.c.group_key, ranked.c.id.desc())
    )


async def _group_data(
    session: AsyncSession, user_id: int, keys: list[str], *, low: int, high: int
) -> dict[str, dict[str, Any]]:
    """Per group key: size, newest id, newest accounts, and members within ``low..high``."""
    if not keys:
        return {}
    sizes = await session.execute(sizes_query(user_id, keys, low=low, high=high))
    data: dict[str, dict[str, Any]] = {
        key: {
            "count": int(count),
            "most_recent_id": int(newest),
            "page_min_id": page_min,
            "page_max_id": page_max,
            "samples": [],
            "latest_page_at": None,
        }
        for key, count, newest, page_min, page_max in sizes.all()
    }
    for key, account_id in (await session.execute(samples_query(user_id, keys))).all():
        data[key]["samples"].append(int(account_id))
    page_max_ids = [row["page_max_id"] for row in data.values() if row["page_max_id"]]
    if page_max_ids:
        times = await session.execute(
            select(Notification.group_key, Notification.created_at).where(
                Notification.id.in_(page_max_ids)
            )
        )
        for key, at in times.all():
            data[key]["latest_page_at"] = at
    return data
