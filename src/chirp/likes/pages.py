"""Web pages: like and unlike a post (in place with htmx, or as plain forms), and your likes."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import APIRouter, Request, Response

from chirp.deps import SessionDep, SettingsDep
from chirp.likes import service as likes_service
from chirp.pagination import Cursor
from chirp.parsing import ascii_int
from chirp.posts import action_pages, feed
from chirp.posts.models import Post
from chirp.web import paging
from chirp.web.htmx import is_htmx, render
from chirp.web.session import CurrentUser

router = APIRouter()


@router.post("/posts/{post_id}/like")
async def like(press: action_pages.PressDep, item: action_pages.ItemField = None) -> Response:
    """Like a post (a repost: the post it shares); liking it again changes nothing."""
    return await action_pages.act(press, item, likes_service.like)


@router.post("/posts/{post_id}/unlike")
async def unlike(press: action_pages.PressDep, item: action_pages.ItemField = None) -> Response:
    """Take back your like of a post; one you did not like stays as it is."""
    return await action_pages.act(press, item, likes_service.unlike)


@dataclass(frozen=True)
class _Liked:
    """A post in your likes, listed by the like's id (when you liked it)."""

    id: int
    post: Post


@router.get("/likes")
async def likes(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    viewer: CurrentUser,
    max_id: str | None = None,
    until: str | None = None,
) -> Response:
    """The posts you liked, most recently liked first."""

    async def fetch(cursor: Cursor) -> list[_Liked]:
        pairs = await likes_service.liked_page(session, user_id=viewer.id, cursor=cursor)
        return [_Liked(like_id, post) for like_id, post in pairs]

    # Pages go by like id ("Load more" links carry one), but after "Load more" the address
    # keeps the last post shown (?until=<post id>, as every list does): find that like again.
    # A post unliked since then is no longer listed: show the newest page instead.
    until_post = ascii_int(until or "")
    like_id = (
        await likes_service.like_id(session, user_id=viewer.id, post_id=until_post)
        if until_post is not None and not max_id
        else None
    )
    listed = await paging.read(
        fetch,
        max_id=max_id,
        until=str(like_id) if like_id is not None else None,
        page_size=settings.page_size,
    )
    posts = [liked.post for liked in listed.items]
    context = {
        "posts": posts,
        "feed": await feed.load(session, posts, viewer=viewer),
        "next_max_id": listed.next_max_id,
        "more_url": "/likes",
        "paged": max_id is not None,
    }
    template = "posts/_page.html" if is_htmx(request) and max_id else "likes/likes.html"
    return render(request, template, context, viewer=viewer)
