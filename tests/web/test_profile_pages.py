"""The Edit profile page, and the profile that shows what it saved."""

from __future__ import annotations

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from tests.factories import auth, make_post, make_token, make_user, reload
from tests.web.helpers import csrf, htmx, login

SITE = "https://ann.example/"


def _form(token: str, **values: str) -> dict[str, str]:
    """What the page's form sends: every row, the checkboxes' hidden zeros first."""
    data = {"csrf_token": token, "display_name": "", "note": "", "locked": "0"}
    data["source[sensitive]"] = "0"
    for i in range(4):
        data[f"fields_attributes[{i}][name]"] = ""
        data[f"fields_attributes[{i}][value]"] = ""
    data.update(values)
    return data


async def test_edit_profile_saves_and_the_profile_shows_it_safely(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    ann = await make_user(session, "ann", display_name="Ann")
    await make_user(session, "bob")
    await login(client, "ann")
    page = await client.get("/settings/profile")
    assert page.status_code == 200
    assert 'enctype="multipart/form-data"' in page.text
    assert 'value="Ann"' in page.text and 'name="fields_attributes[3][value]"' in page.text
    token = await csrf(client, "/settings/profile")
    r = await client.post(
        "/settings/profile",
        files={"placeholder": ("", b"")},  # sent as multipart, as the page's form does
        data=_form(
            token,
            display_name="Ann Example",
            note="Birds! @bob #Birding <script>alert(1)</script>\n\nhttps://ann.example/blog",
            locked="1",
            **{
                "source[sensitive]": "1",
                "fields_attributes[0][name]": "Home",
                "fields_attributes[0][value]": SITE,
                "fields_attributes[2][name]": "Likes",
                "fields_attributes[2][value]": "<em>owls</em>",
            },
        ),
    )
    assert r.status_code == 303 and r.headers["location"] == "/settings/profile"
    assert "Your profile was saved." in (await client.get("/settings/profile")).text
    fresh = await reload(session, ann)
    assert fresh.fields == [
        {"name": "Home", "value": SITE},
        {"name": "Likes", "value": "<em>owls</em>"},
    ]
    assert (fresh.locked, fresh.default_sensitive) == (True, True)

    own = (await client.get("/@ann")).text
    assert 'href="/settings/profile">Edit profile</a>' in own
    assert '<h2 class="profile-name">Ann Example</h2>' in own
    assert '<a href="/@bob" class="u-url mention">' in own
    assert 'href="/tags/Birding"' in own
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in own and "<script>alert" not in own
    assert f'<dt>Home</dt>\n      <dd><a href="{SITE}" rel="me nofollow noopener"' in own
    assert "<dd>&lt;em&gt;owls&lt;/em&gt;</dd>" in own
    assert "Locked account" in own
    # Others see Follow where ann sees Edit profile.
    client.cookies.clear()
    await login(client, "bob")
    seen = (await client.get("/@ann")).text
    assert "Edit profile" not in seen and "Follow<span" in seen and "Ann Example" in seen
    assert 'href="/settings/profile">Edit profile</a>' in (await client.get("/@bob")).text


async def test_problems_are_shown_by_their_fields_and_nothing_is_saved(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    ann = await make_user(session, "ann", display_name="Ann")
    await login(client, "ann")
    token = await csrf(client, "/settings/profile")
    data = _form(
        token,
        display_name="x" * 51,
        note="kept as typed",
        **{"fields_attributes[1][name]": "n" * 256, "fields_attributes[1][value]": "ok"},
    )
    r = await client.post("/settings/profile", data=data)
    assert r.status_code == 422
    assert "Please fix 2 things below." in r.text
    assert 'id="display-name-error">Display name is too long' in r.text
    # The error is under the row it is about, and names it as the page counts rows.
    assert (
        'id="field-1-name-error">Field 2 label is too long (256 characters; the maximum is 255)'
        in r.text
    )
    assert ">kept as typed</textarea>" in r.text  # what was typed is kept
    fresh = await reload(session, ann)
    assert (fresh.display_name, fresh.bio, fresh.fields) == ("Ann", "", None)

    # With htmx, only the form comes back, in place; a success adds a message.
    r = await client.post("/settings/profile", data=data, headers=htmx(token))
    assert r.status_code == 422 and "<html" not in r.text and 'id="profile-form"' in r.text
    r = await client.post(
        "/settings/profile", data=_form(token, display_name="Ann B"), headers=htmx(token)
    )
    assert r.status_code == 200 and "<html" not in r.text
    assert "Your profile was saved." in r.text and 'value="Ann B"' in r.text
    # Unticked boxes clear the flags (the form sends their hidden zero alone).
    assert (await reload(session, ann)).locked is False


async def test_the_page_needs_a_login_and_the_form_its_token(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    ann = await make_user(session, "ann", display_name="Ann")
    r = await client.get("/settings/profile")
    assert r.status_code in (302, 303) and r.headers["location"].startswith("/login")
    await login(client, "ann")
    r = await client.post("/settings/profile", data=_form("forged", display_name="Evil"))
    assert r.status_code == 403
    assert (await reload(session, ann)).display_name == "Ann"


async def test_a_new_name_shows_on_followers_home_pages_at_once(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    ann = await make_user(session, "ann", display_name="Ann Old")
    bob = await make_user(session, "bob")
    carl = await make_user(session, "carl")
    for follower in (bob, carl):
        token = await make_token(session, follower)
        r = await client.post(f"/api/v1/accounts/{ann.id}/follow", headers=auth(token))
        assert r.status_code == 200
    await make_post(session, ann, "hello from ann")
    for reader in ("bob", "carl"):
        client.cookies.clear()
        await login(client, reader)
        assert "Ann Old" in (await client.get("/")).text
    client.cookies.clear()
    await login(client, "ann")
    token = await csrf(client, "/settings/profile")
    r = await client.post("/settings/profile", data=_form(token, display_name="Ann New"))
    assert r.status_code == 303
    for reader in ("bob", "carl"):
        client.cookies.clear()
        await login(client, reader)
        home = (await client.get("/")).text
        assert "Ann New" in home and "Ann Old" not in home
