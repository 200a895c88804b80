"""The live server starts on both databases and answers over real HTTP."""

from __future__ import annotations

import httpx

from tests.live import LiveServer


def test_live_server_serves_docs(live_server: LiveServer) -> None:
    response = httpx.get(f"{live_server.url}/openapi.json", timeout=10)
    assert response.status_code == 200
    assert response.json()["info"]["title"].startswith("Chirp")
