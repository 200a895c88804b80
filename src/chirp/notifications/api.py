"""Mastodon API: notifications (v1), grouped notifications (v2) and the unread count."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response

from chirp.api import present as api_present
from chirp.api.auth import UserContext, require_user
from chirp.api.links import link_pages, set_link_header
from chirp.api.paging import AccountsCursorDep, parse_id
from chirp.deps import SessionDep, SettingsDep
from chirp.errors import NotFound, ValidationFailed
from chirp.notifications import groups, service
from chirp.notifications import present as notifications_present
from chirp.notifications.schemas import (
    GroupedNotificationsOut,
    NotificationOut,
    UnreadCountOut,
)
from chirp.parsing import Limit, ShortText, path_text, query_id
from chirp.users.schemas import AccountOut

router = APIRouter(tags=["notifications"])

ReadNotifications = Annotated[UserContext, Depends(require_user("read:notifications"))]
WriteNotifications = Annotated[UserContext, Depends(require_user("write:notifications"))]

# More names than Mastodon has types is no filter but a mistake.
MAX_TYPES = 40

_Types = Annotated[
    list[ShortText], Query(alias="types[]", description="Types to include (all by default).")
]
_ExcludeTypes = Annotated[
    list[ShortText], Query(alias="exclude_types[]", description="Types to leave out.")
]
_AccountId = Annotated[
    str | None, Query(description="Only notifications from this account.", max_length=20)
]
_IncludeFiltered = Annotated[
    bool,
    Query(description="Chirp has no notification policies: nothing is ever filtered out."),
]
_SupportedTypes = Annotated[
    list[ShortText],
    Query(
        alias="supported_types[]",
        description="Chirp has no fallback representations: every type is shown as itself.",
    ),
]


_GroupedTypes = Annotated[
    list[ShortText],
    Query(
        alias="grouped_types[]",
        description="Types that may be grouped (favourite, reblog and follow by default).",
    ),
]


def _grouped(request: Request) -> tuple[str, ...]:
    """The types ``grouped_types[]`` lets be grouped (every one Chirp groups when absent)."""
    asked = _names(request, "grouped_types")
    sent = "grouped_types[]" in request.query_params or "grouped_types" in request.query_params
    return groups.grouped_types(asked if sent else None)


def _names(request: Request, name: str) -> list[str]:
    """``name[]`` (and plain ``name``) values from the query, bounded."""
    values = request.query_params.getlist(f"{name}[]") + request.query_params.getlist(name)
    if len(values) > MAX_TYPES:
        raise ValidationFailed(f"{name} takes at most {MAX_TYPES} values", field=name)
    return values


def _chosen(
    request: Request,
    _types: _Types = [],  # noqa: B006 - FastAPI copies defaults
    _exclude_types: _ExcludeTypes = [],  # noqa: B006
    account_id: _AccountId = None,
) -> service.Filter:
    """The filter the query asks for: ``types[]``, ``exclude_types[]`` and ``account_id``."""
    wanted = _names(request, "types")
    return service.Filter(
        types=wanted or None,
        exclude_types=tuple(_names(request, "exclude_types")),
        account_id=query_id("account_id", account_id),
    )


def _unread_limit(
    limit: Annotated[
        Limit,
        Query(
            description=f"Count at most this many ({service.UNREAD_DEFAULT} by default, "
            f"{service.UNREAD_MAX} at most; larger values are taken as {service.UNREAD_MAX})."
        ),
    ] = service.UNREAD_DEFAULT,
) -> int:
    """How far an unread count counts."""
    return max(1, min(limit, service.UNREAD_MAX))


ChosenDep = Annotated[service.Filter, Depends(_chosen)]
UnreadLimitDep = Annotated[int, Depends(_unread_limit)]


@router.get("/api/v1/notifications", response_model=list[NotificationOut])
async def list_notifications(
    request: Request,
    response: Response,
    session: SessionDep,
    settings: SettingsDep,
    cursor: AccountsCursorDep,
    ctx: ReadNotifications,
    chosen: ChosenDep,
    include_filtered: _IncludeFiltered = False,
    _supported_types: _SupportedTypes = [],  # noqa: B006 - FastAPI copies defaults
) -> list[NotificationOut]:
    """Your notifications, newest first (40 by default, at most 80), paged with ``Link``."""
    listing = await service.page(session, user=ctx.user, cursor=cursor, chosen=chosen)
    link_pages(request, response, [n.id for n in listing.notifications])
    return notifications_present.notifications(listing, settings)


@router.get("/api/v1/notifications/unread_count", response_model=UnreadCountOut)
async def unread_count(
    session: SessionDep, ctx: ReadNotifications, chosen: ChosenDep, limit: UnreadLimitDep
) -> UnreadCountOut:
    """How many notifications are newer than your notifications marker, counted up to ``limit``."""
    count = await service.unread_count(session, user_id=ctx.user.id, chosen=chosen, limit=limit)
    return UnreadCountOut(count=count)


@router.post("/api/v1/notifications/clear")
async def clear(session: SessionDep, ctx: WriteNotifications) -> dict[str, str]:
    """Delete all your notifications."""
    await service.clear(session, user_id=ctx.user.id)
    await session.commit()
    return {}


@router.get("/api/v1/notifications/{notification_id:id}", response_model=NotificationOut)
async def get_notification(
    notification_id: str,
    session: SessionDep,
    settings: SettingsDep,
    ctx: ReadNotifications,
    _supported_types: _SupportedTypes = [],  # noqa: B006
) -> NotificationOut:
    """One of your notifications (404 for anyone else's)."""
    listing = await service.get(session, user=ctx.user, notification_id=parse_id(notification_id))
    shown = notifications_present.notifications(listing, settings)
    if not shown:
        raise NotFound("Record not found")  # its post went between the two reads
    return shown[0]


@router.post("/api/v1/notifications/{notification_id:id}/dismiss")
async def dismiss(
    notification_id: str, session: SessionDep, ctx: WriteNotifications
) -> dict[str, str]:
    """Delete one of your notifications (404 for anyone else's)."""
    await service.dismiss(session, user_id=ctx.user.id, notification_id=parse_id(notification_id))
    await session.commit()
    return {}


@router.get("/api/v2/notifications", response_model=GroupedNotificationsOut)
async def grouped_notifications(
    request: Request,
    response: Response,
    session: SessionDep,
    settings: SettingsDep,
    cursor: AccountsCursorDep,
    ctx: ReadNotifications,
    chosen: ChosenDep,
    expand_accounts: Annotated[
        ShortText,
        Query(
            description="`full` (every account in full) or `partial_avatars` (each group's "
            "newest account in full, the others in `partial_accounts`)."
        ),
    ] = "full",
    _grouped_types: _GroupedTypes = [],  # noqa: B006
    include_filtered: _IncludeFiltered = False,
    _supported_types: _SupportedTypes = [],  # noqa: B006
) -> GroupedNotificationsOut:
    """Your notifications grouped as Mastodon 4.3 groups them (up to 40 groups by default, 80
    at most), newest first, paged with ``Link``."""
    if expand_accounts not in ("full", "partial_avatars"):
        raise ValidationFailed(
            "expand_accounts must be full or partial_avatars", field="expand_accounts"
        )
    found = await groups.page(
        session,
        user=ctx.user,
        cursor=cursor,
        chosen=chosen,
        grouped=_grouped(request),
    )
    set_link_header(request, response, newest_id=found.prev_min_id, oldest_id=found.next_max_id)
    return notifications_present.grouped(
        found, settings, partial_avatars=expand_accounts == "partial_avatars"
    )


@router.get("/api/v2/notifications/unread_count", response_model=UnreadCountOut)
async def unread_group_count(
    request: Request,
    session: SessionDep,
    ctx: ReadNotifications,
    chosen: ChosenDep,
    limit: UnreadLimitDep,
    _grouped_types: _GroupedTypes = [],  # noqa: B006
) -> UnreadCountOut:
    """How many groups the notifications newer than your marker make, counted up to ``limit``."""
    count = await groups.unread_groups(
        session, user=ctx.user, chosen=chosen, grouped=_grouped(request), limit=limit
    )
    return UnreadCountOut(count=count)


@router.get("/api/v2/notifications/{group_key}", response_model=GroupedNotificationsOut)
async def notification_group(
    group_key: str,
    session: SessionDep,
    settings: SettingsDep,
    ctx: ReadNotifications,
    _supported_types: _SupportedTypes = [],  # noqa: B006
) -> GroupedNotificationsOut:
    """One of your notification groups, by its key (404 for anyone else's)."""
    found = await groups.one(session, user=ctx.user, key=path_text(group_key))
    return notifications_present.grouped(found, settings)


@router.get("/api/v2/notifications/{group_key}/accounts", response_model=list[AccountOut])
async def group_accounts(
    group_key: str,
    request: Request,
    response: Response,
    session: SessionDep,
    settings: SettingsDep,
    cursor: AccountsCursorDep,
    ctx: ReadNotifications,
) -> list[AccountOut]:
    """Every account of one of your notification groups, newest first (paged by notification)."""
    pairs = await groups.accounts(session, user=ctx.user, key=path_text(group_key), cursor=cursor)
    link_pages(request, response, [notification_id for notification_id, _ in pairs])
    return [api_present.account(user, settings) for _, user in pairs]


@router.post("/api/v2/notifications/{group_key}/dismiss")
async def dismiss_group(
    group_key: str, session: SessionDep, ctx: WriteNotifications
) -> dict[str, str]:
    """Delete your notifications of one group."""
    await groups.dismiss(session, user_id=ctx.user.id, key=path_text(group_key))
    await session.commit()
    return {}
