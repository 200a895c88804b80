"""A follow tells the account followed; undoing it takes back that notification alone."""

from __future__ import annotations

import httpx
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from tests.factories import auth, make_token, make_user
from tests.notifications.helpers import run_jobs


async def test_an_unfollow_withdraws_its_own_follow_notification_only(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    ann, bob, cat = [await make_user(session, n) for n in ("ann", "bob", "cat")]
    anns, bobs, cats = [await make_token(session, u) for u in (ann, bob, cat)]
    ann_id, bob_id, cat_id = str(ann.id), str(bob.id), str(cat.id)

    async def follow(token: str, account_id: str, action: str = "follow") -> None:
        r = await client.post(f"/api/v1/accounts/{account_id}/{action}", headers=auth(token))
        assert r.status_code == 200, r.text

    async def followers_told(token: str) -> list[str]:
        await run_jobs(app)  # notifications are made by jobs, as a worker would run them
        r = await client.get("/api/v1/notifications", headers=auth(token))
        assert r.status_code == 200
        return sorted(n["account"]["id"] for n in r.json() if n["type"] == "follow")

    # bob and cat follow ann; bob also follows cat.
    await follow(bobs, ann_id)
    await follow(cats, ann_id)
    await follow(bobs, cat_id)
    assert await followers_told(anns) == sorted([bob_id, cat_id])
    assert await followers_told(cats) == [bob_id]

    await follow(bobs, ann_id, "unfollow")
    assert await followers_told(anns) == [cat_id]
    assert await followers_told(cats) == [bob_id]  # bob still follows cat
    assert await followers_told(bobs) == []
