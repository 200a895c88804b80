"""A home page whose cached posts are all filtered out on read must not end the timeline."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from chirp.config import Settings
from tests.api.helpers import home_post_ids as api_home
from tests.factories import auth, make_token, make_user
from tests.web.helpers import home_post_ids as web_home


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """Web pages of four posts, like the API pages below."""
    return settings.model_copy(update={"page_size": 4})


async def _post(client: httpx.AsyncClient, token: str, text: str) -> int:
    r = await client.post("/api/v1/statuses", data={"status": text}, headers=auth(token))
    assert r.status_code == 200, r.text
    return int(r.json()["id"])


@pytest.mark.parametrize("change", ["unfollow", "delete"])
async def test_a_page_emptied_by_filtering_still_leads_to_the_older_posts(
    client: httpx.AsyncClient, app: FastAPI, session: AsyncSession, change: str
) -> None:
    ann, ben, cat = [await make_user(session, n) for n in ("ann", "ben", "cat")]
    tokens = {u.username: await make_token(session, u) for u in (ann, ben, cat)}
    for followee in (ben, cat):
        r = await client.post(f"/api/v1/accounts/{followee.id}/follow", headers=auth(tokens["ann"]))
        assert r.status_code == 200
    assert (await client.get("/api/v1/timelines/home", headers=auth(tokens["ann"]))).json() == []
    older = [await _post(client, tokens["ben"], f"ben {i}") for i in range(3)]
    newest = [await _post(client, tokens["cat"], f"cat {i}") for i in range(6)]
    # Requests whose jobs stay queued, as before a worker gets to them: the cached timeline
    # still holds cat's posts, and the read must filter them and go on to ben's.
    undrained = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver"
    )
    async with undrained:
        if change == "unfollow":
            r = await undrained.post(
                f"/api/v1/accounts/{cat.id}/unfollow", headers=auth(tokens["ann"])
            )
            assert r.status_code == 200
        else:
            for post_id in newest:
                r = await undrained.delete(
                    f"/api/v1/statuses/{post_id}", headers=auth(tokens["cat"])
                )
                assert r.status_code == 200
        want = sorted(older, reverse=True)
        assert await api_home(undrained, tokens["ann"]) == want
        assert await web_home(undrained, "ann") == want
