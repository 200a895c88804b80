"""Pleroma API: emoji reactions to statuses (PUT, DELETE and GET .../reactions/:emoji)."""

from __future__ import annotations

from functools import partial
from typing import Annotated

from fastapi import APIRouter, Depends

from chirp.api import present
from chirp.api.auth import UserContext, optional_user, require_user
from chirp.api.paging import parse_id
from chirp.config import Settings
from chirp.deps import SessionDep, SettingsDep
from chirp.parsing import ShortText
from chirp.posts import action_api, actions
from chirp.posts.models import Post
from chirp.posts.schemas import StatusOut
from chirp.reactions import service as reactions_service
from chirp.reactions.schemas import EmojiReactionGroupOut
from chirp.users.models import User

router = APIRouter(prefix="/api/v1/pleroma/statuses", tags=["pleroma"])

# Pleroma's scopes: reacting writes statuses; reading reactions needs no token.
WriteStatuses = Annotated[UserContext, Depends(require_user("write:statuses"))]
MaybeReader = Annotated[UserContext | None, Depends(optional_user("read:statuses"))]
_EMOJI = "/{status_id}/reactions/{emoji}"


@router.put(_EMOJI, response_model=StatusOut)
async def react(
    status_id: str, emoji: ShortText, session: SessionDep, settings: SettingsDep, ctx: WriteStatuses
) -> StatusOut:
    """React to a status with one emoji (percent-encoded); doing it again changes nothing."""
    change = partial(reactions_service.react, emoji=emoji)
    return await action_api.act(session, settings, ctx.user, status_id, change)


@router.delete(_EMOJI, response_model=StatusOut)
async def unreact(
    status_id: str, emoji: ShortText, session: SessionDep, settings: SettingsDep, ctx: WriteStatuses
) -> StatusOut:
    """Take back your reaction with an emoji; taking back one you did not make changes nothing."""
    change = partial(reactions_service.unreact, emoji=emoji)
    return await action_api.act(session, settings, ctx.user, status_id, change)


@router.get("/{status_id}/reactions", response_model=list[EmojiReactionGroupOut])
async def reactions(
    status_id: str, session: SessionDep, settings: SettingsDep, viewer: MaybeReader
) -> list[EmojiReactionGroupOut]:
    """Each emoji on a status, first used first, with its count and first reactors."""
    user = viewer.user if viewer else None
    post = await _reacted_post(session, status_id, user)
    return await _groups(session, settings, post, user, None)


@router.get(_EMOJI, response_model=list[EmojiReactionGroupOut])
async def reactions_with(
    status_id: str,
    emoji: ShortText,
    session: SessionDep,
    settings: SettingsDep,
    viewer: MaybeReader,
) -> list[EmojiReactionGroupOut]:
    """One emoji on a status with its count and first reactors (empty if nobody used it)."""
    user = viewer.user if viewer else None
    post = await _reacted_post(session, status_id, user)
    return await _groups(session, settings, post, user, emoji)


async def _reacted_post(session: SessionDep, status_id: str, viewer: User | None) -> Post:
    # As Pleroma: a reblog shows the reactions to the status it shares.
    _, post = await actions.target_or_404(session, parse_id(status_id), viewer=viewer)
    return post


async def _groups(
    session: SessionDep,
    settings: Settings,
    post: Post,
    viewer: User | None,
    emoji: str | None,
) -> list[EmojiReactionGroupOut]:
    found = await reactions_service.groups(
        session, post_id=post.id, viewer_id=viewer.id if viewer else None, emoji=emoji
    )
    return [
        EmojiReactionGroupOut(
            name=group.name,
            count=group.count,
            me=group.me,
            accounts=[present.account(a, settings) for a in group.accounts],
            account_ids=[str(a.id) for a in group.accounts],
        )
        for group in found
    ]
