"""Markers: saved read positions per timeline, as forms or JSON, versions, scopes, bad input."""

from __future__ import annotations

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from tests.factories import auth, make_token, make_user


async def test_markers_are_saved_read_and_versioned_per_user(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    ann, bob = await make_user(session, "ann"), await make_user(session, "bob")
    a, b = auth(await make_token(session, ann)), auth(await make_token(session, bob))
    both = "/api/v1/markers?timeline[]=home&timeline[]=notifications"
    assert (await client.get(both, headers=a)).json() == {}
    assert (await client.get("/api/v1/markers", headers=a)).json() == {}

    r = await client.post("/api/v1/markers", data={"home[last_read_id]": "111"}, headers=a)
    assert r.status_code == 200, r.text
    assert set(r.json()) == {"home"}
    home = r.json()["home"]
    assert home["last_read_id"] == "111" and home["version"] == 0
    assert home["updated_at"].endswith("Z")

    body = {"home": {"last_read_id": "222"}, "notifications": {"last_read_id": "5"}}
    r = await client.post("/api/v1/markers", json=body, headers=a)
    assert r.json()["home"]["version"] == 1 and r.json()["notifications"]["version"] == 0
    # The same position again changes nothing, version included.
    r = await client.post("/api/v1/markers", json={"home": {"last_read_id": "222"}}, headers=a)
    assert r.json()["home"]["version"] == 1
    # Back is allowed, as on Mastodon (a client may re-read).
    r = await client.post("/api/v1/markers", json={"home": {"last_read_id": "7"}}, headers=a)
    assert r.json()["home"] == {**r.json()["home"], "last_read_id": "7", "version": 2}

    got = (await client.get(both, headers=a)).json()
    assert {k: v["last_read_id"] for k, v in got.items()} == {"home": "7", "notifications": "5"}
    only_home = (await client.get("/api/v1/markers?timeline[]=home", headers=a)).json()
    assert set(only_home) == {"home"}
    unknown = await client.get("/api/v1/markers?timeline[]=public", headers=a)
    assert unknown.json() == {}
    # bob's markers are his own.
    assert (await client.get(both, headers=b)).json() == {}


async def test_bad_markers_are_refused_and_change_nothing(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    ann = await make_user(session, "ann")
    a = auth(await make_token(session, ann))
    for body in (
        {"home": {"last_read_id": "abc"}},
        {"home": {"last_read_id": "99999999999999999999"}},
        {"home": "12"},
        {"home": {"last_read_id": True}},
    ):
        r = await client.post("/api/v1/markers", json=body, headers=a)
        assert r.status_code == 422, body
        assert "home" in r.json()["error"]
    r = await client.post("/api/v1/markers", data={"notifications[last_read_id]": "x1"}, headers=a)
    assert r.status_code == 422
    both = "/api/v1/markers?timeline[]=home&timeline[]=notifications"
    assert (await client.get(both, headers=a)).json() == {}
    # Markers need read:statuses to read and write:statuses to save, as on Mastodon.
    notes = auth(await make_token(session, ann, scopes="read:notifications write:notifications"))
    assert (await client.get(both, headers=notes)).status_code == 403
    r = await client.post("/api/v1/markers", json={"home": {"last_read_id": "1"}}, headers=notes)
    assert r.status_code == 403
    statuses = auth(await make_token(session, ann, scopes="read:statuses"))
    assert (await client.get(both, headers=statuses)).status_code == 200
    r = await client.post("/api/v1/markers", json={"home": {"last_read_id": "1"}}, headers=statuses)
    assert r.status_code == 403
    assert (await client.get(both, headers=a)).json() == {}
