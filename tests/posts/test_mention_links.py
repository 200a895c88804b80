"""Mentions and hashtags in post text: linked as Mastodon links them, on pages and in the API."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from chirp.config import Settings
from chirp.posts.text import post_html, to_html
from tests.factories import auth, make_post, make_token, make_user


def _mention(name: str, written: str | None = None, base: str = "") -> str:
    return (
        f'<span class="h-card"><a href="{base}/@{name}" class="u-url mention">'
        f"@<span>{written or name}</span></a></span>"
    )


def _tag(name: str, path: str, base: str = "") -> str:
    return (
        f'<a href="{base}/tags/{path}" class="mention hashtag" rel="tag">#<span>{name}</span></a>'
    )


@pytest.mark.parametrize(
    ("text", "html"),
    [
        # Only the accounts the post mentions are links; the name keeps the author's case.
        ("hi @alice", f"hi {_mention('alice')}"),
        ("hi @ALICE!", f"hi {_mention('alice', 'ALICE')}!"),
        ("@alice, @alice.", f"{_mention('alice')}, {_mention('alice')}."),
        (
            "(@alice) @alice: @alice?",
            f"({_mention('alice')}) {_mention('alice')}: {_mention('alice')}?",
        ),
        # A name nobody has, a longer word, another script, an email, a remote account: text.
        ("@ghost @alicea @aliceé", "@ghost @alicea @aliceé"),
        ("@Ünïcode", "@Ünïcode"),
        ("mail alice@example.com", "mail alice@example.com"),
        ("@alice@other.example", "@alice@other.example"),
        # Tags link to their page, the name percent-encoded in the address.
        ("#Café, #café.", f"{_tag('Café', 'Caf%C3%A9')}, {_tag('café', 'caf%C3%A9')}."),
        ("#日本語", _tag("日本語", "%E6%97%A5%E6%9C%AC%E8%AA%9E")),
        ("#1 page#x", "#1 page#x"),
    ],
)
def test_mentions_and_tags_render_as_links(text: str, html: str) -> None:
    assert str(to_html(text, ("alice",))) == f"<p>{html}</p>"


def test_nothing_inside_a_link_is_a_mention_or_a_tag() -> None:
    html = str(to_html("https://example.com/@alice/#tag and #tag", ("alice",)))
    assert html.count("<a ") == 2
    assert 'href="https://example.com/@alice/#tag"' in html
    assert html.endswith(f" and {_tag('tag', 'tag')}</p>")


def test_markup_in_text_and_names_stays_text() -> None:
    html = str(to_html('#<script>alert(1)</script> @alice"><b> #a"b <i>#x</i>', ("alice",)))
    assert "<script>" not in html and "<b>" not in html and "<i>" not in html
    assert "#&lt;script&gt;" in html
    assert _mention("alice") + "&#34;&gt;&lt;b&gt;" in html
    assert _tag("a", "a") + "&#34;b" in html
    assert _tag("x", "x") + "&lt;/i&gt;" in html


def test_the_api_links_carry_the_site_address_and_the_cache_keeps_them_apart() -> None:
    assert str(to_html("@alice #t", ("alice",), "https://chirp.example")) == (
        f"<p>{_mention('alice', base='https://chirp.example')} "
        f"{_tag('t', 't', 'https://chirp.example')}</p>"
    )
    # The same text for a post that mentions nobody: the name is text.
    assert str(to_html("@alice #t")) == f"<p>@alice {_tag('t', 't')}</p>"
    assert str(to_html("@alice #t", ("alice",))) == f"<p>{_mention('alice')} {_tag('t', 't')}</p>"


def test_plain_text_renders_without_mentions() -> None:
    assert str(post_html("@alice")) == "<p>@alice</p>"


async def test_posts_show_mentions_and_tags_on_pages_and_in_the_api(
    client: httpx.AsyncClient, session: AsyncSession, settings: Settings
) -> None:
    ann = await make_user(session, "ann")
    bob = await make_user(session, "Bob")
    post = await make_post(
        session, ann, "hey @bob and @ghost, mail bob@example.com #Café #<script> @Ünïcode"
    )
    # Bob's mention stands, spelt as written; the account signing up later changes nothing.
    await make_user(session, "ghost")
    base = settings.base_url

    status = (await client.get(f"/api/v1/statuses/{post.id}")).json()
    assert status["mentions"] == [
        {"id": str(bob.id), "username": "Bob", "acct": "Bob", "url": f"{base}/@Bob"}
    ]
    assert status["tags"] == [{"name": "Café", "url": f"{base}/tags/Caf%C3%A9"}]
    assert status["content"] == (
        f"<p>hey {_mention('Bob', 'bob', base)} and @ghost, mail bob@example.com "
        f"{_tag('Café', 'Caf%C3%A9', base)} #&lt;script&gt; @Ünïcode</p>"
    )

    page = (await client.get(f"/@ann/{post.id}")).text
    assert _mention("Bob", "bob") in page
    assert _tag("Café", "Caf%C3%A9") in page
    assert "@ghost," in page and 'href="/@ghost"' not in page
    assert "<script>" not in page.split("<body", 1)[1].replace("<script src=", "")

    # A timeline read (with a token: the viewer's flags) shows the same.
    token = await make_token(session, ann)
    home = (await client.get("/api/v1/timelines/home", headers=auth(token))).json()
    assert home[0]["mentions"] == status["mentions"] and home[0]["content"] == status["content"]


async def test_a_status_without_entities_has_empty_lists(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    post = await make_post(session, await make_user(session, "ann"), "plain words")
    status = (await client.get(f"/api/v1/statuses/{post.id}")).json()
    assert status["mentions"] == [] and status["tags"] == []
