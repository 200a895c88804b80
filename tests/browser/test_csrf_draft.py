"""In a real browser: a post typed on a page whose CSRF token went stale is not lost, with
JavaScript (htmx retries once with a fresh token) and without (the form comes back as typed)."""

from __future__ import annotations

from playwright.sync_api import Browser, BrowserContext, Response, expect

from tests.browser.pages import sign_up
from tests.live import LiveServer

DRAFT = "Typed before the page went stale, and worth keeping"


def _go_stale(context: BrowserContext) -> None:
    # The page keeps its token; the cookie it belongs to is gone (cleared, or expired).
    context.clear_cookies(name="chirp_csrf")


def test_with_javascript_the_post_is_sent_on_a_fresh_token(
    live_server: LiveServer, browser: Browser
) -> None:
    url = live_server.url
    context = browser.new_context()
    page = context.new_page()
    sign_up(page, url, "csrf_js")
    page.fill("#composer-text", DRAFT)
    _go_stale(context)
    answers: list[int] = []

    def note(response: Response) -> None:
        if response.url == f"{url}/posts":
            answers.append(response.status)

    page.on("response", note)
    page.click("#composer button[type=submit]")
    expect(page.locator("#timeline article").first).to_contain_text(DRAFT)
    expect(page.locator("#composer-text")).to_have_value("")
    assert answers == [403, 200]  # refused once, then sent with the fresh token
    expect(page.locator(".toast-error")).to_have_count(0)
    # The page now holds the fresh token: the next post goes straight through.
    page.fill("#composer-text", "and another")
    page.click("#composer button[type=submit]")
    expect(page.locator("#timeline article").first).to_contain_text("and another")
    assert answers == [403, 200, 200]
    page.reload()
    expect(page.locator("#timeline article .post-text", has_text=DRAFT)).to_have_count(1)
    context.close()


def test_without_javascript_the_draft_comes_back_to_send_again(
    live_server: LiveServer, browser: Browser
) -> None:
    url = live_server.url
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    sign_up(page, url, "csrf_nojs")
    page.fill("#composer-text", DRAFT)
    _go_stale(context)
    page.click("#composer button[type=submit]")
    expect(page.locator("h1")).to_have_text("Send that again")
    expect(page.locator("form[data-csrf-retry] textarea[name=text]")).to_have_value(DRAFT)
    page.click("form[data-csrf-retry] button[type=submit]")
    page.wait_for_url(f"{url}/")
    expect(page.locator("#timeline article .post-text", has_text=DRAFT)).to_have_count(1)
    context.close()
