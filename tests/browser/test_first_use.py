"""A new user in a real browser: no accessibility violations on any page (axe-core), Back after
"Load more", keyboard focus after in-place changes, local times, and the site without JS."""

from __future__ import annotations

import asyncio
import json
import re
import shutil
from collections.abc import Awaitable, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright
from sqlalchemy.ext.asyncio import AsyncSession

from chirp.conversations import service as conversations_service
from chirp.db import make_engine, make_session_factory
from chirp.follows import service as follows_service
from chirp.likes import service as likes_service
from chirp.oauth import service as oauth_service
from chirp.posts import service as posts_service
from chirp.posts.models import Post
from tests import services
from tests.browser.conftest import ARGS
from tests.browser.pages import settled
from tests.browser.test_browser_flow import OUTPUT
from tests.factories import PASSWORD, make_post, make_user
from tests.live import LiveServer

AXE = (Path(__file__).parent / "vendor" / "axe.min.js").read_text()
# Every rule axe runs by default (WCAG 2.0-2.2 A and AA, best practices), and "label in name"
# (WCAG 2.5.3), which axe ships as experimental: the follow button's name must start with
# what it shows.
AXE_OPTIONS = {"rules": {"label-content-name-mismatch": {"enabled": True}}}
T = TypeVar("T")


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if shutil.which(services.CHROMIUM) is None and not Path(services.CHROMIUM).exists():
        services.unavailable(f"browser tests need Chromium at {services.CHROMIUM}")
    with sync_playwright() as p:
        # Logged-in pages are sent with Cache-Control: no-store, which keeps them out of the
        # back/forward cache: Back must work without it, so it is off here.
        args = [*ARGS, "--disable-features=BackForwardCache"]
        browser = p.chromium.launch(executable_path=services.CHROMIUM, args=args)
        yield browser
        browser.close()


def _in_db(server: LiveServer, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """Run ``work`` with a session on the live server's database (from a thread of its own)."""

    async def run() -> T:
        engine = make_engine(server.settings.database_url)
        try:
            async with make_session_factory(engine)() as session:
                return await work(session)
        finally:
            await engine.dispose()

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, run()).result()


@dataclass(frozen=True)
class World:
    """Who exists on the live server, and the ids the pages need."""

    bob_post: int
    ann_posts: list[int]
    client_id: str
    # ann's conversation with bob and cat (its id in her list).
    ann_conversation: int


@pytest.fixture(scope="module")
def world(live_server: LiveServer) -> World:
    async def seed(session: AsyncSession) -> World:
        ann, bob = await make_user(session, "ann"), await make_user(session, "bob")
        await make_user(session, "nina")  # follows no one, has not posted
        await make_user(session, "zoe")  # the same, kept so for a screenshot
        cat = await make_user(session, "cat", display_name="Cat Stevens")
        for fan in (ann, cat):
            await follows_service.follow(session, follower=fan, followee=bob)
        await session.commit()
        ann_posts = [
            (await make_post(session, ann, f"Ann's post number {i}")).id for i in range(50)
        ]
        bob_post = await make_post(session, bob, "Read https://example.com/docs and say hi")
        # Mentions and tags linked in a post, and trending in the side column.
        await make_post(session, cat, "Hello @ann and @bob! #Chirp #Café")
        # Something on ann's notifications page: a like, grouped with none.
        liked = await session.get(Post, ann_posts[-1])
        assert liked is not None
        await likes_service.like(session, user=bob, post=liked)
        # Late in the evening in UTC: already the next day in Tokyo.
        old = await make_post(session, await make_user(session, "olga"), "From long ago")
        old.created_at = datetime(2025, 1, 10, 20, 30, tzinfo=UTC)
        app = await oauth_service.create_app(
            session,
            name="Test client",
            redirect_uris=[oauth_service.OOB_REDIRECT],
            scopes="read write",
            website=None,
        )
        message = await posts_service.create_post(
            session,
            author=bob,
            text="@ann @cat a word in private",
            max_length=500,
            visibility="direct",
        )
        await session.commit()
        assert message.conversation_id is not None
        conversation = await conversations_service.member_id(
            session, conversation_id=message.conversation_id, user_id=ann.id
        )
        return World(
            bob_post=bob_post.id,
            ann_posts=ann_posts,
            client_id=app.client_id,
            ann_conversation=conversation,
        )

    return _in_db(live_server, seed)


def _context(browser: Browser, **options: Any) -> BrowserContext:
    return browser.new_context(viewport={"width": 1280, "height": 900}, **options)


def _login(page: Page, url: str, username: str) -> None:
    page.goto(f"{url}/login")
    page.fill("input[name=login]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("form[action='/login'] button[type=submit]")
    page.wait_for_url(f"{url}/")


def _axe(page: Page) -> list[dict[str, Any]]:
    """The violations axe-core finds on the page as it is now."""
    # Evaluated through the DevTools protocol, so no Content-Security-Policy can block it.
    if not page.evaluate("typeof window.axe === 'object'"):
        page.evaluate(AXE)
    result: dict[str, Any] = page.evaluate("options => axe.run(document, options)", AXE_OPTIONS)
    return [
        {"id": v["id"], "help": v["help"], "nodes": [n["html"][:160] for n in v["nodes"][:4]]}
        for v in result["violations"]
    ]


def _check_pages(page: Page, url: str, paths: list[str], who: str) -> dict[str, Any]:
    found = {}
    for path in paths:
        page.goto(url + path)
        page.wait_for_load_state("load")
        violations = _axe(page)
        if violations:
            found[f"{who} {path}"] = violations
    return found


def test_no_accessibility_violations_on_any_page(
    live_server: LiveServer, world: World, browser: Browser
) -> None:
    url = live_server.url
    authorize = (
        f"/oauth/authorize?client_id={world.client_id}&response_type=code"
        f"&redirect_uri=urn:ietf:wg:oauth:2.0:oob&scope=read"
    )
    post = f"/@bob/{world.bob_post}"
    everyone = ["/", "/users", "/@bob", post, "/@bob/followers", "/@ann/following"]
    everyone += ["/tags/chirp", "/tags/Caf%C3%A9"]
    everyone += ["/@nobody-here", "/@bob/1", "/tags/1"]  # error pages (404)
    # Colours are judged at rest: with motion reduced, CSS transitions (0.15 s on buttons) are
    # off, so axe never measures a colour half-way, as right after a click under the mouse.
    page = _context(browser, reduced_motion="reduce").new_page()
    found = _check_pages(page, url, [*everyone, "/login", "/signup", authorize], "logged out")

    _login(page, url, "ann")
    own = [f"/@ann/{world.ann_posts[-1]}", f"/posts/{world.ann_posts[-1]}/delete", "/@ann"]
    own += ["/settings", "/settings/profile", "/settings/export", "/likes", "/messages"]
    own += ["/messages/new"]
    own += [f"/messages/{world.ann_conversation}"]
    own += ["/notifications"]
    found |= _check_pages(page, url, [*everyone, *own, authorize], "ann")
    # A page after htmx changed it: "Load more" twice, a follow made in place.
    page.goto(url + "/")
    for _ in range(2):
        # Each click once the last page has arrived (its link replaced by the next one).
        href = page.locator("[data-load-more]").get_attribute("href")
        page.click("[data-load-more]")
        expect(page.locator(f'[data-load-more][href="{href}"]')).to_have_count(0)
    expect(page.locator("[data-timeline-end]")).to_be_visible()
    if violations := _axe(page):
        found["ann / after loading everything"] = violations
    page.emulate_media(color_scheme="dark")
    found |= _check_pages(page, url, ["/", own[0], own[1], "/users"], "ann (dark)")

    nina = _context(browser, reduced_motion="reduce").new_page()
    _login(nina, url, "nina")  # an empty home: suggestions in the side column
    expect(nina.locator("#suggestions-title")).to_be_visible()
    nina.locator(".suggestion button", has_text="Follow").first.click()
    expect(nina.locator(".suggestion button.following")).to_have_count(1)
    if violations := _axe(nina):
        found["nina / with suggestions"] = violations
    nina.emulate_media(color_scheme="dark")
    found |= _check_pages(nina, url, ["/", "/users", post], "nina (dark)")
    nina.context.close()
    page.context.close()
    assert not found, json.dumps(found, indent=1)


def _post_ids(page: Page) -> list[str]:
    ids = page.eval_on_selector_all("#timeline > .post", "els => els.map(e => e.id)")
    return [str(i) for i in ids]


def test_back_after_load_more_keeps_the_pages_and_the_scroll_position(
    live_server: LiveServer, world: World, browser: Browser
) -> None:
    url = live_server.url
    page = _context(browser).new_page()
    _login(page, url, "ann")
    expect(page.locator("#timeline > .post")).to_have_count(20)
    page.locator("[data-load-more]").focus()
    page.keyboard.press("Enter")
    expect(page.locator("#timeline > .post")).to_have_count(40)
    # The button is gone: keyboard focus goes on with the first post it loaded.
    expect(page.locator("#timeline > .post").nth(20)).to_be_focused()
    page.click("[data-load-more]")
    # 51 posts on Ann's home (hers and Bob's): the last page ends with a marker.
    expect(page.locator("#timeline > .post")).to_have_count(51)
    expect(page.locator("[data-load-more]")).to_have_count(0)
    expect(page.locator("[data-timeline-end]")).to_have_text(re.compile("reached the end"))
    assert re.search(r"\?until=\d+$", page.url), page.url
    loaded = _post_ids(page)

    page.evaluate("y => window.scrollTo(0, y)", 2500)
    scrolled = page.evaluate("window.scrollY")
    assert scrolled == 2500
    # A post in sight, so clicking it scrolls nothing.
    in_sight = page.evaluate(
        "() => [...document.querySelectorAll('#timeline > .post')]"
        ".find(p => p.getBoundingClientRect().top > 100).id"
    )
    target = page.locator(f"#{in_sight}")
    target.locator("a.time").click()
    page.wait_for_url(re.compile(r"/@ann/\d+$"))

    page.go_back()
    page.wait_for_load_state("load")
    assert _post_ids(page) == loaded
    expect(page.locator("[data-timeline-end]")).to_be_visible()
    page.wait_for_function(f"() => Math.abs(window.scrollY - {scrolled}) < 5", timeout=5000)

    # A reload keeps them too, and "Load more" still goes on where the restored page stops.
    page.goto(f"{url}/")
    page.click("[data-load-more]")
    expect(page.locator("#timeline > .post")).to_have_count(40)
    page.reload()
    expect(page.locator("#timeline > .post")).to_have_count(40)
    page.click("[data-load-more]")
    expect(page.locator("#timeline > .post")).to_have_count(51)
    assert _post_ids(page) == loaded
    page.context.close()


def _focused(page: Page) -> str:
    return str(page.evaluate("document.activeElement.id || document.activeElement.tagName"))


def test_keyboard_focus_stays_where_a_person_expects(
    live_server: LiveServer, world: World, browser: Browser
) -> None:
    url = live_server.url
    page = _context(browser).new_page()
    _login(page, url, "cat")
    page.goto(f"{url}/users")
    # The name a screen reader and speech input use starts with the visible label.
    button = page.get_by_role("button", name="Following @bob, press to unfollow")
    button.focus()
    page.keyboard.press("Enter")
    follow = page.get_by_role("button", name="Follow @bob", exact=True)
    expect(follow).to_be_visible()
    expect(follow).to_be_focused()
    assert _focused(page).startswith("follow-button-")
    settled(page)
    page.keyboard.press("Enter")
    expect(page.get_by_role("button", name="Following @bob, press to unfollow")).to_be_focused()

    page.goto(f"{url}/")
    page.fill("#composer-text", "First from the keyboard")
    page.locator("#composer button[type=submit]").focus()
    page.keyboard.press("Enter")
    expect(page.locator("#timeline > .post").first).to_contain_text("First from the keyboard")
    expect(page.locator("#composer-text")).to_be_focused()
    page.keyboard.type("Second from the keyboard")
    page.keyboard.press("Control+Enter")
    expect(page.locator("#timeline > .post").first).to_contain_text("Second from the keyboard")
    expect(page.locator("#composer-text")).to_be_focused()

    # Delete the newest post: a dialog asks, then focus moves to the next post.
    settled(page)
    newest, following = (
        page.locator("#timeline > .post").nth(0),
        page.locator("#timeline > .post").nth(1),
    )
    next_id = following.get_attribute("id")
    page.once("dialog", lambda dialog: dialog.accept())
    newest.get_by_role("button", name="Delete post").focus()
    page.keyboard.press("Enter")
    expect(page.locator("#timeline > .post", has_text="Second from the keyboard")).to_have_count(0)
    expect(page.locator(f"#{next_id}")).to_be_focused()
    # Dismissing the dialog deletes nothing.
    page.once("dialog", lambda dialog: dialog.dismiss())
    page.locator(f"#{next_id}").get_by_role("button", name="Delete post").click()
    page.wait_for_timeout(300)
    expect(page.locator(f"#{next_id}")).to_be_visible()
    page.context.close()


def test_times_show_in_the_readers_own_zone(
    live_server: LiveServer, world: World, browser: Browser
) -> None:
    url = live_server.url
    page = _context(browser, timezone_id="Asia/Tokyo", locale="en-US").new_page()
    page.goto(f"{url}/@bob/{world.bob_post}")
    exact = page.locator("time[data-exact]")
    expect(exact).to_contain_text("GMT+9")
    assert "UTC" not in exact.inner_text()
    stamp = exact.get_attribute("datetime")
    assert stamp and stamp.endswith("Z")
    clock = "{timeZone: 'Asia/Tokyo', hour: 'numeric', minute: '2-digit'}"
    expected = page.evaluate(f"s => new Date(s).toLocaleString('en-US', {clock})", stamp)
    assert expected in exact.inner_text()
    title = page.locator("#timeline .post time, .post time").first.get_attribute("title")
    assert title and "GMT+9" in title
    # A post older than a week shows its date: the reader's date, not London's.
    page.goto(f"{url}/@olga")
    expect(page.locator(".post a.time time")).to_have_text("Jan 11, 2025")
    page.context.close()
    utc = _context(browser, timezone_id="UTC", locale="en-US").new_page()
    utc.goto(f"{url}/@olga")
    expect(utc.locator(".post a.time time")).to_have_text("Jan 10, 2025")
    utc.context.close()


def test_the_site_without_javascript(
    live_server: LiveServer, world: World, browser: Browser
) -> None:
    url = live_server.url
    page = _context(browser, java_script_enabled=False).new_page()
    page.goto(f"{url}/@bob/{world.bob_post}")
    expect(page.locator("time[data-exact]")).to_contain_text("UTC")
    _login(page, url, "bob")
    # No live counter that never changes; the limit in words instead.
    expect(page.locator("#composer-count")).to_be_hidden()
    expect(page.locator("#composer-hint")).to_have_text(re.compile(r"Up to 140 characters"))
    # The log-out control says what it does.
    expect(page.get_by_role("button", name="Log out")).to_have_text("Log out")
    page.fill("#composer-text", "Posted without JavaScript")
    page.click("#composer button[type=submit]")
    page.wait_for_url(f"{url}/")
    post = page.locator("#timeline > .post", has_text="Posted without JavaScript")
    expect(post).to_have_count(1)
    # Delete asks first, on a page of its own; Cancel keeps the post.
    post.get_by_role("button", name="Delete post").click()
    page.wait_for_url(re.compile(r"/posts/\d+/delete"))
    expect(page.get_by_role("heading", name="Delete this post?")).to_be_visible()
    page.screenshot(path=str(OUTPUT / "delete-confirm.png"))
    page.get_by_role("link", name="Cancel").click()
    page.wait_for_url(f"{url}/")
    expect(post).to_have_count(1)
    post.get_by_role("button", name="Delete post").click()
    page.get_by_role("button", name="Delete", exact=True).click()
    page.wait_for_url(f"{url}/")
    expect(page.locator("#timeline > .post", has_text="Posted without JavaScript")).to_have_count(0)
    page.context.close()


def test_screenshots_of_the_changed_pages(
    live_server: LiveServer, world: World, browser: Browser
) -> None:
    url = live_server.url
    OUTPUT.mkdir(exist_ok=True)
    page = _context(browser).new_page()
    _login(page, url, "zoe")
    page.screenshot(path=str(OUTPUT / "empty-home.png"))
    page.goto(f"{url}/@bob")
    page.screenshot(path=str(OUTPUT / "profile-end.png"), full_page=True)
    page.context.close()
