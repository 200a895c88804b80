"""The web UI's live parts: its own event stream (cookie session) and new posts as HTML.

The stream carries ids only (``update``: a post id, ``delete``: a post id,
``notification``: a notification id): the page fetches what it shows as HTML rendered by
the same templates as everything else, so nothing of another user's reaches it but ids
of posts its reader may see.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse

from chirp.deps import SessionDep
from chirp.parsing import query_ids
from chirp.posts import feed as posts_feed
from chirp.posts import service as posts_service
from chirp.streaming import auth as stream_auth
from chirp.streaming import channels, sse
from chirp.streaming.channels import Channel, StreamRefused
from chirp.streaming.hub import Hub, Subscriber
from chirp.web.htmx import render
from chirp.web.session import CurrentUser

router = APIRouter(prefix="/live", include_in_schema=False)

# New posts one click shows at most; more and the page is better reloaded.
MOST_NEW_POSTS = 40


@router.get("/events")
async def events(request: Request) -> Response:
    """The logged-in reader's live events (home timeline, notifications, messages), as ids."""
    hub: Hub = request.app.state.stream_hub
    # Its own short session, not the request's: the stream holds no connection while open.
    try:
        async with request.app.state.session_factory() as session:
            holder = await stream_auth.by_session(session, request)
            following = await hub.following(session, holder.user.id)
    except StreamRefused as exc:
        return JSONResponse({"error": exc.message}, status_code=exc.status)
    subscriber = Subscriber(
        viewer=holder.user,
        notifications=True,
        channels={Channel(channels.USER), Channel(channels.DIRECT)},
        following=following,
        brief=True,
        valid=holder.valid,
    )
    return sse.EventStreamResponse(hub, subscriber)


@router.get("/posts")
async def new_posts(
    request: Request,
    session: SessionDep,
    viewer: CurrentUser,
    ids: Annotated[list[str], Query(alias="id")],
) -> Response:
    """The posts with these ids that the reader may see, newest first, as timeline items."""
    wanted = query_ids("id", ids, most=MOST_NEW_POSTS)
    found = await posts_feed.posts_by_id(session, wanted)
    shown = [
        post
        for post in sorted(found.values(), key=lambda p: p.id, reverse=True)
        if await posts_service.can_see(session, post=post, viewer=viewer)
    ]
    context = {"posts": shown, "feed": await posts_feed.load(session, shown, viewer=viewer)}
    return render(request, "streaming/_new_posts.html", context, viewer=viewer)
