"""Mastodon API: home and public timelines."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response

from chirp.api import present
from chirp.api.auth import UserContext, optional_user, require_user
from chirp.api.links import link_pages
from chirp.api.paging import CursorDep
from chirp.deps import HomeTimelineDep, SessionDep, SettingsDep
from chirp.posts import feed
from chirp.posts.schemas import StatusOut
from chirp.timeline import service as timeline_service

router = APIRouter(prefix="/api/v1/timelines", tags=["timelines"])


@router.get("/home", response_model=list[StatusOut])
async def home(
    request: Request,
    response: Response,
    session: SessionDep,
    settings: SettingsDep,
    timeline: HomeTimelineDep,
    cursor: CursorDep,
    ctx: Annotated[UserContext, Depends(require_user("read:statuses"))],
) -> list[StatusOut]:
    """Your posts and those of everyone you follow, newest first."""
    posts = await timeline.page(session, user_id=ctx.user.id, cursor=cursor)
    link_pages(request, response, [p.id for p in posts])
    return present.statuses(await feed.load(session, posts, viewer=ctx.user), settings)


@router.get("/public", response_model=list[StatusOut])
async def public(
    request: Request,
    response: Response,
    session: SessionDep,
    settings: SettingsDep,
    cursor: CursorDep,
    viewer: Annotated[UserContext | None, Depends(optional_user("read:statuses"))],
    local: bool = False,
    remote: bool = False,
    only_media: bool = False,
) -> list[StatusOut]:
    """Every post on this server, newest first (Chirp has no remote posts)."""
    posts = [] if remote or only_media else await timeline_service.public(session, cursor=cursor)
    link_pages(request, response, [p.id for p in posts])
    reader = viewer.user if viewer else None
    return present.statuses(await feed.load(session, posts, viewer=reader), settings)
