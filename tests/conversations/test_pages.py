"""The Messages pages: conversations newest first with unread ones marked, one conversation
with a reply form, and a new message form; with and without htmx."""

from __future__ import annotations

import re

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from chirp.posts.models import Post
from tests.conftest import MakeApp, client_of
from tests.conversations.helpers import conversations, post, world
from tests.factories import auth, make_user
from tests.web.helpers import csrf, htmx, login, post_ids

_CONVERSATION = re.compile(
    r'<li class="conversation-item( unread)?">\s*'
    r'<a class="conversation-link" href="/messages/(\d+)"'
)


def _listed(html: str) -> list[tuple[str, bool]]:
    """(conversation link id, unread) of each conversation a Messages page lists."""
    return [(m.group(2), bool(m.group(1))) for m in _CONVERSATION.finditer(html)]


async def test_writing_reading_and_answering_messages_without_javascript(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    w = await world(session)
    await login(client, "ann")
    assert 'href="/messages"' in (await client.get("/")).text  # in the navigation
    empty = await client.get("/messages")
    assert "No messages yet" in empty.text and _listed(empty.text) == []
    token = await csrf(client, "/messages/new")
    # Unknown names, nobody else, or no text: said, and nothing is sent.
    for to, text, said in (
        ("@bob, ghost", "hi", "There is no account named @ghost"),
        ("ann", "hi", "other than you"),
        ("", "hi", "Name at least one person"),
        ("bob", "  ", "Write a message"),
    ):
        r = await client.post("/messages", data={"to": to, "text": text, "csrf_token": token})
        assert r.status_code == 422 and said in r.text, (to, r.text)
        assert f'value="{to}"' in r.text  # what was typed is kept
    assert (await session.execute(select(Post.id))).first() is None
    # Without the CSRF token: refused.
    r = await client.post("/messages", data={"to": "bob", "text": "hi"})
    assert r.status_code == 403
    r = await client.post(
        "/messages", data={"to": "@bob dan", "text": "lunch?", "csrf_token": token}
    )
    assert r.status_code == 303
    ann_link = r.headers["location"].split("#")[0]
    page = (await client.get(ann_link)).text
    assert "@bob @dan lunch?" in re.sub(r"<[^>]+>", "", page)
    # As an app shows it: not marked sensitive, quotable by nobody.
    sent = (await session.execute(select(Post.id).where(Post.text == "@bob @dan lunch?"))).one()
    shown = (await client.get(f"/api/v1/statuses/{sent.id}", headers=auth(w.tokens["bob"]))).json()
    assert (shown["visibility"], shown["sensitive"]) == ("direct", False)
    assert shown["quote_approval"] == {"automatic": [], "manual": [], "current_user": "denied"}
    # The reply form starts with the other participants' names.
    assert '<textarea id="message-text" name="text" rows="2" required' in page
    assert ">@bob @dan </textarea>" in page
    # bob sees it unread in bold, opens it (which reads it), answers.
    client.cookies.clear()
    await login(client, "bob")
    listed = _listed((await client.get("/messages")).text)
    assert len(listed) == 1 and listed[0][1] is True
    bob_link = f"/messages/{listed[0][0]}"
    assert "lunch?" in (await client.get(bob_link)).text
    assert _listed((await client.get("/messages")).text)[0][1] is False
    token = await csrf(client, bob_link)
    r = await client.post(bob_link, data={"text": "@ann @dan yes!", "csrf_token": token})
    assert r.status_code == 303 and r.headers["location"].startswith(bob_link + "#post-")
    # A reply naming nobody is refused on the page, the text kept.
    r = await client.post(bob_link, data={"text": "no names", "csrf_token": token})
    assert r.status_code == 422 and "must mention" in r.text and ">no names</textarea>" in r.text
    # cat follows ann but is not in it: no conversation, and ann's link is not found.
    client.cookies.clear()
    await login(client, "cat")
    assert _listed((await client.get("/messages")).text) == []
    assert (await client.get(ann_link)).status_code == 404
    assert (await client.get("/messages/12345")).status_code == 404
    # ann: unread again, the newest message first, oldest first inside.
    client.cookies.clear()
    await login(client, "ann")
    assert _listed((await client.get("/messages")).text) == [(ann_link.split("/")[-1], True)]
    inside = (await client.get(ann_link)).text
    assert inside.index("lunch?") < inside.index("yes!")


async def test_answering_in_place_with_htmx_and_the_composer_option(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    w = await world(session)
    await login(client, "ann")
    home = (await client.get("/")).text
    assert '<option value="direct">Direct (mentioned people only)</option>' in home
    token = await csrf(client, "/")
    # From the composer, like any post: on to its conversation, not into the home timeline.
    r = await client.post(
        "/posts", data={"text": "@dan psst", "visibility": "direct", "csrf_token": token}
    )
    dm = (await session.execute(select(Post).where(Post.text == "@dan psst"))).scalar_one()
    link = "/messages/" + _listed((await client.get("/messages")).text)[0][0]
    assert r.status_code == 303 and r.headers["location"] == f"{link}#post-{dm.id}"
    assert dm.visibility == "direct" and post_ids((await client.get("/")).text) == []
    r = await client.post(
        "/posts", data={"text": "@dan again", "visibility": "direct"}, headers=htmx(token)
    )
    assert r.status_code == 200 and r.headers["HX-Redirect"].startswith("/messages/")
    assert r.text == ""  # nothing swapped into the timeline
    r = await client.post(link, data={"text": "@dan more"}, headers=htmx(token))
    assert r.status_code == 200 and "<html" not in r.text and "more" in r.text
    sent = post_ids(r.text)
    assert len(sent) == 1
    r = await client.post(link, data={"text": "nobody"}, headers=htmx(token))
    assert r.status_code == 422 and "must mention" in r.text and "<html" not in r.text
    # The reply composer under a direct message offers direct, with the participants named.
    client.cookies.clear()
    await login(client, "dan")
    r = await client.get(f"/posts/{sent[0]}/reply")
    assert '<option value="direct" selected>' in r.text and ">@ann </textarea>" in r.text
    # Through the API too: listed for dan, unread.
    listed = (await client.get("/api/v1/conversations", headers=auth(w.tokens["dan"]))).json()
    words = [c["last_status"]["content"].split()[-1] for c in listed]
    assert words == ["more</p>", "again</p>"]
    assert listed[0]["last_status"]["id"] == str(sent[0]) and listed[0]["unread"] is True


async def test_older_conversations_are_a_page_away(
    session: AsyncSession, make_app: MakeApp
) -> None:
    await world(session)
    people = [await make_user(session, f"pal{i}") for i in range(3)]
    app = await make_app(page_size=2)
    async with client_of(app) as client:
        await login(client, "ann")
        token = await csrf(client, "/messages/new")
        for pal in people:
            r = await client.post(
                "/messages", data={"to": pal.username, "text": "hi", "csrf_token": token}
            )
            assert r.status_code == 303
        first = (await client.get("/messages")).text
        assert len(_listed(first)) == 2 and "@pal2" in first and "@pal0" not in first
        older = re.search(r'href="(/messages\?max_id=\d+)">Older conversations', first)
        assert older
        second = (await client.get(older.group(1))).text
        assert len(_listed(second)) == 1 and "@pal0" in second
        assert "Older conversations" not in second


def _badge(html: str) -> str | None:
    """The unread-messages count the navigation shows (None when the badge is hidden)."""
    found = re.search(
        r'<span id="messages-badge" class="nav-badge"( hidden)?>.*?'
        r'<span id="messages-count">([^<]*)</span>',
        html,
    )
    assert found is not None, "no messages badge"
    return None if found.group(1) else found.group(2)


async def test_the_navigation_counts_conversations_with_unread_messages(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    w = await world(session)
    # ann writes to bob and dan, cat to bob: two conversations for bob, one for dan.
    await post(client, w.tokens["ann"], "@bob @dan lunch?", visibility="direct")
    await post(client, w.tokens["cat"], "@bob hello", visibility="direct")
    seen = {}
    for name in ("ann", "bob", "cat", "dan"):
        client.cookies.clear()
        await login(client, name)
        seen[name] = _badge((await client.get("/")).text)
    assert seen == {"ann": None, "bob": "2", "cat": None, "dan": "1"}
    # bob opens one: the page he lands on already counts the other alone.
    client.cookies.clear()
    await login(client, "bob")
    first = _listed((await client.get("/messages")).text)[-1][0]
    assert _badge((await client.get(f"/messages/{first}")).text) == "1"
    assert _badge((await client.get("/messages/badge")).text) == "1"
    # Removed from his list: no longer counted.
    for conversation in await conversations(client, w.tokens["bob"]):
        r = await client.delete(
            f"/api/v1/conversations/{conversation['id']}", headers=auth(w.tokens["bob"])
        )
        assert r.status_code == 200
    assert _badge((await client.get("/")).text) is None
    client.cookies.clear()
    assert (await client.get("/messages/badge")).status_code == 303
