"""Steps the browser tests share."""

from __future__ import annotations

from playwright.sync_api import Page

from tests.factories import PASSWORD


def sign_up(page: Page, url: str, username: str) -> None:
    """Sign ``username`` up through the form and land on the home page."""
    page.goto(f"{url}/signup")
    page.fill("input[name=username]", username)
    page.fill("input[name=email]", f"{username}@example.com")
    page.fill("input[name=password]", PASSWORD)
    page.click("form[action='/signup'] button[type=submit]")
    page.wait_for_url(f"{url}/")


def settled(page: Page) -> None:
    """Wait until htmx has wired up what it last swapped in, as a person's next action finds it.

    htmx inserts new content at once (and focuses the control with the id that had focus)
    but wires it up when it settles, 20 ms later, so that changes can animate: a key or click
    in between reaches a plain form, which a person is never fast enough to do.
    """
    page.wait_for_function("() => !document.querySelector('.htmx-added, .htmx-settling')")
