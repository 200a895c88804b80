"""Web pages: the home timeline, or the public landing page when logged out."""

from __future__ import annotations

from collections.abc import Sequence

from fastapi import APIRouter, Request, Response

from chirp.deps import HomeTimelineDep, SessionDep, SettingsDep
from chirp.follows import service as follows_service
from chirp.pagination import Cursor
from chirp.posts import feed
from chirp.posts.models import PostView
from chirp.timeline import service as timeline_service
from chirp.web import paging
from chirp.web.htmx import is_htmx, render
from chirp.web.session import OptionalUser

router = APIRouter()

SUGGESTIONS = 5


@router.get("/")
async def home(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    timeline: HomeTimelineDep,
    viewer: OptionalUser,
    max_id: str | None = None,
    until: str | None = None,
) -> Response:
    """Your home timeline with the composer; logged out, the public timeline."""

    async def fetch(cursor: Cursor) -> Sequence[PostView]:
        if viewer is not None:
            return await timeline.page(session, user_id=viewer.id, cursor=cursor)
        return await timeline_service.public(session, cursor=cursor)

    listed = await paging.read(fetch, max_id=max_id, until=until, page_size=settings.page_size)
    template = "timeline/home.html" if viewer is not None else "timeline/landing.html"
    context: dict[str, object] = {
        "posts": listed.items,
        "feed": await feed.load(session, listed.items, viewer=viewer),
        "next_max_id": listed.next_max_id,
        "more_url": "/",
        "paged": max_id is not None,
    }
    if viewer is not None and not listed.items and max_id is None:
        # An empty home: suggest people to follow instead of an empty side column.
        context["suggestions"] = await follows_service.suggestions(
            session, viewer_id=viewer.id, limit=SUGGESTIONS
        )
    if is_htmx(request) and max_id:
        template = "posts/_page.html"
    return render(request, template, context, viewer=viewer)
