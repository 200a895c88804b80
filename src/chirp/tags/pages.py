"""Web pages: a tag's posts, and the trending tags of the side column."""

from __future__ import annotations

from collections.abc import Sequence

from fastapi import APIRouter, Request, Response

from chirp.deps import SessionDep, SettingsDep
from chirp.errors import NotFound
from chirp.pagination import Cursor
from chirp.posts import feed
from chirp.posts.entities import is_tag_name
from chirp.posts.models import Post
from chirp.posts.text import tag_path
from chirp.tags import service as tags_service
from chirp.web import paging
from chirp.web.htmx import is_htmx, render
from chirp.web.session import OptionalUser

router = APIRouter()


async def show_trending(request: Request, session: SessionDep) -> None:
    """Put the trending tags where the side column of a full page finds them.

    Counted at most once a minute per process (``tags.trends.TrendingTags``): most pages
    cost no query for them. Fragments and forms have no side column.
    """
    if request.method == "GET" and not is_htmx(request):
        request.state.trending = await request.app.state.trending.get(session)


@router.get("/tags/{name}")
async def tag(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    viewer: OptionalUser,
    name: str,
    max_id: str | None = None,
    until: str | None = None,
) -> Response:
    """The public posts with a tag, in any case, newest first."""
    if not is_tag_name(name):
        raise NotFound("There is no such tag: a tag is letters, digits and _.")
    found = await tags_service.get(session, name)

    async def fetch(cursor: Cursor) -> Sequence[Post]:
        if found is None:
            return []
        tags = tags_service.TagFilter(any=[found.name])
        return await tags_service.timeline(session, tags=tags, cursor=cursor)

    listed = await paging.read(fetch, max_id=max_id, until=until, page_size=settings.page_size)
    context = {
        # As the first post to use it wrote it; a tag nobody used yet, as asked for.
        "tag_name": found.name if found is not None else name,
        "posts": listed.items,
        "feed": await feed.load(session, listed.items, viewer=viewer),
        "next_max_id": listed.next_max_id,
        "more_url": tag_path(name),
        "paged": max_id is not None,
    }
    template = "posts/_page.html" if is_htmx(request) and max_id else "tags/tag.html"
    return render(request, template, context, viewer=viewer)
