"""Email confirmation, when the server requires it: on the web and through the API."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from chirp.auth.models import AccountToken
from chirp.db import utcnow
from chirp.users import service as users_service
from tests.accounts.helpers import Inbox, run_jobs, smtp_settings
from tests.api.helpers import client_token, password_token, register_app
from tests.conftest import MakeApp, client_of
from tests.factories import PASSWORD, auth, make_user
from tests.web.helpers import csrf, login, signup

UNCONFIRMED = {"error": "Your login is missing a confirmed e-mail address"}


async def test_web_sign_up_waits_for_the_mailed_link_before_logging_in(
    make_app: MakeApp, session: AsyncSession, smtp: tuple[Inbox, int]
) -> None:
    inbox, port = smtp
    await make_user(session, "old")  # signed up before: confirmed
    app = await make_app(**smtp_settings(port), require_email_confirmation=True)
    async with client_of(app) as browser:
        r = await signup(browser, "newbie", email="newbie@example.com")
        assert r.status_code == 200 and "Check your email" in r.text
        assert "chirp_session" not in r.headers.get("set-cookie", "")
        await run_jobs(app)
        assert inbox.to("newbie@example.com")[0]["Subject"] == (
            "Confirm your email address on Chirp"
        )

        # The right password, but no confirmation yet: told so, not logged in.
        token = await csrf(browser)
        r = await browser.post(
            "/login", data={"login": "newbie", "password": PASSWORD, "csrf_token": token}
        )
        assert r.status_code == 403 and "not confirmed yet" in r.text
        assert "chirp_session" not in r.headers.get("set-cookie", "")
        # Asking again sends a second link (the same answer for any address).
        r = await browser.post(
            "/confirm-email/resend", data={"email": "newbie@example.com", "csrf_token": token}
        )
        assert r.status_code == 200 and "we sent it a new link" in r.text
        stranger = await browser.post(
            "/confirm-email/resend", data={"email": "who@example.com", "csrf_token": token}
        )
        assert stranger.status_code == 200 and "we sent it a new link" in stranger.text
        await run_jobs(app)
        assert len(inbox.to("newbie@example.com")) == 2
        assert inbox.to("who@example.com") == []

        link = inbox.link("newbie@example.com")
        r = await browser.get(link)
        assert r.status_code == 303 and r.headers["location"] == "/login"
        assert (await browser.get(link)).status_code == 404  # once
        await login(browser, "newbie")
    async with client_of(app) as browser:
        await login(browser, "old")


async def test_an_expired_confirmation_link_confirms_nothing(
    make_app: MakeApp, session: AsyncSession, smtp: tuple[Inbox, int]
) -> None:
    inbox, port = smtp
    app = await make_app(**smtp_settings(port), require_email_confirmation=True)
    async with client_of(app) as browser:
        await signup(browser, "newbie")
        await run_jobs(app)
        await session.execute(
            update(AccountToken).values(expires_at=utcnow() - timedelta(seconds=1))
        )
        await session.commit()
        assert (await browser.get(inbox.link("newbie@example.com"))).status_code == 404
    user = await users_service.get_by_username(session, "newbie")
    assert user is not None and user.email_confirmed_at is None


async def test_api_sign_up_gets_a_token_that_answers_403_until_confirmed(
    make_app: MakeApp, session: AsyncSession, smtp: tuple[Inbox, int]
) -> None:
    inbox, port = smtp
    app = await make_app(**smtp_settings(port), require_email_confirmation=True)
    async with client_of(app) as client:
        oauth_app = await register_app(client)
        app_token = await client_token(client, oauth_app)
        r = await client.post(
            "/api/v1/accounts",
            data={
                "username": "newbie",
                "email": "newbie@example.com",
                "password": PASSWORD,
                "agreement": "true",
            },
            headers=auth(app_token),
        )
        assert r.status_code == 200
        token = r.json()["access_token"]
        r = await client.get("/api/v1/accounts/verify_credentials", headers=auth(token))
        assert r.status_code == 403 and r.json() == UNCONFIRMED
        r = await client.get("/api/v1/timelines/home", headers=auth(token))
        assert r.status_code == 403 and r.json() == UNCONFIRMED
        # The password grant issues a token (as Mastodon), which answers the same.
        other = await password_token(client, oauth_app, "newbie")
        r = await client.get("/api/v1/accounts/verify_credentials", headers=auth(other))
        assert r.status_code == 403
        r = await client.get("/api/v1/emails/check_confirmation", headers=auth(token))
        assert r.status_code == 200 and r.json() is False

        # Resent, to a corrected address.
        r = await client.post(
            "/api/v1/emails/confirmations",
            data={"email": "fixed@example.com"},
            headers=auth(token),
        )
        assert r.status_code == 200 and r.json() == {}
        bad = await client.post(
            "/api/v1/emails/confirmations", data={"email": "not an address"}, headers=auth(token)
        )
        assert bad.status_code == 422
        await run_jobs(app)
        assert inbox.to("newbie@example.com") and inbox.to("fixed@example.com")
        assert (await client.get(inbox.link("fixed@example.com"))).status_code == 303

        r = await client.get("/api/v1/accounts/verify_credentials", headers=auth(token))
        assert r.status_code == 200 and r.json()["username"] == "newbie"
        r = await client.get("/api/v1/emails/check_confirmation", headers=auth(token))
        assert r.json() is True
        r = await client.post("/api/v1/emails/confirmations", headers=auth(token))
        assert r.status_code == 403
        assert r.json() == {
            "error": "This method is only available while the e-mail is awaiting confirmation"
        }
    user = await users_service.get_by_username(session, "newbie")
    assert user is not None and user.email == "fixed@example.com"


async def test_without_the_setting_sign_ups_are_confirmed_at_once(
    make_app: MakeApp, session: AsyncSession, smtp: tuple[Inbox, int]
) -> None:
    inbox, port = smtp
    app = await make_app(**smtp_settings(port))
    async with client_of(app) as browser:
        r = await signup(browser, "newbie")
        assert r.status_code == 303
        await run_jobs(app)
    assert inbox.messages == []
    user = await users_service.get_by_username(session, "newbie")
    assert user is not None and user.email_confirmed_at is not None
