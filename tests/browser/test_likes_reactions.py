"""Liking and reacting in a real browser: in place with JavaScript (focus kept on the control
pressed, a refused emoji explained under the field), and as plain forms without it."""

from __future__ import annotations

from playwright.sync_api import Browser, Page, expect

from tests.browser.pages import settled, sign_up
from tests.browser.test_browser_flow import OUTPUT
from tests.browser.test_first_use import _axe
from tests.live import LiveServer


def _first_post_id(page: Page) -> str:
    article_id = page.locator("#timeline article.post").first.get_attribute("id")
    assert article_id and article_id.startswith("post-")
    return article_id.removeprefix("post-")


def _focused(page: Page) -> str:
    return str(page.evaluate("document.activeElement && document.activeElement.outerHTML"))


def test_like_and_react_in_place_and_without_javascript(
    live_server: LiveServer, browser: Browser
) -> None:
    url = live_server.url
    ann = browser.new_context().new_page()
    sign_up(ann, url, "lk_ann")
    ann.fill("#composer-text", "Like and react to this")
    ann.click("#composer button[type=submit]")
    expect(ann.locator("#timeline article").first).to_contain_text("Like and react to this")

    # With JavaScript: everything happens in place, and focus stays where the reader is.
    bob = browser.new_context(
        viewport={"width": 1000, "height": 900}, reduced_motion="reduce"
    ).new_page()
    sign_up(bob, url, "lk_bob")
    bob.goto(f"{url}/@lk_ann")
    post_id = _first_post_id(bob)
    row = bob.locator(f"#actions-{post_id}")
    bob.evaluate("window.__noReload = true")

    like = bob.locator(f"#like-{post_id}")
    like.focus()
    bob.keyboard.press("Enter")
    expect(like).to_have_attribute("aria-pressed", "true")
    expect(like.locator(".action-count")).to_have_text("1")
    expect(like).to_be_focused()
    settled(bob)

    row.locator("summary.action-react").click()
    row.locator("button.react-choice[value='🎉']").click()
    chip = row.locator("button.reaction[value='🎉']")
    expect(chip).to_have_attribute("aria-pressed", "true")
    expect(chip.locator(".reaction-count")).to_have_text("1")
    # The picker closed with the row's swap: focus is back on the button that opens it.
    expect(row.locator("summary.action-react")).to_be_focused()
    settled(bob)

    row.locator("summary.action-react").click()
    field = row.locator(f"#react-input-{post_id}")
    field.fill("two words")
    field.press("Enter")
    expect(bob.locator(f"#react-error-{post_id}")).to_contain_text("exactly one emoji")
    expect(field).to_be_focused()
    expect(row.locator("button.reaction")).to_have_count(1)
    # The row as htmx left it, the picker open with its error: no accessibility violation.
    assert _axe(bob) == []
    OUTPUT.mkdir(exist_ok=True)
    bob.screenshot(path=str(OUTPUT / "reaction-refused.png"))
    field.fill("👍🏽")
    field.press("Enter")
    expect(row.locator("button.reaction[value='👍🏽']")).to_have_attribute("aria-pressed", "true")
    expect(bob.locator(f"#react-error-{post_id}")).to_be_empty()
    # Focus moves once htmx has wired up the new row (a press before that would post it as
    # a plain form): from here on, the row is ready.
    expect(row.locator("summary.action-react")).to_be_focused()

    # Pressing a highlighted reaction takes it back; focus stays on it while it is shown.
    thumbs = row.locator("button.reaction[value='👍🏽']")
    thumbs.focus()
    bob.keyboard.press("Enter")
    expect(row.locator("button.reaction[value='👍🏽']")).to_have_count(0)
    expect(row.locator("summary.action-react")).to_be_focused()
    assert bob.evaluate("window.__noReload") is True
    bob.screenshot(path=str(OUTPUT / "likes-reactions.png"), full_page=True)

    # Without JavaScript: plain forms, back to the same post on the same page.
    context = browser.new_context(java_script_enabled=False)
    cat = context.new_page()
    sign_up(cat, url, "lk_cat")
    cat.goto(f"{url}/@lk_ann")
    cat.locator(f"#like-{post_id}").click()
    cat.wait_for_url(f"{url}/@lk_ann#post-{post_id}")
    like = cat.locator(f"#like-{post_id}")
    expect(like).to_have_attribute("aria-pressed", "true")
    expect(like.locator(".action-count")).to_have_text("2")

    row = cat.locator(f"#actions-{post_id}")
    row.locator("summary.action-react").click()  # <details> opens without JavaScript
    row.locator("button.react-choice[value='🎉']").click()
    cat.wait_for_url(f"{url}/@lk_ann#post-{post_id}")
    expect(row.locator("button.reaction[value='🎉'] .reaction-count")).to_have_text("2")

    row.locator("summary.action-react").click()
    row.locator(f"#react-input-{post_id}").fill("nope")
    row.locator(".react-free button[type=submit]").click()
    expect(cat.locator("h1")).to_have_text("React to this post")
    expect(cat.locator("#react-page-error")).to_contain_text("exactly one emoji")
    cat.screenshot(path=str(OUTPUT / "reaction-refused-no-js.png"), full_page=True)
    cat.fill("#react-page-input", "🇫🇷")
    cat.click(".react-page .react-free button[type=submit]")
    cat.wait_for_url(f"{url}/@lk_ann#post-{post_id}")
    expect(row.locator("button.reaction[value='🇫🇷']")).to_have_attribute("aria-pressed", "true")
    cat.screenshot(path=str(OUTPUT / "likes-reactions-no-js.png"), full_page=True)

    # The Likes page lists what cat liked.
    cat.click("nav >> text=Likes")
    cat.wait_for_url(f"{url}/likes")
    expect(cat.locator("#timeline article.post")).to_have_count(1)
    expect(cat.locator("#timeline article.post")).to_contain_text("Like and react to this")
