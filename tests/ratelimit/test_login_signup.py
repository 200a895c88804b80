"""Failed-login limits per account (however it is spelt), and sign-up limits that count only
accounts made, with a page that says when to try again."""

from __future__ import annotations

import re

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from chirp.users import service as users_service
from tests.api.helpers import client_token, register_app
from tests.conftest import MakeApp, client_of
from tests.factories import PASSWORD, auth, make_user
from tests.web.helpers import csrf, signup

SPELLINGS = ("target", "@TARGET", "Target@Example.com", "@target@example.com")


async def _web_login(client: httpx.AsyncClient, login: str, password: str) -> httpx.Response:
    token = await csrf(client, "/login")
    return await client.post(
        "/login", data={"login": login, "password": password, "csrf_token": token}
    )


async def _grant(client: httpx.AsyncClient) -> dict[str, str]:
    app = await register_app(client)
    return {
        "grant_type": "password",
        "client_id": app["client_id"],
        "client_secret": app["client_secret"],
        "scope": "read",
    }


async def _api_login(
    client: httpx.AsyncClient, grant: dict[str, str], login: str, password: str
) -> httpx.Response:
    return await client.post(
        "/oauth/token", data={**grant, "username": login, "password": password}
    )


async def test_every_spelling_of_an_account_shares_its_web_limit(
    make_app: MakeApp, session: AsyncSession
) -> None:
    await make_user(session, "target", email="target@example.com")
    app = await make_app(rate_limit_login_account=f"{len(SPELLINGS)}/15 minutes")
    async with client_of(app) as guesser:
        for login in SPELLINGS:  # one wrong password per spelling: the account's window is used
            assert (await _web_login(guesser, login, "guess")).status_code == 401
        for login in SPELLINGS:  # so no spelling gets in, not even with the right password
            r = await _web_login(guesser, login, PASSWORD)
            assert r.status_code == 429, login
            assert "Too many failed attempts" in r.text and "Try again in 15 minutes" in r.text
            assert 0 < int(r.headers["retry-after"]) <= 15 * 60
            assert "chirp_session" not in r.cookies
        grant = await _grant(guesser)
        r = await _api_login(guesser, grant, "@target", PASSWORD)  # nor through the API
        assert r.status_code == 429 and r.json()["error"] == "invalid_grant"
    async with client_of(app, "203.0.113.7") as owner:  # the window is the account's, not an IP's
        assert (await _web_login(owner, "target", PASSWORD)).status_code == 429


async def test_every_spelling_of_an_account_shares_its_api_limit(
    make_app: MakeApp, session: AsyncSession
) -> None:
    await make_user(session, "target", email="target@example.com")
    app = await make_app(rate_limit_login_account=f"{len(SPELLINGS)}/15 minutes")
    async with client_of(app) as guesser:
        grant = await _grant(guesser)
        for login in SPELLINGS:
            assert (await _api_login(guesser, grant, login, "guess")).status_code == 400
        for login in SPELLINGS:
            assert (await _api_login(guesser, grant, login, PASSWORD)).status_code == 429, login
        assert (await _web_login(guesser, "@target", PASSWORD)).status_code == 429


async def test_a_locked_name_does_not_log_in_as_at_name(
    make_app: MakeApp, session: AsyncSession
) -> None:
    await make_user(session, "target")
    await make_user(session, "bystander")
    async with client_of(await make_app()) as guesser:  # the default: 10 failures a quarter hour
        for _ in range(10):
            assert (await _web_login(guesser, "target", "guess")).status_code == 401
        assert (await _web_login(guesser, "@target", PASSWORD)).status_code == 429
        grant = await _grant(guesser)
        assert (await _api_login(guesser, grant, "@target", PASSWORD)).status_code == 429
        # Other accounts are not locked with it.
        assert (await _web_login(guesser, "bystander", PASSWORD)).status_code == 303


async def test_unknown_logins_are_limited_by_their_normal_form(
    make_app: MakeApp, session: AsyncSession
) -> None:
    app = await make_app(rate_limit_login_account="3/15 minutes")
    async with client_of(app) as prober:
        for login in ("ghost", "@GHOST", " Ghost "):
            assert (await _web_login(prober, login, "guess")).status_code == 401
        r = await _web_login(prober, "@ghost", "guess")
        assert r.status_code == 429 and "Too many failed attempts" in r.text
        # An account registered under that name later has a window of its own.
        await make_user(session, "ghost")
        assert (await _web_login(prober, "ghost", PASSWORD)).status_code == 303


async def test_failed_sign_ups_do_not_use_up_the_limit_but_accounts_do(
    make_app: MakeApp, session: AsyncSession
) -> None:
    await make_user(session, "taken")
    async with client_of(await make_app()) as person:  # the default: 5 accounts per half hour
        for username, bad in (("newbie", {"password": "short"}), ("newbie", {"email": "nope"})):
            assert (await signup(person, username, **bad)).status_code == 422
        assert (await signup(person, "bad name", email="n@example.com")).status_code == 422
        for _ in range(3):
            assert (await signup(person, "taken", email="t@example.com")).status_code == 422
        codes = []
        for i in range(6):
            codes.append((await signup(person, f"user{i}")).status_code)
            person.cookies.delete("chirp_session")
        assert codes == [303] * 5 + [429]
    assert await users_service.count_users(session) == 1 + 5


async def test_api_failed_registrations_do_not_use_up_the_limit(
    make_app: MakeApp, session: AsyncSession
) -> None:
    async with client_of(await make_app()) as client:
        app_token = await client_token(client, await register_app(client))

        async def register(username: str, password: str = PASSWORD) -> int:
            data = {
                "username": username,
                "email": f"{username}@example.com",
                "password": password,
                "agreement": "true",
                "locale": "en",
            }
            r = await client.post("/api/v1/accounts", data=data, headers=auth(app_token))
            return r.status_code

        assert [await register(f"typo{i}", "short") for i in range(6)] == [422] * 6
        assert [await register(f"user{i}") for i in range(6)] == [200] * 5 + [429]
    assert await users_service.count_users(session) == 5


async def test_every_sign_up_attempt_counts_towards_a_higher_ceiling(make_app: MakeApp) -> None:
    app = await make_app(rate_limit_signup_attempts="4/5 minutes")
    async with client_of(app) as hammering:
        codes = [(await signup(hammering, "x", password="short")).status_code for _ in range(5)]
    assert codes == [422] * 4 + [429]
    # Counted per address: someone else signing up meanwhile is not refused.
    async with client_of(app, ip="192.0.2.7") as neighbour:
        assert (await signup(neighbour, "neighbour")).status_code == 303


async def test_the_limit_page_says_when_and_keeps_what_was_typed(
    make_app: MakeApp, session: AsyncSession
) -> None:
    app = await make_app(rate_limit_signup="1/30 minutes")
    async with client_of(app) as person:
        assert (await signup(person, "first")).status_code == 303
        person.cookies.delete("chirp_session")
        r = await signup(person, "second", email="second@example.com", display_name="Second Person")
    assert r.status_code == 429
    assert 29 * 60 < int(r.headers["retry-after"]) <= 30 * 60
    text = re.sub(r"\s+", " ", r.text)
    assert "You can sign up again in 30 minutes, at" in text
    when = re.search(r'<time datetime="([^"]+)">(\d\d:\d\d) UTC</time>', text)
    assert when and when.group(1)[11:16] == when.group(2)
    for typed in ('value="second"', 'value="second@example.com"', 'value="Second Person"'):
        assert typed in text
    assert PASSWORD not in text
    assert await users_service.get_by_username(session, "second") is None
