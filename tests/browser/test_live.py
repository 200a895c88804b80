"""Live updates in a real browser: a followed account's new post and a like of your post
show without a reload."""

from __future__ import annotations

from playwright.sync_api import Browser, expect

from tests.browser.pages import sign_up
from tests.live import LiveServer


def test_new_posts_and_notifications_show_without_reload(
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

    # bob likes her post: the badge in her navigation counts it, still without a reload.
    badge = reader.locator("#notifications-badge")
    expect(badge).to_be_hidden()
    bob.goto(f"{url}/@live_ann")
    ann_post = bob.locator("article", has_text="Ann writes").first
    post_id = (ann_post.get_attribute("id") or "").removeprefix("post-")
    bob.locator(f"#like-{post_id}").click()
    expect(bob.locator(f"#like-{post_id}")).to_have_attribute("aria-pressed", "true")
    expect(badge).to_be_visible(timeout=15_000)
    expect(reader.locator("#notifications-count")).to_have_text("1")
    assert reader.evaluate("window.__noReload") is True
    # Open, the notifications page shows it and the badge goes; a second like (by a new
    # account) appears in the list without a reload.
    reader.click("a.nav-item[href='/notifications']")
    expect(reader.locator("#notifications-card")).to_contain_text("live_bob liked your post")
    expect(badge).to_be_hidden()
    reader.evaluate("window.__noReload = true")
    cat = browser.new_context().new_page()
    sign_up(cat, url, "live_cat")
    cat.goto(f"{url}/@live_ann")
    cat.locator(f"#like-{post_id}").click()
    expect(reader.locator("#notifications-card")).to_contain_text("live_cat", timeout=15_000)
    assert reader.evaluate("window.__noReload") is True
    expect(badge).to_be_hidden()

    # bob writes to her: the Messages badge counts it without a reload; reading it clears it.
    messages = reader.locator("#messages-badge")
    expect(messages).to_be_hidden()
    bob.goto(f"{url}/messages/new")
    bob.fill("#message-to", "live_ann")
    bob.fill("#message-text", "a word in private")
    bob.click("main button[type=submit]:has-text('Send')")
    expect(bob.locator("main")).to_contain_text("a word in private")
    expect(messages).to_be_visible(timeout=15_000)
    expect(reader.locator("#messages-count")).to_have_text("1")
    assert reader.evaluate("window.__noReload") is True
    reader.click("a.nav-item[href='/messages']")
    reader.locator("a.conversation-link").first.click()
    expect(reader.locator("main")).to_contain_text("a word in private")
    expect(messages).to_be_hidden()
