"""Quote posts as Mastodon 4.5 defines them, through the API on every backend: policies
(public, followers, nobody), followers-only posts, deleted posts, the count, the list.

ann writes; fay follows her; sam does not; ann follows nobody.
"""

from __future__ import annotations

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from chirp.posts.models import Post
from tests.factories import auth, make_token, make_user


async def _setup(session: AsyncSession, client: httpx.AsyncClient) -> dict[str, str]:
    tokens: dict[str, str] = {}
    ids: dict[str, int] = {}
    for name in ("ann", "fay", "sam"):
        user = await make_user(session, name)
        ids[name], tokens[name] = user.id, await make_token(session, user)
    r = await client.post(f"/api/v1/accounts/{ids['ann']}/follow", headers=auth(tokens["fay"]))
    assert r.status_code == 200
    return tokens


async def _post(client: httpx.AsyncClient, token: str, **data: str) -> httpx.Response:
    return await client.post("/api/v1/statuses", data=data, headers=auth(token))


async def _posts(session: AsyncSession) -> int:
    return int((await session.execute(select(func.count()).select_from(Post))).scalar_one())


async def test_quote_policies_decide_who_may_quote(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    t = await _setup(session, client)
    made = {}
    for policy in ("public", "followers", "nobody"):
        r = await _post(
            client, t["ann"], status=f"quote me? {policy}", quote_approval_policy=policy
        )
        assert r.status_code == 200, r.text
        approval = r.json()["quote_approval"]
        assert approval["automatic"] == ([] if policy == "nobody" else [policy])
        assert approval["current_user"] == "automatic"  # the author may always quote
        made[policy] = r.json()["id"]
    allowed = {
        ("fay", "public"),
        ("fay", "followers"),
        ("sam", "public"),
        ("ann", "public"),
        ("ann", "followers"),
        ("ann", "nobody"),
    }
    before = await _posts(session)
    for quoter in ("ann", "fay", "sam"):
        for policy, post_id in made.items():
            r = await _post(client, t[quoter], status="quoting", quoted_status_id=post_id)
            if (quoter, policy) in allowed:
                assert r.status_code == 200, (quoter, policy, r.text)
                assert r.json()["quote"]["state"] == "accepted"
                assert r.json()["quote"]["quoted_status"]["id"] == post_id
            else:
                assert r.status_code == 422, (quoter, policy, r.text)
                assert "quote" in r.json()["error"]
    # Refusals wrote nothing; each accepted quote counted once on its original.
    assert await _posts(session) == before + len(allowed)
    for policy, post_id in made.items():
        shown = await client.get(f"/api/v1/statuses/{post_id}", headers=auth(t["sam"]))
        expected = sum(1 for _, p in allowed if p == policy)
        assert shown.json()["quotes_count"] == expected
        assert shown.json()["quote_approval"]["current_user"] == (
            "automatic" if ("sam", policy) in allowed else "denied"
        )


async def test_followers_only_posts_are_quotable_by_their_author_alone(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    t = await _setup(session, client)
    private = await _post(
        client,
        t["ann"],
        status="inner circle",
        visibility="private",
        quote_approval_policy="public",
    )
    assert private.status_code == 200
    assert private.json()["quote_approval"]["automatic"] == []  # ignored: nobody
    # fay sees it but may not quote it; sam cannot even see it: both 422, as if absent.
    for quoter in ("fay", "sam"):
        r = await _post(client, t[quoter], status="q", quoted_status_id=private.json()["id"])
        assert r.status_code == 422, r.text
    # Its author may, and the quote becomes followers-only too (Mastodon).
    own = await _post(
        client, t["ann"], status="q", quoted_status_id=private.json()["id"], visibility="public"
    )
    assert own.status_code == 200, own.text
    assert own.json()["visibility"] == "private"
    assert own.json()["quote"]["state"] == "accepted"
    # ... and, followers-only, quotable by nobody but ann, whatever she asked for.
    assert own.json()["quote_approval"]["automatic"] == []


async def test_quoting_a_missing_post_is_refused_and_a_deleted_original_shows_removed(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    t = await _setup(session, client)
    for bad in ("123456", "not-a-number", "0"):
        r = await _post(client, t["fay"], status="quoting nothing", quoted_status_id=bad)
        assert r.status_code == 422, (bad, r.text)
    bad_policy = await _post(client, t["fay"], status="x", quote_approval_policy="everyone")
    assert bad_policy.status_code == 422
    original = (await _post(client, t["ann"], status="quotable")).json()
    quote = (
        await _post(client, t["fay"], status="well said", quoted_status_id=original["id"])
    ).json()
    r = await client.delete(f"/api/v1/statuses/{original['id']}", headers=auth(t["ann"]))
    assert r.status_code == 200
    again = await client.get(f"/api/v1/statuses/{quote['id']}", headers=auth(t["sam"]))
    assert again.status_code == 200
    assert again.json()["quote"] == {"state": "deleted", "quoted_status": None}
    late = await _post(client, t["sam"], status="too late", quoted_status_id=original["id"])
    assert late.status_code == 422


async def test_deleting_a_quote_takes_it_out_of_the_originals_count(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    t = await _setup(session, client)
    original = (await _post(client, t["ann"], status="quote me")).json()
    other = (await _post(client, t["ann"], status="not quoted")).json()
    quotes = {}
    for quoter in ("fay", "sam"):
        r = await _post(client, t[quoter], status="agreed", quoted_status_id=original["id"])
        assert r.status_code == 200, r.text
        quotes[quoter] = r.json()["id"]

    async def counts() -> tuple[int, int]:
        shown = [
            (await client.get(f"/api/v1/statuses/{s['id']}", headers=auth(t["sam"]))).json()
            for s in (original, other)
        ]
        return shown[0]["quotes_count"], shown[1]["quotes_count"]

    assert await counts() == (2, 0)
    for quoter, left in (("fay", 1), ("sam", 0)):
        r = await client.delete(f"/api/v1/statuses/{quotes[quoter]}", headers=auth(t[quoter]))
        assert r.status_code == 200, r.text
        assert await counts() == (left, 0)


async def test_quotes_list_shows_what_the_reader_may_see(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    t = await _setup(session, client)
    original = (await _post(client, t["ann"], status="discuss")).json()
    url = f"/api/v1/statuses/{original['id']}/quotes"
    public = (
        await _post(client, t["sam"], status="public take", quoted_status_id=original["id"])
    ).json()
    private = (
        await _post(
            client,
            t["ann"],
            status="own aside",
            quoted_status_id=original["id"],
            visibility="private",
        )
    ).json()
    other = (
        await _post(client, t["fay"], status="fay's take", quoted_status_id=original["id"])
    ).json()
    # fay follows ann: she sees ann's followers-only quote; sam does not.
    fay = await client.get(url, headers=auth(t["fay"]))
    assert [s["id"] for s in fay.json()] == [other["id"], private["id"], public["id"]]
    sam = await client.get(url, headers=auth(t["sam"]))
    assert [s["id"] for s in sam.json()] == [other["id"], public["id"]]
    paged = await client.get(f"{url}?limit=1", headers=auth(t["fay"]))
    assert [s["id"] for s in paged.json()] == [other["id"]]
    assert 'rel="next"' in paged.headers["link"]
    # A token is needed (Mastodon: user token + read:statuses); a post not seen is 404.
    assert (await client.get(url)).status_code == 401
    hidden = await _post(client, t["ann"], status="secret", visibility="private")
    hidden_url = f"/api/v1/statuses/{hidden.json()['id']}/quotes"
    assert (await client.get(hidden_url, headers=auth(t["sam"]))).status_code == 404


async def test_the_author_changes_who_may_quote_and_every_reader_sees_it(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    t = await _setup(session, client)
    post = (await _post(client, t["ann"], status="open at first")).json()
    first = await _post(client, t["fay"], status="early quote", quoted_status_id=post["id"])
    assert first.status_code == 200
    # fay's home (the Redis path on that backend) has the post cached with its policy.
    home = await client.get("/api/v1/timelines/home", headers=auth(t["fay"]))
    shown = next(s for s in home.json() if s["id"] == post["id"])
    assert shown["quote_approval"]["current_user"] == "automatic"
    url = f"/api/v1/statuses/{post['id']}/interaction_policy"
    r = await client.put(url, data={"quote_approval_policy": "nobody"}, headers=auth(t["ann"]))
    assert r.status_code == 200, r.text
    assert r.json()["quote_approval"]["automatic"] == []
    home = await client.get("/api/v1/timelines/home", headers=auth(t["fay"]))
    shown = next(s for s in home.json() if s["id"] == post["id"])
    assert shown["quote_approval"] == {"automatic": [], "manual": [], "current_user": "denied"}
    late = await _post(client, t["fay"], status="late quote", quoted_status_id=post["id"])
    assert late.status_code == 422
    # Past quotes stay; only the author may change it; a bad or missing value is 422.
    still = await client.get(f"/api/v1/statuses/{first.json()['id']}", headers=auth(t["sam"]))
    assert still.json()["quote"]["state"] == "accepted"
    other = await client.put(url, data={"quote_approval_policy": "public"}, headers=auth(t["fay"]))
    assert other.status_code == 404
    for bad in ({"quote_approval_policy": "everyone"}, {}):
        r = await client.put(url, data=bad, headers=auth(t["ann"]))
        assert r.status_code == 422 and "quote_approval_policy" in r.json()["error"]
    # A followers-only post stays quotable by nobody but its author, whatever is asked.
    private = (await _post(client, t["ann"], status="inner", visibility="private")).json()
    r = await client.put(
        f"/api/v1/statuses/{private['id']}/interaction_policy",
        data={"quote_approval_policy": "public"},
        headers=auth(t["ann"]),
    )
    assert r.status_code == 200 and r.json()["quote_approval"]["automatic"] == []
