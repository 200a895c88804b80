"""Forgotten password: a mailed link, once, within an hour, logging out everything else."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from chirp.auth.models import AccountToken
from chirp.db import utcnow
from tests.accounts.helpers import Inbox, run_jobs, smtp_settings
from tests.conftest import MakeApp, client_of
from tests.factories import PASSWORD, auth, make_token, make_user
from tests.web.helpers import csrf, login

NEW_PASSWORD = "a brand new passphrase"


async def _ask_reset(browser: httpx.AsyncClient, email: str) -> httpx.Response:
    token = await csrf(browser, "/forgot-password")
    return await browser.post("/forgot-password", data={"email": email, "csrf_token": token})


async def test_reset_link_arrives_works_once_and_logs_out_everywhere(
    make_app: MakeApp, session: AsyncSession, smtp: tuple[Inbox, int]
) -> None:
    inbox, port = smtp
    ann = await make_user(session, "ann")
    await make_user(session, "bob")
    api_token = await make_token(session, ann)
    app = await make_app(**smtp_settings(port))
    async with client_of(app) as other_browser, client_of(app) as browser:
        await login(other_browser, "ann")
        assert (await other_browser.get("/settings")).status_code == 200

        login_page = await browser.get("/login")
        assert 'href="/forgot-password"' in login_page.text
        r = await _ask_reset(browser, "ANN@example.com")
        assert r.status_code == 200 and "If an account uses this address" in r.text
        unknown = await _ask_reset(browser, "nobody@example.com")
        # The same answer, whether an account has the address or not.
        assert unknown.status_code == 200 and "If an account uses this address" in unknown.text
        await run_jobs(app)
        assert len(inbox.messages) == 1
        mail = inbox.to("ann@example.com")[0]
        assert mail["Subject"] == "Reset your password on Chirp"
        assert mail["From"] == "chirp@testserver"
        link = inbox.link("ann@example.com")
        assert link.startswith("/reset-password/")

        form = await browser.get(link)
        assert form.status_code == 200 and 'name="password"' in form.text
        assert 'data-password-toggle aria-controls="reset-password" aria-pressed="false"' in (
            form.text
        )
        token = await csrf(browser, link)
        short = await browser.post(link, data={"password": "short", "csrf_token": token})
        assert short.status_code == 422 and "too short" in short.text
        done = await browser.post(link, data={"password": NEW_PASSWORD, "csrf_token": token})
        assert done.status_code == 303 and done.headers["location"] == "/login"

        # The other browser and the app are logged out; the old password fails, the new works.
        assert (await other_browser.get("/settings")).status_code == 303
        assert (
            await browser.get("/api/v1/accounts/verify_credentials", headers=auth(api_token))
        ).status_code == 401
        token = await csrf(browser)
        old = await browser.post(
            "/login", data={"login": "ann", "password": PASSWORD, "csrf_token": token}
        )
        assert old.status_code == 401
        await login(browser, "ann", NEW_PASSWORD)

        # Once only.
        again = await browser.get(link)
        assert again.status_code == 404 and "invalid or has expired" in again.text
        token = await csrf(browser, "/forgot-password")
        reuse = await browser.post(
            link, data={"password": "another one again", "csrf_token": token}
        )
        assert reuse.status_code == 404


async def test_an_expired_reset_link_is_refused(
    make_app: MakeApp, session: AsyncSession, smtp: tuple[Inbox, int]
) -> None:
    inbox, port = smtp
    await make_user(session, "ann")
    app = await make_app(**smtp_settings(port))
    async with client_of(app) as browser:
        await _ask_reset(browser, "ann@example.com")
        await run_jobs(app)
        link = inbox.link("ann@example.com")
        # An hour and a bit later.
        await session.execute(
            update(AccountToken).values(expires_at=utcnow() - timedelta(minutes=1))
        )
        await session.commit()
        assert (await browser.get(link)).status_code == 404
        token = await csrf(browser, "/forgot-password")
        r = await browser.post(link, data={"password": NEW_PASSWORD, "csrf_token": token})
        assert r.status_code == 404
    async with client_of(app) as browser:
        await login(browser, "ann")  # the password is unchanged


async def test_reset_requests_are_rate_limited_per_address(
    make_app: MakeApp, session: AsyncSession, smtp: tuple[Inbox, int]
) -> None:
    inbox, port = smtp
    await make_user(session, "ann")
    app = await make_app(**smtp_settings(port), rate_limit_account_mail="2/30 minutes")
    async with client_of(app, "10.0.0.1") as one, client_of(app, "10.0.0.2") as two:
        assert (await _ask_reset(one, "ann@example.com")).status_code == 200
        assert (await _ask_reset(two, "ann@example.com")).status_code == 200
        assert (await _ask_reset(two, "ann@example.com")).status_code == 429
        await run_jobs(app)
    assert len(inbox.to("ann@example.com")) == 2


async def test_without_smtp_the_mail_is_written_to_the_log(
    make_app: MakeApp,
    session: AsyncSession,
    caplog: pytest.LogCaptureFixture,
) -> None:
    await make_user(session, "ann")
    app = await make_app()
    async with client_of(app) as browser:
        with caplog.at_level("INFO", logger="chirp.mail"):
            await _ask_reset(browser, "ann@example.com")
            await run_jobs(app)
    logged = "\n".join(r.getMessage() for r in caplog.records if r.name == "chirp.mail")
    assert "Mail to ann@example.com: Reset your password on Chirp" in logged
    assert "http://testserver/reset-password/" in logged
