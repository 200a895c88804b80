"""Pleroma's emoji reaction endpoints over plain HTTP, as a Pleroma client calls them."""

from __future__ import annotations

from urllib.parse import quote

import httpx

from tests.api.helpers import sign_up
from tests.factories import auth
from tests.live import LiveServer


async def test_pleroma_reactions_over_http(live_server: LiveServer) -> None:
    async with httpx.AsyncClient(base_url=live_server.url, timeout=30) as http:
        author = await sign_up(http, "pl_author")
        fan = await sign_up(http, "pl_fan")
        r = await http.post("/api/v1/statuses", data={"status": "react!"}, headers=auth(author))
        status_id = r.json()["id"]
        base = f"/api/v1/pleroma/statuses/{status_id}/reactions"

        # Clients percent-encode the emoji in the path (a keycap's "#" must be).
        for emoji in ("👍🏽", "#️⃣", "👨‍👩‍👧‍👦"):
            r = await http.put(f"{base}/{quote(emoji, safe='')}", headers=auth(fan))
            assert r.status_code == 200, r.text
        assert [e["name"] for e in r.json()["pleroma"]["emoji_reactions"]] == [
            "👍🏽",
            "#️⃣",
            "👨‍👩‍👧‍👦",
        ]
        assert all(e["me"] for e in r.json()["emoji_reactions"])
        await http.put(f"{base}/{quote('👍🏽')}", headers=auth(author))

        listed = (await http.get(base)).json()
        assert [(g["name"], g["count"], g["me"]) for g in listed] == [
            ("👍🏽", 2, False),
            ("#️⃣", 1, False),
            ("👨‍👩‍👧‍👦", 1, False),
        ]
        assert [a["acct"] for a in listed[0]["accounts"]] == ["pl_fan", "pl_author"]
        mine = (await http.get(f"{base}/{quote('👍🏽')}", headers=auth(author))).json()
        assert [(g["name"], g["count"], g["me"]) for g in mine] == [("👍🏽", 2, True)]

        refused = await http.put(f"{base}/{quote('not an emoji')}", headers=auth(fan))
        assert refused.status_code == 422 and "error" in refused.json()
        r = await http.delete(f"{base}/{quote('#️⃣', safe='')}", headers=auth(fan))
        assert r.status_code == 200
        assert [e["name"] for e in r.json()["emoji_reactions"]] == ["👍🏽", "👨‍👩‍👧‍👦"]
        gone = await http.put(
            f"/api/v1/pleroma/statuses/1/reactions/{quote('👍')}", headers=auth(fan)
        )
        assert gone.status_code == 404 and gone.json() == {"error": "Record not found"}
