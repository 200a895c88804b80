"""Web pages: react to a post with an emoji and take it back (htmx in place, or plain forms)."""

from __future__ import annotations

from functools import partial
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Response

from chirp.errors import ValidationFailed
from chirp.parsing import ShortText, ascii_int
from chirp.posts import action_pages, feed
from chirp.posts.models import Post
from chirp.reactions import service as reactions_service
from chirp.web.htmx import form_error, is_htmx, local_referer, render, safe_next

router = APIRouter()


async def _emoji(emoji: Annotated[ShortText, Form()] = "") -> str:
    """The emoji field of a reaction form."""
    return emoji


# A dependency of its own, listed first: a refused form names its fields in the form's order.
EmojiDep = Annotated[str, Depends(_emoji)]


async def _change(
    press: action_pages.Press,
    emoji: str,
    item: str | None,
    change: reactions_service.EmojiChange,
) -> Response:
    """Apply ``change`` with ``emoji``; a refused emoji is explained in place or on a page."""

    async def refused(exc: ValidationFailed, named: Post, target: Post) -> Response:
        # Nothing was written: the emoji is checked before anything is.
        request, session, viewer = press.request, press.session, press.viewer
        if is_htmx(request):
            item_id = ascii_int(item or "") or named.id
            return form_error(request, exc.message, target=f"#react-error-{item_id}")
        back_to = press.next_url or local_referer(request)
        context = {
            "post": target,
            "feed": await feed.load(session, [target], viewer=viewer),
            "error": exc.message,
            "typed": emoji,
            "next": safe_next(back_to, f"/@{target.author.username}"),
        }
        return render(request, "reactions/react.html", context, viewer=viewer, status_code=422)

    return await action_pages.act(press, item, partial(change, emoji=emoji), refused=refused)


@router.post("/posts/{post_id}/react")
async def react(
    emoji: EmojiDep, press: action_pages.PressDep, item: action_pages.ItemField = None
) -> Response:
    """React to a post with one emoji; the same emoji again changes nothing."""
    return await _change(press, emoji, item, reactions_service.react)


@router.post("/posts/{post_id}/unreact")
async def unreact(
    emoji: EmojiDep, press: action_pages.PressDep, item: action_pages.ItemField = None
) -> Response:
    """Take back your reaction with an emoji."""
    return await _change(press, emoji, item, reactions_service.unreact)
