"""OAuth: apps, the authorization-code flow through the approve page, PKCE, grants, revoke."""

from __future__ import annotations

import base64
import hashlib
import re
from urllib.parse import parse_qs, urlsplit

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from tests.api.helpers import password_token, register_app
from tests.factories import PASSWORD, auth, make_user
from tests.web.helpers import login

REDIRECT = "https://client.example/callback"


async def _app(client: httpx.AsyncClient, redirect: str = REDIRECT) -> dict[str, str]:
    r = await client.post(
        "/api/v1/apps",
        json={"client_name": "Client", "redirect_uris": [redirect], "scopes": "read write"},
    )
    assert r.status_code == 200
    app = r.json()
    assert app["redirect_uris"] == [redirect] and app["scopes"] == ["read", "write"]
    # Random credentials of 32 bytes, in base64url like Doorkeeper's: 43 characters.
    assert len(app["client_id"]) == len(app["client_secret"]) == 43
    return app  # type: ignore[no-any-return]


async def _approve(
    client: httpx.AsyncClient, query: str, decision: str = "approve"
) -> httpx.Response:
    page = await client.get(f"/oauth/authorize?{query}")
    assert page.status_code == 200, page.text
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', page.text))
    return await client.post("/oauth/authorize", data={**fields, "decision": decision})


async def test_authorization_code_flow(client: httpx.AsyncClient, session: AsyncSession) -> None:
    await make_user(session, "alice")
    app = await _app(client)
    query = (
        f"client_id={app['client_id']}&redirect_uri={REDIRECT}"
        "&response_type=code&scope=read&state=xyz"
    )
    r = await client.get(f"/oauth/authorize?{query}")
    assert r.status_code == 303 and r.headers["location"].startswith("/login?next=")
    await login(client, "alice")
    r = await _approve(client, query)
    assert r.status_code == 303
    target = urlsplit(r.headers["location"])
    params = parse_qs(target.query)
    assert target.netloc == "client.example" and params["state"] == ["xyz"]
    token_request = {
        "grant_type": "authorization_code",
        "code": params["code"][0],
        "redirect_uri": REDIRECT,
        "client_id": app["client_id"],
        "client_secret": app["client_secret"],
    }
    r = await client.post("/oauth/token", data=token_request)
    assert (
        r.status_code == 200 and r.json()["scope"] == "read" and r.json()["token_type"] == "Bearer"
    )
    token = r.json()["access_token"]
    me = await client.get("/api/v1/accounts/verify_credentials", headers=auth(token))
    assert me.json()["username"] == "alice"
    again = await client.post("/oauth/token", data=token_request)  # a code works once
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"
    # The token was granted only "read": writing is outside its scope.
    r = await client.post("/api/v1/statuses", data={"status": "x"}, headers=auth(token))
    assert r.status_code == 403


async def test_trailing_slash_oob_and_deny(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    await make_user(session, "alice")
    oob = "urn:ietf:wg:oauth:2.0:oob"
    app = await _app(client, oob)
    await login(client, "alice")
    query = f"client_id={app['client_id']}&redirect_uri={oob}&response_type=code"
    assert (await client.get(f"/oauth/authorize/?{query}")).status_code == 200
    r = await _approve(client, query)
    assert r.status_code == 200 and "Authorization code" in r.text
    code = re.search(r'class="code" readonly value="([^"]+)"', r.text).group(1)  # type: ignore[union-attr]
    basic = base64.b64encode(f"{app['client_id']}:{app['client_secret']}".encode()).decode()
    r = await client.post(
        "/oauth/token",
        data={"grant_type": "authorization_code", "code": code, "redirect_uri": oob},
        headers={"Authorization": f"Basic {basic}"},
    )
    assert r.status_code == 200
    app2 = await _app(client)
    denied = await _approve(
        client,
        f"client_id={app2['client_id']}&redirect_uri={REDIRECT}&response_type=code&state=s",
        decision="deny",
    )
    assert "error=access_denied" in denied.headers["location"]


async def test_pkce(client: httpx.AsyncClient, session: AsyncSession) -> None:
    await make_user(session, "alice")
    app = await _app(client)
    await login(client, "alice")
    verifier = "a-very-long-random-verifier-string-0123456789-abcdefghijkl"
    challenge = (
        base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    )
    query = (
        f"client_id={app['client_id']}&redirect_uri={REDIRECT}&response_type=code"
        f"&code_challenge={challenge}&code_challenge_method=S256"
    )
    r = await _approve(client, query)
    code = parse_qs(urlsplit(r.headers["location"]).query)["code"][0]
    base = {
        "grant_type": "authorization_code",
        "code": code,
        "client_id": app["client_id"],
        "client_secret": app["client_secret"],
        "redirect_uri": REDIRECT,
    }
    # A missing or wrong verifier is refused as RFC 7636 (4.6) and RFC 6749 (5.2) say.
    for attempt in ({}, {"code_verifier": ""}, {"code_verifier": "wrong"}):
        r = await client.post("/oauth/token", data={**base, **attempt})
        assert r.status_code == 400 and r.json()["error"] == "invalid_grant", attempt
        assert "access_token" not in r.json()
    # A failed attempt doesn't burn the code; the right verifier still works.
    assert (
        await client.post("/oauth/token", data={**base, "code_verifier": verifier})
    ).status_code == 200


async def test_bad_requests(client: httpx.AsyncClient, session: AsyncSession) -> None:
    await make_user(session, "alice")
    app = await _app(client)
    await login(client, "alice")
    r = await client.get(
        f"/oauth/authorize?client_id={app['client_id']}&redirect_uri=https://evil.example/"
    )
    # Doorkeeper's sentence, whole (not inside other words).
    said = re.search(r"(?<![\w])The redirect uri included is not valid\.(?![\w])", r.text)
    assert r.status_code == 422 and said, r.text
    r = await client.get(
        f"/oauth/authorize?client_id={app['client_id']}&redirect_uri={REDIRECT}&scope=admin:write"
    )
    assert r.status_code == 422
    r = await client.post(
        "/oauth/token",
        data={
            "grant_type": "password",
            "client_id": app["client_id"],
            "client_secret": "wrong",
            "username": "alice",
            "password": PASSWORD,
        },
    )
    assert r.status_code == 401 and r.json()["error"] == "invalid_client"
    r = await client.post(
        "/oauth/token",
        data={
            "grant_type": "password",
            "client_id": app["client_id"],
            "client_secret": app["client_secret"],
            "username": "alice",
            "password": "wrong",
        },
    )
    assert r.status_code == 400 and r.json()["error"] == "invalid_grant"
    r = await client.post(
        "/oauth/token",
        data={
            "grant_type": "magic",
            "client_id": app["client_id"],
            "client_secret": app["client_secret"],
        },
    )
    assert r.json()["error"] == "unsupported_grant_type"
    r = await client.post("/api/v1/apps", data={"client_name": "", "redirect_uris": REDIRECT})
    assert r.status_code == 422


async def test_revoke(client: httpx.AsyncClient, session: AsyncSession) -> None:
    await make_user(session, "alice")
    app = await register_app(client)
    token = await password_token(client, app, "alice")
    assert (
        await client.get("/api/v1/accounts/verify_credentials", headers=auth(token))
    ).status_code == 200
    r = await client.post(
        "/oauth/revoke",
        data={"client_id": app["client_id"], "client_secret": app["client_secret"], "token": token},
    )
    assert r.status_code == 200 and r.json() == {}
    assert (
        await client.get("/api/v1/accounts/verify_credentials", headers=auth(token))
    ).status_code == 401
