"""Helpers for API tests: register apps and users through the API itself."""

from __future__ import annotations

import httpx

from tests.factories import PASSWORD


async def register_app(
    client: httpx.AsyncClient, scopes: str = "read write follow"
) -> dict[str, str]:
    """Register an OAuth app and return its entity (with credentials)."""
    r = await client.post(
        "/api/v1/apps",
        data={
            "client_name": "tests",
            "redirect_uris": "urn:ietf:wg:oauth:2.0:oob",
            "scopes": scopes,
        },
    )
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


async def password_token(
    client: httpx.AsyncClient, app: dict[str, str], username: str, scope: str = "read write follow"
) -> str:
    """Log in with the password grant and return the access token."""
    r = await client.post(
        "/oauth/token",
        data={
            "grant_type": "password",
            "client_id": app["client_id"],
            "client_secret": app["client_secret"],
            "username": username,
            "password": PASSWORD,
            "scope": scope,
        },
    )
    assert r.status_code == 200, r.text
    return str(r.json()["access_token"])
