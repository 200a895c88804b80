"""OAuth as Mastodon serves it: RFC 8414 metadata, RFC 7009 revocation, RFC 6749 redirect rule."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from chirp.oauth import scopes as scope_rules
from chirp.oauth.models import OAuthApp, OAuthToken
from chirp.oauth.service import MAX_SCOPES_LENGTH, MAX_WEBSITE_LENGTH
from chirp.posts.models import Post
from tests.api.helpers import (
    client_credentials,
    client_token,
    password_grant,
    password_token,
    register_app,
)
from tests.conftest import MakeApp, client_of
from tests.factories import PASSWORD, auth, make_user
from tests.web.helpers import login

REDIRECT = "https://client.example/callback"


async def _count(session: AsyncSession, model: type[OAuthToken] | type[OAuthApp]) -> int:
    return int((await session.execute(select(func.count()).select_from(model))).scalar_one())


async def test_authorization_server_metadata_names_this_servers_real_endpoints(
    make_app: MakeApp,
) -> None:
    app: FastAPI = await make_app(domain="social.example", https=True)
    async with client_of(app) as c:
        r = await c.get("/.well-known/oauth-authorization-server")
        assert r.status_code == 200 and r.headers["content-type"] == "application/json"
        meta = r.json()
        assert meta["issuer"] == "https://social.example/"
        endpoints = {
            "authorization_endpoint": "/oauth/authorize",
            "token_endpoint": "/oauth/token",
            "revocation_endpoint": "/oauth/revoke",
            "app_registration_endpoint": "/api/v1/apps",
        }
        for field, path in endpoints.items():
            assert meta[field] == f"https://social.example{path}", field
        assert meta["response_types_supported"] == ["code"]
        assert meta["response_modes_supported"] == ["query"]
        assert set(meta["grant_types_supported"]) == {
            "authorization_code",
            "password",
            "client_credentials",
        }
        assert meta["code_challenge_methods_supported"] == ["S256"]
        assert set(meta["token_endpoint_auth_methods_supported"]) == {
            "client_secret_basic",
            "client_secret_post",
        }
        assert {"read", "write", "follow", "push", "profile", "write:statuses"} <= set(
            meta["scopes_supported"]
        )
        # Each advertised endpoint is served here (the paths answer, not 404).
        assert (await c.get("/oauth/authorize")).status_code != 404
        assert (await c.post("/oauth/token")).status_code in (400, 401)
        assert (await c.post("/oauth/revoke")).status_code in (400, 401)
        # Every scope advertised is one an app may register with (ten at a time).
        scopes = meta["scopes_supported"]
        for start in range(0, len(scopes), 10):
            registered = await c.post(
                "/api/v1/apps",
                data={
                    "client_name": "scopes",
                    "redirect_uris": REDIRECT,
                    "scopes": " ".join(scopes[start : start + 10]),
                },
            )
            assert registered.status_code == 200, registered.text
        # All of them spelled out is more than an app's scopes hold: refused, not a 500.
        r = await c.post(
            "/api/v1/apps",
            data={"client_name": "all", "redirect_uris": REDIRECT, "scopes": " ".join(scopes)},
        )
        assert r.status_code == 422 and "scopes" in r.json()["details"]


async def test_revoking_another_clients_token_is_403_and_leaves_it_valid(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    await make_user(session, "alice")
    await make_user(session, "bob")
    mine, other = await register_app(client), await register_app(client)
    token = await password_token(client, other, "alice")
    bobs = await password_token(client, other, "bob")
    r = await client.post(
        "/oauth/revoke",
        data={
            "client_id": mine["client_id"],
            "client_secret": mine["client_secret"],
            "token": token,
        },
    )
    assert r.status_code == 403
    assert r.json() == {
        "error": "unauthorized_client",
        "error_description": "You are not authorized to revoke this token",
    }
    me = await client.get("/api/v1/accounts/verify_credentials", headers=auth(token))
    assert me.status_code == 200  # still valid
    # An unknown token is no error (RFC 7009 2.2) and its owner revokes its own.
    own = {"client_id": other["client_id"], "client_secret": other["client_secret"]}
    unknown = await client.post("/oauth/revoke", data={**own, "token": "never-issued"})
    assert unknown.status_code == 200 and unknown.json() == {}
    done = await client.post("/oauth/revoke", data={**own, "token": token})
    assert done.status_code == 200 and done.json() == {}
    me = await client.get("/api/v1/accounts/verify_credentials", headers=auth(token))
    assert me.status_code == 401
    # That token alone: the same app's token for another user still works.
    bob = await client.get("/api/v1/accounts/verify_credentials", headers=auth(bobs))
    assert bob.status_code == 200 and bob.json()["username"] == "bob"
    # A token already revoked is still another client's: refused the same way.
    theirs = {"client_id": mine["client_id"], "client_secret": mine["client_secret"]}
    again = await client.post("/oauth/revoke", data={**theirs, "token": token})
    assert again.status_code == 403


async def _code(client: httpx.AsyncClient, app: dict[str, str], scope: str = "read") -> str:
    query = (
        f"client_id={app['client_id']}&redirect_uri={REDIRECT}&response_type=code"
        f"&scope={scope.replace(' ', '+')}"
    )
    page = await client.get(f"/oauth/authorize?{query}")
    assert page.status_code == 200, page.text
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', page.text))
    r = await client.post("/oauth/authorize", data={**fields, "decision": "approve"})
    assert r.status_code == 303
    return parse_qs(urlsplit(r.headers["location"]).query)["code"][0]


async def test_a_code_is_exchanged_only_with_the_redirect_uri_it_was_issued_for(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    await make_user(session, "alice")
    other_uri = "https://client.example/other"
    r = await client.post(
        "/api/v1/apps",
        data={"client_name": "Client", "redirect_uris": f"{REDIRECT}\n{other_uri}"},
    )
    app = r.json()
    await login(client, "alice")
    code = await _code(client, app)
    base = {
        "grant_type": "authorization_code",
        "code": code,
        "client_id": app["client_id"],
        "client_secret": app["client_secret"],
    }
    tokens = await _count(session, OAuthToken)
    missing = await client.post("/oauth/token", data=base)
    # RFC 6749 5.2: a missing parameter is invalid_request (Doorkeeper answers so for Mastodon).
    assert missing.status_code == 400 and missing.json()["error"] == "invalid_request"
    assert missing.json()["error_description"] == "Missing required parameter: redirect_uri."
    for uri in ("", other_uri, REDIRECT + "/", "urn:ietf:wg:oauth:2.0:oob"):
        r = await client.post("/oauth/token", data={**base, "redirect_uri": uri})
        assert r.status_code == 400 and "access_token" not in r.json(), uri
        expected = "invalid_request" if uri == "" else "invalid_grant"
        assert r.json()["error"] == expected, uri
    assert await _count(session, OAuthToken) == tokens  # nothing issued
    ok = await client.post("/oauth/token", data={**base, "redirect_uri": REDIRECT})
    assert ok.status_code == 200 and ok.json()["scope"] == "read"


async def test_app_website_must_be_an_http_url(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    apps = await _count(session, OAuthApp)
    too_long = "https://client.example/" + "a" * 500
    # "http://[::1": an unclosed IPv6 bracket, which the URL parser itself refuses.
    bad = (
        "not a url",
        "javascript:alert(1)",
        "ftp://files.example",
        "https://",
        "//x",
        "http://[::1",
        too_long,
    )
    for website in bad:
        r = await client.post(
            "/api/v1/apps",
            data={"client_name": "x", "redirect_uris": REDIRECT, "website": website},
        )
        assert r.status_code == 422, website
        assert "website" in r.json()["details"] and "Website" in r.json()["error"], website
    assert await _count(session, OAuthApp) == apps
    for website in ("https://client.example", "http://127.0.0.1:3000/app", ""):
        r = await client.post(
            "/api/v1/apps",
            data={"client_name": "x", "redirect_uris": REDIRECT, "website": website},
        )
        assert r.status_code == 200, (website, r.text)
        assert r.json()["website"] == (website or None)


async def test_an_app_token_on_a_user_endpoint_is_422_and_changes_nothing(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    app = await register_app(client)
    token = await client_token(client, app)
    posts = int((await session.execute(select(func.count()).select_from(Post))).scalar_one())
    calls = [
        client.get("/api/v1/accounts/verify_credentials", headers=auth(token)),
        client.get("/api/v1/timelines/home", headers=auth(token)),
        client.post("/api/v1/statuses", data={"status": "hi"}, headers=auth(token)),
        client.get("/api/v1/accounts/relationships?id[]=1", headers=auth(token)),
    ]
    for call in calls:
        r = await call
        assert r.status_code == 422, r.text
        assert r.json() == {"error": "This method requires an authenticated user"}
    after = int((await session.execute(select(func.count()).select_from(Post))).scalar_one())
    assert after == posts
    # The app token still does what an app may: verify itself.
    assert (
        await client.get("/api/v1/apps/verify_credentials", headers=auth(token))
    ).status_code == 200


_ADMIN_PARTS = ("accounts", "domain_allows", "domain_blocks", "email_domain_blocks", "ip_blocks")
_READ_PARTS = [
    "blocks",
    "bookmarks",
    "favourites",
    "filters",
    "follows",
    "lists",
    "mutes",
    "notifications",
    "search",
    "statuses",
]
_WRITE_PARTS = [
    "accounts",
    "blocks",
    "bookmarks",
    "follows",
    "lists",
    "media",
    "notifications",
    "reports",
]


async def test_a_token_asking_for_every_sub_scope_is_refused_not_a_server_error(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    app = await register_app(client, scopes="read write admin:read admin:write")
    tokens = await _count(session, OAuthToken)
    every_part = " ".join(sorted(scope_rules.READ | scope_rules.WRITE | scope_rules.ADMIN))
    r = await client_credentials(client, app, every_part)
    assert r.status_code == 400 and r.json() == {
        "error": "invalid_scope",
        "error_description": "The requested scope is invalid, unknown, or malformed.",
    }
    assert await _count(session, OAuthToken) == tokens
    # Up to 500 characters of scopes are fine: these 28 make exactly 500.
    most = " ".join(
        [f"admin:{op}:{what}" for op in ("read", "write") for what in _ADMIN_PARTS]
        + [f"read:{what}" for what in _READ_PARTS]
        + [f"write:{what}" for what in _WRITE_PARTS]
    )
    assert len(most) == 500
    r = await client_credentials(client, app, most)
    assert r.status_code == 200 and r.json()["scope"] == most


async def test_scopes_split_on_plus_and_a_parent_grants_its_own_children_only(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    # Scopes in a JSON body may be joined by "+", as in a form-encoded query string.
    r = await client.post(
        "/api/v1/apps",
        json={
            "client_name": "plus",
            "redirect_uris": "urn:ietf:wg:oauth:2.0:oob",
            "scopes": "read+write admin:read",
        },
    )
    assert r.status_code == 200, r.text
    app = r.json()
    assert app["scopes"] == ["read", "write", "admin:read"]

    async def token_for(scope: str) -> httpx.Response:
        return await client_credentials(client, app, scope)

    # admin:read covers admin:read:accounts (its parent is admin:read, not admin).
    ok = await token_for("admin:read:accounts write:statuses")
    assert ok.status_code == 200 and ok.json()["scope"] == "admin:read:accounts write:statuses"
    tokens = await _count(session, OAuthToken)
    refused = await token_for("admin:write:accounts")
    assert refused.status_code == 400 and refused.json()["error"] == "invalid_scope"
    assert await _count(session, OAuthToken) == tokens


async def test_the_password_grant_gives_the_scopes_asked_and_refuses_in_doorkeepers_words(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    await make_user(session, "alice")
    app = await register_app(client)
    r = await password_grant(client, app, "alice", scope="write:statuses follow")
    assert r.status_code == 200 and r.json()["scope"] == "write:statuses follow"
    tokens = await _count(session, OAuthToken)
    wrong = await password_grant(client, app, "alice", password="not " + PASSWORD)
    assert wrong.status_code == 400
    assert wrong.json() == {
        "error": "invalid_grant",
        "error_description": "The provided authorization grant is invalid, expired, revoked, "
        "does not match the redirection URI used in the authorization request, or was issued "
        "to another client.",
    }
    assert await _count(session, OAuthToken) == tokens


async def test_a_code_is_exchanged_only_by_its_own_app_for_the_scopes_approved(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    await make_user(session, "alice")
    apps = []
    for name in ("Mine", "Theirs"):
        r = await client.post(
            "/api/v1/apps",
            data={"client_name": name, "redirect_uris": REDIRECT, "scopes": "read write follow"},
        )
        apps.append(r.json())
    mine, theirs = apps
    await login(client, "alice")
    code = await _code(client, mine, "read write")

    def exchange(app: dict[str, str]) -> dict[str, str]:
        return {
            "grant_type": "authorization_code",
            "code": code,
            "client_id": app["client_id"],
            "client_secret": app["client_secret"],
            "redirect_uri": REDIRECT,
        }

    tokens = await _count(session, OAuthToken)
    stolen = await client.post("/oauth/token", data=exchange(theirs))
    assert stolen.status_code == 400 and stolen.json()["error"] == "invalid_grant"
    assert stolen.json()["error_description"].startswith("The provided authorization grant")
    assert await _count(session, OAuthToken) == tokens
    ok = await client.post("/oauth/token", data=exchange(mine))
    assert ok.status_code == 200 and ok.json()["scope"] == "read write"


async def test_a_wrong_client_secret_is_refused_in_doorkeepers_words(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    app = await register_app(client)
    tokens = await _count(session, OAuthToken)
    for credentials in (
        {"client_id": app["client_id"], "client_secret": "not-" + app["client_secret"]},
        {"client_id": app["client_id"]},
        {"client_id": "unknown", "client_secret": app["client_secret"]},
    ):
        r = await client.post(
            "/oauth/token", data={"grant_type": "client_credentials", **credentials}
        )
        assert r.status_code == 401, credentials
        assert r.json() == {
            "error": "invalid_client",
            "error_description": "Client authentication failed due to unknown client, no "
            "client authentication included, or unsupported authentication method.",
        }
    assert await _count(session, OAuthToken) == tokens


OOB = "urn:ietf:wg:oauth:2.0:oob"
NOT_ABSOLUTE = "Redirect URI must be an absolute URI"


LONG_SITE = "https://client.example/" + "a" * (MAX_WEBSITE_LENGTH - 22)  # one too many


@pytest.mark.parametrize(
    ("changed", "field", "code", "message"),
    [
        ({"client_name": "  "}, "client_name", "ERR_BLANK", "Name can't be blank"),
        ({"client_name": "n" * 101}, "client_name", "ERR_TOO_LONG", "Name is too long"),
        ({"redirect_uris": " "}, "redirect_uris", "ERR_BLANK", "Redirect URI can't be blank"),
        ({"redirect_uris": "not-a-uri"}, "redirect_uris", "ERR_INVALID", NOT_ABSOLUTE),
        ({"redirect_uris": f"{OOB}\nrelative/path"}, "redirect_uris", "ERR_INVALID", NOT_ABSOLUTE),
        (
            {"website": "ftp://files.example"},
            "website",
            "ERR_INVALID",
            "Website is invalid: it must be an http(s) URL",
        ),
        (
            {"website": LONG_SITE},
            "website",
            "ERR_TOO_LONG",
            "Website is too long (at most 500 characters)",
        ),
        (
            {"scopes": "read bogus write nope"},
            "scopes",
            "ERR_INVALID",
            "Scopes are not valid: bogus nope",
        ),
    ],
)
async def test_a_bad_app_is_refused_naming_the_field_as_mastodon_does(
    client: httpx.AsyncClient,
    session: AsyncSession,
    changed: dict[str, str],
    field: str,
    code: str,
    message: str,
) -> None:
    apps = await _count(session, OAuthApp)
    data = {"client_name": "x", "redirect_uris": OOB, **changed}
    r = await client.post("/api/v1/apps", data=data)
    assert r.status_code == 422
    label = field.replace("_", " ").capitalize() + " "
    assert r.json() == {
        "error": f"Validation failed: {message}",
        "details": {field: [{"error": code, "description": message.removeprefix(label)}]},
    }
    assert await _count(session, OAuthApp) == apps


async def test_an_apps_website_may_be_up_to_500_characters(client: httpx.AsyncClient) -> None:
    r = await client.post(
        "/api/v1/apps", data={"client_name": "x", "redirect_uris": OOB, "website": LONG_SITE[:-1]}
    )
    assert len(LONG_SITE) == MAX_WEBSITE_LENGTH + 1
    assert r.status_code == 200 and r.json()["website"] == LONG_SITE[:-1], r.text


def _scopes_of_length(length: int) -> str:
    """Known scopes, each once, that spell exactly ``length`` characters with their spaces."""
    # Subset sum over len(scope) + 1 (its space), for a total of length + 1.
    ways: dict[int, list[str]] = {0: []}
    for scope in sorted(scope_rules.ALL):
        for total, chosen in list(ways.items()):
            ways.setdefault(total + len(scope) + 1, [*chosen, scope])
    return " ".join(ways[length + 1])


async def test_an_apps_scopes_may_spell_up_to_500_characters(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    at_most = _scopes_of_length(MAX_SCOPES_LENGTH)
    r = await client.post(
        "/api/v1/apps", data={"client_name": "x", "redirect_uris": OOB, "scopes": at_most}
    )
    assert len(at_most) == 500 and r.status_code == 200, r.text
    apps = await _count(session, OAuthApp)
    over = _scopes_of_length(MAX_SCOPES_LENGTH + 1)
    r = await client.post(
        "/api/v1/apps", data={"client_name": "x", "redirect_uris": OOB, "scopes": over}
    )
    assert r.status_code == 422
    why = (
        "too long (at most 500 characters): "
        "ask for a parent scope such as read or write instead of all of its parts"
    )
    assert r.json() == {
        "error": f"Validation failed: Scopes are {why}",
        "details": {"scopes": [{"error": "ERR_TOO_LONG", "description": f"are {why}"}]},
    }
    assert await _count(session, OAuthApp) == apps


async def test_an_app_name_may_be_up_to_100_characters_as_in_mastodon(
    client: httpx.AsyncClient,
) -> None:
    for name, status in (("n" * 100, 200), ("n" * 101, 422)):
        r = await client.post("/api/v1/apps", data={"client_name": name, "redirect_uris": OOB})
        assert r.status_code == status, name
