"""Mastodon API: favourite and unfavourite statuses, your favourites, who favourited a status."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response

from chirp.api import present
from chirp.api.auth import UserContext, optional_user, require_user
from chirp.api.links import link_pages
from chirp.api.paging import AccountsCursorDep, CursorDep, parse_id
from chirp.deps import SessionDep, SettingsDep
from chirp.likes import service as likes_service
from chirp.posts import action_api, feed
from chirp.posts import service as posts_service
from chirp.posts.schemas import StatusOut
from chirp.users.schemas import AccountOut

router = APIRouter(prefix="/api/v1", tags=["favourites"])

WriteFavourites = Annotated[UserContext, Depends(require_user("write:favourites"))]


@router.post("/statuses/{status_id}/favourite", response_model=StatusOut)
async def favourite(
    status_id: str, session: SessionDep, settings: SettingsDep, ctx: WriteFavourites
) -> StatusOut:
    """Favourite a status (a reblog: the status it shares); doing it again changes nothing."""
    return await action_api.act(session, settings, ctx.user, status_id, likes_service.like)


@router.post("/statuses/{status_id}/unfavourite", response_model=StatusOut)
async def unfavourite(
    status_id: str, session: SessionDep, settings: SettingsDep, ctx: WriteFavourites
) -> StatusOut:
    """Take back a favourite; unfavouriting a status you did not favourite changes nothing."""
    return await action_api.act(session, settings, ctx.user, status_id, likes_service.unlike)


@router.get("/favourites", response_model=list[StatusOut])
async def favourites(
    request: Request,
    response: Response,
    session: SessionDep,
    settings: SettingsDep,
    cursor: CursorDep,
    ctx: Annotated[UserContext, Depends(require_user("read:favourites"))],
) -> list[StatusOut]:
    """Statuses you favourited, most recently favourited first (paged by favourite id)."""
    pairs = await likes_service.liked_page(session, user_id=ctx.user.id, cursor=cursor)
    # As Mastodon: the Link header pages by when you favourited, not by status id.
    link_pages(request, response, [like_id for like_id, _ in pairs])
    posts = [post for _, post in pairs]
    return present.statuses(await feed.load(session, posts, viewer=ctx.user), settings)


@router.get("/statuses/{status_id}/favourited_by", response_model=list[AccountOut])
async def favourited_by(
    status_id: str,
    request: Request,
    response: Response,
    session: SessionDep,
    settings: SettingsDep,
    cursor: AccountsCursorDep,
    viewer: Annotated[UserContext | None, Depends(optional_user("read:statuses"))],
) -> list[AccountOut]:
    """Accounts that favourited a status, most recent favourite first (paged by favourite id)."""
    user = viewer.user if viewer else None
    post = await posts_service.get_visible_post_or_404(session, parse_id(status_id), viewer=user)
    # A reblog has no favourites of its own (they are its original's), as on Mastodon.
    pairs = await likes_service.likers_page(session, post_id=post.id, cursor=cursor)
    link_pages(request, response, [like_id for like_id, _ in pairs])
    return [present.account(account, settings) for _, account in pairs]
