"""Replies in a real browser: in place from the timeline, the thread opened by a click on a
post's body, Back to the same scroll position, and replying without JavaScript."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright
from sqlalchemy.ext.asyncio import AsyncSession

from chirp.follows import service as follows_service
from tests import services
from tests.browser.conftest import ARGS
from tests.browser.test_browser_flow import OUTPUT
from tests.browser.test_first_use import _axe, _in_db, _login
from tests.factories import make_post, make_user
from tests.live import LiveServer


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Chromium without the back/forward cache: Back must restore the page by itself."""
    if shutil.which(services.CHROMIUM) is None and not Path(services.CHROMIUM).exists():
        services.unavailable(f"browser tests need Chromium at {services.CHROMIUM}")
    with sync_playwright() as p:
        args = [*ARGS, "--disable-features=BackForwardCache"]
        browser = p.chromium.launch(executable_path=services.CHROMIUM, args=args)
        yield browser
        browser.close()


@dataclass(frozen=True)
class World:
    """The post everyone answers, by Rae, whom Quinn follows."""

    rae_post: int


@pytest.fixture(scope="module")
def world(live_server: LiveServer) -> World:
    async def seed(session: AsyncSession) -> World:
        quinn, rae = await make_user(session, "quinn"), await make_user(session, "rae")
        await make_user(session, "sol")
        await follows_service.follow(session, follower=quinn, followee=rae)
        await session.commit()
        for i in range(45):
            await make_post(session, quinn, f"Quinn's note {i}")
        post = await make_post(session, rae, "Which editor do you use?")
        return World(rae_post=post.id)

    return _in_db(live_server, seed)


def _page(browser: Browser, *, js: bool = True) -> Page:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, java_script_enabled=js)
    return context.new_page()


def test_reply_in_place_then_open_the_thread_by_its_body(
    live_server: LiveServer, world: World, browser: Browser
) -> None:
    url = live_server.url
    page = _page(browser)
    _login(page, url, "quinn")
    page.evaluate("window.__noReload = true")  # survives only if the page never reloads
    post = page.locator(f"#post-{world.rae_post}")
    post.locator(".action-reply").click()
    textarea = page.locator(f"#reply-text-{world.rae_post}")
    expect(textarea).to_be_focused()
    expect(textarea).to_have_value("@rae ")
    page.keyboard.type("vim, of course")
    page.locator(f"#reply-form-{world.rae_post} button[type=submit]").click()
    sent = page.locator(f"#reply-slot-{world.rae_post} [data-reply-sent]")
    expect(sent).to_be_focused()
    expect(sent).to_contain_text("Your reply was sent.")
    expect(page.locator(f"#reply-slot-{world.rae_post} .post-text")).to_have_text(
        "@rae vim, of course"
    )
    expect(post.locator(".action-reply .action-count").first).to_have_text("1")
    assert page.evaluate("window.__noReload") is True
    OUTPUT.mkdir(exist_ok=True)
    page.screenshot(path=str(OUTPUT / "reply-in-place.png"))

    # A click on the post's text opens its page: the thread, the reply under it.
    post.locator(".post-text").first.click()
    page.wait_for_url(f"{url}/@rae/{world.rae_post}")
    expect(page.locator(".post-detail .post-text")).to_have_text("Which editor do you use?")
    expect(page.locator(".thread-replies .post-text")).to_have_text(["@rae vim, of course"])
    assert _axe(page) == []
    page.screenshot(path=str(OUTPUT / "thread.png"), full_page=True)
    # A click on the reply's body opens the reply's page, with the post above it.
    page.locator(".thread-replies .post-text").first.click()
    page.wait_for_url(re.compile(rf"{url}/@quinn/\d+$"))
    expect(page.locator(".thread-ancestors .post-text")).to_have_text(["Which editor do you use?"])
    page.context.close()


def test_clicks_on_controls_or_a_selection_do_not_open_the_post(
    live_server: LiveServer, world: World, browser: Browser
) -> None:
    url = live_server.url
    page = _page(browser)
    _login(page, url, "quinn")
    post = page.locator("#timeline > .post").nth(2)
    post.locator(".post-author").click()  # a link: its own destination
    page.wait_for_url(re.compile(rf"{url}/@\w+$"))
    page.go_back()
    page.wait_for_url(f"{url}/")
    text = page.locator("#timeline > .post").nth(2).locator(".post-text")
    # Selecting words with the mouse ends in a click; it must not navigate.
    box = text.bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + 2, box["y"] + box["height"] / 2)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] - 2, box["y"] + box["height"] / 2, steps=5)
    page.mouse.up()
    assert page.evaluate("getSelection().toString().length") > 0
    page.wait_for_timeout(300)
    assert page.url == f"{url}/"
    page.context.close()


def test_back_from_a_post_opened_by_its_body_keeps_the_pages_and_scroll(
    live_server: LiveServer, world: World, browser: Browser
) -> None:
    url = live_server.url
    page = _page(browser)
    _login(page, url, "quinn")
    page.click("[data-load-more]")
    expect(page.locator("#timeline > .post")).to_have_count(40)
    loaded = page.eval_on_selector_all("#timeline > .post", "els => els.map(e => e.id)")
    page.evaluate("y => window.scrollTo(0, y)", 2600)
    scrolled = page.evaluate("window.scrollY")
    assert scrolled == 2600
    in_sight = page.evaluate(
        "() => [...document.querySelectorAll('#timeline > .post')]"
        ".find(p => p.getBoundingClientRect().top > 100).id"
    )
    page.locator(f"#{in_sight} .post-text").click()
    page.wait_for_url(re.compile(rf"{url}/@\w+/{in_sight.removeprefix('post-')}$"))
    page.go_back()
    page.wait_for_load_state("load")
    again = page.eval_on_selector_all("#timeline > .post", "els => els.map(e => e.id)")
    assert again == loaded
    page.wait_for_function(f"() => Math.abs(window.scrollY - {scrolled}) < 5", timeout=5000)
    page.context.close()


def test_reply_without_javascript(live_server: LiveServer, world: World, browser: Browser) -> None:
    url = live_server.url
    page = _page(browser, js=False)
    _login(page, url, "sol")
    page.goto(f"{url}/@rae/{world.rae_post}")
    page.locator(".post-detail .action-reply").click()
    page.wait_for_url(f"{url}/posts/{world.rae_post}/reply")
    expect(page.get_by_role("heading", name="Reply to @rae")).to_be_visible()
    textarea = page.locator(f"#reply-text-{world.rae_post}")
    expect(textarea).to_have_value("@rae ")
    textarea.fill("@rae nano, quietly")
    page.get_by_role("button", name="Reply", exact=True).click()
    page.wait_for_url(re.compile(rf"{url}/@rae/{world.rae_post}#post-\d+$"))
    expect(page.locator(".thread-replies .post-text").last).to_have_text("@rae nano, quietly")
    expect(page.locator(".post-detail .action-reply .action-count")).to_have_text(
        re.compile(r"^[12]$")
    )
    page.context.close()
