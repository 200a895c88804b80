"""Reposting in a real browser: in place with JavaScript (keyboard focus kept), as a plain
form without it, and quoting from the post's menu."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Browser, Page, expect

from tests.browser.pages import sign_up
from tests.browser.test_first_use import AXE, AXE_OPTIONS
from tests.live import LiveServer

OUTPUT = Path(__file__).resolve().parents[2] / "test-output"


def _post(page: Page, text: str) -> None:
    page.fill("#composer-text", text)
    page.click("#composer button[type=submit]")
    expect(page.locator("#timeline article").first).to_contain_text(text)


def _no_violations(page: Page) -> None:
    """axe-core finds nothing on the page as it is now (as on every other page)."""
    if not page.evaluate("typeof window.axe === 'object'"):
        page.evaluate(AXE)
    result = page.evaluate("options => axe.run(document, options)", AXE_OPTIONS)
    assert [v["id"] for v in result["violations"]] == [], result["violations"]


def _log_in(page: Page, url: str, username: str) -> None:
    page.goto(f"{url}/login")
    page.fill("input[name=login]", username)
    page.fill("input[name=password]", "correct horse battery")
    page.click("form[action^='/login'] button[type=submit]")
    page.wait_for_url(f"{url}/")


def test_repost_in_place_without_javascript_and_quote(
    live_server: LiveServer, browser: Browser
) -> None:
    url = live_server.url
    author = browser.new_context().new_page()
    sign_up(author, url, "rb_author")
    _post(author, "Share this, please")

    page = browser.new_context(
        viewport={"width": 1000, "height": 900}, reduced_motion="reduce"
    ).new_page()
    sign_up(page, url, "rb_reader")
    page.goto(f"{url}/@rb_author")
    article = page.locator("article.post", has_text="Share this, please")
    post_id = (article.get_attribute("id") or "").removeprefix("post-")
    page.evaluate("window.__noReload = true")

    # With JavaScript, by keyboard: open the menu, choose Repost; the row is replaced in
    # place and focus is back on the repost control, now pressed.
    summary = page.locator(f"#repost-{post_id}")
    summary.focus()
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    expect(page.locator(f"#actions-{post_id} button.menu-item")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator(f"#repost-{post_id}")).to_have_class(re.compile(r"\bon\b"))
    expect(page.locator(f"#repost-{post_id}")).to_be_focused()
    expect(page.locator(f"#repost-{post_id} .action-count")).to_have_text("1")
    assert page.evaluate("window.__noReload") is True
    OUTPUT.mkdir(exist_ok=True)
    page.screenshot(path=str(OUTPUT / "repost-in-place.png"))

    # The reader's home shows the repost, "You reposted", the original inside.
    page.goto(f"{url}/")
    repost = page.locator("article.post-repost").first
    expect(repost.locator(".post-context")).to_contain_text("You reposted")
    expect(repost.locator(".post-text")).to_have_text("Share this, please")
    page.screenshot(path=str(OUTPUT / "repost-home.png"))
    _no_violations(page)

    # Without JavaScript: the same menu is a <details>, the form posts and comes back here.
    plain = browser.new_context(java_script_enabled=False).new_page()
    _log_in(plain, url, "rb_reader")
    plain.goto(f"{url}/@rb_author")
    plain.locator(f"#repost-{post_id}").click()
    plain.locator(f"#actions-{post_id} button.menu-item:has-text('Undo repost')").click()
    plain.wait_for_url(f"{url}/@rb_author")
    expect(plain.locator(".flash, [role=status]").first).to_contain_text("Your repost was undone")
    expect(plain.locator(f"#repost-{post_id}")).not_to_have_class(re.compile(r"\bon\b"))
    plain.locator(f"#repost-{post_id}").click()
    plain.locator(f"#actions-{post_id} button.menu-item:has-text('Repost')").click()
    plain.wait_for_url(f"{url}/@rb_author")
    expect(plain.locator(f"#repost-{post_id}")).to_have_class(re.compile(r"\bon\b"))

    # Quote from the menu: the composer with the post as a card below it.
    page.goto(f"{url}/@rb_author")
    page.locator(f"#repost-{post_id}").click()
    page.locator(f"#actions-{post_id} a.menu-item:has-text('Quote')").click()
    page.wait_for_url(f"{url}/posts/{post_id}/quote")
    expect(page.locator(".quote-preview .quote-card")).to_contain_text("Share this, please")
    page.screenshot(path=str(OUTPUT / "quote-composer.png"))
    _no_violations(page)
    page.fill("#composer-text", "Quoting this one")
    page.select_option("#composer-quote-policy", "followers")
    page.click("#composer button[type=submit]")
    page.wait_for_url(re.compile(r"/@rb_reader/\d+$"))
    expect(page.locator("article .post-text").first).to_have_text("Quoting this one")
    expect(page.locator("article .quote-card")).to_contain_text("Share this, please")
    page.screenshot(path=str(OUTPUT / "quote-post.png"))
    _no_violations(page)
