"""Helpers for web tests: CSRF tokens from pages, signing up and logging in through the forms,
reading the posts a page shows."""

from __future__ import annotations

import re

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from chirp.posts.models import Post
from chirp.users.models import User
from tests.factories import PASSWORD, make_post, make_user
from tests.loops import at_most

_CSRF = re.compile(r'"X-CSRF-Token": "([^"]+)"')
_POST_IDS = re.compile(r'<article class="post" id="post-(\d+)"')
_MORE = re.compile(r'hx-get="(/[^"]*max_id=\d+)"')


async def csrf(client: httpx.AsyncClient, path: str = "/login") -> str:
    """Load a page and return the CSRF token its forms carry (the cookie is kept)."""
    r = await client.get(path, follow_redirects=True)
    match = _CSRF.search(r.text)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


async def signup(
    client: httpx.AsyncClient,
    username: str,
    *,
    email: str | None = None,
    password: str = PASSWORD,
    **fields: str,
) -> httpx.Response:
    """Fill in and send the sign-up form; the answer is the caller's to check."""
    token = await csrf(client, "/signup")
    data = {"username": username, "email": email or f"{username}@example.com", "password": password}
    return await client.post("/signup", data={**data, **fields, "csrf_token": token})


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


def post_ids(html: str) -> list[int]:
    """The ids of the posts a page shows, top to bottom."""
    return [int(i) for i in _POST_IDS.findall(html)]


async def home_post_ids(client: httpx.AsyncClient, username: str) -> list[int]:
    """Every post of a home timeline through the web UI as ``username``, following load more."""
    client.cookies.clear()
    await login(client, username)
    page = (await client.get("/")).text
    seen = post_ids(page)
    for _ in at_most(20):
        more = _MORE.search(page)
        if not more:
            break
        page = (await client.get(more.group(1), headers={"HX-Request": "true"})).text
        assert "<html" not in page  # a fragment for htmx
        seen += post_ids(page)
    client.cookies.clear()
    return seen


async def read_by(
    client: httpx.AsyncClient, session: AsyncSession, text: str, *, reader: str
) -> tuple[User, Post]:
    """ann and her post saying ``text``, with ``reader`` (a new account) logged in."""
    ann = await make_user(session, "ann")
    await make_user(session, reader)
    post = await make_post(session, ann, text)
    await login(client, reader)
    return ann, post
