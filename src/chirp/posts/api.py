"""Mastodon API: post, read and delete statuses."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Request, Response

from chirp.api import present
from chirp.api.auth import UserContext, optional_user, require_user
from chirp.api.links import link_pages
from chirp.api.paging import AccountsCursorDep, CursorDep, parse_id
from chirp.api.params import body_docs, params
from chirp.api.unsupported import refuse
from chirp.deps import HomeTimelineDep, SessionDep, SettingsDep
from chirp.errors import NotFound, ValidationFailed
from chirp.parsing import Token, ascii_int
from chirp.posts import feed, reposts, threads
from chirp.posts import service as posts_service
from chirp.posts.schemas import (
    ContextOut,
    InteractionPolicyIn,
    ReblogIn,
    StatusCreate,
    StatusOut,
)
from chirp.ratelimit.deps import enforce_posting
from chirp.users.schemas import AccountOut

router = APIRouter(prefix="/api/v1/statuses", tags=["statuses"])


_NO_POLLS = "Chirp has no polls yet"


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
                scheduled_at="Chirp cannot schedule posts yet",
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
    quoted = None
    if body.quoted_status_id:
        # Checked before anything is written: a refused quote (422) changes nothing.
        quoted = await reposts.quotable(
            session, post_id=parse_quoted_id(body.quoted_status_id), author=ctx.user
        )
    post = await posts_service.create_post(
        session,
        author=ctx.user,
        text=body.status,
        max_length=settings.max_post_length,
        idempotency_key=idempotency_key,
        app_name=ctx.token.app.name,
        visibility=body.visibility,
        spoiler_text=body.spoiler_text,
        sensitive=(
            body.sensitive
            if body.sensitive is not None
            else bool(body.media_ids) and ctx.user.default_sensitive
        ),
        language=body.language,
        in_reply_to_id=_reply_id(body.in_reply_to_id),
        quote_of=quoted,
        quote_approval_policy=reposts.parse_quote_policy(
            body.quote_approval_policy, visibility=body.visibility or ctx.user.default_privacy
        ),
        media_ids=_media_ids(body.media_ids),
        max_media=settings.max_media_attachments,
    )
    await session.commit()
    await timeline.published(post)
    return present.status(await feed.load(session, [post], viewer=ctx.user, fresh=True), settings)


def _media_ids(raw: list[str]) -> list[int]:
    """The ids in ``media_ids``; one that is no id names no upload of yours (422)."""
    ids = []
    for item in raw:
        value = ascii_int(item)
        if value is None:
            raise ValidationFailed("Media not found", field="media_ids")
        ids.append(value)
    return ids


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
        bool,
        Query(
            description=(
                "Images are always deleted with their post (Chirp keeps no uploads for a redraft)."
            )
        ),
    ] = False,
) -> StatusOut:
    """Delete one of your statuses; returns it with its source ``text``."""
    post = await posts_service.get_visible_post_or_404(
        session, parse_id(status_id), viewer=ctx.user
    )
    entity = present.status(await feed.load(session, [post], viewer=ctx.user), settings)
    await timeline.delete_post(session, post=post, actor=ctx.user)
    return entity.model_copy(update={"text": post.text})


def parse_quoted_id(raw: str) -> int:
    """The id of the post to quote; one that cannot exist is refused like a missing one."""
    try:
        return parse_id(raw)
    except NotFound as exc:
        raise ValidationFailed(
            "The quoted post does not exist or is not visible to you", field="quoted_status_id"
        ) from exc


@router.post("/{status_id}/reblog", response_model=StatusOut, openapi_extra=body_docs(ReblogIn))
async def reblog(
    status_id: str,
    session: SessionDep,
    settings: SettingsDep,
    timeline: HomeTimelineDep,
    ctx: Annotated[UserContext, Depends(require_user("write:statuses"))],
    body: Annotated[ReblogIn, Depends(params(ReblogIn))],
) -> StatusOut:
    """Repost a status; returns the repost (its own id) with the original in ``reblog``."""
    wrapper, new = await reposts.repost(
        session, actor=ctx.user, post_id=parse_id(status_id), visibility=body.visibility
    )
    await session.commit()
    if new:
        await timeline.published(wrapper)
    return present.status(await feed.load(session, [wrapper], viewer=ctx.user), settings)


@router.post("/{status_id}/unreblog", response_model=StatusOut)
async def unreblog(
    status_id: str,
    session: SessionDep,
    settings: SettingsDep,
    timeline: HomeTimelineDep,
    ctx: Annotated[UserContext, Depends(require_user("write:statuses"))],
) -> StatusOut:
    """Undo your repost of a status (none is no error); returns the original."""
    original, removed = await reposts.unrepost(session, actor=ctx.user, post_id=parse_id(status_id))
    await session.commit()
    if removed is not None:
        await timeline.forget_posts([removed])
    return present.status(await feed.load(session, [original], viewer=ctx.user), settings)


@router.get("/{status_id}/reblogged_by", response_model=list[AccountOut])
async def reblogged_by(
    status_id: str,
    request: Request,
    response: Response,
    session: SessionDep,
    settings: SettingsDep,
    cursor: AccountsCursorDep,
    viewer: Annotated[UserContext | None, Depends(optional_user("read:statuses"))],
) -> list[AccountOut]:
    """Accounts that reposted a status, newest repost first (paged by repost id)."""
    pairs = await reposts.reblogged_by(
        session, post_id=parse_id(status_id), viewer=viewer.user if viewer else None, cursor=cursor
    )
    link_pages(request, response, [wrapper_id for wrapper_id, _ in pairs])
    return [present.account(user, settings) for _, user in pairs]


@router.get("/{status_id}/quotes", response_model=list[StatusOut])
async def quotes(
    status_id: str,
    request: Request,
    response: Response,
    session: SessionDep,
    settings: SettingsDep,
    cursor: CursorDep,
    ctx: Annotated[UserContext, Depends(require_user("read:statuses"))],
) -> list[StatusOut]:
    """Statuses quoting a status, newest first, those you may see (paged by id)."""
    found = await reposts.quotes(
        session, post_id=parse_id(status_id), viewer=ctx.user, cursor=cursor
    )
    link_pages(request, response, [p.id for p in found])
    return present.statuses(await feed.load(session, found, viewer=ctx.user), settings)


@router.put(
    "/{status_id}/interaction_policy",
    response_model=StatusOut,
    openapi_extra=body_docs(InteractionPolicyIn),
)
async def interaction_policy(
    status_id: str,
    session: SessionDep,
    settings: SettingsDep,
    timeline: HomeTimelineDep,
    ctx: Annotated[UserContext, Depends(require_user("write:statuses"))],
    body: Annotated[InteractionPolicyIn, Depends(params(InteractionPolicyIn))],
) -> StatusOut:
    """Change who may quote one of your statuses (past quotes stay)."""
    post = await reposts.set_quote_policy(
        session, actor=ctx.user, post_id=parse_id(status_id), policy=body.quote_approval_policy
    )
    await session.commit()
    await timeline.refresh_posts([post.id])
    return present.status(await feed.load(session, [post], viewer=ctx.user), settings)
