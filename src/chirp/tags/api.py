"""Mastodon API: a hashtag's timeline, a tag, and the trending tags."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request, Response

from chirp.api import present
from chirp.api.auth import UserContext, optional_user
from chirp.api.links import link_pages
from chirp.api.paging import CursorDep
from chirp.deps import SessionDep, SettingsDep
from chirp.errors import NotFound, ValidationFailed
from chirp.parsing import MAX_OFFSET, Limit, Offset
from chirp.posts import feed
from chirp.posts.entities import is_tag_name
from chirp.posts.schemas import StatusOut
from chirp.tags import present as tags_present
from chirp.tags import service as tags_service
from chirp.tags import trends
from chirp.tags.schemas import TagOut

router = APIRouter(prefix="/api/v1")

# Mastodon applies at most 4 tags of each of any[], all[] and none[]; more are refused here.
MAX_TAGS_PER_MODE = 4
TRENDS_DEFAULT_LIMIT = 10
TRENDS_MAX_LIMIT = 20

# Not bounded here: a name too long to be a tag is a tag that does not exist (404).
_Hashtag = Annotated[str, Path(description="The tag's name, without the #.")]


def _tag_names(field: str, raws: list[str]) -> list[str]:
    """The tag names of a list parameter (``any[]``...); empty entries ask for nothing."""
    names = [raw for raw in raws if raw != ""]
    if len(names) > MAX_TAGS_PER_MODE:
        raise ValidationFailed(f"{field} takes at most {MAX_TAGS_PER_MODE} tags", field=field)
    for name in names:
        if not is_tag_name(name):
            raise ValidationFailed(
                f"{field} must hold tag names (letters, digits and _, without the #)",
                field=field,
            )
    return names


def _tag_list(field: str) -> object:
    return Query(
        alias=f"{field}[]",
        description=f"Tag names (also as ``{field}``), at most {MAX_TAGS_PER_MODE}.",
    )


@router.get("/timelines/tag/{hashtag}", response_model=list[StatusOut], tags=["timelines"])
async def tag_timeline(
    request: Request,
    response: Response,
    session: SessionDep,
    settings: SettingsDep,
    cursor: CursorDep,
    hashtag: _Hashtag,
    viewer: Annotated[UserContext | None, Depends(optional_user("read:statuses"))],
    _any: Annotated[list[str], _tag_list("any")] = [],  # noqa: B006 - FastAPI copies defaults
    _all: Annotated[list[str], _tag_list("all")] = [],  # noqa: B006
    _none: Annotated[list[str], _tag_list("none")] = [],  # noqa: B006
    local: Annotated[bool, Query(description="Every post here is local.")] = False,
    remote: Annotated[bool, Query(description="Chirp has no remote posts: none.")] = False,
    only_media: Annotated[bool, Query(description="Chirp has no media yet: none.")] = False,
) -> list[StatusOut]:
    """Public posts with the tag (or any of ``any[]``, all of ``all[]``, none of ``none[]``),
    newest first."""
    if not is_tag_name(hashtag):
        raise NotFound()
    query = request.query_params
    tags = tags_service.TagFilter(
        any=[hashtag, *_tag_names("any", query.getlist("any[]") + query.getlist("any"))],
        all=_tag_names("all", query.getlist("all[]") + query.getlist("all")),
        none=_tag_names("none", query.getlist("none[]") + query.getlist("none")),
    )
    posts = (
        []
        if remote or only_media
        else await tags_service.timeline(session, tags=tags, cursor=cursor)
    )
    link_pages(request, response, [p.id for p in posts])
    reader = viewer.user if viewer else None
    return present.statuses(await feed.load(session, posts, viewer=reader), settings)


@router.get("/tags/{name}", response_model=TagOut, tags=["tags"])
async def tag(
    session: SessionDep,
    settings: SettingsDep,
    name: _Hashtag,
) -> TagOut:
    """A tag with its use on each of the last 7 days (404 for a name that cannot be a tag)."""
    if not is_tag_name(name):
        raise NotFound()
    found = await tags_service.get(session, name)
    # As Mastodon: a valid name nobody has used yet is a tag with no uses, so a client can
    # open its page before the first post.
    tag_id = found.id if found is not None else 0
    history = await trends.history(session, [tag_id])
    return tags_present.tag(found.name if found is not None else name, history[tag_id], settings)


@router.get("/trends/tags", response_model=list[TagOut], tags=["trends"])
async def trending_tags(
    request: Request,
    response: Response,
    session: SessionDep,
    settings: SettingsDep,
    limit: Annotated[
        Limit,
        Query(
            description=f"At most {TRENDS_MAX_LIMIT}; larger values are taken as "
            f"{TRENDS_MAX_LIMIT}."
        ),
    ] = TRENDS_DEFAULT_LIMIT,
    offset: Annotated[Offset, Query(description=f"At most {MAX_OFFSET}.")] = 0,
) -> list[TagOut]:
    """The tags most people used in the last day, most first (counted at most once a minute)."""
    limit = max(1, min(limit, TRENDS_MAX_LIMIT))
    ranked = await request.app.state.trending.get(session)
    page = ranked[offset : offset + limit]
    _offset_links(request, response, offset=offset, limit=limit, more=len(page) == limit)
    return [tags_present.tag(t.name, t.history, settings) for t in page]


def _offset_links(
    request: Request, response: Response, *, offset: int, limit: int, more: bool
) -> None:
    """Mastodon's ``Link`` header for a list paged by offset: next while pages are full."""
    links = []
    if more:
        links.append(f'<{request.url.include_query_params(offset=offset + limit)}>; rel="next"')
    if offset > 0:
        links.append(
            f'<{request.url.include_query_params(offset=max(0, offset - limit))}>; rel="prev"'
        )
    if links:
        response.headers["Link"] = ", ".join(links)
