"""Web pages: the home timeline, or the public landing page when logged out."""

from __future__ import annotations

from collections.abc import Sequence

from fastapi import APIRouter, Request, Response

from chirp.deps import HomeTimelineDep, SessionDep, SettingsDep
from chirp.posts.models import PostView
from chirp.timeline import service as timeline_service
from chirp.web import paging
from chirp.web.htmx import is_htmx, render
from chirp.web.session import OptionalUser

router = APIRouter()


@router.get("/")
async def home(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    timeline: HomeTimelineDep,
    viewer: OptionalUser,
    max_id: str | None = None,
) -> Response:
    """Your home timeline with the composer; logged out, the public timeline."""
    cursor = paging.cursor(max_id, settings.page_size)
    posts: Sequence[PostView]
    if viewer is not None:
        posts = await timeline.page(session, user_id=viewer.id, cursor=cursor)
        template = "timeline/home.html"
    else:
        posts = await timeline_service.public(session, cursor=cursor)
        template = "timeline/landing.html"
    context = {
        "posts": posts,
        "next_max_id": paging.next_max_id([p.id for p in posts], settings.page_size),
        "more_url": "/",
        "paged": max_id is not None,
    }
    if is_htmx(request) and max_id:
        template = "posts/_page.html"
    return render(request, template, context, viewer=viewer)
