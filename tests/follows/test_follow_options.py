"""Follow's ``reblogs`` and ``notify`` options: stored, changed by following again, returned."""

from __future__ import annotations

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from chirp.follows.models import Follow
from tests.factories import auth, make_token, make_user


def _flags(rel: dict[str, object]) -> tuple[object, object, object]:
    return rel["following"], rel["showing_reblogs"], rel["notifying"]


async def test_follow_options_are_stored_updated_and_returned(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    ann = await make_user(session, "ann")
    bob = await make_user(session, "bob")
    cat = await make_user(session, "cat")
    token = await make_token(session, bob)
    url = f"/api/v1/accounts/{ann.id}/follow"
    r = await client.post(url, data={"reblogs": "false", "notify": "true"}, headers=auth(token))
    assert r.status_code == 200 and _flags(r.json()) == (True, False, True)
    # Mastodon's defaults for a follow that names none; bob's options for ann are his alone.
    r = await client.post(f"/api/v1/accounts/{cat.id}/follow", headers=auth(token))
    assert _flags(r.json()) == (True, True, False)
    # Following again changes the options (only those given) and nothing else.
    r = await client.post(url, json={"reblogs": True}, headers=auth(token))
    assert _flags(r.json()) == (True, True, True)
    r = await client.post(url, json={"notify": False}, headers=auth(token))
    assert _flags(r.json()) == (True, True, False)
    rels = await client.get(
        f"/api/v1/accounts/relationships?id[]={ann.id}&id[]={cat.id}", headers=auth(token)
    )
    assert [_flags(rel) for rel in rels.json()] == [(True, True, False), (True, True, False)]
    rows = (await session.execute(select(Follow).where(Follow.follower_id == bob.id))).scalars()
    assert len(list(rows)) == 2  # following again made no second follow
    assert (await client.get(f"/api/v1/accounts/{ann.id}")).json()["followers_count"] == 1
    # Changing bob's options for ann changes no other follow: not bob's of cat, not dan's of ann.
    dan = await make_user(session, "dan")
    dans = await make_token(session, dan)
    r = await client.post(url, data={"notify": "true"}, headers=auth(dans))
    assert _flags(r.json()) == (True, True, True)
    r = await client.post(url, json={"reblogs": False}, headers=auth(token))
    assert _flags(r.json()) == (True, False, False)
    rels = await client.get(
        f"/api/v1/accounts/relationships?id[]={ann.id}&id[]={cat.id}", headers=auth(token)
    )
    assert [_flags(rel) for rel in rels.json()] == [(True, False, False), (True, True, False)]
    rel = await client.get(f"/api/v1/accounts/relationships?id[]={ann.id}", headers=auth(dans))
    assert [_flags(r) for r in rel.json()] == [(True, True, True)]
    # Not following: both flags are false, as Mastodon reports them.
    r = await client.post(f"/api/v1/accounts/{ann.id}/unfollow", headers=auth(token))
    assert _flags(r.json()) == (False, False, False)
