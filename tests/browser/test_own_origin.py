"""In a real browser, the site asks no other host for anything and breaks no CSP rule."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import httpx
from playwright.sync_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Page,
    Request,
    Route,
    expect,
)

from tests.factories import PASSWORD
from tests.live import LiveServer
from tests.media import images

# Each securitypolicyviolation event of every document, sent to the test as it happens.
_REPORT_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (event) => {
  window.__chirpCspViolation(
    event.violatedDirective + " blocked " + event.blockedURI + " on " + document.location.pathname
  );
});
"""
_CSRF = re.compile(r'"X-CSRF-Token": "([^"]+)"')


@dataclass
class Watch:
    """What the pages of one browser context did that they should not."""

    origin: str
    foreign: list[str] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def route(self, route: Route, request: Request) -> None:
        """Let requests to the server through; refuse and record any other."""
        parts = urlsplit(request.url)
        if parts.scheme in ("data", "blob") or f"{parts.scheme}://{parts.netloc}" == self.origin:
            route.continue_()
        else:
            self.foreign.append(request.url)
            route.abort()

    def violation(self, report: str) -> None:
        """Record a securitypolicyviolation event."""
        self.violations.append(report)

    def console(self, message: ConsoleMessage) -> None:
        """Record console errors (a CSP refusal is one too)."""
        if message.type == "error":
            self.errors.append(f"{message.text} ({message.location.get('url')})")


def _watched(browser: Browser, origin: str) -> tuple[BrowserContext, Page, Watch]:
    watch = Watch(origin)
    context = browser.new_context(viewport={"width": 1100, "height": 900})
    context.route("**/*", watch.route)
    context.expose_function("__chirpCspViolation", watch.violation)
    context.add_init_script(_REPORT_VIOLATIONS)
    page = context.new_page()
    page.on("console", watch.console)
    page.on("pageerror", lambda error: watch.errors.append(f"uncaught: {error}"))
    return context, page, watch


def _author_with_many_posts(url: str, username: str, posts: int) -> None:
    """Sign up through the forms and post ``posts`` times (more than one page)."""
    with httpx.Client(base_url=url) as client:
        token = _CSRF.search(client.get("/signup").text)
        assert token
        data = {"username": username, "email": f"{username}@example.com", "password": PASSWORD}
        r = client.post("/signup", data={**data, "csrf_token": token.group(1)})
        assert r.status_code == 303, r.text
        token = _CSRF.search(client.get("/").text)
        assert token
        for i in range(posts):
            r = client.post(
                "/posts", data={"text": f"{username} {i}", "csrf_token": token.group(1)}
            )
            assert r.status_code == 303, r.text
        # And one with an image (sent as a plain form), on the Media tab.
        r = client.post(
            "/posts",
            data={"text": "A photo", "description_1": "Red", "csrf_token": token.group(1)},
            files={"file_1": ("red.jpg", images.jpeg(), "image/jpeg")},
        )
        assert r.status_code == 303, r.text


def _visit(page: Page, url: str) -> None:
    page.goto(url)
    page.wait_for_load_state("load")
    # Every avatar and image drew (from this server, so with the network restricted to it).
    for img in page.locator(".avatar img, .media-img").all()[:8]:
        img.scroll_into_view_if_needed()
        expect(img).to_have_js_property("complete", True)
        assert img.evaluate("el => el.naturalWidth") > 0


def _docs(page: Page, url: str) -> None:
    page.goto(f"{url}/docs")
    # Swagger UI drew the operations from /openapi.json.
    expect(page.locator(".opblock").first).to_be_visible(timeout=20_000)
    assert page.locator(".opblock").count() > 10
    expect(page.locator(".opblock-summary-path", has_text="/api/v1/statuses").first).to_be_visible()


def test_site_loads_only_from_its_own_origin_and_works_under_csp(
    live_server: LiveServer, browser: Browser
) -> None:
    url = live_server.url
    _author_with_many_posts(url, "origin_bob", 23)

    context, page, watch = _watched(browser, url)
    post = page.request.get(f"{url}/@origin_bob").text()
    post_path = re.search(r'href="(/@origin_bob/\d+)"', post)
    assert post_path
    # Logged out.
    for path in ("/", "/users", "/@origin_bob", "/@origin_bob/media", post_path.group(1)):
        _visit(page, url + path)
    for path in ("/login", "/signup"):
        _visit(page, url + path)
    _docs(page, url)
    page.goto(f"{url}/no-such-page")
    expect(page.locator("main")).to_be_visible()

    # Logged in: sign up, post, follow, load more, all in place under the policy.
    page.goto(f"{url}/signup")
    page.fill("input[name=username]", "origin_ann")
    page.fill("input[name=email]", "origin_ann@example.com")
    page.fill("input[name=password]", PASSWORD)
    page.click("form[action='/signup'] button[type=submit]")
    page.wait_for_url(f"{url}/")
    page.evaluate("window.__noReload = true")
    page.fill("#composer-text", "Posted under a strict policy")
    page.click("#composer button[type=submit]")
    expect(page.locator("#timeline article").first).to_contain_text("strict policy")
    assert page.evaluate("window.__noReload") is True

    _visit(page, f"{url}/users")
    page.evaluate("window.__noReload = true")
    card = page.locator("article.user-card", has_text="@origin_bob")
    card.locator("button:has-text('Follow')").click()
    expect(card.locator("button.following")).to_be_visible()
    assert page.evaluate("window.__noReload") is True

    _visit(page, f"{url}/@origin_bob")
    page.evaluate("window.__noReload = true")
    articles = page.locator("#timeline article")
    expect(articles).to_have_count(20)
    page.click("text=Load more")
    expect(articles).to_have_count(24)
    assert page.evaluate("window.__noReload") is True

    for path in ("/", "/@origin_ann", "/@origin_bob/followers", post_path.group(1)):
        _visit(page, url + path)
    # The full-size viewer of an image loads it from this server too.
    _visit(page, f"{url}/@origin_bob/media")
    page.locator(".media-link").first.click()
    viewed = page.locator("dialog.media-viewer .media-viewer-img")
    expect(viewed).to_have_js_property("complete", True)
    assert viewed.evaluate("el => el.naturalWidth") > 0
    page.keyboard.press("Escape")
    _docs(page, url)
    context.close()

    assert watch.foreign == []
    assert watch.violations == []
    assert [e for e in watch.errors if "404 (Not Found)" not in e] == []
