"""Do image uploads slow other requests? Reads served while uploads are being processed.

    python -m bench.media_uploads                     # SQLite in a temporary directory
    python -m bench.media_uploads --seconds 10 --uploaders 4 --megapixels 12

Runs the app in this process (one event loop, as one web process has) with demo data, and
three phases of the same length, each with readers looping on the public timeline:
(1) the reads alone; (2) the reads while ``--uploaders`` clients upload large JPEGs in a
loop, processed as Chirp does (in worker threads, bounded by media_processing_threads);
(3) the same uploads processed on the event loop itself, as a naive implementation would:
the contrast shows what moving the work off the loop buys. Prints reads per second and
p50/p99 latency per phase, and their ratios to the reads alone, measured in the same run;
requests that failed (a loop blocked long enough for database timeouts: 503) are counted.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import httpx
from PIL import Image

from chirp.config import Settings
from chirp.db import make_engine, make_session_factory
from chirp.demo import generate
from chirp.main import create_app
from chirp.media import processing
from chirp.media import service as media_service
from chirp.migrate import upgrade
from chirp.oauth import service as oauth_service
from chirp.users.models import User


@dataclass(frozen=True)
class Phase:
    """What the readers (and uploaders) saw in one phase."""

    name: str
    reads: int
    reads_per_second: float
    p50_ms: float
    p99_ms: float
    uploads: int
    upload_p50_ms: float
    errors: int


def _photo(megapixels: float) -> bytes:
    """A noisy JPEG of about ``megapixels`` (noise: it does not compress to nothing)."""
    side = int((megapixels * 1_000_000) ** 0.5)
    image = Image.effect_noise((side, side), 40).convert("RGB")
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90)
    return out.getvalue()


async def _prepare(database_url: str) -> str:
    await asyncio.to_thread(upgrade, database_url)
    engine = make_engine(database_url)
    factory = make_session_factory(engine)
    async with factory() as session:
        await generate(session, users=50, posts_per_user=10, seed=1, progress=False)
        await session.commit()
        app = await oauth_service.create_app(
            session,
            name="media bench",
            redirect_uris=[oauth_service.OOB_REDIRECT],
            scopes="read write",
            website=None,
        )
        user = (await session.execute(User.__table__.select().limit(1))).first()
        assert user is not None
        issued = await oauth_service.issue_for_user(
            session, app=app, user=await session.get_one(User, user.id), scopes=["write"]
        )
        await session.commit()
    await engine.dispose()
    return issued.access_token


async def _loop(stop: asyncio.Event, call: Callable[[], Awaitable[bool]]) -> list[float]:
    """Durations of the calls that succeeded; a failed one is recorded as a negative time."""
    times = []
    while not stop.is_set():
        started = time.perf_counter()
        ok = await call()
        elapsed = time.perf_counter() - started
        times.append(elapsed if ok else -elapsed)
    return times


def _ms(times: list[float], q: float) -> float:
    if not times:
        return 0.0
    ordered = sorted(times)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


async def _phase(
    name: str, client: httpx.AsyncClient, token: str, photo: bytes, args: argparse.Namespace
) -> Phase:
    stop = asyncio.Event()

    async def read() -> bool:
        r = await client.get("/api/v1/timelines/public", params={"limit": 20})
        return r.status_code == 200

    async def upload() -> bool:
        r = await client.post(
            "/api/v2/media",
            headers={"Authorization": f"Bearer {token}"},
            files={"file": ("photo.jpg", photo, "image/jpeg")},
        )
        return r.status_code == 200

    readers = [asyncio.create_task(_loop(stop, read)) for _ in range(args.readers)]
    uploaders = []
    if name != "reads alone":
        uploaders = [asyncio.create_task(_loop(stop, upload)) for _ in range(args.uploaders)]
    await asyncio.sleep(args.seconds)
    stop.set()
    read_all = [t for times in await asyncio.gather(*readers) for t in times]
    upload_all = [t for times in await asyncio.gather(*uploaders) for t in times]
    read_times = [t for t in read_all if t >= 0]
    upload_times = [t for t in upload_all if t >= 0]
    errors = len(read_all) - len(read_times) + len(upload_all) - len(upload_times)
    return Phase(
        name,
        len(read_times),
        len(read_times) / args.seconds,
        _ms(read_times, 0.5),
        _ms(read_times, 0.99),
        len(upload_times),
        statistics.median(upload_times) * 1000 if upload_times else 0.0,
        errors,
    )


async def run(args: argparse.Namespace) -> list[Phase]:
    """Every phase, in one process and one run."""
    with tempfile.TemporaryDirectory(prefix="chirp-media-bench-") as tmp:
        url = f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
        token = await _prepare(url)
        settings = Settings(
            environment="test",
            database_url=url,
            domain="bench",
            media_dir=str(Path(tmp) / "media"),
            rate_limit_enabled=False,
            demo_data=False,
        )
        photo = await asyncio.to_thread(_photo, args.megapixels)
        app = create_app(settings)
        phases = []
        transport = httpx.ASGITransport(app=app)
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(transport=transport, base_url="http://bench") as client,
        ):
            phases.append(await _phase("reads alone", client, token, photo, args))
            phases.append(await _phase("reads + uploads (threads)", client, token, photo, args))
            threaded = media_service.process

            async def on_the_loop(
                settings: Settings, data: bytes, *, kind: processing.Kind = "attachment"
            ) -> processing.Processed:
                return processing.process(data, limits=media_service.limits(settings), kind=kind)

            media_service.process = on_the_loop  # type: ignore[assignment]
            try:
                phases.append(
                    await _phase("reads + uploads (on the loop)", client, token, photo, args)
                )
            finally:
                media_service.process = threaded  # type: ignore[assignment]
        return phases


def report(phases: list[Phase], args: argparse.Namespace) -> str:
    """A Markdown table of the phases, with ratios to the reads alone."""
    base = phases[0]
    lines = [
        f"Uploads of a {args.megapixels} MP JPEG by {args.uploaders} clients, "
        f"{args.readers} readers of the public timeline, {args.seconds} s per phase.",
        "",
        "| phase | reads/s | p50 ms | p99 ms | reads/s vs alone | p99 vs alone | uploads "
        "| upload p50 ms | errors (503) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for p in phases:
        lines.append(
            f"| {p.name} | {p.reads_per_second:.0f} | {p.p50_ms:.1f} | {p.p99_ms:.1f} "
            f"| {p.reads_per_second / base.reads_per_second:.2f} "
            f"| {p.p99_ms / base.p99_ms:.1f} | {p.uploads} | {p.upload_p50_ms:.0f} "
            f"| {p.errors} |"
        )
    return "\n".join(lines)


def main() -> None:
    """Parse arguments, run, print the table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--readers", type=int, default=4)
    parser.add_argument("--uploaders", type=int, default=4)
    parser.add_argument("--megapixels", type=float, default=12)
    args = parser.parse_args()
    print(report(asyncio.run(run(args)), args))


if __name__ == "__main__":
    main()
