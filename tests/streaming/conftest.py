"""Fixtures for streaming tests: an app whose events are delivered, and people to read them."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from chirp.follows import service as follows_service
from chirp.users.models import User
from tests.conftest import REDIS_BACKEND
from tests.factories import make_token, make_user
from tests.streaming.helpers import WAIT, SerializedSessions, client_for


@dataclass
class Person:
    """A user and a token of theirs."""

    user: User
    token: str

    @property
    def id(self) -> int:
        """The user's id."""
        return self.user.id


@dataclass
class Cast:
    """bob posts; alice and dave follow him (dave hides his reposts); carol follows nobody."""

    alice: Person
    bob: Person
    carol: Person
    dave: Person


@pytest.fixture
async def live_app(
    app: FastAPI, backend: str, db: async_sessionmaker[AsyncSession]
) -> AsyncIterator[FastAPI]:
    """The app, subscribed to its events (on Redis: once its subscription is held)."""
    app.state.session_factory = SerializedSessions(db)
    if backend == REDIS_BACKEND:
        async with asyncio.timeout(WAIT):
            await app.state.stream_subscription.subscribed.wait()
    yield app


@pytest.fixture
async def live_client(live_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """A client of ``live_app`` after whose requests the jobs run (publishing events)."""
    async with client_for(live_app) as client:
        yield client


@pytest.fixture
async def cast(live_app: FastAPI, live_client: httpx.AsyncClient) -> Cast:
    """Four people with overlapping follows."""
    async with live_app.state.session_factory() as session:
        people = {}
        for name in ("alice", "bob", "carol", "dave"):
            user = await make_user(session, name)
            people[name] = Person(user, await make_token(session, user))
        await follows_service.follow(
            session, follower=people["alice"].user, followee=people["bob"].user
        )
        await follows_service.follow(
            session, follower=people["dave"].user, followee=people["bob"].user, reblogs=False
        )
        await follows_service.follow(
            session, follower=people["dave"].user, followee=people["alice"].user
        )
        await session.commit()
    await live_client.get("/api/v1/streaming/health")  # runs the follow jobs
    return Cast(**people)
