"""A tag's timeline: the API's and the web page, public posts only, any case, newest first."""

from __future__ import annotations

import re

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from chirp.follows import service as follows_service
from chirp.likes import service as likes_service
from tests.conftest import MakeApp, client_of
from tests.factories import auth, make_token, make_user
from tests.loops import at_most
from tests.tags.helpers import post
from tests.web.helpers import login, post_ids

_LINK = re.compile(r'<([^>]+)>; rel="(next|prev)"')


def _ids(r: httpx.Response) -> list[int]:
    assert r.status_code == 200, r.text
    return [int(s["id"]) for s in r.json()]


async def test_a_tag_lists_public_posts_of_every_author_in_any_case(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    ann, bob, cat = [await make_user(session, n) for n in ("ann", "bob", "cat")]
    # Overlapping follows: what a tag shows is everyone's, whoever you follow.
    await follows_service.follow(session, follower=ann, followee=bob)
    await follows_service.follow(session, follower=cat, followee=ann)
    await session.commit()
    first = await post(session, ann, "#Café first")
    second = await post(session, bob, "the #café second")
    await post(session, cat, "#CAFÉ unlisted", visibility="unlisted")
    await post(session, bob, "#café for followers", visibility="private")
    await post(session, cat, "#cafe is another tag, #tea too")
    third = await post(session, cat, "third #CAFÉ")
    await likes_service.like(session, user=ann, post=second)
    await session.commit()
    expected = [third.id, second.id, first.id]

    for name in ("café", "CAFÉ", "Café", "caf%C3%A9"):
        assert _ids(await client.get(f"/api/v1/timelines/tag/{name}")) == expected, name
    # Ann's token: she follows Bob (whose followers-only post stays out) and liked his post.
    token = await make_token(session, ann)
    r = await client.get("/api/v1/timelines/tag/cafe", headers=auth(token))
    assert len(_ids(r)) == 1 and r.json()[0]["tags"] == [
        {"name": "cafe", "url": "http://testserver/tags/cafe"},
        {"name": "tea", "url": "http://testserver/tags/tea"},
    ]
    statuses = (await client.get("/api/v1/timelines/tag/CAFÉ", headers=auth(token))).json()
    assert [s["favourited"] for s in statuses] == [False, True, False]
    assert [s["visibility"] for s in statuses] == ["public"] * 3

    # The web page, logged out and as Ann: the tag as first written, the same posts.
    page = await client.get("/tags/CAF%C3%89")
    assert page.status_code == 200
    assert "<h1>#Café</h1>" in page.text
    assert post_ids(page.text) == expected
    await login(client, "ann")
    page = await client.get("/tags/caf%C3%A9")
    assert post_ids(page.text) == expected
    assert (
        'aria-pressed="true"' in page.text.split(f'id="post-{second.id}"')[1].split("</article>")[0]
    )


async def test_a_tag_nobody_used_is_empty_and_a_name_that_is_no_tag_is_404(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    await post(session, await make_user(session, "ann"), "#used")
    r = await client.get("/api/v1/timelines/tag/unused")
    assert r.status_code == 200 and r.json() == [] and "Link" not in r.headers
    page = await client.get("/tags/Unused")
    assert page.status_code == 200 and "<h1>#Unused</h1>" in page.text
    assert "No public post has #Unused yet." in page.text
    for bad in ("1", "2024", "a-b", "%3Cscript%3Ealert(1)%3C%2Fscript%3E", "x" * 101, "%00a"):
        r = await client.get(f"/api/v1/timelines/tag/{bad}")
        assert r.status_code == 404 and r.json() == {"error": "Record not found"}, bad
        page = await client.get(f"/tags/{bad}")
        assert page.status_code == 404, bad
        assert "<script>alert" not in page.text
        assert (await client.get(f"/api/v1/tags/{bad}")).status_code == 404


async def test_tag_pages_with_link_headers_and_load_more(
    make_app: MakeApp, session: AsyncSession
) -> None:
    app = await make_app(page_size=2)
    ann, bob = await make_user(session, "ann"), await make_user(session, "bob")
    made = [await post(session, (ann, bob)[i % 2], f"#Paged number {i}") for i in range(5)]
    await post(session, ann, "#paged but unlisted", visibility="unlisted")
    newest_first = [p.id for p in reversed(made)]
    async with client_of(app) as client:
        url: str | None = "/api/v1/timelines/tag/PAGED?limit=2"
        seen: list[int] = []
        for _ in at_most(10):
            if url is None:
                break
            r = await client.get(url)
            page = _ids(r)
            seen += page
            links = dict((rel, link) for link, rel in _LINK.findall(r.headers.get("Link", "")))
            if page:
                assert "limit=2" in links["next"] and f"min_id={page[0]}" in links["prev"]
            url = links.get("next") if page else None
        assert seen == newest_first
        # Back up from the oldest: min_id pages forwards, newest first within a page.
        r = await client.get(f"/api/v1/timelines/tag/paged?limit=2&min_id={made[0].id}")
        assert _ids(r) == [made[2].id, made[1].id]
        r = await client.get(
            f"/api/v1/timelines/tag/paged?since_id={made[1].id}&max_id={made[4].id}"
        )
        assert _ids(r) == [made[3].id, made[2].id]

        # The web page: two at a time, "Load more" as a fragment, Back restores them all.
        page = (await client.get("/tags/paged")).text
        shown = post_ids(page)
        for _ in at_most(10):
            more = re.search(r'hx-get="(/tags/paged\?max_id=\d+)"', page)
            if more is None:
                break
            page = (await client.get(more.group(1), headers={"HX-Request": "true"})).text
            assert "<html" not in page
            shown += post_ids(page)
        assert shown == newest_first
        assert "You've reached the end" in page
        restored = await client.get(f"/tags/paged?until={made[0].id}")
        assert post_ids(restored.text) == newest_first


async def test_any_all_and_none_filters(client: httpx.AsyncClient, session: AsyncSession) -> None:
    ann, bob = await make_user(session, "ann"), await make_user(session, "bob")
    a = await post(session, ann, "#a")
    ab = await post(session, bob, "#a #b")
    b = await post(session, ann, "#B")
    ca = await post(session, bob, "#c #A")
    bc = await post(session, ann, "#b #c")
    base = "/api/v1/timelines/tag/a"
    for query, expected in (
        ("", [ca, ab, a]),
        ("any[]=b", [bc, ca, b, ab, a]),
        ("any=B", [bc, ca, b, ab, a]),
        ("any[]=b&any[]=c&any[]=nosuch", [bc, ca, b, ab, a]),
        ("all[]=b", [ab]),
        ("all[]=b&all[]=c", []),
        ("none[]=c", [ab, a]),
        ("any[]=b&none[]=C", [b, ab, a]),
        ("any[]=b&all[]=c", [bc, ca]),
        ("all[]=nosuch", []),  # no post has a tag nobody used
        ("none[]=nosuch", [ca, ab, a]),
        ("any[]=", [ca, ab, a]),  # an empty value asks for nothing
        ("local=true", [ca, ab, a]),  # every post here is local
        ("remote=true", []),  # and none is remote
        ("only_media=true", []),  # no post has media yet
    ):
        r = await client.get(f"{base}?{query}")
        assert _ids(r) == [p.id for p in expected], query


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("any[]=a&any[]=b&any[]=c&any[]=d&any[]=e", "any"),
        ("all[]=%3Cscript%3E", "all"),
        ("none[]=1", "none"),
        ("any[]=a%20b", "any"),
        ("all=%23a", "all"),
        ("limit=ten", "limit"),
        ("max_id=-1", "max_id"),
        ("local=maybe", "local"),
    ],
)
async def test_bad_parameters_are_422_naming_them(
    client: httpx.AsyncClient, session: AsyncSession, query: str, field: str
) -> None:
    await post(session, await make_user(session, "ann"), "#a")
    r = await client.get(f"/api/v1/timelines/tag/a?{query}")
    assert r.status_code == 422, (query, r.text)
    assert field in r.json()["error"], r.json()
    assert "<script>" not in r.text
