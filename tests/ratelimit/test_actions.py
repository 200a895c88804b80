"""Stricter limits on sign-up, login and posting; normal use never hits them."""

from __future__ import annotations

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from chirp.media.models import MediaAttachment
from chirp.pagination import Cursor
from chirp.posts import service as posts_service
from tests.api.helpers import password_grant, register_app
from tests.conftest import MakeApp, client_of
from tests.factories import PASSWORD, auth, make_token, make_user
from tests.media import images
from tests.web.helpers import csrf, htmx, login, signup


async def test_thirty_posts_in_a_minute_pass(make_app: MakeApp, session: AsyncSession) -> None:
    token = await make_token(session, await make_user(session, "chatty"))
    async with client_of(await make_app()) as limited:  # the test settings are the defaults
        for i in range(30):
            r = await limited.post(
                "/api/v1/statuses", data={"status": f"post {i}"}, headers=auth(token)
            )
            assert r.status_code == 200, r.text
        assert int(r.headers["x-ratelimit-remaining"]) > 200


async def test_posting_limit_per_account(make_app: MakeApp, session: AsyncSession) -> None:
    token = await make_token(session, await make_user(session, "spammer"))
    async with client_of(await make_app(rate_limit_posts="3/hour")) as client:
        codes = [
            (
                await client.post("/api/v1/statuses", data={"status": f"s{i}"}, headers=auth(token))
            ).status_code
            for i in range(4)
        ]
        assert codes == [200, 200, 200, 429]
        r = await client.post("/api/v1/statuses", data={"status": "again"}, headers=auth(token))
        assert (
            r.json() == {"error": "Too many requests"} and r.headers["x-ratelimit-remaining"] == "0"
        )
        assert 0 < int(r.headers["retry-after"]) <= 3600  # seconds until the window renews
        # Reading is still fine: only posting is used up.
        assert (await client.get("/api/v1/timelines/home", headers=auth(token))).status_code == 200
        # And only this account's posting: another one posts as before.
        other = await make_token(session, await make_user(session, "quiet"))
        r = await client.post("/api/v1/statuses", data={"status": "hello"}, headers=auth(other))
        assert r.status_code == 200 and r.headers["x-ratelimit-remaining"] == "2"


async def _web_post(client: httpx.AsyncClient, text: str) -> httpx.Response:
    token = await csrf(client, "/")
    return await client.post("/posts", data={"text": text, "csrf_token": token})


async def test_posting_limit_holds_for_the_web_composer_too(
    make_app: MakeApp, session: AsyncSession
) -> None:
    spammer = await make_user(session, "spammer")
    token = await make_token(session, spammer)
    app = await make_app(rate_limit_posts="2/hour")
    async with client_of(app) as browser:
        await login(browser, "spammer")
        codes = [(await _web_post(browser, f"web {i}")).status_code for i in range(3)]
        assert codes == [303, 303, 429]
        # One count per account, whichever face the posts come through.
        r = await browser.post("/api/v1/statuses", data={"status": "api"}, headers=auth(token))
        assert r.status_code == 429
    posts = await posts_service.by_author(
        session, author_id=spammer.id, cursor=Cursor(limit=40), viewer=spammer
    )
    assert sorted(p.text for p in posts) == ["web 0", "web 1"]


async def test_signup_limit_per_ip(make_app: MakeApp) -> None:
    codes = []
    async with client_of(await make_app()) as limited:
        for i in range(6):
            r = await signup(limited, f"u{i}")
            codes.append(r.status_code)
            limited.cookies.delete("chirp_session")
    assert codes == [303] * 5 + [429]


async def test_login_attempts_are_limited_per_address(
    make_app: MakeApp, session: AsyncSession
) -> None:
    await make_user(session, "owner")
    app = await make_app(rate_limit_login_ip="3/minute")
    async with client_of(app, "198.51.100.9") as guesser:
        oauth_app = await register_app(guesser)
        # Three tries at three different accounts, through both login doors: no account has
        # failed often enough to be locked, the address has used up its window.
        r = await password_grant(guesser, oauth_app, "a", password="x")
        assert r.status_code == 400
        for name in ("b", "c"):
            token = await csrf(guesser, "/login")
            r = await guesser.post(
                "/login", data={"login": name, "password": "x", "csrf_token": token}
            )
            assert r.status_code == 401
        token = await csrf(guesser, "/login")
        r = await guesser.post(
            "/login", data={"login": "owner", "password": PASSWORD, "csrf_token": token}
        )
        assert r.status_code == 429
        r = await password_grant(guesser, oauth_app, "owner")
        assert r.status_code == 429 and r.json() == {"error": "Too many requests"}
    async with client_of(app, "198.51.100.10") as owner:  # the owner, from their own address
        await login(owner, "owner")


async def test_failed_logins_lock_the_account_for_a_while(
    make_app: MakeApp, session: AsyncSession
) -> None:
    await make_user(session, "target")
    async with client_of(await make_app()) as limited:
        app = await register_app(limited)
        for _ in range(10):
            r = await password_grant(limited, app, "target", password="guess")
            assert r.status_code == 400
        # Even the right password is refused until the window ends: guessing has stopped.
        r = await password_grant(limited, app, "target")
        assert r.status_code == 429
        token = await csrf(limited, "/login")
        r = await limited.post(
            "/login", data={"login": "target", "password": PASSWORD, "csrf_token": token}
        )
        assert r.status_code == 429 and "Try again in" in r.text


async def test_image_uploads_are_limited_per_account_through_both_faces(
    make_app: MakeApp, session: AsyncSession
) -> None:
    uploader = await make_user(session, "uploader")
    token = await make_token(session, uploader)
    bystander = await make_token(session, await make_user(session, "bystander"))
    app = await make_app(rate_limit_media="3/hour")

    async def api_upload(who: str) -> httpx.Response:
        files = {"file": ("a.png", images.png(), "image/png")}
        return await client.post("/api/v2/media", files=files, headers=auth(who))

    async with client_of(app) as client:
        assert [(await api_upload(token)).status_code for _ in range(2)] == [200, 200]
        # The third upload comes through the web composer: one count per account.
        await login(client, "uploader")
        form = await csrf(client, "/")
        files = {"file": ("b.png", images.png(), "image/png")}
        r = await client.post("/media", headers=htmx(form), files=files)
        assert r.status_code == 200
        r = await client.post("/media", headers=htmx(form), files=files)
        # Said where the composer shows a refused upload, not as a page.
        assert r.status_code == 429 and "data-error-message" in r.text
        assert "Try again in a few minutes" in r.text and "retry-after" in r.headers
        refused = await api_upload(token)
        assert refused.status_code == 429 and refused.json() == {"error": "Too many requests"}
        # Another account uploads as before.
        assert (await api_upload(bystander)).status_code == 200
    stored = await session.scalar(
        select(func.count())
        .select_from(MediaAttachment)
        .where(MediaAttachment.account_id == uploader.id)
    )
    assert stored == 3
