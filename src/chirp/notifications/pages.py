"""Web pages: your notifications, grouped, with "Mark all as read"; opening them reads them."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from chirp.deps import SessionDep, SettingsDep
from chirp.errors import NotFound
from chirp.notifications import groups, service
from chirp.web import paging
from chirp.web.htmx import is_htmx, redirect, render
from chirp.web.session import CurrentUser

router = APIRouter()

# The page's filters, by the name in its address.
FILTERS = {"all": service.ALL, "mentions": service.MENTIONS}


@router.get("/notifications")
async def notifications(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    viewer: CurrentUser,
    max_id: str | None = None,
    filter: str = "all",
) -> Response:
    """Your notifications, newest first, grouped; the first page marks them read."""
    chosen = FILTERS.get(filter)
    if chosen is None:
        raise NotFound("There is no such list of notifications.")
    cursor = paging.cursor(max_id, settings.page_size)
    found = await groups.page(session, user=viewer, cursor=cursor, chosen=chosen)
    if max_id is None and found.groups:
        # Seen now: the marker moves to the newest shown (never back), and the badge with it.
        newest = max(g.most_recent_id for g in found.groups)
        await service.mark_read(session, user_id=viewer.id, up_to=newest)
        await session.commit()
        unread = await service.unread_count(session, user_id=viewer.id, limit=service.BADGE_CAP)
        request.state.notifications_badge = service.badge(unread)
    more_url = "/notifications" + ("?filter=mentions&" if filter == "mentions" else "?")
    context = {
        "page": found,
        "filter": filter,
        "next_max_id": None if found.reached_end or not found.groups else found.next_max_id,
        "more_url": more_url,
        "paged": max_id is not None,
    }
    if is_htmx(request) and max_id:
        return render(request, "notifications/_page.html", context, viewer=viewer)
    return render(request, "notifications/notifications.html", context, viewer=viewer)


@router.post("/notifications/read")
async def mark_all_read(request: Request, session: SessionDep, viewer: CurrentUser) -> Response:
    """Mark every notification you have as read."""
    newest = await service.newest_id(session, user_id=viewer.id)
    if newest is not None:
        await service.mark_read(session, user_id=viewer.id, up_to=newest)
        await session.commit()
    return redirect(request, "/notifications", message="All notifications marked as read")
