"""Settings that change who may come in and how long: closed sign-ups, login lifetime, HTTPS."""

from __future__ import annotations

from datetime import timedelta
from http.cookies import SimpleCookie

import httpx
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from chirp.auth.models import WebSession
from chirp.users.models import User
from tests.api.helpers import client_token, register_app
from tests.conftest import MakeApp, client_of
from tests.factories import PASSWORD, auth, make_user
from tests.web.helpers import csrf, login, signup


async def _users(session: AsyncSession) -> int:
    return int((await session.execute(select(func.count()).select_from(User))).scalar_one())


async def test_closed_registrations_refuse_web_and_api_sign_ups(
    make_app: MakeApp, session: AsyncSession
) -> None:
    await make_user(session, "member")
    app = await make_app(registrations_open=False)
    async with client_of(app) as browser:
        page = await browser.get("/signup")
        assert "Registrations are closed on this server." in page.text
        assert 'action="/signup"' not in page.text  # no form to fill in
        landing = await browser.get("/")
        assert "Create an account" not in landing.text and 'href="/signup"' not in landing.text
        r = await signup(browser, "newbie", email="new@example.com")
        assert r.status_code == 403 and "Registrations are closed" in r.text
        assert "chirp_session" not in r.headers.get("set-cookie", "")

        # Mastodon answers a registration through the API with 403 and an error.
        oauth_app = await register_app(browser)
        app_token = await client_token(browser, oauth_app, "read write")
        r = await browser.post(
            "/api/v1/accounts",
            data={
                "username": "newbie",
                "email": "new@example.com",
                "password": PASSWORD,
                "agreement": "true",
                "locale": "en",
            },
            headers=auth(app_token),
        )
        assert r.status_code == 403 and set(r.json()) == {"error"}
        assert (await browser.get("/api/v2/instance")).json()["registrations"]["enabled"] is False
        assert (await browser.get("/api/v1/instance")).json()["registrations"] is False
        await login(browser, "member")  # members still log in
    assert await _users(session) == 1


async def _age_sessions(session: AsyncSession, by: timedelta) -> None:
    """Move every login back in time, as if it had been made ``by`` ago."""
    stmt = select(WebSession).execution_options(populate_existing=True)
    logins = (await session.execute(stmt)).scalars().all()
    for row in logins:
        await session.execute(
            update(WebSession)
            .where(WebSession.id == row.id)
            .values(created_at=row.created_at - by, expires_at=row.expires_at - by)
        )
    await session.commit()


async def test_a_login_older_than_the_session_lifetime_is_logged_out(
    make_app: MakeApp, session: AsyncSession
) -> None:
    await make_user(session, "sleepy")
    async with client_of(await make_app(session_days=2)) as browser:
        token = await csrf(browser, "/login")
        r = await browser.post(
            "/login", data={"login": "sleepy", "password": PASSWORD, "csrf_token": token}
        )
        assert r.status_code == 303
        cookie = SimpleCookie(r.headers["set-cookie"])["chirp_session"]
        assert cookie["max-age"] == str(2 * 86400)  # the browser forgets it then too
        assert "@sleepy" in (await browser.get("/")).text

        await _age_sessions(session, timedelta(days=2) - timedelta(hours=1))
        assert "@sleepy" in (await browser.get("/")).text  # still within its two days
        await _age_sessions(session, timedelta(hours=1, minutes=1))
        # Two days and a minute: the server no longer knows this browser, cookie or not.
        home = await browser.get("/")
        assert "@sleepy" not in home.text and "Log in" in home.text
        token = await csrf(browser, "/")
        r = await browser.post("/posts", data={"text": "still here?", "csrf_token": token})
        assert r.status_code == 303 and r.headers["location"].startswith("/login")


def _set_cookies(response: httpx.Response) -> dict[str, str]:
    """Each cookie the response sets, by name, with its attributes as sent."""
    cookies = {}
    for header in response.headers.get_list("set-cookie"):
        name = header.split("=", 1)[0]
        cookies[name] = header.lower()
    return cookies


async def test_cookies_are_secure_under_https_only(
    make_app: MakeApp, session: AsyncSession
) -> None:
    await make_user(session, "alice")
    for https in (True, False):
        async with client_of(await make_app(https=https)) as browser:
            browser.base_url = httpx.URL("https://testserver" if https else "http://testserver")
            page = await browser.get("/login")
            csrf_cookie = _set_cookies(page)["chirp_csrf"]
            token = await csrf(browser, "/login")
            r = await browser.post(
                "/login", data={"login": "alice", "password": PASSWORD, "csrf_token": token}
            )
            assert r.status_code == 303
            session_cookie = _set_cookies(r)["chirp_session"]
            for cookie in (csrf_cookie, session_cookie):
                assert "httponly" in cookie and "samesite=lax" in cookie
                assert ("; secure" in cookie) is https, cookie
            if https:
                assert "@alice" in (await browser.get("/")).text  # sent back over HTTPS
