"""The instance endpoints that clients read first."""

from __future__ import annotations

import httpx
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from tests.factories import make_post, make_user


async def test_instance_v1_and_v2(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    await make_post(session, await make_user(session, "alice"), "hi")
    await app.state.instance_stats.refresh(app.state.session_factory)
    v1 = (await client.get("/api/v1/instance")).json()
    assert v1["version"].startswith("4.3.0 (compatible; Chirp ")
    assert v1["uri"] == "testserver"
    assert v1["configuration"]["statuses"]["max_characters"] == 140
    assert v1["configuration"]["statuses"]["characters_reserved_per_url"] == 23
    assert v1["stats"]["user_count"] == 1 and v1["stats"]["status_count"] == 1
    v2 = (await client.get("/api/v2/instance")).json()
    assert v2["domain"] == "testserver" and v2["version"] == v1["version"]
    assert v2["configuration"]["statuses"]["max_characters"] == 140
    assert v2["registrations"]["enabled"] is True and v2["usage"]["users"]["active_month"] == 1


async def test_openapi_documents_the_api(client: httpx.AsyncClient) -> None:
    spec = (await client.get("/openapi.json")).json()
    for path in (
        "/api/v1/statuses",
        "/api/v1/timelines/home",
        "/oauth/token",
        "/api/v1/accounts/{account_id}/follow",
    ):
        assert path in spec["paths"]
    create = spec["paths"]["/api/v1/statuses"]["post"]
    assert "application/x-www-form-urlencoded" in create["requestBody"]["content"]
    assert create["description"] or create["summary"]
    assert (await client.get("/docs")).status_code == 200
