"""Answers of the buttons under a post: its action row again for htmx, else back to the page."""

from __future__ import annotations

from fastapi import Request, Response
from sqlalchemy.ext.asyncio import AsyncSession

from chirp.errors import NotFound
from chirp.parsing import ascii_int, path_id
from chirp.posts import actions, feed
from chirp.posts import service as posts_service
from chirp.posts.models import Post
from chirp.users.models import User
from chirp.web.htmx import is_htmx, local_referer, redirect, render, safe_next

NO_SUCH_POST = "This post doesn't exist: it may have been deleted, or the address may be mistyped."


async def target_or_404(session: AsyncSession, raw_id: str, *, viewer: User) -> tuple[Post, Post]:
    """(the post a form names, the post its action acts on), or a page saying it is not there."""
    try:
        return await actions.target_or_404(session, path_id(raw_id), viewer=viewer)
    except NotFound as exc:
        raise NotFound(NO_SUCH_POST) from exc


async def answer(
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
