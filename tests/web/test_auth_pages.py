"""Sign up, log in and log out through the web forms."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from chirp.users import service as users_service
from tests.factories import PASSWORD, make_user
from tests.web.helpers import csrf, login, signup


async def test_signup_logs_in_and_lands_home(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    r = await signup(client, "newbie", email="new@example.com", display_name="New Bie")
    assert r.status_code == 303 and r.headers["location"] == "/"
    cookie = r.headers["set-cookie"]
    assert "chirp_session=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
    home = await client.get("/")
    assert "What's happening?" in home.text and "@newbie" in home.text
    assert await users_service.get_by_username(session, "newbie") is not None


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("username", "bad name!", "Username must contain only letters"),
        ("email", "nope", "Email is invalid"),
        ("password", "short", "Password is too short"),
    ],
)
async def test_signup_errors_keep_input_and_store_nothing(
    client: httpx.AsyncClient, session: AsyncSession, field: str, value: str, message: str
) -> None:
    data = {"username": "carol", "email": "carol@example.com", "password": PASSWORD}
    data[field] = value
    r = await signup(client, **data)
    assert r.status_code == 422
    assert message in r.text
    if field != "password":
        assert f'value="{value}"' in r.text
    assert PASSWORD not in r.text  # never echo a password
    assert await users_service.count_users(session) == 0


async def test_signup_taken_username_any_case(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    await make_user(session, "Carol")
    r = await signup(client, "cAROL", email="c2@example.com")
    assert r.status_code == 422 and "already been taken" in r.text


async def test_login_by_username_or_email(client: httpx.AsyncClient, session: AsyncSession) -> None:
    await make_user(session, "dave", email="dave@example.com")
    await login(client, "DAVE@example.com")
    assert "@dave" in (await client.get("/")).text


async def test_wrong_password_and_unknown_user_get_the_same_answer(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    await make_user(session, "erin")
    answers = []
    for login_name, password in (("erin", "wrong password"), ("nobody", PASSWORD)):
        token = await csrf(client)
        r = await client.post(
            "/login", data={"login": login_name, "password": password, "csrf_token": token}
        )
        answers.append((r.status_code, r.text.replace(login_name, "X")))
    assert answers[0] == answers[1]
    assert answers[0][0] == 401 and "Incorrect username/email or password" in answers[0][1]


async def test_login_follows_a_local_next_but_not_another_site(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    await make_user(session, "frank")
    for target, expected in (("/users", "/users"), ("https://evil.example/", "/"), ("//evil", "/")):
        token = await csrf(client)
        r = await client.post(
            "/login",
            data={"login": "frank", "password": PASSWORD, "next": target, "csrf_token": token},
        )
        assert r.headers["location"] == expected


async def test_logout_ends_the_session_on_the_server(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    await make_user(session, "gina")
    await login(client, "gina")
    old_cookie = client.cookies.get("chirp_session")
    token = await csrf(client, "/")
    r = await client.post("/logout", data={"csrf_token": token})
    assert r.status_code == 303
    # Replaying the old cookie no longer logs anyone in.
    client.cookies.set("chirp_session", old_cookie or "")
    assert "Log in" in (await client.get("/")).text


async def test_forms_without_or_with_a_wrong_csrf_token_are_refused(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    await make_user(session, "hal")
    await csrf(client)  # the browser has a CSRF cookie
    for data in ({}, {"csrf_token": "forged"}):
        r = await client.post("/login", data={"login": "hal", "password": PASSWORD, **data})
        assert r.status_code == 403
        assert "security check failed" in r.text
    r = await client.post(
        "/signup", data={"username": "x", "email": "x@example.com", "password": PASSWORD}
    )
    assert r.status_code == 403
    assert await users_service.get_by_username(session, "x") is None
