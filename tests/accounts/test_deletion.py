"""Deleting an account: gone from every surface at once, then nothing of it left."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

import chirp.models  # noqa: F401  (every table in the metadata)
from chirp.db import Base
from chirp.media.models import MediaAttachment
from chirp.posts.models import Post
from chirp.users import service as users_service
from chirp.users.models import User
from tests.accounts.helpers import run_jobs
from tests.conftest import MakeApp, client_of
from tests.factories import PASSWORD, auth, make_token, make_user
from tests.media.images import png
from tests.web.helpers import csrf, login, signup


async def _counts(session: AsyncSession) -> dict[str, int]:
    counts = {}
    for table in sorted(Base.metadata.tables):
        query = text(f"SELECT count(*) FROM {table}")  # noqa: S608 - table names from metadata
        counts[table] = int((await session.execute(query)).scalar_one())
    return counts


async def _counters(session: AsyncSession, user_ids: list[int]) -> dict[str, Any]:
    users = await session.execute(
        select(User.id, User.posts_count, User.followers_count, User.following_count)
        .where(User.id.in_(user_ids))
        .order_by(User.id)
    )
    posts = await session.execute(
        select(
            Post.id,
            Post.replies_count,
            Post.reblogs_count,
            Post.favourites_count,
            Post.quotes_count,
        ).order_by(Post.id)
    )
    return {"users": [tuple(r) for r in users], "posts": [tuple(r) for r in posts]}


class Api:
    """One user's API calls, through a client that runs no jobs unless asked."""

    def __init__(self, client: httpx.AsyncClient, token: str) -> None:
        self.client, self.token = client, token

    async def call(self, method: str, path: str, **data: Any) -> Any:
        r = await self.client.request(method, path, data=data or None, headers=auth(self.token))
        assert r.status_code == 200, (path, r.status_code, r.text)
        return r.json()

    async def status(self, path: str) -> int:
        return (await self.client.get(path, headers=auth(self.token))).status_code

    async def get(self, path: str) -> Any:
        return await self.call("GET", path)


def _plain(app: FastAPI) -> httpx.AsyncClient:
    # No worker behind it: what a reader sees before the deletion jobs have run.
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 123))
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


def _ids(items: list[dict[str, Any]]) -> set[str]:
    return {str(i["id"]) for i in items}


def _accounts_in(statuses: list[dict[str, Any]]) -> set[str]:
    found = set()
    for s in statuses:
        found.add(s["account"]["id"])
        if s.get("reblog"):
            found.add(s["reblog"]["account"]["id"])
    return found


async def test_a_deleted_account_is_gone_at_once_and_leaves_nothing_behind(
    make_app: MakeApp, session: AsyncSession
) -> None:
    ann = await make_user(session, "ann")
    bob = await make_user(session, "bob")
    cat = await make_user(session, "cat")
    dan = await make_user(session, "dan")
    app = await make_app()
    tokens = {u.username: await make_token(session, u) for u in (ann, bob, cat, dan)}
    async with _plain(app) as client:
        a, b, c, d = (Api(client, tokens[n]) for n in ("ann", "bob", "cat", "dan"))
        # Before ann acts: the others follow, post and like among themselves.
        await c.call("POST", f"/api/v1/accounts/{bob.id}/follow")
        await d.call("POST", f"/api/v1/accounts/{bob.id}/follow")
        await b.call("POST", f"/api/v1/accounts/{cat.id}/follow")
        bob_post = await b.call("POST", "/api/v1/statuses", status="hello #chirp")
        cat_post = await c.call("POST", "/api/v1/statuses", status="cat here")
        await d.call("POST", f"/api/v1/statuses/{bob_post['id']}/favourite")
        await run_jobs(app)
        others = [bob.id, cat.id, dan.id]
        before = await _counts(session)
        before_counters = await _counters(session, others)

        # Ann joins in: follows both ways, posts, mentions, replies, likes, reacts, messages.
        for who in (bob, cat):
            await a.call("POST", f"/api/v1/accounts/{who.id}/follow")
        await b.call("POST", f"/api/v1/accounts/{ann.id}/follow")
        await d.call("POST", f"/api/v1/accounts/{ann.id}/follow")
        ann_post = await a.call("POST", "/api/v1/statuses", status="ann says #chirp")
        await a.call("POST", "/api/v1/statuses", status="hey @bob and @cat")
        await a.call("POST", "/api/v1/statuses", status="a reply", in_reply_to_id=bob_post["id"])
        await a.call("POST", "/api/v1/statuses", status="only mine", visibility="private")
        await a.call("POST", "/api/v1/statuses", status="@cat psst", visibility="direct")
        await a.call("POST", f"/api/v1/statuses/{bob_post['id']}/favourite")
        await a.call("POST", f"/api/v1/statuses/{cat_post['id']}/reblog")
        await a.call("PUT", f"/api/v1/pleroma/statuses/{cat_post['id']}/reactions/👍")
        await b.call("POST", f"/api/v1/statuses/{ann_post['id']}/favourite")
        await c.call("POST", f"/api/v1/statuses/{ann_post['id']}/reblog")
        await c.call("PUT", f"/api/v1/pleroma/statuses/{ann_post['id']}/reactions/🎉")
        quote = await d.call(
            "POST", "/api/v1/statuses", status="quoting", quoted_status_id=ann_post["id"]
        )
        # One reply to ann stays: it is bob's post (it answers a post that will be gone).
        bob_reply = await b.call(
            "POST", "/api/v1/statuses", status="@ann nice", in_reply_to_id=ann_post["id"]
        )
        await run_jobs(app)
        home = await b.get("/api/v1/timelines/home")
        assert str(ann.id) in _accounts_in(home)  # materialised, in Redis on that backend
        assert await b.get("/api/v1/notifications")

    # Ann deletes her account from the settings page.
    async with client_of(app) as browser:
        await login(browser, "ann")
        page = await browser.get("/settings/delete")
        assert 'aria-current="page"' in page.text and "Delete your account" in page.text
        token = await csrf(browser, "/settings/delete")
        wrong = await browser.post(
            "/settings/delete",
            data={"password": "wrong one!", "username": "ann", "csrf_token": token},
        )
        assert wrong.status_code == 422 and "Password is incorrect" in wrong.text
        typo = await browser.post(
            "/settings/delete", data={"password": PASSWORD, "username": "anne", "csrf_token": token}
        )
        assert typo.status_code == 422
        assert (await browser.get("/settings")).status_code == 200  # nothing happened yet

    async with _plain(app) as client:
        # Deleted by a request whose jobs have not run yet.
        await login(client, "ann")
        token = await csrf(client, "/settings/delete")
        done = await client.post(
            "/settings/delete", data={"password": PASSWORD, "username": "@Ann", "csrf_token": token}
        )
        assert done.status_code == 303
        assert (await client.get("/settings")).status_code == 303  # logged out

        a, b, c, d = (Api(client, tokens[n]) for n in ("ann", "bob", "cat", "dan"))
        gone = str(ann.id)
        assert await a.status("/api/v1/accounts/verify_credentials") == 401
        # Every surface, at once.
        assert (await client.get("/@ann")).status_code == 404
        assert (await client.get("/@ann/followers")).status_code == 404
        assert "@ann" not in (await client.get("/users")).text
        assert gone not in _ids(await d.get("/api/v1/directory"))
        assert await b.status(f"/api/v1/accounts/{gone}") == 404
        assert await b.status("/api/v1/accounts/lookup?acct=ann") == 404
        assert await b.status(f"/api/v1/accounts/{gone}/statuses") == 404
        assert await b.status(f"/api/v1/statuses/{ann_post['id']}") == 404
        assert gone not in _ids(await b.get(f"/api/v1/accounts/{bob.id}/followers"))
        assert gone not in _ids(await b.get(f"/api/v1/accounts/{bob.id}/following"))
        assert "@ann" not in (await client.get("/@bob/followers")).text
        assert "@ann" not in (await client.get("/@bob/following")).text
        relationships = await b.get(f"/api/v1/accounts/relationships?id[]={gone}&id[]={cat.id}")
        assert gone not in _ids(relationships)
        for reader in (b, c, d):
            assert gone not in _accounts_in(await reader.get("/api/v1/timelines/home"))
        assert gone not in _accounts_in(await b.get("/api/v1/timelines/public"))
        assert gone not in _accounts_in(await b.get("/api/v1/timelines/tag/chirp"))
        context = await b.get(f"/api/v1/statuses/{bob_post['id']}/context")
        assert gone not in _accounts_in(context["descendants"])
        reply_context = await b.get(f"/api/v1/statuses/{bob_reply['id']}/context")
        assert reply_context["ancestors"] == []
        assert gone not in _ids(await b.get(f"/api/v1/statuses/{bob_post['id']}/favourited_by"))
        assert gone not in _ids(await c.get(f"/api/v1/statuses/{cat_post['id']}/reblogged_by"))
        for reader in (b, c):
            notes = await reader.get("/api/v1/notifications")
            assert gone not in {n["account"]["id"] for n in notes}
            grouped = await reader.get("/api/v2/notifications")
            assert gone not in _ids(grouped["accounts"])
        conversations = await c.get("/api/v1/conversations")
        assert all(gone not in _ids(conv["accounts"]) for conv in conversations)
        bob_page = (await client.get("/@bob")).text
        assert "@bob and @cat" not in bob_page and "a reply" not in bob_page
        assert "ann says" not in (await client.get("/")).text
        # Logging in fails the same way as for an unknown account.
        token = await csrf(client)
        r = await client.post(
            "/login", data={"login": "ann", "password": PASSWORD, "csrf_token": token}
        )
        assert r.status_code == 401

        await run_jobs(app)

    # Nothing of ann is left: every table as before she acted, but for two posts of others
    # that stay (bob's reply to her, dan's quote of her post) and her own API token.
    after = await _counts(session)
    assert after == {
        **before,
        "posts": before["posts"] + 2,
        "oauth_tokens": before["oauth_tokens"] - 1,
    }
    # Every counter is back where it was, but bob's and dan's posts counts (one more each).
    counters = await _counters(session, others)
    more_posts = {bob.id: 1, dan.id: 1}
    assert counters["users"] == [
        (uid, posts + more_posts.get(uid, 0), followers, following)
        for uid, posts, followers, following in before_counters["users"]
    ]
    new_posts = {int(bob_reply["id"]), int(quote["id"])}
    assert [p for p in counters["posts"] if p[0] not in new_posts] == before_counters["posts"]
    assert [p[1:] for p in counters["posts"] if p[0] in new_posts] == [(0, 0, 0, 0)] * 2
    row = await session.get(
        User,
        ann.id,
        populate_existing=True,
        execution_options={users_service.INCLUDE_DELETED: True},
    )
    assert row is not None and row.deleted_at is not None and row.email == ""

    async with client_of(app) as browser:
        # The username stays reserved, in any case; the address is free again.
        taken = await signup(browser, "ANN", email="other@example.com")
        assert taken.status_code == 422 and "already been taken" in taken.text
        fresh = await signup(browser, "annie", email="ann@example.com")
        assert fresh.status_code == 303
    # Five rows (ann's kept to reserve her name), four accounts anyone can see.
    assert (await session.execute(text("SELECT count(*) FROM users"))).scalar_one() == 5
    count = await session.execute(select(func.count()).select_from(User))
    assert count.scalar_one() == 4


async def test_deleting_an_account_deletes_its_images_and_archives(
    make_app: MakeApp, session: AsyncSession, tmp_path: Path
) -> None:
    # Files are not rows: a count of tables cannot see them. bob's image, the same bytes as
    # one of ann's, stays; everything of ann's goes.
    app = await make_app(media_dir=str(tmp_path / "media"), export_dir=str(tmp_path / "exports"))
    ann, bob = await make_user(session, "ann"), await make_user(session, "bob")
    tokens = {"ann": await make_token(session, ann), "bob": await make_token(session, bob)}
    await session.commit()

    def files(folder: str) -> list[Path]:
        root = tmp_path / folder
        return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []

    async with client_of(app) as api:

        async def upload(name: str, data: bytes) -> str:
            r = await api.post(
                "/api/v2/media",
                headers=auth(tokens[name]),
                files={"file": ("a.png", data, "image/png")},
            )
            assert r.status_code == 200, r.text
            return str(r.json()["id"])

        shared, own, unposted = png(color=(1, 2, 3)), png(color=(4, 5, 6)), png(color=(7, 8, 9))
        for name, images in (("ann", [shared, own]), ("bob", [shared])):
            ids = [await upload(name, data) for data in images]
            r = await api.post(
                "/api/v1/statuses",
                data={"status": "pictures", "media_ids[]": ids},
                headers=auth(tokens[name]),
            )
            assert r.status_code == 200, r.text
        await upload("ann", unposted)
        r = await api.patch(
            "/api/v1/accounts/update_credentials",
            headers=auth(tokens["ann"]),
            files={"avatar": ("me.png", png(color=(9, 9, 9)), "image/png")},
        )
        assert r.status_code == 200, r.text
        bobs = files("media")  # before ann's export, which adds nothing here
    async with client_of(app) as browser:
        await login(browser, "ann")
        token = await csrf(browser, "/settings/export")
        assert (
            await browser.post("/settings/export", data={"csrf_token": token})
        ).status_code == 303
        await run_jobs(app)
        assert len(files("exports")) == 1
        token = await csrf(browser, "/settings/delete")
        done = await browser.post(
            "/settings/delete", data={"password": PASSWORD, "username": "ann", "csrf_token": token}
        )
        assert done.status_code == 303
    await run_jobs(app)
    await run_jobs(app)  # the file clean-up the deletion queued
    left = await session.execute(select(MediaAttachment.account_id))
    assert list(left.scalars()) == [bob.id]
    assert files("exports") == []
    kept = files("media")
    assert len(kept) == 2 and set(kept) < set(bobs)  # bob's original and preview
    async with client_of(app) as api:
        r = await api.get("/api/v1/timelines/public")
        [post] = r.json()
        for size in ("url", "preview_url"):
            image = await api.get(post["media_attachments"][0][size])
            assert image.status_code == 200
