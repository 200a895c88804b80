"""Redis flushed or down while Chirp runs: no request fails, nothing is lost."""

from __future__ import annotations

import asyncio
import subprocess
import time

import httpx
from redis import Redis as SyncRedis

from chirp.db import make_engine, make_session_factory
from chirp.follows import service as follows_service
from chirp.timeline.cache import member
from tests.factories import make_token, make_user
from tests.faults.conftest import RedisServer
from tests.live import serve
from tests.services import settings_for


async def _seed(url: str) -> tuple[str, str, int]:
    """alice follows bob; return their tokens and alice's id."""
    engine = make_engine(url)
    async with make_session_factory(engine)() as session:
        alice, bob = await make_user(session, "alice"), await make_user(session, "bob")
        await follows_service.follow(session, follower=alice, followee=bob)
        await session.commit()
        tokens = await make_token(session, alice), await make_token(session, bob)
        alice_id = alice.id
    await engine.dispose()
    return tokens[0], tokens[1], alice_id


def _settings(db_url: str, redis_url: str):  # type: ignore[no-untyped-def]
    return settings_for(db_url, redis_url=redis_url, web_runs_jobs=True, rate_limit_enabled=True)


def test_flushing_redis_under_traffic_fails_no_request(
    faults_db: str, redis_server: RedisServer
) -> None:
    alice_token, bob_token, _ = asyncio.run(_seed(faults_db))
    redis = SyncRedis.from_url(redis_server.url)
    posted: list[str] = []
    with (
        serve(_settings(faults_db, redis_server.url)) as live,
        httpx.Client(base_url=live.url) as http,
    ):
        statuses = []
        for i in range(40):
            r = http.post(
                "/api/v1/statuses",
                data={"status": f"bob {i}"},
                headers={"Authorization": f"Bearer {bob_token}"},
            )
            statuses.append(r.status_code)
            posted.append(r.json()["id"])
            r = http.get(
                "/api/v1/timelines/home", headers={"Authorization": f"Bearer {alice_token}"}
            )
            statuses.append(r.status_code)
            if i % 7 == 3:
                redis.flushall()
        assert set(statuses) == {200}
        time.sleep(0.5)  # let the last fan-out land
        seen = http.get(
            "/api/v1/timelines/home?limit=40", headers={"Authorization": f"Bearer {alice_token}"}
        ).json()
    assert [s["id"] for s in seen] == list(reversed(posted))


def test_redis_down_then_back_catches_up(faults_db: str, redis_server: RedisServer) -> None:
    alice_token, bob_token, alice_id = asyncio.run(_seed(faults_db))
    redis = SyncRedis.from_url(redis_server.url, decode_responses=True)
    alice = {"Authorization": f"Bearer {alice_token}"}
    bob = {"Authorization": f"Bearer {bob_token}"}
    with (
        serve(_settings(faults_db, redis_server.url)) as live,
        httpx.Client(base_url=live.url, timeout=30) as http,
    ):
        first = http.post("/api/v1/statuses", data={"status": "before"}, headers=bob).json()["id"]
        assert [s["id"] for s in http.get("/api/v1/timelines/home", headers=alice).json()] == [
            first
        ]

        # Redis stops answering (its data kept), as in a network partition or a failover.
        subprocess.run(
            ["redis-cli", "-p", str(redis_server.port), "CLIENT", "PAUSE", "4000", "ALL"],
            check=True,
            capture_output=True,
        )
        during = http.post("/api/v1/statuses", data={"status": "during"}, headers=bob)
        assert during.status_code == 200
        page = http.get("/api/v1/timelines/home", headers=alice)
        assert page.status_code == 200
        assert [s["id"] for s in page.json()] == [during.json()["id"], first]  # from PostgreSQL

        deadline = time.monotonic() + 20
        key = f"chirp:tl:{alice_id}"
        while redis.zscore(key, member(int(during.json()["id"]))) is None:
            assert time.monotonic() < deadline, "fan-out never caught up"
            time.sleep(0.2)
        page = http.get("/api/v1/timelines/home", headers=alice).json()
        assert [s["id"] for s in page] == [during.json()["id"], first]

        # Redis gone entirely: still no failed request; back empty: timelines are rebuilt.
        redis_server.stop()
        after = http.post("/api/v1/statuses", data={"status": "after"}, headers=bob)
        assert after.status_code == 200
        assert http.get("/api/v1/timelines/home", headers=alice).status_code == 200
        redis_server.start()
        time.sleep(5.5)  # the read path's breaker lets Redis be tried again
        page = http.get("/api/v1/timelines/home", headers=alice).json()
        assert [s["id"] for s in page] == [after.json()["id"], during.json()["id"], first]
        assert redis.exists(key)
