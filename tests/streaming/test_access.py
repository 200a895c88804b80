"""Streams end as soon as the credential they were opened with stops working."""

from __future__ import annotations

import asyncio

import httpx
from fastapi import FastAPI

from tests.factories import PASSWORD, auth
from tests.streaming.conftest import Cast
from tests.streaming.helpers import SSE, WAIT, client_for, open_sse, open_ws
from tests.web.helpers import csrf, login


def _cookie(client: httpx.AsyncClient) -> dict[str, str]:
    return {"cookie": "; ".join(f"{k}={v}" for k, v in client.cookies.items())}


async def _ended(stream: SSE) -> bool:
    """Whether the app finished the response (it ends by itself, the client is still there)."""
    assert stream.task is not None
    try:
        async with asyncio.timeout(WAIT):
            await asyncio.shield(stream.task)
    except TimeoutError:
        return False
    return True


async def test_a_password_change_ends_every_other_stream_of_that_user_alone(
    live_app: FastAPI, live_client: httpx.AsyncClient, cast: Cast
) -> None:
    hub = live_app.state.stream_hub
    async with client_for(live_app) as laptop, client_for(live_app) as phone:
        await login(laptop, "alice")
        await login(phone, "alice")
        here = await open_sse(live_app, "/live/events", headers=_cookie(laptop))
        elsewhere = await open_sse(live_app, "/live/events", headers=_cookie(phone))
        app_stream = await open_sse(live_app, "/api/v1/streaming/user", token=cast.alice.token)
        socket = await open_ws(live_app, {"stream": "user", "access_token": cast.alice.token})
        bobs = await open_sse(live_app, "/api/v1/streaming/user", token=cast.bob.token)
        assert len(hub.subscribers) == 5
        form = await csrf(laptop, "/settings/account")
        r = await laptop.post(
            "/settings/password",
            data={
                "current_password": PASSWORD,
                "new_password": "a new secret 42",
                "csrf_token": form,
            },
        )
        assert r.status_code == 303
        # The phone's session and the app's token are gone, and so are their streams.
        assert await _ended(elsewhere) and await _ended(app_stream)
        assert socket.task is not None
        async with asyncio.timeout(WAIT):
            await socket.task
        assert len(hub.subscribers) == 2
        # The browser that changed it keeps its stream, and bob keeps his.
        r = await live_client.post(
            "/api/v1/statuses", data={"status": "still here"}, headers=auth(cast.bob.token)
        )
        post_id = r.json()["id"]
        assert (await here.next()).data == post_id
        assert (await bobs.next()).json()["id"] == post_id
        await here.close()
        await bobs.close()


async def test_logging_out_revoking_and_deleting_end_their_streams(
    live_app: FastAPI, live_client: httpx.AsyncClient, cast: Cast
) -> None:
    hub = live_app.state.stream_hub
    async with client_for(live_app) as browser:
        await login(browser, "dave")
        tab = await open_sse(live_app, "/live/events", headers=_cookie(browser))
        # Logging out in one tab ends the live stream of another tab of that browser.
        form = await csrf(browser, "/")
        assert (await browser.post("/logout", data={"csrf_token": form})).status_code == 303
        assert await _ended(tab)
    # A token revoked by its app (RFC 7009), through the app's own credentials.
    app = (
        await live_client.post(
            "/api/v1/apps",
            data={
                "client_name": "t",
                "redirect_uris": "urn:ietf:wg:oauth:2.0:oob",
                "scopes": "read",
            },
        )
    ).json()
    grant = {
        "grant_type": "password",
        "client_id": app["client_id"],
        "client_secret": app["client_secret"],
        "username": "carol",
        "password": PASSWORD,
        "scope": "read",
    }
    token = (await live_client.post("/oauth/token", data=grant)).json()["access_token"]
    by_app = await open_sse(live_app, "/api/v1/streaming/user", token=token)
    kept = await open_sse(live_app, "/api/v1/streaming/user", token=cast.carol.token)
    revoke = {"client_id": app["client_id"], "client_secret": app["client_secret"], "token": token}
    assert (await live_client.post("/oauth/revoke", data=revoke)).status_code == 200
    assert await _ended(by_app)
    assert kept.task is not None and not kept.task.done()
    # Deleting the account ends the rest, at once.
    async with client_for(live_app) as browser:
        await login(browser, "carol")
        form = await csrf(browser, "/settings/delete")
        r = await browser.post(
            "/settings/delete",
            data={"password": PASSWORD, "username": "carol", "csrf_token": form},
        )
        assert r.status_code == 303
    assert await _ended(kept)
    assert all(s.viewer.username not in ("carol", "dave") for s in hub.subscribers)
