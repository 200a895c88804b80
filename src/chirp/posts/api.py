"""Mastodon API: post, read and delete statuses."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query

from chirp.api import present
from chirp.api.auth import UserContext, optional_user, require_user
from chirp.api.paging import parse_id
from chirp.api.params import body_docs, params
from chirp.api.unsupported import refuse
from chirp.deps import HomeTimelineDep, SessionDep, SettingsDep
from chirp.errors import NotFound
from chirp.parsing import Token, ascii_int
from chirp.posts import feed, threads
from chirp.posts import service as posts_service
from chirp.posts.schemas import ContextOut, StatusCreate, StatusOut
from chirp.ratelimit.deps import enforce_posting

router = APIRouter(prefix="/api/v1/statuses", tags=["statuses"])


_NO_POLLS = "Chirp has no polls yet"
_NO_QUOTES = "Chirp has no quote posts yet"


@router.post(
    "",
    response_model=StatusOut,
    openapi_extra=body_docs(StatusCreate),
    dependencies=[
        Depends(
            refuse(
                **{
                    "poll[options]": _NO_POLLS,
                    "poll[expires_in]": _NO_POLLS,
                    "poll[multiple]": _NO_POLLS,
                    "poll[hide_totals]": _NO_POLLS,
                },
                media_ids="Chirp has no media attachments yet",
                scheduled_at="Chirp cannot schedule posts yet",
                quoted_status_id=_NO_QUOTES,
                quote_approval_policy=_NO_QUOTES,
            )
        )
    ],
)
async def create_status(
    session: SessionDep,
    settings: SettingsDep,
    timeline: HomeTimelineDep,
    ctx: Annotated[UserContext, Depends(require_user("write:statuses"))],
    body: Annotated[StatusCreate, Depends(params(StatusCreate))],
    idempotency_key: Annotated[Token | None, Header(max_length=200)] = None,
    _limit: Annotated[None, Depends(enforce_posting)] = None,
) -> StatusOut:
    """Publish a status; a repeated ``Idempotency-Key`` returns the first one."""
    post = await posts_service.create_post(
        session,
        author=ctx.user,
        text=body.status,
        max_length=settings.max_post_length,
        idempotency_key=idempotency_key,
        app_name=ctx.token.app.name,
        visibility=body.visibility,
        spoiler_text=body.spoiler_text,
        sensitive=body.sensitive,
        language=body.language,
        in_reply_to_id=_reply_id(body.in_reply_to_id),
    )
    await session.commit()
    await timeline.published(post)
    return present.status(await feed.load(session, [post], viewer=ctx.user, fresh=True), settings)


def _reply_id(raw: str | None) -> int | None:
    """The id a new status answers; one that is no id is a post that does not exist (404)."""
    if not raw:
        return None
    value = ascii_int(raw)
    if value is None:
        raise NotFound(posts_service.REPLY_TARGET_NOT_FOUND)
    return value


@router.get("/{status_id}", response_model=StatusOut)
async def get_status(
    status_id: str,
    session: SessionDep,
    settings: SettingsDep,
    viewer: Annotated[UserContext | None, Depends(optional_user("read:statuses"))],
) -> StatusOut:
    """A status by id (no token needed); followers-only ones are 404 to all but followers."""
    user = viewer.user if viewer else None
    post = await posts_service.get_visible_post_or_404(session, parse_id(status_id), viewer=user)
    return present.status(await feed.load(session, [post], viewer=user), settings)


@router.get("/{status_id}/context", response_model=ContextOut)
async def get_context(
    status_id: str,
    session: SessionDep,
    settings: SettingsDep,
    viewer: Annotated[UserContext | None, Depends(optional_user("read:statuses"))],
) -> ContextOut:
    """The statuses a status answers (oldest first) and its replies (depth first, as Mastodon).

    No token needed. Posts the reader may not see are left out; the ancestors stop where a
    post was deleted. At most 40 ancestors and 60 descendants, 20 replies deep.
    """
    user = viewer.user if viewer else None
    post = await posts_service.get_visible_post_or_404(session, parse_id(status_id), viewer=user)
    conversation = await threads.thread(session, post, viewer=user)
    below = [p for p, _ in conversation.descendants]
    shown = await feed.load(session, [*conversation.ancestors, *below], viewer=user)
    statuses = present.statuses(shown, settings)
    split = len(conversation.ancestors)
    return ContextOut(ancestors=statuses[:split], descendants=statuses[split:])


@router.delete("/{status_id}", response_model=StatusOut)
async def delete_status(
    status_id: str,
    session: SessionDep,
    settings: SettingsDep,
    timeline: HomeTimelineDep,
    ctx: Annotated[UserContext, Depends(require_user("write:statuses"))],
    delete_media: Annotated[
        bool, Query(description="Chirp posts carry no media: there is none to keep or delete.")
    ] = False,
) -> StatusOut:
    """Delete one of your statuses; returns it with its source ``text``."""
    post = await posts_service.get_visible_post_or_404(
        session, parse_id(status_id), viewer=ctx.user
    )
    entity = present.status(await feed.load(session, [post], viewer=ctx.user), settings)
    await timeline.delete_post(session, post=post, actor=ctx.user)
    return entity.model_copy(update={"text": post.text})
