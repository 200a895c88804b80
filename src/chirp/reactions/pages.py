"""Web pages: react to a post with an emoji and take it back (htmx in place, or plain forms)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request, Response

from chirp.deps import SessionDep
from chirp.errors import ValidationFailed
from chirp.parsing import LongText, ShortText, ascii_int
from chirp.posts import action_pages, feed
from chirp.reactions import service as reactions_service
from chirp.web.htmx import form_error, is_htmx, local_referer, render, safe_next
from chirp.web.session import CurrentUser

router = APIRouter()

NextField = Annotated[LongText | None, Form()]
ItemField = Annotated[ShortText | None, Form()]
EmojiField = Annotated[ShortText, Form()]


async def _change(
    request: Request,
    session: SessionDep,
    viewer: CurrentUser,
    post_id: str,
    emoji: str,
    next_url: str | None,
    item: str | None,
    *,
    react: bool,
) -> Response:
    named, target = await action_pages.target_or_404(session, post_id, viewer=viewer)
    change = reactions_service.react if react else reactions_service.unreact
    try:
        await change(session, user=viewer, post=target, emoji=emoji)
    except ValidationFailed as exc:
        # Nothing was written: the emoji is checked before anything is.
        if is_htmx(request):
            item_id = ascii_int(item or "") or named.id
            return form_error(request, exc.message, target=f"#react-error-{item_id}")
        context = {
            "post": target,
            "feed": await feed.load(session, [target], viewer=viewer),
            "error": exc.message,
            "typed": emoji,
            "next": safe_next(next_url or local_referer(request), f"/@{target.author.username}"),
        }
        return render(request, "reactions/react.html", context, viewer=viewer, status_code=422)
    await session.commit()
    return await action_pages.answer(
        request, session, viewer=viewer, named=named, target=target, item=item, next_url=next_url
    )


@router.post("/posts/{post_id}/react")
async def react(
    request: Request,
    session: SessionDep,
    viewer: CurrentUser,
    post_id: str,
    emoji: EmojiField = "",
    next: NextField = None,
    item: ItemField = None,
) -> Response:
    """React to a post with one emoji; the same emoji again changes nothing."""
    return await _change(request, session, viewer, post_id, emoji, next, item, react=True)


@router.post("/posts/{post_id}/unreact")
async def unreact(
    request: Request,
    session: SessionDep,
    viewer: CurrentUser,
    post_id: str,
    emoji: EmojiField = "",
    next: NextField = None,
    item: ItemField = None,
) -> Response:
    """Take back your reaction with an emoji."""
    return await _change(request, session, viewer, post_id, emoji, next, item, react=False)
