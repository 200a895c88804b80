"""A person in a real browser: sign up, post, follow from the directory, read home."""

from __future__ import annotations

from pathlib import Path

import httpx
from playwright.sync_api import Browser, Page, expect

from tests.browser.pages import sign_up
from tests.live import LiveServer

OUTPUT = Path(__file__).resolve().parents[2] / "test-output"


def _post(page: Page, text: str) -> None:
    page.fill("#composer-text", text)
    page.click("#composer button[type=submit]")
    expect(page.locator("#timeline article").first).to_contain_text(text)


def test_signup_post_follow_and_read_home(live_server: LiveServer, browser: Browser) -> None:
    url = live_server.url
    bob = browser.new_context().new_page()
    sign_up(bob, url, "brwsr_bob")
    _post(bob, "Bob was here first")

    page = browser.new_context(viewport={"width": 1000, "height": 900}).new_page()
    sign_up(page, url, "brwsr_ann")
    page.evaluate("window.__noReload = true")  # survives only if the page never reloads
    counter = page.locator(".counter")
    expect(counter).to_have_text("140")
    page.fill("#composer-text", "Hello https://example.com/" + "x" * 60)
    expect(counter).to_have_text(str(140 - 6 - 23))
    page.fill("#composer-text", "x" * 141)
    expect(counter).to_have_text("-1")
    expect(page.locator("#composer button[type=submit]")).to_be_disabled()
    _post(page, "Ann's first post")
    expect(page.locator("#composer-text")).to_have_value("")
    assert page.evaluate("window.__noReload") is True

    page.click("text=Directory")
    page.wait_for_url(f"{url}/users")
    page.evaluate("window.__noReload = true")
    card = page.locator("article.user-card", has_text="@brwsr_bob")
    card.locator("button:has-text('Follow')").click()
    expect(card.locator("button.following")).to_be_visible()
    assert page.evaluate("window.__noReload") is True

    page.click("nav >> text=Home")
    page.wait_for_url(f"{url}/")
    texts = page.locator("#timeline article .post-text").all_inner_texts()
    assert texts.index("Ann's first post") < texts.index("Bob was here first")
    OUTPUT.mkdir(exist_ok=True)
    page.screenshot(path=str(OUTPUT / "home.png"), full_page=True)

    # What the browser saw is what the server has: both users' posts on Ann's home timeline.
    assert httpx.get(f"{url}/@brwsr_ann/following").text.count("@brwsr_bob") >= 1
