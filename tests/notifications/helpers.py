"""Helpers for notification tests: readers with overlapping follows, jobs run on demand."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
from fastapi import FastAPI

from chirp.jobs import registry
from chirp.jobs.worker import JobContext, Worker
from chirp.users.models import User
from tests.factories import auth, make_token, make_user
from tests.loops import at_most


@dataclass
class World:
    """ann, bob, cat and dan, each with a token; follows made by each test through the API."""

    users: dict[str, User]
    tokens: dict[str, str]

    def id(self, name: str) -> int:
        """A user's id."""
        return self.users[name].id

    def auth(self, name: str) -> dict[str, str]:
        """Authorization header for a user."""
        return auth(self.tokens[name])


async def world(session: Any, names: tuple[str, ...] = ("ann", "bob", "cat", "dan")) -> World:
    """Users with tokens (every scope but admin)."""
    users = {name: await make_user(session, name) for name in names}
    tokens = {name: await make_token(session, user) for name, user in users.items()}
    return World(users=users, tokens=tokens)


async def run_jobs(app: FastAPI) -> int:
    """Run every queued job, as the embedded runner or ``chirp worker`` would; how many ran."""
    state = app.state
    context = JobContext(
        session_factory=state.session_factory,
        settings=state.settings,
        timeline_cache=state.timeline_cache,
    )
    return await Worker(context, registry.handlers()).drain()


async def ok(response: httpx.Response) -> Any:
    """The JSON of a successful answer."""
    assert response.status_code == 200, response.text
    return response.json()


async def notifications(
    client: httpx.AsyncClient, w: World, name: str, query: str = ""
) -> list[dict[str, Any]]:
    """Every notification of ``name`` (following Link headers), newest first."""
    url: str | None = f"/api/v1/notifications{query}"
    found: list[dict[str, Any]] = []
    for _ in at_most(50):
        if url is None:
            break
        r = await client.get(url, headers=w.auth(name))
        page = await ok(r)
        if not page:
            break
        found.extend(page)
        url = r.links.get("next", {}).get("url")
    return found


def summary(items: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """(type, from whom) of each notification, newest first."""
    return [(n["type"], n["account"]["username"]) for n in items]
