"""Web pages: repost and undo a repost in place, and the quote composer."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Mapping
from dataclasses import dataclass
from typing import Protocol, TypeVar

from fastapi import APIRouter, Request, Response
from sqlalchemy.ext.asyncio import AsyncSession

from chirp.deps import HomeTimelineDep, SessionDep
from chirp.errors import Forbidden, NotFound
from chirp.parsing import path_id
from chirp.posts import feed, reposts
from chirp.posts.action_pages import NO_SUCH_POST, Press, PressDep, no_such_post
from chirp.posts.models import Post
from chirp.users.models import User
from chirp.web.htmx import is_htmx, local_referer, redirect, render, safe_next
from chirp.web.session import CurrentUser

router = APIRouter()

REPOSTED = "You reposted it."
UNDONE = "Your repost was undone."
CANNOT_QUOTE = "The author of this post does not allow you to quote it."
_ACTIONS_TARGET = re.compile(r"^actions-(\d{1,19})$")
T_co = TypeVar("T_co", covariant=True)


@dataclass(frozen=True)
class _Item:
    """The list item an action row belongs to: its id is all the row needs of it."""

    id: int
    reblog_of_id: int | None = None
    quote_of_id: int | None = None


def _item_id(request: Request, default: int) -> int:
    """The id of the list item whose action row htmx replaces (a repost's, on a timeline)."""
    found = _ACTIONS_TARGET.match(request.headers.get("hx-target", ""))
    return int(found.group(1)) if found else default


async def _answer(
    press: Press, original: Post, *, message: str, removed: int | None = None
) -> Response:
    """htmx: the post's action row re-rendered in place; a plain form: back to ``next``."""
    request, viewer = press.request, press.viewer
    if not is_htmx(request):
        target = safe_next(
            press.next_url or local_referer(request), f"/@{original.author.username}"
        )
        return redirect(request, target, message=message)
    shown = await feed.load(press.session, [original], viewer=viewer)
    item = _Item(_item_id(request, original.id))
    context = {
        "item": item,
        "post": original,
        "state": shown.state(original),
        "feed": shown,
        "undone_item": removed is not None and item.id == removed,
    }
    return render(request, "posts/_actions_swap.html", context, viewer=viewer)


class _Change(Protocol[T_co]):
    """``reposts.repost`` or ``reposts.unrepost``: a change to what ``actor`` shared."""

    def __call__(self, session: AsyncSession, *, actor: User, post_id: int) -> Awaitable[T_co]:
        """Apply the change; nothing is committed."""
        ...


async def _apply(press: Press, change: _Change[T_co]) -> T_co:
    """Apply ``change`` to the post pressed on (or 404) and commit; what ``change`` returned."""
    with no_such_post():
        done = await change(press.session, actor=press.viewer, post_id=path_id(press.post_id))
    await press.session.commit()
    return done


@router.post("/posts/{post_id}/repost")
async def repost(press: PressDep, timeline: HomeTimelineDep) -> Response:
    """Repost a post to your followers (again: nothing changes)."""
    wrapper, new = await _apply(press, reposts.repost)
    if new:
        await timeline.published(wrapper)
    original = await press.session.get(Post, wrapper.reblog_of_id)  # loaded by the repost already
    if original is None:
        raise NotFound(NO_SUCH_POST)  # deleted in between
    return await _answer(press, original, message=REPOSTED)


@router.post("/posts/{post_id}/unrepost")
async def unrepost(press: PressDep, timeline: HomeTimelineDep) -> Response:
    """Undo your repost of a post (none: nothing changes)."""
    original, removed = await _apply(press, reposts.unrepost)
    if removed is not None:
        await timeline.forget_posts([removed])
    return await _answer(press, original, message=UNDONE, removed=removed)


@router.get("/posts/{post_id}/quote")
async def quote(
    request: Request, session: SessionDep, viewer: CurrentUser, post_id: str
) -> Response:
    """The composer of a quote post, with the quoted post shown below it."""
    quoted = await quoted_or_error(session, viewer, post_id)
    return await render_quote_composer(request, session, viewer, quoted)


async def quoted_or_error(session: SessionDep, viewer: User, post_id: str) -> Post:
    """The post ``viewer`` quotes, or the error page saying why they cannot (404, 403)."""
    with no_such_post():
        quoted = await reposts.shared(session, path_id(post_id), viewer=viewer)
    if not await reposts.may_quote(session, post=quoted, viewer=viewer):
        raise Forbidden(CANNOT_QUOTE)
    return quoted


async def render_quote_composer(
    request: Request,
    session: SessionDep,
    viewer: User,
    quoted: Post,
    *,
    context: Mapping[str, object] | None = None,
    status_code: int = 200,
) -> Response:
    """The quote composer page (again with what was typed and the error, after a refusal)."""
    # The card ui.quote_card draws inside a quote post, for a post that quotes this one.
    page = {
        "quoting": quoted,
        "quoted_feed": feed.Feed(posts=[], viewer=viewer, originals={quoted.id: quoted}),
        "preview": _Item(id=0, quote_of_id=quoted.id),
        **(context or {}),
    }
    return render(request, "posts/quote.html", page, viewer=viewer, status_code=status_code)
