"""Reacting in the web UI: the picker's choices and free field in place with htmx, as plain
forms, and a refused emoji explained in place (htmx) or on a page (no JavaScript)."""

from __future__ import annotations

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from tests.likes.helpers import ann_posts, reactions_of, signed_in
from tests.web.helpers import htmx


async def test_react_and_take_back_in_place_with_htmx(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    _, post = await ann_posts(session, "react on the web")
    token = await signed_in(client, "bob")
    page = (await client.get("/")).text
    # The picker offers the common emoji and a field for any other.
    assert 'name="emoji" value="🎉"' in page and f'id="react-input-{post.id}"' in page

    form = {"emoji": "🎉", "next": "/", "item": str(post.id)}
    r = await client.post(f"/posts/{post.id}/react", data=form, headers=htmx(token))
    assert r.status_code == 200 and r.text.startswith(
        f'<div class="post-actions" id="actions-{post.id}"'
    )
    assert f'action="/posts/{post.id}/unreact"' in r.text
    assert 'class="reaction on" data-focus="reaction 🎉" aria-pressed="true"' in r.text
    again = await client.post(f"/posts/{post.id}/react", data=form, headers=htmx(token))
    assert again.text == r.text
    # The free field: "❤" without its selector is the picker's "❤️".
    form["emoji"] = "❤"
    r = await client.post(f"/posts/{post.id}/react", data=form, headers=htmx(token))
    assert 'value="❤️" class="reaction on"' in r.text
    assert await reactions_of(session, post.id) == {"🎉": (1, 1), "❤️": (1, 1)}

    # Pressing a highlighted reaction takes it back.
    form["emoji"] = "🎉"
    r = await client.post(f"/posts/{post.id}/unreact", data=form, headers=htmx(token))
    assert 'value="🎉"' not in r.text.split('class="reactions"')[-1]
    assert await reactions_of(session, post.id) == {"🎉": (0, 0), "❤️": (1, 1)}


async def test_a_refused_emoji_is_explained_in_place_and_changes_nothing(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    _, post = await ann_posts(session, "careful")
    token = await signed_in(client, "bob")
    for sent in ("hello", "👍👍", "🏽", "", "  "):
        data = {"emoji": sent, "next": "/", "item": str(post.id)}
        r = await client.post(f"/posts/{post.id}/react", data=data, headers=htmx(token))
        assert r.status_code == 422, (sent, r.text)
        assert r.headers["HX-Retarget"] == f"#react-error-{post.id}"
        assert r.headers["HX-Reswap"] == "innerHTML"
        assert 'role="alert"' in r.text and "emoji" in r.text, r.text
    assert await reactions_of(session, post.id) == {}


async def test_react_as_plain_forms_and_a_refusal_on_a_page_without_javascript(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    _, post = await ann_posts(session, "no javascript")
    token = await signed_in(client, "cat")
    data = {"csrf_token": token, "emoji": "👍🏽", "next": "/@ann", "item": str(post.id)}
    r = await client.post(f"/posts/{post.id}/react", data=data)
    assert r.status_code == 303 and r.headers["location"] == f"/@ann#post-{post.id}"
    page = (await client.get("/@ann")).text
    assert 'value="👍🏽" class="reaction on"' in page

    data["emoji"] = "two words"
    r = await client.post(f"/posts/{post.id}/react", data=data)
    assert r.status_code == 422
    assert "A reaction must be exactly one emoji" in r.text and "<html" in r.text
    # The picker again, with what was typed kept to fix, and the way back.
    assert 'value="two words"' in r.text and 'href="/@ann"' in r.text
    assert 'name="emoji" value="🎉"' in r.text
    assert await reactions_of(session, post.id) == {"👍🏽": (1, 1)}

    data["emoji"] = "👍🏽"
    r = await client.post(f"/posts/{post.id}/unreact", data=data)
    assert r.status_code == 303
    assert await reactions_of(session, post.id) == {"👍🏽": (0, 0)}
