"""Sessions & apps: the browsers and apps logged in to an account, each revocable."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from chirp.auth.models import WebSession
from chirp.auth.tokens import digest
from chirp.oauth.models import OAuthToken
from tests.conftest import MakeApp, client_of
from tests.factories import auth, make_token, make_user
from tests.web.helpers import csrf, htmx, login

_REVOKE = re.compile(r'action="/settings/sessions/(\d+)/revoke"')


async def test_sessions_are_listed_and_one_revoked_is_logged_out(
    make_app: MakeApp, session: AsyncSession
) -> None:
    await make_user(session, "ann")
    await make_user(session, "bob")
    app = await make_app()
    async with (
        client_of(app, "10.0.0.1") as laptop,
        client_of(app, "10.0.0.2") as phone,
        client_of(app, "10.0.0.3") as tablet,
        client_of(app) as bobs,
    ):
        laptop.headers["user-agent"] = "Laptop Browser/1.0"
        phone.headers["user-agent"] = "Phone Browser/2.0"
        for browser in (laptop, phone, tablet):
            await login(browser, "ann")
        await login(bobs, "bob")
        page = await laptop.get("/settings/sessions")
        assert page.status_code == 200
        assert "Laptop Browser/1.0" in page.text and "Phone Browser/2.0" in page.text
        assert "10.0.0.2" in page.text
        assert page.text.count("This session") == 1
        # A Revoke button on the two others, none on this one.
        others = [int(i) for i in _REVOKE.findall(page.text)]
        assert len(others) == 2
        phone_id = (
            await session.execute(
                select(WebSession.id).where(WebSession.user_agent == "Phone Browser/2.0")
            )
        ).scalar_one()
        assert phone_id in others

        # With htmx, the row goes away in place; the phone's next request is logged out.
        token = await csrf(laptop, "/settings/sessions")
        r = await laptop.post(f"/settings/sessions/{phone_id}/revoke", headers=htmx(token))
        assert r.status_code == 200 and r.text == ""
        assert (await phone.get("/settings")).status_code == 303
        assert (await tablet.get("/settings")).status_code == 200

        # Nobody revokes someone else's session.
        bob_session = (
            await session.execute(
                select(WebSession.id).where(WebSession.ip == "127.0.0.1").limit(1)
            )
        ).scalar_one()
        r = await laptop.post(
            f"/settings/sessions/{bob_session}/revoke", data={"csrf_token": token}
        )
        assert r.status_code == 404
        assert (await bobs.get("/settings")).status_code == 200

        # Log out everywhere else (without JavaScript: a form and a redirect).
        r = await laptop.post("/settings/sessions/revoke-others", data={"csrf_token": token})
        assert r.status_code == 303
        assert (await tablet.get("/settings")).status_code == 303
        assert (await laptop.get("/settings")).status_code == 200
        assert (await bobs.get("/settings")).status_code == 200


async def test_last_seen_is_written_at_most_every_few_minutes(
    make_app: MakeApp, session: AsyncSession
) -> None:
    await make_user(session, "ann")
    app = await make_app()
    async with client_of(app) as browser:
        await login(browser, "ann")
        first = (await session.execute(select(WebSession.last_seen_at))).scalar_one()
        assert first is not None
        await browser.get("/settings")
        session.expire_all()
        again = (await session.execute(select(WebSession.last_seen_at))).scalar_one()
        assert again == first  # a request a moment later writes nothing
        await session.execute(update(WebSession).values(last_seen_at=first - timedelta(hours=1)))
        await session.commit()
        await browser.get("/settings")
        session.expire_all()
        later = (await session.execute(select(WebSession.last_seen_at))).scalar_one()
        assert later is not None and later > first


async def test_an_app_revoked_loses_its_tokens(make_app: MakeApp, session: AsyncSession) -> None:
    ann = await make_user(session, "ann")
    bob = await make_user(session, "bob")
    first = await make_token(session, ann, "read")
    second = await make_token(session, ann, "read write")
    bobs = await make_token(session, bob)
    app = await make_app()
    async with client_of(app) as browser:
        await browser.get("/api/v1/accounts/verify_credentials", headers=auth(first))
        await login(browser, "ann")
        page = await browser.get("/settings/sessions")
        ids = re.findall(r'action="/settings/apps/(\d+)/revoke"', page.text)
        assert len(ids) == 2 and "test app" in page.text and "last used" in page.text
        second_app = (
            await session.execute(
                select(OAuthToken.app_id).where(OAuthToken.token_hash == digest(second))
            )
        ).scalar_one()
        assert str(second_app) in ids
        token = await csrf(browser, "/settings/sessions")
        r = await browser.post(f"/settings/apps/{second_app}/revoke", data={"csrf_token": token})
        assert r.status_code == 303
        results = [
            (await browser.get("/api/v1/accounts/verify_credentials", headers=auth(t))).status_code
            for t in (first, second, bobs)
        ]
        assert results == [200, 401, 200]
        again = await browser.post(
            f"/settings/apps/{second_app}/revoke", data={"csrf_token": token}
        )
        assert again.status_code == 404
