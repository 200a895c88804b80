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
from chirp.parsing import Token
from chirp.posts import feed
from chirp.posts import service as posts_service
from chirp.posts.schemas import StatusCreate, StatusOut
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
                in_reply_to_id="Chirp has no replies yet",
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
    )
    await session.commit()
    await timeline.published(post)
    return present.status(await feed.load(session, [post], viewer=ctx.user, fresh=True), settings)


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
