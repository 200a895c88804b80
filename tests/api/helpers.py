"""Helpers for API tests: register apps and users through the API itself, read timelines."""

from __future__ import annotations

import re

import httpx

from tests.factories import PASSWORD, auth
from tests.loops import at_most

_LINK_NEXT = re.compile(r'<([^>]+)>; rel="next"')


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


async def client_credentials(
    client: httpx.AsyncClient, app: dict[str, str], scope: str
) -> httpx.Response:
    """Ask for an app's own token (the client credentials grant); the answer as it comes."""
    return await client.post(
        "/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": app["client_id"],
            "client_secret": app["client_secret"],
            "scope": scope,
        },
    )


async def client_token(
    client: httpx.AsyncClient, app: dict[str, str], scope: str = "read write follow"
) -> str:
    """Get an app's own token (the client credentials grant), as sign-up through the API needs."""
    r = await client_credentials(client, app, scope)
    assert r.status_code == 200 and r.json()["scope"] == scope, r.text
    return str(r.json()["access_token"])


async def sign_up(client: httpx.AsyncClient, username: str) -> str:
    """Register an account through the API as a new app would, and return its password token."""
    app = await register_app(client)
    data = {"username": username, "email": f"{username}@example.com", "password": PASSWORD}
    r = await client.post(
        "/api/v1/accounts",
        data={**data, "agreement": "true"},
        headers=auth(await client_token(client, app)),
    )
    assert r.status_code == 200, r.text
    return await password_token(client, app, username)


async def password_grant(
    client: httpx.AsyncClient,
    app: dict[str, str],
    username: str,
    password: str = PASSWORD,
    scope: str | None = None,
) -> httpx.Response:
    """Ask for a user's token with the password grant; the answer as it comes."""
    data = {
        "grant_type": "password",
        "client_id": app["client_id"],
        "client_secret": app["client_secret"],
        "username": username,
        "password": password,
    }
    if scope is not None:
        data["scope"] = scope
    return await client.post("/oauth/token", data=data)


async def password_token(
    client: httpx.AsyncClient, app: dict[str, str], username: str, scope: str = "read write follow"
) -> str:
    """Log in with the password grant and return the access token."""
    r = await password_grant(client, app, username, scope=scope)
    assert r.status_code == 200, r.text
    return str(r.json()["access_token"])


async def home_post_ids(client: httpx.AsyncClient, token: str, limit: int = 4) -> list[int]:
    """Every post of a home timeline through the API, page by page along the Link headers."""
    seen: list[int] = []
    url = f"/api/v1/timelines/home?limit={limit}"
    for _ in at_most(20):
        r = await client.get(url, headers=auth(token))
        assert r.status_code == 200, r.text
        page = [int(s["id"]) for s in r.json()]
        if not page:
            break
        seen += page
        link = _LINK_NEXT.search(r.headers["link"])
        assert link, r.headers["link"]
        url = link.group(1)
    return seen
