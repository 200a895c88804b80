"""The sign-up form: every problem at once, a username limit that is said, not enforced by
cutting, and one sign-up button."""

from __future__ import annotations

import re

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from chirp.users import service as users_service
from tests.api.helpers import client_token, register_app
from tests.factories import PASSWORD, auth, make_user
from tests.web.helpers import signup


def _field_errors(html: str) -> dict[str, str]:
    return dict(re.findall(r'<p class="field-error" id="([a-z_]+)-error">([^<]*)</p>', html))


async def test_every_field_error_shows_at_once(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    await make_user(session, "taken")
    r = await signup(client, "TAKEN", email="not an address", password="short")
    assert r.status_code == 422
    errors = _field_errors(r.text)
    assert errors["username"] == "Username has already been taken"
    assert errors["email"].startswith("Email is invalid")
    assert errors["password"] == "Password is too short (minimum is 8 characters)"
    assert "Please fix 3 things below." in r.text
    assert r.text.count(" autofocus") == 1 and re.search(
        r'id="signup-username"[^>]*autofocus', r.text
    )
    assert 'value="TAKEN"' in r.text and 'value="not an address"' in r.text
    assert await users_service.count_users(session) == 1


async def test_api_registration_reports_every_problem_in_mastodon_details(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    await make_user(session, "taken")
    app_token = await client_token(client, await register_app(client))
    data = {"username": "Taken", "email": "nope", "password": "short", "locale": "en"}
    r = await client.post("/api/v1/accounts", data=data, headers=auth(app_token))
    assert r.status_code == 422
    body = r.json()
    assert body["error"] == (
        "Validation failed: Username has already been taken, Email is invalid: An email "
        "address must have an @-sign., Password is too short (minimum is 8 characters), "
        "Agreement must be accepted"
    )
    assert body["details"] == {
        "username": [{"error": "ERR_TAKEN", "description": "has already been taken"}],
        "email": [
            {
                "error": "ERR_INVALID",
                "description": "is invalid: An email address must have an @-sign.",
            }
        ],
        "password": [
            {"error": "ERR_TOO_SHORT", "description": "is too short (minimum is 8 characters)"}
        ],
        "agreement": [{"error": "ERR_ACCEPTED", "description": "must be accepted"}],
    }
    assert await users_service.count_users(session) == 1


async def test_a_31st_character_is_refused_with_the_reason_not_cut_off(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    form = (await client.get("/signup")).text
    field = re.search(r'<input id="signup-username"[^>]*>', form)
    assert field and "maxlength" not in field.group(0)  # the browser no longer cuts it silently
    assert "Up to 30 letters, digits or underscores." in form  # the limit is said up front
    name = "a" * 31
    r = await signup(client, name)
    assert r.status_code == 422
    assert _field_errors(r.text)["username"] == (
        "Username is too long (31 characters; the maximum is 30)"
    )
    assert f'value="{name}"' in r.text  # nothing typed was lost
    assert (await signup(client, name[:30])).status_code == 303
    assert await users_service.get_by_username(session, name[:30]) is not None


async def test_the_sign_up_page_has_one_sign_up_button(client: httpx.AsyncClient) -> None:
    page = (await client.get("/signup")).text
    links = re.findall(r'<a [^>]*href="/signup"[^>]*>', page)
    buttons = re.findall(r'<button type="submit"[^>]*>\s*Sign up\s*</button>', page)
    assert links == [] and len(buttons) == 1
    # Elsewhere the way to sign up is still offered.
    assert 'href="/signup"' in (await client.get("/login")).text


async def test_signing_up_still_works_with_a_display_name(client: httpx.AsyncClient) -> None:
    r = await signup(client, "newbie", display_name="N" * 51)
    assert r.status_code == 422
    assert _field_errors(r.text) == {
        "display_name": "Display name is too long (maximum is 50 characters)"
    }
    r = await signup(client, "newbie", display_name="New Bie", password=PASSWORD)
    assert r.status_code == 303
