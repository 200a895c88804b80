"""Answers of the buttons under a post: its action row again for htmx, else back to the page."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Form, Request, Response
from sqlalchemy.ext.asyncio import AsyncSession

from chirp.deps import SessionDep
from chirp.errors import NotFound, ValidationFailed
from chirp.parsing import LongText, ShortText, ascii_int, path_id
from chirp.posts import actions, feed
from chirp.posts import service as posts_service
from chirp.posts.models import Post
from chirp.users.models import User
from chirp.web.htmx import is_htmx, local_referer, redirect, render, safe_next
from chirp.web.session import CurrentUser

NO_SUCH_POST = "This post doesn't exist: it may have been deleted, or the address may be mistyped."

ItemField = Annotated[ShortText | None, Form()]
Refused = Callable[[ValidationFailed, Post, Post], Awaitable[Response]]


@dataclass(frozen=True)
class Press:
    """A button under a post, pressed: the request, who pressed it, on which post, and ``next``."""

    request: Request
    session: AsyncSession
    viewer: User
    post_id: str
    next_url: str | None


async def _press(
    request: Request,
    session: SessionDep,
    viewer: CurrentUser,
    post_id: str,
    next: Annotated[LongText | None, Form()] = None,
) -> Press:
    """The fields every button's form and address carry."""
    return Press(request, session, viewer, post_id, next)


PressDep = Annotated[Press, Depends(_press)]


@contextmanager
def no_such_post() -> Iterator[None]:
    """Say a post that is not there (or not for the viewer) is not there, in the page's words."""
    try:
        yield
    except NotFound as exc:
        raise NotFound(NO_SUCH_POST) from exc


async def act(
    press: Press, item: str | None, change: actions.Change, *, refused: Refused | None = None
) -> Response:
    """Find the post pressed on or 404, apply ``change`` to its target, commit, answer the row.

    ``refused`` answers a ValidationFailed from ``change`` (given the named post and target).
    """
    session, viewer = press.session, press.viewer
    with no_such_post():
        named, target = await actions.target_or_404(session, path_id(press.post_id), viewer=viewer)
    try:
        await change(session, user=viewer, post=target)
    except ValidationFailed as exc:
        if refused is None:
            raise
        return await refused(exc, named, target)
    await session.commit()
    return await _answer(
        press.request,
        session,
        viewer=viewer,
        named=named,
        target=target,
        item=item,
        next_url=press.next_url,
    )


async def _answer(
    request: Request,
    session: AsyncSession,
    *,
    viewer: User,
    named: Post,
    target: Post,
    item: str | None,
    next_url: str | None,
) -> Response:
    """The row of ``item`` (the list entry: a post, or a repost of ``target``), or a redirect.

    ``item`` comes from the form: with htmx, the row answered must keep the id of the row it
    replaces, which for a repost is the repost's, not the original's.
    """
    item_id = ascii_int(item or "") or named.id
    if not is_htmx(request):
        back_to = safe_next(next_url or local_referer(request), f"/@{target.author.username}")
        # Back where the button was, not at the top of the page.
        anchor = "" if "#" in back_to else f"#post-{item_id}"
        return redirect(request, back_to + anchor)
    shown = await _item(session, item_id, named=named, target=target)
    loaded = await feed.load(session, [shown], viewer=viewer)
    context = {
        "item": shown,
        "post": loaded.shown(shown),
        "state": loaded.state(shown),
        "feed": loaded,
    }
    return render(request, "posts/_actions.html", context, viewer=viewer)


async def _item(session: AsyncSession, item_id: int, *, named: Post, target: Post) -> Post:
    """The list entry whose row is answered: ``named``, or a repost of ``target`` by its id."""
    if item_id in (named.id, target.id):
        return named if item_id == named.id else target
    item = await posts_service.get_post(session, item_id)
    # Any other id is no row of this post's: answer with the post's own.
    return item if item is not None and item.reblog_of_id == target.id else target
