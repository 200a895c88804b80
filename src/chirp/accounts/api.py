"""Mastodon API: resend and check the email confirmation."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from chirp.accounts import service as accounts_service
from chirp.accounts.schemas import EmailConfirmationIn
from chirp.api.auth import UserContext, require_user
from chirp.api.params import body_docs, params
from chirp.deps import SessionDep, SettingsDep

router = APIRouter(prefix="/api/v1", tags=["emails"])


@router.post("/emails/confirmations", openapi_extra=body_docs(EmailConfirmationIn))
async def resend_confirmation(
    session: SessionDep,
    settings: SettingsDep,
    ctx: Annotated[UserContext, Depends(require_user("write:accounts", unconfirmed=True))],
    body: Annotated[EmailConfirmationIn, Depends(params(EmailConfirmationIn))],
) -> dict[str, str]:
    """Send the confirmation mail again, to a corrected address when ``email`` is given."""
    await accounts_service.resend_confirmation(
        session, settings=settings, user=ctx.user, email=body.email
    )
    await session.commit()
    return {}


@router.get("/emails/check_confirmation")
async def check_confirmation(
    ctx: Annotated[UserContext, Depends(require_user("read:accounts", unconfirmed=True))],
) -> bool:
    """Whether the user's email address is confirmed."""
    return ctx.user.email_confirmed_at is not None
