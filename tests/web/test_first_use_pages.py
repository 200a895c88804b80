"""What a new user meets in the web UI: the end of a timeline, Back after "Load more", asking
before a delete, times a browser can localise, and people to follow on an empty home."""

from __future__ import annotations

import re

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from chirp.follows import service as follows_service
from chirp.posts.models import Post
from chirp.users.models import User
from tests.factories import make_post, make_user
from tests.web.helpers import csrf, htmx, login, post_ids

PAGE = 20  # CHIRP_PAGE_SIZE's default, which the test app keeps
END = "data-timeline-end"
MORE = re.compile(r'hx-get="(/[^"]*max_id=(\d+))"')


async def _home_with(session: AsyncSession, own: int, followed: int, strangers: int) -> list[int]:
    """Alice, who follows Bob but not Carol; return her home's post ids, newest first."""
    alice, bob, carol = [await make_user(session, n) for n in ("alice", "bob", "carol")]
    await follows_service.follow(session, follower=alice, followee=bob)
    await session.commit()
    shown = []
    for i in range(max(own, followed, strangers)):
        for author, count in ((alice, own), (bob, followed), (carol, strangers)):
            if i < count:
                post = await make_post(session, author, f"{author.username} {i}")
                if author is not carol:
                    shown.append(post.id)
    return sorted(shown, reverse=True)


async def test_a_full_last_page_ends_with_a_marker_not_a_load_more_that_loads_nothing(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    expected = await _home_with(session, own=10, followed=10, strangers=5)
    assert len(expected) == PAGE
    await login(client, "alice")
    page = (await client.get("/")).text
    assert post_ids(page) == expected
    assert not MORE.search(page)
    assert END in page and "reached the end" in page


async def test_load_more_appears_only_while_there_is_more_and_the_last_page_says_so(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    expected = await _home_with(session, own=11, followed=10, strangers=7)
    await login(client, "alice")
    page = (await client.get("/")).text
    more = MORE.search(page)
    assert more and END not in page
    assert post_ids(page) == expected[:PAGE]
    rest = (await client.get(more.group(1), headers={"HX-Request": "true"})).text
    assert post_ids(rest) == expected[PAGE:]
    assert not MORE.search(rest) and END in rest


async def test_until_renders_every_page_loaded_so_far_for_back_and_reload(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    expected = await _home_with(session, own=35, followed=35, strangers=25)
    await login(client, "alice")
    # After two "Load more"s the address says ?until=<the oldest post shown>.
    oldest_shown = expected[3 * PAGE - 1]
    page = (await client.get(f"/?until={oldest_shown}")).text
    assert "<html" in page
    assert post_ids(page) == expected[: 3 * PAGE]
    more = MORE.search(page)
    assert more and int(more.group(2)) == oldest_shown
    rest = (await client.get(more.group(1), headers={"HX-Request": "true"})).text
    assert post_ids(rest) == expected[3 * PAGE :] and END in rest
    # Down to the very last post: everything, and the end marker instead of "Load more".
    page = (await client.get(f"/?until={expected[-1]}")).text
    assert post_ids(page) == expected and END in page and not MORE.search(page)


async def test_until_on_a_profile_and_the_public_timeline(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    alice, bob = await make_user(session, "alice"), await make_user(session, "bob")
    posts = []
    for i in range(30):
        posts.append(await make_post(session, alice, f"a{i}"))
        await make_post(session, bob, f"b{i}")
    mine = [p.id for p in reversed(posts)]
    page = (await client.get(f"/@Alice?until={mine[24]}")).text  # no redirect: keeps until
    assert post_ids(page) == mine[:25]
    assert int(MORE.search(page).group(2)) == mine[24]  # type: ignore[union-attr]
    everyone = (await client.get("/")).text
    newest_ids = post_ids(everyone)
    public = (await client.get(f"/?until={newest_ids[-1]}")).text
    assert post_ids(public) == newest_ids


async def test_until_must_be_an_id(client: httpx.AsyncClient, session: AsyncSession) -> None:
    await make_user(session, "alice")
    await login(client, "alice")
    assert (await client.get("/?until=abc")).status_code == 404
    assert (await client.get("/@alice?until=-1")).status_code == 404


async def _count(session: AsyncSession) -> int:
    return int((await session.execute(select(func.count()).select_from(Post))).scalar_one())


async def test_delete_without_javascript_asks_first_on_a_page_of_its_own(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    alice = await make_user(session, "alice")
    await make_user(session, "bob")
    post = await make_post(session, alice, "think twice")
    await login(client, "alice")
    home = (await client.get("/")).text
    # The control in the post is a plain GET form: without htmx it leads to the question.
    assert f'<form method="get" action="/posts/{post.id}/delete"' in home
    r = await client.get(f"/posts/{post.id}/delete", params={"next": "/"})
    assert r.status_code == 200 and "Delete this post?" in r.text and "think twice" in r.text
    assert await _count(session) == 1  # asking deletes nothing
    assert f'<form method="post" action="/posts/{post.id}/delete"' in r.text
    assert '<a class="btn" href="/">Cancel</a>' in r.text
    token = await csrf(client, f"/posts/{post.id}/delete")
    r = await client.post(f"/posts/{post.id}/delete", data={"csrf_token": token, "next": "/"})
    assert r.status_code == 303 and r.headers["location"] == "/"
    assert await _count(session) == 0

    # Another's post: not among yours (404, as deleting it answers); logged out: log in first.
    other = await make_post(session, await _user(session, "bob"), "not yours")
    assert (await client.get(f"/posts/{other.id}/delete")).status_code == 404
    client.cookies.clear()
    r = await client.get(f"/posts/{other.id}/delete")
    assert r.status_code == 303 and r.headers["location"].startswith("/login")
    assert await _count(session) == 1


async def _user(session: AsyncSession, name: str) -> User:
    return (await session.execute(select(User).where(User.username == name))).scalar_one()


async def test_times_carry_a_utc_instant_the_browser_can_localise(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    alice = await make_user(session, "alice")
    post = await make_post(session, alice, "what time is it")
    page = (await client.get(f"/@alice/{post.id}")).text
    stamp = post.created_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert f'<time datetime="{stamp}"' in page
    # Without JavaScript the exact time says which zone it is in.
    assert re.search(r"<time [^>]*data-exact>[^<]+ UTC</time>", page), page


async def test_an_empty_home_suggests_popular_accounts_you_do_not_follow(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    nina = await make_user(session, "nina")
    fans = [await make_user(session, f"fan{i}") for i in range(4)]
    popular = {"star": 4, "known": 3, "quiet": 1, "followed": 2}
    accounts = {name: await make_user(session, name) for name in popular}
    for name, count in popular.items():
        for fan in fans[:count]:
            await follows_service.follow(session, follower=fan, followee=accounts[name])
    # Nina follows someone who has not posted, and a fan follows her: she is popular too,
    # but never suggested to herself.
    await follows_service.follow(session, follower=nina, followee=accounts["followed"])
    await follows_service.follow(session, follower=fans[0], followee=nina)
    await session.commit()

    await login(client, "nina")
    page = (await client.get("/")).text
    assert "Who to follow" in page
    aside = page[page.index('id="suggestions-title"') :]
    suggested = re.findall(r'class="suggestion-names" href="/@(\w+)"', aside)
    assert suggested[:3] == ["star", "known", "quiet"]
    assert "followed" not in suggested and "nina" not in suggested
    assert len(suggested) == 5  # the page's limit, filled up with fans (no followers yet)

    # Following from there works in place, like any follow button.
    token = await csrf(client, "/")
    r = await client.post("/@star/follow", headers=htmx(token))
    assert r.status_code == 200 and "<html" not in r.text and "Following" in r.text
    assert await follows_service.is_following(
        session, follower_id=nina.id, followee_id=accounts["star"].id
    )
    page = (await client.get("/")).text
    assert "Who to follow" in page and 'href="/@star"' not in page.split("suggestions-title")[1]

    # Once there is something to read, the side column is the usual one.
    r = await client.post("/posts", data={"text": "hello", "csrf_token": token})
    assert r.status_code == 303
    page = (await client.get("/")).text
    assert "hello" in page and "Who to follow" not in page


async def test_suggestions_leave_out_who_you_follow_whoever_else_follows_them(
    session: AsyncSession,
) -> None:
    ann, ben, cat, dan = [await make_user(session, n) for n in ("ann", "ben", "cat", "dan")]
    # Overlapping follows: Ann and Ben both follow Cat; only Ben follows Dan.
    for follower, followee in ((ann, cat), (ben, cat), (ben, dan), (cat, dan), (dan, ann)):
        await follows_service.follow(session, follower=follower, followee=followee)
    await session.commit()
    names = {u.id: u.username for u in (ann, ben, cat, dan)}

    async def suggested(user: User) -> list[str]:
        found = await follows_service.suggestions(session, viewer_id=user.id, limit=10)
        return [names[u.id] for u in found]

    assert await suggested(ann) == ["dan", "ben"]
    assert await suggested(ben) == ["ann"]
    assert (await suggested(dan))[0] == "cat" and set(await suggested(dan)) == {"cat", "ben"}
    assert await suggested(cat) == ["ann", "ben"]
