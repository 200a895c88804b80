"""API answers of acting on a status (favourite, react): the status again, as it now stands."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from chirp.api import present
from chirp.api.paging import parse_id
from chirp.config import Settings
from chirp.posts import actions, feed
from chirp.posts.schemas import StatusOut
from chirp.users.models import User


async def act(
    session: AsyncSession, settings: Settings, viewer: User, status_id: str, change: actions.Change
) -> StatusOut:
    """Find the status or 404, apply ``change`` to its target, commit, answer the status."""
    post, target = await actions.target_or_404(session, parse_id(status_id), viewer=viewer)
    await change(session, user=viewer, post=target)
    await session.commit()
    return present.status(await feed.load(session, [post], viewer=viewer), settings)
