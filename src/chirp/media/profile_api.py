"""Mastodon API: remove your uploaded avatar or header (Mastodon 4.2)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from chirp.api import present
from chirp.api.auth import UserContext, require_user
from chirp.deps import SessionDep, SettingsDep
from chirp.media import profile_images
from chirp.users.schemas import CredentialAccountOut

router = APIRouter(prefix="/api/v1/profile", tags=["accounts"])

WriteAccount = Annotated[UserContext, Depends(require_user("write:accounts"))]


@router.delete("/avatar", response_model=CredentialAccountOut)
async def delete_avatar(
    session: SessionDep, settings: SettingsDep, ctx: WriteAccount
) -> CredentialAccountOut:
    """Remove your uploaded avatar (the default one is shown again)."""
    await profile_images.remove_avatar(session, user=ctx.user)
    await session.commit()
    return present.credential_account(ctx.user, settings)


@router.delete("/header", response_model=CredentialAccountOut)
async def delete_header(
    session: SessionDep, settings: SettingsDep, ctx: WriteAccount
) -> CredentialAccountOut:
    """Remove your uploaded header (the default one is shown again)."""
    await profile_images.remove_header(session, user=ctx.user)
    await session.commit()
    return present.credential_account(ctx.user, settings)
