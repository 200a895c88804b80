"""Mastodon admin API: list accounts (administrators only)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response

from chirp.api import present
from chirp.api.auth import UserContext, require_user
from chirp.api.links import set_link_header
from chirp.api.paging import CursorDep
from chirp.api.unsupported import refuse
from chirp.deps import SessionDep, SettingsDep
from chirp.errors import Forbidden
from chirp.parsing import ShortText
from chirp.users import service as users_service
from chirp.users.schemas import AdminAccountOut

router = APIRouter(prefix="/api/v1/admin", tags=["admin"])


@router.get(
    "/accounts",
    response_model=list[AdminAccountOut],
    dependencies=[
        Depends(
            refuse(
                display_name="filter by username instead",
                ip="Chirp keeps no IP addresses of accounts",
            )
        )
    ],
)
async def accounts(
    request: Request,
    response: Response,
    session: SessionDep,
    settings: SettingsDep,
    cursor: CursorDep,
    ctx: Annotated[UserContext, Depends(require_user("admin:read:accounts"))],
    username: Annotated[ShortText | None, Query()] = None,
    email: Annotated[ShortText | None, Query()] = None,
    local: bool = False,
    remote: bool = False,
    active: bool = False,
    pending: bool = False,
    disabled: bool = False,
    silenced: bool = False,
    suspended: bool = False,
    staff: bool = False,
    sensitized: bool = False,
    by_domain: Annotated[ShortText | None, Query()] = None,
) -> list[AdminAccountOut]:
    """Accounts with their admin details, newest first (administrators only)."""
    if not ctx.user.is_admin:
        raise Forbidden("This action is not allowed")
    if remote or pending or disabled or silenced or suspended or sensitized or by_domain:
        # Chirp has no remote (by_domain filters those), pending or moderated accounts.
        users = []
    else:
        users = await users_service.admin_page(
            session, cursor=cursor, username=username, email=email, staff=staff
        )
    set_link_header(
        request,
        response,
        newest_id=users[0].id if users else None,
        oldest_id=users[-1].id if users else None,
    )
    return [present.admin_account(u, settings) for u in users]
