"""Profile editing through the API: update_credentials, the Account entity, preferences."""

from __future__ import annotations

from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from tests.factories import auth, make_post, make_token, make_user, reload
from tests.notifications.helpers import run_jobs

URL = "/api/v1/accounts/update_credentials"
SITE = "https://example.com/ann"


async def _me(client: httpx.AsyncClient, token: str) -> dict[str, Any]:
    r = await client.get("/api/v1/accounts/verify_credentials", headers=auth(token))
    assert r.status_code == 200, r.text
    me: dict[str, Any] = r.json()
    return me


async def test_form_update_sets_bio_fields_locked_and_sensitive_for_every_reader(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    ann = await make_user(session, "ann")
    await make_user(session, "bob")
    token = await make_token(session, ann)
    bob_token = await make_token(session, await make_user(session, "carl"))
    note = "Hi @bob and @nobody! #Birds <b>bold</b> https://example.org/x"
    r = await client.patch(
        URL,
        data={
            "display_name": "Ann the Great",
            "note": note,
            "locked": "true",
            "source[sensitive]": "true",
            "fields_attributes[0][name]": "Site",
            "fields_attributes[0][value]": SITE,
            "fields_attributes[1][name]": "Pronouns",
            "fields_attributes[1][value]": "she/her <i>",
            # Pairs left blank are dropped, as Mastodon does.
            "fields_attributes[2][name]": "",
            "fields_attributes[2][value]": "",
        },
        headers=auth(token),
    )
    assert r.status_code == 200, r.text
    me = r.json()
    assert me["display_name"] == "Ann the Great" and me["locked"] is True
    # The bio as typed in the source; as HTML in the entity, with only real accounts linked.
    assert me["source"]["note"] == note
    html = me["note"]
    assert 'href="http://testserver/@bob"' in html and "@nobody" in html
    assert "/@nobody" not in html
    assert 'href="http://testserver/tags/Birds"' in html
    assert "&lt;b&gt;bold&lt;/b&gt;" in html and "<b>" not in html
    assert 'href="https://example.org/x"' in html
    assert me["source"]["fields"] == [
        {"name": "Site", "value": SITE, "verified_at": None},
        {"name": "Pronouns", "value": "she/her <i>", "verified_at": None},
    ]
    site, pronouns = me["fields"]
    assert site["name"] == "Site" and site["verified_at"] is None
    assert f'<a href="{SITE}" rel="me nofollow noopener"' in site["value"]
    assert pronouns["value"] == "she/her &lt;i&gt;"
    assert me["source"]["sensitive"] is True
    assert me["source"]["follow_requests_count"] == 0
    assert (await reload(session, ann)).default_sensitive is True

    # Another reader, and a visitor, see the same account.
    for headers in (auth(bob_token), {}):
        seen = (await client.get(f"/api/v1/accounts/{ann.id}", headers=headers)).json()
        assert {k: seen[k] for k in ("display_name", "note", "fields", "locked")} == {
            k: me[k] for k in ("display_name", "note", "fields", "locked")
        }
    assert (await _me(client, token))["source"] == me["source"]

    # locked and sensitive go back to false; fields not sent are kept.
    r = await client.patch(
        URL, data={"locked": "0", "source[sensitive]": "false"}, headers=auth(token)
    )
    assert (r.json()["locked"], r.json()["source"]["sensitive"]) == (False, False)
    assert len(r.json()["fields"]) == 2


async def test_json_fields_as_a_list_or_a_hash_replace_the_old_ones(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    ann = await make_user(session, "ann")
    token = await make_token(session, ann)
    r = await client.patch(
        URL,
        json={"fields_attributes": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}]},
        headers=auth(token),
    )
    assert [f["name"] for f in r.json()["source"]["fields"]] == ["A", "B"]
    # A hash is read in the order of its indexes.
    r = await client.patch(
        URL,
        json={"fields_attributes": {"1": {"name": "Second", "value": "2"}, "0": {"name": "First"}}},
        headers=auth(token),
    )
    assert r.json()["source"]["fields"] == [
        {"name": "First", "value": "", "verified_at": None},
        {"name": "Second", "value": "2", "verified_at": None},
    ]
    r = await client.patch(URL, json={"fields_attributes": []}, headers=auth(token))
    assert r.json()["fields"] == [] and r.json()["source"]["fields"] == []
    assert (await reload(session, ann)).fields is None


async def test_limits_are_refused_with_422_and_change_nothing(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    ann = await make_user(session, "ann", display_name="Ann")
    token = await make_token(session, ann)
    five = {
        f"fields_attributes[{i}][{part}]": f"{part}{i}"
        for i in range(5)
        for part in ("name", "value")
    }
    for body, named in (
        (five, "Profile fields are too many (5; the maximum is 4)"),
        ({"fields_attributes[0][name]": "n" * 256}, "Field 1 label is too long"),
        ({"fields_attributes[3][value]": "v" * 256}, "Field 1 content is too long"),
        ({"note": "x" * 501}, "Bio is too long"),
        ({"display_name": "d" * 51}, "Display name is too long"),
        ({"locked": "maybe"}, "locked"),
        ({"bot": "true"}, "bot"),
    ):
        r = await client.patch(
            URL, data={**body, "display_name": body.get("display_name", "New")}, headers=auth(token)
        )
        assert r.status_code == 422, (body, r.text)
        assert named in r.json()["error"], r.text
    fresh = await reload(session, ann)
    assert (fresh.display_name, fresh.fields, fresh.locked, fresh.bio) == ("Ann", None, False, "")
    # Uploads stay refused here for now.
    r = await client.patch(URL, data={"avatar": "x"}, headers=auth(token))
    assert r.status_code == 422 and "avatar" in r.json()["error"]


async def test_preferences_follow_the_posting_defaults(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    ann = await make_user(session, "ann")
    token = await make_token(session, ann)
    r = await client.get("/api/v1/preferences", headers=auth(token))
    assert r.status_code == 200
    assert r.json() == {
        "posting:default:visibility": "public",
        "posting:default:sensitive": False,
        "posting:default:language": None,
        "reading:expand:media": "default",
        "reading:expand:spoilers": False,
    }
    await client.patch(
        URL,
        data={"source[privacy]": "unlisted", "source[sensitive]": "1", "source[language]": "de"},
        headers=auth(token),
    )
    prefs = (await client.get("/api/v1/preferences", headers=auth(token))).json()
    assert prefs["posting:default:visibility"] == "unlisted"
    assert prefs["posting:default:sensitive"] is True
    assert prefs["posting:default:language"] == "de"
    # Mastodon's scope: read:accounts (or read); anonymous callers get 401.
    narrow = await make_token(session, ann, scopes="read:accounts")
    assert (await client.get("/api/v1/preferences", headers=auth(narrow))).status_code == 200
    other = await make_token(session, ann, scopes="read:statuses")
    assert (await client.get("/api/v1/preferences", headers=auth(other))).status_code == 403
    assert (await client.get("/api/v1/preferences")).status_code == 401


async def test_an_edit_shows_at_once_on_every_surface_that_shows_the_account(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    ann = await make_user(session, "ann", display_name="Ann")
    bob = await make_user(session, "bob")
    carl = await make_user(session, "carl")
    tokens = {u.username: await make_token(session, u) for u in (ann, bob, carl)}
    # bob and carl follow ann; carl follows bob too.
    for reader, target in (("bob", ann), ("carl", ann), ("carl", bob)):
        r = await client.post(f"/api/v1/accounts/{target.id}/follow", headers=auth(tokens[reader]))
        assert r.status_code == 200
    post = await make_post(session, ann, "before the edit")
    await make_post(session, bob, "bob's own")
    r = await client.post(f"/api/v1/statuses/{post.id}/favourite", headers=auth(tokens["bob"]))
    assert r.status_code == 200
    await run_jobs(app)  # the like's notification (a worker runs it on Redis)

    async def names_on_home(reader: str) -> dict[str, str]:
        page = await client.get("/api/v1/timelines/home", headers=auth(tokens[reader]))
        return {s["account"]["username"]: s["account"]["display_name"] for s in page.json()}

    # The homes are read (and cached, on Redis) before the edit.
    assert (await names_on_home("bob"))["ann"] == "Ann"
    assert (await names_on_home("carl"))["ann"] == "Ann"
    r = await client.patch(
        URL,
        data={"display_name": "Ann Renamed", "fields_attributes[0][name]": "Web"},
        headers=auth(tokens["ann"]),
    )
    assert r.status_code == 200
    for reader in ("bob", "carl"):
        assert (await names_on_home(reader))["ann"] == "Ann Renamed"
    status = (await client.get(f"/api/v1/statuses/{post.id}", headers=auth(tokens["carl"]))).json()
    assert status["account"]["display_name"] == "Ann Renamed"
    assert status["account"]["fields"][0]["name"] == "Web"
    # ann's notification of bob's like names bob as he is; bob renamed, it follows.
    await client.patch(URL, data={"display_name": "Bobby"}, headers=auth(tokens["bob"]))
    notes = (await client.get("/api/v1/notifications", headers=auth(tokens["ann"]))).json()
    assert [n["account"]["display_name"] for n in notes if n["type"] == "favourite"] == ["Bobby"]
    assert (await names_on_home("carl"))["bob"] == "Bobby"


async def test_openapi_documents_avatar_and_header_as_multipart_files(
    client: httpx.AsyncClient,
) -> None:
    spec = (await client.get("/openapi.json")).json()
    body = spec["paths"]["/api/v1/accounts/update_credentials"]["patch"]["requestBody"]
    multipart = body["content"]["multipart/form-data"]["schema"]["properties"]
    for name in ("avatar", "header"):
        assert multipart[name]["format"] == "binary"
    # JSON and forms cannot carry a file: only multipart lists them.
    assert "avatar" not in body["content"]["application/json"]["schema"]["properties"]
    assert "display_name" in multipart
