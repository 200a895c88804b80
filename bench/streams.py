"""Open streams under load: post-to-event delay and what each open stream costs.

Holds ``--streams`` server-sent event streams (``/api/v1/streaming/user``) of the load
users, spread over the web processes as the kernel hands out connections, while the mixed
load runs; ordinary accounts post through the API and the delay from sending the post to
the ``update`` event on every open stream of their followers is measured (p50 / p99; the
post request's own time included, since the event may arrive before its answer does). The
web processes' RSS is read before the streams open and once they are all open: the
difference divided by the number of streams is the memory per open stream.

Called by ``bench.run`` after its delivery probe; on its own (servers started here, on the
last generated data set of the tier)::

    python -m bench.streams --tier small --streams 2000 --seconds 20
"""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import time
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import asyncpg
import httpx
from redis.asyncio import Redis
from sqlalchemy import select

from bench import probes, servers, wrk
from bench.generate import add_dataset_arguments, dsn, ensure_dataset
from chirp.config import Settings
from chirp.db import make_engine, make_session_factory
from chirp.follows.models import Follow
from chirp.ids import new_id
from chirp.streaming.bus import channel_for

ROOT = Path(__file__).parent
PORT = 8078
PROBE = "stream probe"


@dataclass
class StreamResult:
    """What the streams phase measured."""

    requested: int
    opened: int
    open_seconds: float
    rss_before_mb: float
    rss_open_mb: float
    kb_per_stream: float
    probes: int
    samples: int
    missed: int
    p50_ms: float
    p99_ms: float
    # From sending the post to its event on Redis (the request, the job queue, the worker).
    published_p50_ms: float
    published_p99_ms: float
    events_received: int
    mixed_rps: float
    each_ms: list[float] = field(default_factory=list)


class Holder:
    """Many raw SSE connections in one process, each noting when probe posts arrive."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 80
        self.opened = 0
        self.events = 0
        # post id -> user id -> arrival times (monotonic) on that user's streams
        self.arrivals: dict[str, dict[int, list[float]]] = defaultdict(lambda: defaultdict(list))
        self.tasks: list[asyncio.Task[None]] = []

    async def open(self, user_id: int, token: str, ready: asyncio.Semaphore) -> None:
        """Open one stream and read it until cancelled."""
        reader, writer = await asyncio.open_connection(self.host, self.port)
        writer.write(
            (
                "GET /api/v1/streaming/user HTTP/1.1\r\n"
                f"Host: {self.host}:{self.port}\r\nAuthorization: Bearer {token}\r\n"
                "Accept: text/event-stream\r\n\r\n"
            ).encode()
        )
        await writer.drain()
        status = await reader.readline()
        if b" 200 " not in status:
            ready.release()
            writer.close()
            return
        self.opened += 1
        ready.release()
        try:
            event = b""
            while True:
                line = await reader.readline()
                if not line:
                    return
                if line.startswith(b"event: "):
                    event = line[7:].strip()
                elif line.startswith(b"data: ") and event == b"update":
                    self.events += 1
                    # Only the probes' posts are decoded: the rest of the load is counted.
                    if PROBE.encode() in line:
                        post_id = json.loads(line[6:])["id"]
                        self.arrivals[post_id][user_id].append(time.monotonic())
        finally:
            writer.close()

    async def start(self, holders: list[tuple[int, str]], count: int) -> float:
        """Open ``count`` streams round-robin over ``holders``; the seconds it took."""
        started = time.monotonic()
        ready = asyncio.Semaphore(0)
        for i in range(count):
            user_id, token = holders[i % len(holders)]
            self.tasks.append(asyncio.create_task(self.open(user_id, token, ready)))
            if i % 100 == 99:
                await asyncio.sleep(0)  # let the opened ones read their answers
        for _ in range(count):
            async with asyncio.timeout(120):
                await ready.acquire()
        return time.monotonic() - started

    async def stop(self) -> None:
        """Close every stream."""
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)


async def _probe_pairs(
    settings: Settings, holders: list[int], candidates: list[int]
) -> dict[int, set[int]]:
    """Probe authors and which stream holders follow each (authors with at least one)."""
    engine = make_engine(settings.database_url)
    holding = set(holders)
    try:
        async with make_session_factory(engine)() as session:
            found: dict[int, set[int]] = {}
            for author in candidates:
                rows = await session.execute(
                    select(Follow.follower_id).where(Follow.followee_id == author)
                )
                readers = {r for r in rows.scalars() if r in holding}
                if readers:
                    found[author] = readers
            return found
    finally:
        await engine.dispose()


async def measure(
    url: str,
    settings: Settings,
    *,
    seed: int,
    data_dir: Path,
    procs: servers.Processes,
    count: int,
    seconds: int,
    connections: int,
    id_range: tuple[int, int],
) -> StreamResult:
    """Hold ``count`` streams, run the mixed load, and time probe posts to their streams."""
    holder_ids = [int(u) for u in (data_dir / "token_users.txt").read_text().split()]
    tokens = (data_dir / "tokens.txt").read_text().split()
    holders = list(zip(holder_ids, tokens, strict=True))
    dataset = json.loads((data_dir / "dataset.json").read_text())
    authors = await _probe_pairs(
        settings, holder_ids[:count], [int(a) for a in dataset["ordinary_token_users"]]
    )
    published: dict[str, float] = {}
    listener = asyncio.create_task(_published(settings, published))
    rss_before = procs.rss_mb()
    pool = Holder(url)
    open_seconds = await pool.start(holders, count)
    await asyncio.sleep(2)  # let the processes settle before reading their memory
    rss_open = procs.rss_mb()
    mixed = await asyncio.create_subprocess_exec(
        *wrk.command(
            url, "mixed", data_dir, seconds=seconds, connections=connections, id_range=id_range
        ),
        stdout=asyncio.subprocess.PIPE,
    )
    delays: list[float] = []
    to_bus: list[float] = []
    missed = 0
    probe_count = 0
    try:
        await asyncio.sleep(1)
        async with httpx.AsyncClient(base_url=url, timeout=30) as client:
            order = sorted(authors)
            deadline = time.monotonic() + max(1, seconds - 4)
            while order and time.monotonic() < deadline:
                author = order[probe_count % len(order)]
                probe_count += 1
                sent = time.monotonic()
                r = await client.post(
                    "/api/v1/statuses",
                    data={"status": f"{PROBE} {probe_count} {new_id()}"},
                    headers={"Authorization": f"Bearer {probes.token_for(seed, author)}"},
                )
                acked = time.monotonic()
                r.raise_for_status()
                post_id = r.json()["id"]
                expected = authors[author]
                give_up = acked + 30
                while time.monotonic() < give_up:
                    if all(pool.arrivals[post_id].get(u) for u in expected):
                        break
                    await asyncio.sleep(0.002)
                if post_id in published:
                    to_bus.append((published[post_id] - sent) * 1000)
                for reader in expected:
                    got = pool.arrivals[post_id].get(reader)
                    if got:
                        delays += [(t - sent) * 1000 for t in got]
                    else:
                        missed += 1
                await asyncio.sleep(0.5)
        out = (await mixed.communicate())[0].decode()
    finally:
        if mixed.returncode is None:
            mixed.kill()
        await pool.stop()
        listener.cancel()
        await asyncio.gather(listener, return_exceptions=True)
    load = wrk.parse("mixed, with streams open", connections, seconds, out)
    opened = pool.opened
    return StreamResult(
        requested=count,
        opened=opened,
        open_seconds=round(open_seconds, 1),
        rss_before_mb=round(rss_before, 1),
        rss_open_mb=round(rss_open, 1),
        kb_per_stream=round((rss_open - rss_before) * 1024 / opened, 1) if opened else float("nan"),
        probes=probe_count,
        samples=len(delays),
        missed=missed,
        p50_ms=round(probes.percentile(delays, 50), 1),
        p99_ms=round(probes.percentile(delays, 99), 1),
        published_p50_ms=round(probes.percentile(to_bus, 50), 1),
        published_p99_ms=round(probes.percentile(to_bus, 99), 1),
        events_received=pool.events,
        mixed_rps=round(load.rps, 1),
        each_ms=[round(d, 1) for d in delays],
    )


async def _published(settings: Settings, seen: dict[str, float]) -> None:
    """Note when each post's event is published (by the worker), to tell its share apart."""
    client = Redis.from_url(str(settings.redis_url), decode_responses=True)
    try:
        async with client.pubsub(ignore_subscribe_messages=True) as pubsub:
            await pubsub.subscribe(channel_for(str(settings.redis_url)))
            while True:
                message = await pubsub.get_message(timeout=1.0)
                if message and message.get("type") == "message":
                    event = json.loads(message["data"])
                    if event.get("type") == "post.created":
                        seen[str(event["post_id"])] = time.monotonic()
    finally:
        await client.aclose()


def report_lines(result: dict[str, object]) -> list[str]:
    """The report's lines for the streams phase."""
    return [
        f"- Open streams: {result['opened']:,} of {result['requested']:,} "
        f"`/api/v1/streaming/user` streams held across the web processes (opened in "
        f"{result['open_seconds']} s) while the mixed load ran ({result['mixed_rps']} req/s): "
        f"a post (from sending it) reached its followers' open streams in p50 {result['p50_ms']} ms, "
        f"p99 {result['p99_ms']} ms ({result['samples']} deliveries of {result['probes']} "
        f"posts, {result['missed']} missed); {result['events_received']:,} update events "
        f"received in all. Of that delay, the post's event was on Redis (the request, then the "
        f"worker's job) after p50 {result['published_p50_ms']} ms, p99 "
        f"{result['published_p99_ms']} ms.",
        f"- Web processes' RSS with the streams open: {result['rss_before_mb']} MiB before, "
        f"{result['rss_open_mb']} MiB after: **{result['kb_per_stream']} KiB per open stream**.",
    ]


def main() -> None:
    """Start the servers on the tier's data set and measure the streams phase alone."""
    parser = argparse.ArgumentParser(description=__doc__)
    add_dataset_arguments(parser)
    parser.add_argument("--streams", type=int, default=2000)
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--connections", type=int, default=64)
    args = parser.parse_args()
    data_dir = ROOT / "data" / args.tier
    ensure_dataset(args, data_dir)
    env = {
        "CHIRP_DATABASE_URL": args.database_url,
        "CHIRP_REDIS_URL": args.redis_url,
        "CHIRP_ENVIRONMENT": "production",
        "CHIRP_SECRET_KEY": secrets.token_urlsafe(48),
        "CHIRP_DOMAIN": f"127.0.0.1:{PORT}",
        "CHIRP_RATE_LIMIT_ENABLED": "false",
        # A restart waits this long for open streams; they do not end by themselves.
        "CHIRP_SHUTDOWN_GRACE_SECONDS": "2",
    }
    settings = Settings(**{k.removeprefix("CHIRP_").lower(): v for k, v in env.items()})  # type: ignore[arg-type]
    url = f"http://127.0.0.1:{PORT}"
    id_range = asyncio.run(_id_range(args.database_url))
    procs = servers.start(
        "uvicorn", env, port=PORT, web_workers=2, job_workers=1, log_dir=ROOT / "results" / "logs"
    )
    try:
        # As bench.run does: the load users' timelines are built once before any load.
        asyncio.run(probes.warm_timelines(url, (data_dir / "tokens.txt").read_text().split()))
        result = asyncio.run(
            measure(
                url,
                settings,
                seed=args.seed,
                data_dir=data_dir,
                procs=procs,
                count=args.streams,
                seconds=args.seconds,
                connections=args.connections,
                id_range=id_range,
            )
        )
    finally:
        procs.stop()
    stamp = datetime.now(UTC).strftime("%Y-%m-%d-%H%M")
    out = ROOT / "results" / f"streams-{args.tier}-{stamp}.md"
    lines = [f"# Chirp streams: {args.tier} tier, {stamp} UTC", "", *report_lines(asdict(result))]
    out.write_text("\n".join(lines) + "\n")
    out.with_suffix(".json").write_text(json.dumps(asdict(result), indent=2))
    print("\n".join(lines))


async def _id_range(database_url: str) -> tuple[int, int]:
    conn = await asyncpg.connect(dsn(database_url))
    low, high = await conn.fetchrow("SELECT min(id), max(id) FROM posts")
    await conn.close()
    return int(low), int(high)


if __name__ == "__main__":
    main()
