"""The share link under a post copies the post's address, or opens the post without a script."""

from __future__ import annotations

import re

from playwright.sync_api import Browser, expect

from tests.browser.pages import sign_up
from tests.factories import PASSWORD
from tests.live import LiveServer


def test_share_copies_the_posts_address_and_is_a_plain_link_without_javascript(
    browser: Browser, live_server: LiveServer
) -> None:
    url = live_server.url
    context = browser.new_context(permissions=["clipboard-read", "clipboard-write"])
    page = context.new_page()
    sign_up(page, url, "sh_ann")
    page.fill("#composer-text", "Pass this on")
    page.click("#composer button[type=submit]")
    post = page.locator("#timeline article").first
    expect(post).to_contain_text("Pass this on")
    permalink = post.get_attribute("data-permalink")
    assert permalink and re.fullmatch(r"/@sh_ann/\d+", permalink)
    post.locator("a[data-share]").click()
    expect(page.locator(".toast", has_text="Link copied")).to_have_count(1)
    assert page.evaluate("navigator.clipboard.readText()") == url + permalink
    assert page.url == url + "/"  # copied, not followed

    plain = browser.new_context(java_script_enabled=False).new_page()
    plain.goto(url + "/login")
    plain.fill("input[name=login]", "sh_ann")
    plain.fill("input[name=password]", PASSWORD)
    plain.click("form button[type=submit]")
    plain.locator("#timeline article a[data-share]").first.click()
    plain.wait_for_url(url + permalink)
    expect(plain.locator("article .post-text").first).to_have_text("Pass this on")
