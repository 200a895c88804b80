"""Dependencies shared by the API and the pages, declared once as Annotated aliases."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from chirp.config import Settings
from chirp.streaming import access
from chirp.timeline.home import HomeTimeline


async def _session(request: Request) -> AsyncIterator[AsyncSession]:
    async with request.app.state.session_factory() as session:
        yield session
        # After the handler: streams of credentials its committed writes ended stop now.
        await access.publish_committed(session, request.app.state.stream_publisher)


# Declared async, though they never await: FastAPI runs a plain ``def`` dependency in a
# worker thread, and that hop cost more than everything these do.
async def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def _home_timeline(request: Request) -> HomeTimeline:
    reader: HomeTimeline = request.app.state.home_timeline
    return reader


SessionDep = Annotated[AsyncSession, Depends(_session)]
SettingsDep = Annotated[Settings, Depends(_settings)]
HomeTimelineDep = Annotated[HomeTimeline, Depends(_home_timeline)]
