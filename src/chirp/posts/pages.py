"""Web pages: write a post, read one post, delete a post."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, Form, Query, Request, Response

from chirp import visibility as post_visibility
from chirp.conversations import pages as conversations_pages
from chirp.deps import HomeTimelineDep, SessionDep, SettingsDep
from chirp.errors import ChirpError, NotFound, ValidationFailed
from chirp.media import composer as media_composer
from chirp.media.api import StorageDep
from chirp.media.service import TooLarge
from chirp.parsing import BodyText, LongText, ShortText, ascii_int, path_id, path_text
from chirp.posts import feed, repost_pages, reposts, threads
from chirp.posts import service as posts_service
from chirp.posts.action_pages import NO_SUCH_POST, no_such_post
from chirp.posts.models import Post
from chirp.ratelimit.deps import enforce_posting
from chirp.users.models import User
from chirp.web.flash import set_flash
from chirp.web.htmx import (
    current_path,
    form_error,
    is_htmx,
    local_referer,
    redirect,
    render,
    safe_next,
)
from chirp.web.session import CurrentUser, OptionalUser

router = APIRouter()

DELETED = "Your post was deleted."


@router.post("/posts")
async def create(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    timeline: HomeTimelineDep,
    storage: StorageDep,
    viewer: CurrentUser,
    text: Annotated[BodyText, Form()] = "",
    visibility: Annotated[ShortText | None, Form()] = None,
    spoiler_text: Annotated[LongText, Form()] = "",
    in_reply_to_id: Annotated[ShortText | None, Form()] = None,
    slot: Annotated[ShortText | None, Form()] = None,
    quoted_status_id: Annotated[ShortText | None, Form()] = None,
    quote_approval_policy: Annotated[ShortText | None, Form()] = None,
    sensitive: Annotated[bool, Form()] = False,
    _limit: Annotated[None, Depends(enforce_posting)] = None,
) -> Response:
    """Publish a post from the composer, a reply from a reply composer (``in_reply_to_id``;
    ``slot``: the list item it was written under) or a quote from the quote composer.
    Visibility: the author's default when left out. Images: uploads made (``media_ids``,
    ``media_description_<id>``) or, without JavaScript, files sent (``file_<n>``,
    ``description_<n>``); ``sensitive`` hides them behind a click."""
    reply_to = path_id(in_reply_to_id) if in_reply_to_id else None
    # A quote: the quoted post must still be there and quotable (the error page otherwise).
    quoted = None
    if quoted_status_id:
        quoted = await repost_pages.quoted_or_error(session, viewer, quoted_status_id)
    chosen = media_composer.ComposerMedia()
    try:
        chosen = await media_composer.read_form(await request.form(), settings)
        if chosen.files:
            # Uploaded first and kept, even if a later file or the post is refused: the
            # composer then shows them again, as it does uploads made with JavaScript.
            try:
                await media_composer.upload_files(
                    session, storage, settings, account=viewer, chosen=chosen
                )
            finally:
                await session.commit()
        await media_composer.describe(session, account=viewer, chosen=chosen)
        policy = reposts.parse_quote_policy(
            quote_approval_policy, visibility=visibility or viewer.default_privacy
        )
        post = await posts_service.create_post(
            session,
            author=viewer,
            text=text,
            max_length=settings.max_post_length,
            visibility=visibility,
            spoiler_text=spoiler_text,
            in_reply_to_id=reply_to,
            quote_of=quoted,
            quote_approval_policy=policy,
            media_ids=chosen.ids,
            max_media=settings.max_media_attachments,
            sensitive=sensitive,
        )
    except (ValidationFailed, TooLarge) as exc:
        # Nothing of the post was written (the input is checked first; the session ends
        # without a commit); uploads made before stay, shown again in the composer.
        status = exc.status
        context = {
            "composer_media": await media_composer.previews(
                session, account=viewer, ids=chosen.ids, descriptions=chosen.descriptions
            ),
            "composer_sensitive": sensitive,
        }
        if reply_to is not None:
            return await _reply_refused(
                request, session, viewer, reply_to, slot, text, exc, context, status
            )
        if is_htmx(request):
            return form_error(request, exc.message, target="#composer-error")
        context |= {
            "composer_text": text,
            "composer_error": exc.message,
            "composer_spoiler": spoiler_text,
            "composer_visibility": visibility,
            "composer_quote_policy": quote_approval_policy,
        }
        if quoted is not None:
            return await repost_pages.render_quote_composer(
                request, session, viewer, quoted, context=context, status_code=status
            )
        return render(request, "posts/compose.html", context, viewer=viewer, status_code=status)
    await session.commit()
    await timeline.published(post)
    if post.visibility == post_visibility.DIRECT and post.in_reply_to_id is None:
        return await conversations_pages.sent_from_composer(request, session, post)
    if post.in_reply_to_id is not None:
        return await _reply_sent(request, session, viewer, post, slot)
    if quoted is not None and not is_htmx(request):
        # From the quote page: on to the new post's own page, the quote shown inside it.
        return redirect(request, f"/@{viewer.username}/{post.id}", message="Your post was sent.")
    if is_htmx(request):
        shown = await feed.load(session, [post], viewer=viewer, fresh=True)
        return render(request, "posts/_post.html", {"post": post, "feed": shown}, viewer=viewer)
    return redirect(request, "/", message="Your post was sent.")


REPLY_SENT = "Your reply was sent."


async def _reply_sent(
    request: Request, session: SessionDep, viewer: User, reply: Post, slot: str | None
) -> Response:
    """The answer to a sent reply: in place with htmx, else its place in the thread."""
    assert reply.in_reply_to_id is not None
    if not is_htmx(request):
        parent = await posts_service.get_post(session, reply.in_reply_to_id)
        where = f"/@{parent.author.username}/{parent.id}" if parent else f"/@{viewer.username}"
        return redirect(request, f"{where}#post-{reply.id}", message=REPLY_SENT)
    context: dict[str, object] = {
        "reply": reply,
        "feed": await feed.load(session, [reply], viewer=viewer, fresh=True),
    }
    # The list item the reply was written under shows its new reply count at once.
    item_id = ascii_int(slot) if slot else None
    item = await posts_service.get_post(session, item_id) if item_id else None
    if item is not None:
        context["actions_item"] = item
        context["actions_feed"] = await feed.load(session, [item], viewer=viewer)
    return render(request, "posts/_reply_sent.html", context, viewer=viewer)


async def _reply_refused(
    request: Request,
    session: SessionDep,
    viewer: User,
    reply_to: int,
    slot: str | None,
    text: str,
    exc: ChirpError,
    context: dict[str, object],
    status: int,
) -> Response:
    """A reply that could not be sent: the message by the composer, what was typed kept
    (``context``: the images chosen)."""
    slot_id = ascii_int(slot) if slot else None
    if is_htmx(request):
        return form_error(request, exc.message, target=f"#reply-error-{slot_id or reply_to}")
    post = await posts_service.get_visible_post_or_404(session, reply_to, viewer=viewer)
    context |= {
        "post": post,
        "feed": await feed.load(session, [post], viewer=viewer),
        "reply_text": text,
        "reply_error": exc.message,
    }
    return render(request, "posts/reply.html", context, viewer=viewer, status_code=status)


@router.get("/posts/{post_id}/reply")
async def reply(
    request: Request,
    session: SessionDep,
    viewer: CurrentUser,
    post_id: str,
    slot: Annotated[ShortText | None, Query()] = None,
) -> Response:
    """A composer answering a post: a page of its own, or (htmx) the form alone, in place."""
    with no_such_post():
        item = await posts_service.get_visible_post_or_404(session, path_id(post_id), viewer=viewer)
        post = await posts_service.reply_target(session, item.id, viewer=viewer)
    if is_htmx(request):
        # Under the list item whose reply link was used (a repost's slot is the repost's).
        slot_id = ascii_int(slot) if slot else None
        context = {"post": post, "slot": slot_id or post.id}
        return render(request, "posts/_reply_composer.html", context, viewer=viewer)
    context = {"post": post, "feed": await feed.load(session, [post], viewer=viewer)}
    return render(request, "posts/reply.html", context, viewer=viewer)


ALREADY_GONE = "This post doesn't exist any more: it may have been deleted already."


@router.get("/@{username}/{post_id}")
async def permalink(
    request: Request, session: SessionDep, viewer: OptionalUser, username: str, post_id: str
) -> Response:
    """One post on a page of its own (followers-only: for the author and followers alone)."""
    with no_such_post():
        post = await posts_service.get_visible_post_or_404(session, path_id(post_id), viewer=viewer)
    if post.author.username_key != path_text(username).lower():
        raise NotFound(NO_SUCH_POST)
    conversation = await threads.thread(session, post, viewer=viewer)
    below = [p for p, _ in conversation.descendants]
    shown = await feed.load(session, [*conversation.ancestors, post, *below], viewer=viewer)
    context = {
        "post": post,
        "thread": conversation,
        "feed": shown,
        "max_depth": threads.WEB_MAX_INDENT,
    }
    return render(request, "posts/permalink.html", context, viewer=viewer)


@router.get("/posts/{post_id}/delete")
async def confirm_delete(
    request: Request,
    session: SessionDep,
    viewer: CurrentUser,
    post_id: str,
    next: Annotated[LongText | None, Query()] = None,
) -> Response:
    """Ask before deleting one of your posts (the step taken without JavaScript)."""
    post = await posts_service.get_visible_post_or_404(session, path_id(post_id), viewer=viewer)
    if post.author_id != viewer.id:
        # As deleting it would answer: among your posts there is none with this id.
        raise NotFound(NO_SUCH_POST)
    back_to = safe_next(next or local_referer(request), f"/@{viewer.username}/{post.id}")
    context = {
        "post": post,
        "next": back_to,
        "feed": await feed.load(session, [post], viewer=viewer),
    }
    return render(request, "posts/delete.html", context, viewer=viewer)


@router.post("/posts/{post_id}/delete")
async def delete(
    request: Request,
    session: SessionDep,
    timeline: HomeTimelineDep,
    viewer: CurrentUser,
    post_id: str,
    next: Annotated[LongText | None, Form()] = None,
) -> Response:
    """Delete one of your posts."""
    try:
        post = await posts_service.get_visible_post_or_404(session, path_id(post_id), viewer=viewer)
    except NotFound as exc:
        raise NotFound(ALREADY_GONE) from exc
    await timeline.delete_post(session, post=post, actor=viewer)
    htmx = is_htmx(request)
    shown_on = current_path(request) if htmx else safe_next(next or local_referer(request))
    if htmx and not _is_permalink(shown_on, post.id):
        return Response(status_code=200)  # htmx swaps the post for nothing
    # The post's own page is gone: from there, go to the author's profile.
    target = f"/@{viewer.username}" if _is_permalink(shown_on, post.id) else shown_on
    if htmx:
        response = Response(status_code=200, headers={"HX-Redirect": target})
        set_flash(request, response, DELETED)
        return response
    return redirect(request, target, message=DELETED)


def _is_permalink(path: str, post_id: int) -> bool:
    return urlsplit(path).path.rstrip("/").endswith(f"/{post_id}")
