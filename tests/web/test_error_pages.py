"""Error pages say what went wrong in people's words, with a way back; the API keeps
Mastodon's shape."""

from __future__ import annotations

import re

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from tests.factories import auth, make_post, make_token, make_user
from tests.web.helpers import csrf, login

FRAMEWORK_WORDS = ("Record not found", "Validation failed", "Input should", "ASCII digits")


def _message(html: str) -> str:
    found = re.search(r"<p data-error-message>(.*?)</p>", html, re.S)
    assert found, "no error message on the page"
    return found.group(1).replace("&#39;", "'").strip()


def _plain(html: str) -> None:
    for words in FRAMEWORK_WORDS:
        assert words not in html, words


async def test_a_deleted_post_says_so_and_offers_a_way_back(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    author = await make_user(session, "author")
    post = await make_post(session, author, "soon gone")
    await login(client, "author")
    token = await csrf(client, f"/@author/{post.id}")
    r = await client.post(f"/posts/{post.id}/delete", data={"csrf_token": token})
    assert r.status_code == 303
    r = await client.get(f"/@author/{post.id}", headers={"Referer": "http://testserver/@author"})
    assert r.status_code == 404
    assert _message(r.text) == (
        "This post doesn't exist: it may have been deleted, or the address may be mistyped."
    )
    assert '<a class="btn" href="/@author">Back to the previous page</a>' in r.text
    assert 'href="/">Go to the home page</a>' in r.text
    _plain(r.text)
    # Deleting it again (a second tab, a double click) says the same in its own words.
    r = await client.post(f"/posts/{post.id}/delete", data={"csrf_token": token})
    assert r.status_code == 404
    assert _message(r.text) == "This post doesn't exist any more: it may have been deleted already."
    _plain(r.text)


async def test_mistyped_addresses_say_what_was_not_found(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    await make_user(session, "alice")
    cases = {
        "/@alice/12x": "This post doesn't exist",
        "/@alice/99999999": "This post doesn't exist",
        "/@alcie": "There is no one called @alcie here.",
        "/@alcie/followers": "There is no one called @alcie here.",
        "/uesrs": "There is nothing at this address. It may have been mistyped",
    }
    for path, said in cases.items():
        r = await client.get(path)
        assert r.status_code == 404, path
        assert _message(r.text).startswith(said), path
        assert "Back to the previous page" not in r.text  # typed in: nowhere to go back to
        _plain(r.text)


async def test_bad_values_in_the_address_are_a_plain_sentence_naming_them(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    await make_user(session, "alice")
    cases = {
        "/users?page=abc": "The page number in the address must be a whole number, like 2.",
        "/users?page=0": "The page number in the address must be at least 1.",
        "/users?page=501": "The page number in the address must be at most 500.",
    }
    for path, said in cases.items():
        r = await client.get(path, headers={"Referer": "http://testserver/users"})
        assert r.status_code == 422, path
        assert _message(r.text) == said
        assert 'href="/users">Back to the previous page</a>' in r.text
        _plain(r.text)


async def test_api_errors_stay_mastodon_shaped_and_readable(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    token = await make_token(session, await make_user(session, "alice"))
    r = await client.get("/api/v1/statuses/99999999", headers=auth(token))
    assert r.status_code == 404 and r.json() == {"error": "Record not found"}
    r = await client.get("/api/v1/directory?limit=ten", headers=auth(token))
    assert r.status_code == 422
    assert r.json() == {"error": "Validation failed: limit must be a whole number"}
    r = await client.get("/api/v1/directory?offset=10001", headers=auth(token))
    assert r.status_code == 422 and "offset" in r.json()["error"]
    assert "Input should" not in r.json()["error"]
