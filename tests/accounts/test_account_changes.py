"""Changing the password and the email address from the Account settings."""

from __future__ import annotations

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from tests.accounts.helpers import Inbox, run_jobs, smtp_settings
from tests.conftest import MakeApp, client_of
from tests.factories import PASSWORD, auth, make_token, make_user, reload
from tests.web.helpers import csrf, login

NEW_PASSWORD = "another good passphrase"


async def _post(browser: httpx.AsyncClient, path: str, **data: str) -> httpx.Response:
    token = await csrf(browser, "/settings/account")
    return await browser.post(path, data={**data, "csrf_token": token})


async def test_changing_the_password_logs_out_the_other_sessions_and_apps_only(
    make_app: MakeApp, session: AsyncSession
) -> None:
    ann = await make_user(session, "ann")
    bob = await make_user(session, "bob")
    ann_app = await make_token(session, ann)
    bob_app = await make_token(session, bob)
    app = await make_app()
    async with client_of(app) as here, client_of(app) as there, client_of(app) as bobs:
        await login(here, "ann")
        await login(there, "ann")
        await login(bobs, "bob")
        page = await here.get("/settings/account")
        assert page.status_code == 200
        assert 'href="/settings/account" aria-current="page"' in page.text
        assert page.text.count("data-password-toggle") == 3

        wrong = await _post(
            here, "/settings/password", current_password="nope nope", new_password=NEW_PASSWORD
        )
        assert wrong.status_code == 422 and "Current password is incorrect" in wrong.text
        short = await _post(
            here, "/settings/password", current_password=PASSWORD, new_password="short"
        )
        assert short.status_code == 422 and "too short" in short.text
        # Nothing changed by the refusals.
        assert (await there.get("/settings")).status_code == 200

        done = await _post(
            here, "/settings/password", current_password=PASSWORD, new_password=NEW_PASSWORD
        )
        assert done.status_code == 303
        assert (await here.get("/settings")).status_code == 200  # this session stays
        assert (await there.get("/settings")).status_code == 303  # the other one is gone
        me = await here.get("/api/v1/accounts/verify_credentials", headers=auth(ann_app))
        assert me.status_code == 401
        # Someone else's sessions and apps are untouched.
        assert (await bobs.get("/settings")).status_code == 200
        bob_me = await bobs.get("/api/v1/accounts/verify_credentials", headers=auth(bob_app))
        assert bob_me.status_code == 200
    async with client_of(app) as browser:
        await login(browser, "ann", NEW_PASSWORD)


async def test_changing_the_email_needs_the_password_and_refuses_a_taken_one(
    make_app: MakeApp, session: AsyncSession, smtp: tuple[Inbox, int]
) -> None:
    _, port = smtp
    ann = await make_user(session, "ann")
    await make_user(session, "bob")
    app = await make_app(**smtp_settings(port))
    async with client_of(app) as browser:
        await login(browser, "ann")
        wrong = await _post(
            browser, "/settings/email", email="new@example.com", current_password="bad one!"
        )
        assert wrong.status_code == 422 and "Current password is incorrect" in wrong.text
        taken = await _post(
            browser, "/settings/email", email="BOB@example.com", current_password=PASSWORD
        )
        assert taken.status_code == 422 and "already been taken" in taken.text
        done = await _post(
            browser, "/settings/email", email="new@example.com", current_password=PASSWORD
        )
        assert done.status_code == 303
    ann = await reload(session, ann)
    assert ann.email == "new@example.com" and ann.email_confirmed_at is not None


async def test_with_confirmation_required_the_new_address_waits_for_its_link(
    make_app: MakeApp, session: AsyncSession, smtp: tuple[Inbox, int]
) -> None:
    inbox, port = smtp
    ann = await make_user(session, "ann")
    app = await make_app(**smtp_settings(port), require_email_confirmation=True)
    async with client_of(app) as browser:
        await login(browser, "ann")
        done = await _post(
            browser, "/settings/email", email="new@example.com", current_password=PASSWORD
        )
        assert done.status_code == 303
        page = await browser.get("/settings/account")
        assert "Waiting for confirmation" in page.text and "new@example.com" in page.text
        ann = await reload(session, ann)
        # As Mastodon: the old address stays until the new one is confirmed.
        assert ann.email == "ann@example.com" and ann.unconfirmed_email == "new@example.com"
        await run_jobs(app)
        assert inbox.to("ann@example.com") == []
        r = await browser.get(inbox.link("new@example.com"))
        assert r.status_code == 303 and r.headers["location"] == "/settings/account"
    ann = await reload(session, ann)
    assert ann.email == "new@example.com" and ann.unconfirmed_email is None
    async with client_of(app) as browser:
        await login(browser, "new@example.com")
