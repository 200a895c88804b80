"""Mastodon API: your direct-message conversations; remove one from your list, mark one read."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response

from chirp.api.auth import UserContext, require_user
from chirp.api.links import link_pages
from chirp.api.paging import CursorDep, parse_id
from chirp.conversations import present
from chirp.conversations import service as conversations_service
from chirp.conversations.schemas import ConversationOut
from chirp.deps import SessionDep, SettingsDep

router = APIRouter(prefix="/api/v1/conversations", tags=["conversations"])

# As Mastodon: reading needs read:statuses, changing one write:conversations.
ReadStatuses = Annotated[UserContext, Depends(require_user("read:statuses"))]
WriteConversations = Annotated[UserContext, Depends(require_user("write:conversations"))]


@router.get("", response_model=list[ConversationOut])
async def list_conversations(
    request: Request,
    response: Response,
    session: SessionDep,
    settings: SettingsDep,
    cursor: CursorDep,
    ctx: ReadStatuses,
) -> list[ConversationOut]:
    """Your conversations, newest message first (paged by the id of each one's latest message)."""
    found = await conversations_service.page(session, user=ctx.user, cursor=cursor)
    # As Mastodon: the Link header pages by the latest messages' ids, not by conversation id.
    link_pages(request, response, [c.member.last_post_id or 0 for c in found])
    return await present.conversations(session, found, viewer=ctx.user, settings=settings)


@router.delete("/{conversation_id}", response_model=dict[str, Any])
async def remove_conversation(
    conversation_id: str, session: SessionDep, ctx: WriteConversations
) -> dict[str, Any]:
    """Remove a conversation from your list (others keep theirs); a new message brings it back."""
    conversation = await conversations_service.get_own(
        session, user=ctx.user, member_id=parse_id(conversation_id)
    )
    await conversations_service.hide(session, conversation)
    await session.commit()
    return {}


@router.post("/{conversation_id}/read", response_model=ConversationOut)
async def read_conversation(
    conversation_id: str, session: SessionDep, settings: SettingsDep, ctx: WriteConversations
) -> ConversationOut:
    """Mark a conversation read; returns it."""
    conversation = await conversations_service.get_own(
        session, user=ctx.user, member_id=parse_id(conversation_id)
    )
    await conversations_service.mark_read(session, conversation)
    await session.commit()
    shown = await present.conversations(session, [conversation], viewer=ctx.user, settings=settings)
    return shown[0]
