"""Web pages: your conversations ("Messages"), one conversation, and writing a message."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request, Response

from chirp import visibility as post_visibility
from chirp.conversations import service as conversations_service
from chirp.conversations.service import Conversation
from chirp.deps import HomeTimelineDep, SessionDep, SettingsDep
from chirp.errors import ValidationFailed
from chirp.notifications import service as notifications_service
from chirp.pagination import Cursor
from chirp.parsing import BodyText, LongText, ShortText, path_id
from chirp.posts import feed
from chirp.posts import service as posts_service
from chirp.posts.models import Post
from chirp.ratelimit.deps import enforce_posting
from chirp.users.models import User
from chirp.web.flash import set_flash
from chirp.web.htmx import form_error, is_htmx, redirect, render
from chirp.web.session import CurrentUser

router = APIRouter()

SENT = "Your message was sent."


@router.get("/messages")
async def messages(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    viewer: CurrentUser,
    max_id: Annotated[ShortText | None, Query()] = None,
) -> Response:
    """Your conversations, newest message first, unread ones marked."""
    after = path_id(max_id) if max_id else None
    # One more than a page tells whether there is an older page.
    found = await conversations_service.page(
        session, user=viewer, cursor=Cursor(max_id=after, limit=settings.page_size + 1)
    )
    shown = found[: settings.page_size]
    older = shown[-1].member.last_post_id if len(found) > settings.page_size else None
    context = {"conversations": shown, "older": older, "paged": after is not None}
    return render(request, "conversations/index.html", context, viewer=viewer)


@router.get("/messages/new")
async def new_message(
    request: Request,
    viewer: CurrentUser,
    to: Annotated[ShortText | None, Query()] = None,
) -> Response:
    """The form for a new message (``to``: usernames to fill in)."""
    context = {"to": to or "", "text": ""}
    return render(request, "conversations/new.html", context, viewer=viewer)


@router.post("/messages")
async def send_new(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    timeline: HomeTimelineDep,
    viewer: CurrentUser,
    to: Annotated[LongText, Form()] = "",
    text: Annotated[BodyText, Form()] = "",
    _limit: Annotated[None, Depends(enforce_posting)] = None,
) -> Response:
    """Start a conversation: a direct message to ``to``, whose names lead its text."""
    try:
        names = await conversations_service.recipients(session, to, sender=viewer)
        if not text.strip():
            raise ValidationFailed("Write a message", field="status")
        post = await posts_service.create_post(
            session,
            author=viewer,
            text=" ".join(f"@{name}" for name in names) + " " + text,
            max_length=settings.max_post_length,
            visibility=post_visibility.DIRECT,
        )
    except ValidationFailed as exc:
        context = {"to": to, "text": text, "error": exc.message}
        return render(request, "conversations/new.html", context, viewer=viewer, status_code=422)
    assert post.conversation_id is not None
    await session.commit()
    await timeline.published(post)
    member = await conversations_service.member_id(
        session, conversation_id=post.conversation_id, user_id=viewer.id
    )
    return redirect(request, f"/messages/{member}#post-{post.id}", message=SENT)


async def sent_from_composer(request: Request, session: SessionDep, post: Post) -> Response:
    """After a direct message from the post composer: on to its conversation (it is in no
    timeline the composer sits on)."""
    assert post.conversation_id is not None
    member = await conversations_service.member_id(
        session, conversation_id=post.conversation_id, user_id=post.author_id
    )
    target = f"/messages/{member}#post-{post.id}"
    if is_htmx(request):
        response = Response(status_code=200, headers={"HX-Redirect": target})
        set_flash(request, response, SENT)
        return response
    return redirect(request, target, message=SENT)


async def _own(session: SessionDep, viewer: User, conversation_id: str) -> Conversation:
    return await conversations_service.get_own(
        session, user=viewer, member_id=path_id(conversation_id)
    )


def _prefill(conversation: Conversation) -> str:
    """The names a reply starts with: every other participant, as Mastodon's composer does."""
    return "".join(f"@{account.username} " for account in conversation.accounts)


async def _page(
    request: Request,
    session: SessionDep,
    viewer: User,
    conversation: Conversation,
    *,
    extra: dict[str, Any] | None = None,
    status_code: int = 200,
) -> Response:
    """A conversation's page: its messages oldest first, and the reply form."""
    posts = await conversations_service.messages(session, conversation, user=viewer)
    context = {
        "conversation": conversation,
        "posts": posts,
        "feed": await feed.load(session, posts, viewer=viewer),
        "reply_text": _prefill(conversation),
        **(extra or {}),
    }
    return render(
        request, "conversations/show.html", context, viewer=viewer, status_code=status_code
    )


@router.get("/messages/badge")
async def badge(request: Request, session: SessionDep, viewer: CurrentUser) -> Response:
    """The navigation's unread-messages badge alone (live updates fetch it anew)."""
    context = {"count": await _badge(session, viewer)}
    return render(request, "conversations/_badge.html", context, viewer=viewer)


@router.get("/messages/{conversation_id}")
async def show(
    request: Request, session: SessionDep, viewer: CurrentUser, conversation_id: str
) -> Response:
    """One conversation, its messages oldest first, with a reply form; opening it reads it."""
    conversation = await _own(session, viewer, conversation_id)
    if conversation.member.unread:
        await conversations_service.mark_read(session, conversation)
        await session.commit()
        request.state.messages_badge = await _badge(session, viewer)
    return await _page(request, session, viewer, conversation)


async def _badge(session: SessionDep, viewer: User) -> str:
    cap = notifications_service.BADGE_CAP
    unread = await conversations_service.unread_count(session, user_id=viewer.id, limit=cap)
    return notifications_service.badge(unread)


@router.post("/messages/{conversation_id}")
async def reply(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    timeline: HomeTimelineDep,
    viewer: CurrentUser,
    conversation_id: str,
    text: Annotated[BodyText, Form()] = "",
    _limit: Annotated[None, Depends(enforce_posting)] = None,
) -> Response:
    """Answer in a conversation: a direct message replying to its latest one."""
    conversation = await _own(session, viewer, conversation_id)
    last = conversation.last
    try:
        post = await posts_service.create_post(
            session,
            author=viewer,
            text=text,
            max_length=settings.max_post_length,
            visibility=post_visibility.DIRECT,
            in_reply_to_id=last.id if last is not None else None,
        )
    except ValidationFailed as exc:
        if is_htmx(request):
            return form_error(request, exc.message, target="#message-error")
        extra = {"reply_text": text, "reply_error": exc.message}
        return await _page(request, session, viewer, conversation, extra=extra, status_code=422)
    await session.commit()
    await timeline.published(post)
    if not is_htmx(request):
        return redirect(request, f"/messages/{conversation.member.id}#post-{post.id}", message=SENT)
    shown = await feed.load(session, [post], viewer=viewer, fresh=True)
    return render(request, "conversations/_sent.html", {"post": post, "feed": shown}, viewer=viewer)
