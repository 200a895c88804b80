"""Live updates in a real browser: a followed account's new post appears without a reload."""

from __future__ import annotations

from playwright.sync_api import Browser, expect

from tests.browser.pages import sign_up
from tests.live import LiveServer


def test_new_post_bar_shows_a_followed_accounts_post(
    live_server: LiveServer, browser: Browser
) -> None:
    url = live_server.url
    bob = browser.new_context().new_page()
    sign_up(bob, url, "live_bob")
    reader = browser.new_context(viewport={"width": 1000, "height": 900}).new_page()
    sign_up(reader, url, "live_ann")
    reader.goto(f"{url}/@live_bob")
    reader.locator("form.follow-form button:has-text('Follow')").first.click()
    expect(reader.locator("form.follow-form button.following").first).to_be_visible()
    reader.goto(f"{url}/")
    reader.evaluate("window.__noReload = true")  # survives only if the page never reloads
    bar = reader.locator("#new-posts")
    expect(bar).to_be_hidden()

    # Her own post, sent from the composer, is shown in place and is not "new".
    reader.fill("#composer-text", "Ann writes")
    reader.click("#composer button[type=submit]")
    expect(reader.locator("#timeline article").first).to_contain_text("Ann writes")

    bob.fill("#composer-text", "Bob says hi live")
    bob.click("#composer button[type=submit]")
    expect(bar).to_have_text("1 new post", timeout=15_000)
    expect(reader.locator("#timeline")).not_to_contain_text("Bob says hi live")
    bar.click()
    expect(reader.locator("#timeline article").first).to_contain_text("Bob says hi live")
    expect(bar).to_be_hidden()
    assert reader.locator("#timeline article", has_text="Ann writes").count() == 1
    assert reader.evaluate("window.__noReload") is True
