"""Helpers for web tests: CSRF tokens from pages, logging in through the forms."""

from __future__ import annotations

import re

import httpx

from tests.factories import PASSWORD

_CSRF = re.compile(r'"X-CSRF-Token": "([^"]+)"')


async def csrf(client: httpx.AsyncClient, path: str = "/login") -> str:
    """Load a page and return the CSRF token its forms carry (the cookie is kept)."""
    r = await client.get(path, follow_redirects=True)
    match = _CSRF.search(r.text)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


async def login(client: httpx.AsyncClient, username: str, password: str = PASSWORD) -> None:
    """Log in through the form."""
    token = await csrf(client)
    r = await client.post(
        "/login", data={"login": username, "password": password, "csrf_token": token}
    )
    assert r.status_code == 303, r.text


def htmx(token: str) -> dict[str, str]:
    """Headers htmx sends with a request from a page."""
    return {"HX-Request": "true", "X-CSRF-Token": token}
