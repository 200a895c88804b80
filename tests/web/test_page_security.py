"""Pages load nothing from another host, run nothing inline, and carry the security headers."""

from __future__ import annotations

import re
from urllib.parse import urlencode, urljoin

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from chirp.media import service as media_service
from chirp.posts import service as posts_service
from chirp.web.headers import CONTENT_SECURITY_POLICY
from tests.conftest import MakeApp, client_of
from tests.factories import make_post, make_token, make_user
from tests.media.images import jpeg
from tests.web.helpers import csrf, htmx, login
from tests.web.own_origin import CSS_URL, foreign, page_refs

BASE = "http://testserver"
_MORE = re.compile(r'hx-get="(/[^"]*max_id=\d+)"')


def _directives(policy: str) -> dict[str, str]:
    return dict([*part.strip().split(" ", 1), ""][:2] for part in policy.split(";") if part.strip())


def assert_strict_policy(policy: str, *, form_action: bool = True) -> None:
    """A policy that allows only this origin and nothing inline."""
    directives = _directives(policy)
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy and "*" not in policy
    assert directives["default-src"] == "'self'"
    assert directives["script-src"] == "'self'" and directives["style-src"] == "'self'"
    assert directives["img-src"] == "'self' data:"
    assert directives["frame-ancestors"] == "'none'"
    assert directives["base-uri"] == "'self'"
    assert directives.get("form-action") == ("'self'" if form_action else None)


async def _oauth_client_id(client: httpx.AsyncClient) -> str:
    r = await client.post(
        "/api/v1/apps",
        json={"client_name": "Pinafore", "redirect_uris": "https://app.example/cb"},
    )
    assert r.status_code == 200, r.text
    return str(r.json()["client_id"])


async def _pages(client: httpx.AsyncClient, post_id: int, client_id: str) -> list[str]:
    """Every kind of page, as the visitor of ``client`` sees it, and each "load more" page."""
    authorize = "/oauth/authorize?" + urlencode(
        {
            "client_id": client_id,
            "redirect_uri": "https://app.example/cb",
            "response_type": "code",
            "scope": "read",
        }
    )
    paths = [
        "/",
        "/users",
        "/@alice",
        "/@alice/followers",
        "/@alice/following",
        "/@alice/media",
        f"/@alice/{post_id}",
        "/login",
        "/signup",
        "/docs",
        "/settings",
        "/settings/profile",
        "/settings/export",
        "/likes",
        "/notifications",
        authorize,
        "/no-such-page",
        "/@nobody",
    ]
    for path in ("/", "/@alice", "/users", "/@alice/followers", "/@alice/media"):
        match = _MORE.search((await client.get(path, follow_redirects=True)).text)
        if match:
            paths.append(match.group(1).replace("&amp;", "&"))
    return paths


async def _check_page(client: httpx.AsyncClient, path: str, *, htmx_token: str | None) -> None:
    headers = htmx(htmx_token) if htmx_token and "max_id" in path else {}
    r = await client.get(path, headers=headers, follow_redirects=True)
    assert r.headers["content-type"].startswith("text/html"), path
    assert r.status_code in (200, 404), (path, r.status_code)
    page_url = str(r.url)
    refs = page_refs(r.text)
    assert foreign(BASE, page_url, refs) == [], path
    assert refs.inline == [], path
    policy = r.headers["content-security-policy"]
    assert_strict_policy(policy, form_action=not r.url.path.startswith("/oauth/authorize"))
    # The stylesheets a page links load nothing from elsewhere either.
    for sheet in refs.stylesheets:
        css = await client.get(urljoin(page_url, sheet))
        assert css.status_code == 200, sheet
        for match in CSS_URL.finditer(css.text):
            target = (match.group(1) or match.group(2)).strip()
            assert target.startswith("data:") or not re.match(r"[a-z]+:|//", target), target


async def test_no_page_references_another_host_or_runs_inline_code(
    make_app: MakeApp, session: AsyncSession
) -> None:
    app = await make_app(page_size=2)
    alice = await make_user(session, "alice")
    bob = await make_user(session, "bob")
    posts = [await make_post(session, alice, f"post {i}") for i in range(5)]
    # Posts with images, on the Media tab and in timelines (their files on this server).
    for i in range(3):
        media = await media_service.upload(
            session, app.state.media_storage, app.state.settings, account=alice, data=jpeg()
        )
        await posts_service.create_post(
            session, author=alice, text=f"photo {i}", max_length=500, media_ids=[media.id]
        )
    await session.commit()
    # The one kind of foreign URL a page may hold: a link someone wrote, as a plain link.
    await make_post(session, bob, "read https://example.com/article")
    async with client_of(app) as visitor, client_of(app) as member:
        client_id = await _oauth_client_id(visitor)
        await login(member, "bob")
        await member.post("/@alice/follow", data={"csrf_token": await csrf(member, "/users")})
        token = await csrf(member, "/")
        paths = await _pages(visitor, posts[0].id, client_id)
        assert any("max_id" in p for p in paths)
        for path in paths:
            await _check_page(visitor, path, htmx_token=await csrf(visitor, "/login"))
        for path in await _pages(member, posts[0].id, client_id):
            await _check_page(member, path, htmx_token=token)
        # The composer's page for a refused post, and the page with an OAuth code.
        r = await member.post("/posts", data={"text": "x" * 141, "csrf_token": token})
        assert r.status_code == 422 and foreign(BASE, BASE, page_refs(r.text)) == []
        assert_strict_policy(r.headers["content-security-policy"])
        oob = await _oob_code_page(member)
        assert foreign(BASE, BASE, page_refs(oob.text)) == [] and page_refs(oob.text).inline == []
        # Bob's link is on the home page, as a link, and the only foreign URL there.
        home = page_refs((await member.get("/")).text)
        assert [ref[2] for ref in home.refs if "example.com" in ref[2]] == [
            "https://example.com/article"
        ]


async def _oob_code_page(client: httpx.AsyncClient) -> httpx.Response:
    r = await client.post(
        "/api/v1/apps",
        json={"client_name": "CLI", "redirect_uris": "urn:ietf:wg:oauth:2.0:oob"},
    )
    client_id = r.json()["client_id"]
    token = await csrf(client, "/")
    r = await client.post(
        "/oauth/authorize",
        data={
            "client_id": client_id,
            "redirect_uri": "urn:ietf:wg:oauth:2.0:oob",
            "scope": "read",
            "csrf_token": token,
            "decision": "approve",
        },
    )
    assert r.status_code == 200 and "Authorization code" in r.text, r.text
    assert_strict_policy(r.headers["content-security-policy"])
    return r


async def test_docs_draw_the_api_reference_from_vendored_files(client: httpx.AsyncClient) -> None:
    # The footer's "API" link leads here.
    assert 'href="/docs"' in (await client.get("/")).text
    r = await client.get("/docs")
    assert r.status_code == 200
    refs = page_refs(r.text)
    assert foreign(BASE, f"{BASE}/docs", refs) == [] and refs.inline == []
    sources = [value for tag, attr, value, _ in refs.refs if tag == "script"]
    assert any("/static/swagger-ui/swagger-ui-bundle.js" in s for s in sources)
    for src in sources + refs.stylesheets:
        asset = await client.get(src)
        assert asset.status_code == 200 and len(asset.content) > 100, src
    assert 'data-openapi-url="/openapi.json"' in r.text
    assert (await client.get("/openapi.json")).status_code == 200
    licence = await client.get("/static/swagger-ui/LICENSE")
    assert "Apache License" in licence.text


async def test_hsts_only_when_served_over_https(make_app: MakeApp) -> None:
    async with client_of(await make_app()) as plain:
        for path in ("/", "/api/v1/instance"):
            assert "strict-transport-security" not in (await plain.get(path)).headers
    async with client_of(await make_app(https=True)) as secure:
        for path in ("/", "/login", "/api/v1/instance", "/no-such-page"):
            r = await secure.get(path)
            assert r.headers["strict-transport-security"] == "max-age=31536000", path


async def test_pages_with_a_logged_in_persons_data_are_never_stored(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    alice = await make_user(session, "alice")
    post = await make_post(session, alice, "mine")
    public_paths = ["/", "/users", "/@alice", f"/@alice/{post.id}", "/login", "/no-such-page"]
    for path in public_paths:
        r = await client.get(path)
        # A visitor's page may be kept by the browser (Back is instant).
        assert "no-store" not in r.headers.get("cache-control", ""), path
        assert r.headers["x-content-type-options"] == "nosniff"
        assert r.headers["referrer-policy"] == "same-origin"
    await login(client, "alice")
    for path in [*public_paths[:-2], "/@alice/followers", "/no-such-page"]:
        r = await client.get(path)
        assert r.headers["cache-control"] == "private, no-store", path
        assert_strict_policy(r.headers["content-security-policy"])
    token = await csrf(client, "/")
    r = await client.post("/posts", data={"text": "fresh"}, headers=htmx(token))
    assert r.headers["cache-control"] == "private, no-store"


async def test_api_answers_are_private_as_on_mastodon(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    alice = await make_user(session, "alice")
    token = await make_token(session, alice)
    auth = {"Authorization": f"Bearer {token}"}
    for path in ("/api/v1/accounts/verify_credentials", "/api/v1/timelines/home"):
        r = await client.get(path, headers=auth)
        assert r.status_code == 200
        assert r.headers["cache-control"] == "private, no-store", path
    assert (await client.get("/api/v1/timelines/public")).headers[
        "cache-control"
    ] == "private, no-store"
    # Tokens are never kept by a cache (RFC 6749 5.1).
    r = await client.post("/oauth/token", data={"grant_type": "password"})
    assert r.headers["cache-control"] == "private, no-store"


async def test_authorize_page_lets_the_approval_go_to_the_apps_address(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    await make_user(session, "alice")
    client_id = await _oauth_client_id(client)
    await login(client, "alice")
    r = await client.get(
        "/oauth/authorize",
        params={"client_id": client_id, "redirect_uri": "https://app.example/cb"},
    )
    assert r.status_code == 200
    # Browsers check form-action against the redirect after the form: to the app, elsewhere.
    assert_strict_policy(r.headers["content-security-policy"], form_action=False)
    assert r.headers["cache-control"] == "private, no-store"
    assert CONTENT_SECURITY_POLICY.startswith(r.headers["content-security-policy"])


async def test_the_last_resort_error_page_has_the_headers_too(make_app: MakeApp) -> None:
    app = await make_app(https=True)

    async def boom() -> None:
        raise RuntimeError("a bug the test planted")

    app.add_api_route("/test-boom", boom, methods=["GET"])
    async with client_of(app) as client:
        r = await client.get("/test-boom")
    assert r.status_code == 500 and r.headers["content-type"].startswith("text/html")
    assert_strict_policy(r.headers["content-security-policy"])
    assert r.headers["strict-transport-security"] == "max-age=31536000"
    refs = page_refs(r.text)
    assert foreign(BASE, BASE, refs) == [] and refs.inline == []
