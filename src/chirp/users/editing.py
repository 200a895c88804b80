"""Profile editing: one call for the Edit profile page and ``update_credentials``."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from chirp.users import service as users_service
from chirp.users.models import User
from chirp.users.schemas import UpdateCredentialsIn


async def apply(session: AsyncSession, *, user: User, changes: UpdateCredentialsIn) -> User:
    """Apply what ``changes`` sets (None: unchanged), all or nothing; the caller commits."""
    await users_service.update_profile(
        session,
        user=user,
        display_name=changes.display_name,
        bio=changes.note,
        fields=changes.field_pairs(),
        locked=changes.locked,
    )
    source = changes.source
    if source is not None:
        await users_service.update_posting_defaults(
            session,
            user=user,
            privacy=source.privacy,
            language=source.language,
            sensitive=source.sensitive,
        )
    return user
