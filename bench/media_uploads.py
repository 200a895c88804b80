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
import tempfile
from dataclasses import dataclass
from pathlib import Path

import httpx
from PIL import Image

from bench import loops
from bench.loops import Loop
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
    """What the readers and the uploaders saw in one phase."""

    name: str
    seconds: float
    reads: Loop
    uploads: Loop | None

    @property
    def reads_per_second(self) -> float:
        """Reads that succeeded, per second."""
        return self.reads.done / self.seconds


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


async def _phase(
    name: str, client: httpx.AsyncClient, token: str, photo: bytes, args: argparse.Namespace
) -> Phase:
    stop = asyncio.Event()

    async def read() -> httpx.Response:
        return await client.get("/api/v1/timelines/public", params={"limit": 20})

    async def upload() -> httpx.Response:
        return await client.post(
            "/api/v2/media",
            headers={"Authorization": f"Bearer {token}"},
            files={"file": ("photo.jpg", photo, "image/jpeg")},
        )

    reading = asyncio.create_task(loops.timed(stop, read, "reads", clients=args.readers))
    uploading = None
    if name != "reads alone":
        uploading = asyncio.create_task(
            loops.timed(stop, upload, "uploads", clients=args.uploaders)
        )
    await asyncio.sleep(args.seconds)
    stop.set()
    return Phase(name, args.seconds, await reading, await uploading if uploading else None)


async def during_load(
    url: str, token: str, wrk_cmd: list[str], *, uploaders: int, megapixels: float
) -> tuple[str, Loop]:
    """Run ``wrk_cmd`` against a running server while ``uploaders`` clients upload photos of
    ``megapixels`` in a loop: wrk's output, and what the uploads saw."""
    photo = await asyncio.to_thread(_photo, megapixels)
    stop = asyncio.Event()
    async with httpx.AsyncClient(base_url=url, timeout=120) as http:

        async def upload() -> httpx.Response:
            return await http.post(
                "/api/v2/media",
                headers={"Authorization": f"Bearer {token}"},
                files={"file": ("photo.jpg", photo, "image/jpeg")},
            )

        name = f"uploads of a {megapixels:g} MP JPEG by {uploaders} clients"
        uploading = asyncio.create_task(loops.timed(stop, upload, name, clients=uploaders))
        proc = await asyncio.create_subprocess_exec(*wrk_cmd, stdout=asyncio.subprocess.PIPE)
        out, _ = await proc.communicate()
        stop.set()
        return out.decode(), await uploading


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
        up = p.uploads
        lines.append(
            f"| {p.name} | {p.reads_per_second:.0f} | {p.reads.p50_ms:.1f} | {p.reads.p99_ms:.1f} "
            f"| {p.reads_per_second / base.reads_per_second:.2f} "
            f"| {p.reads.p99_ms / base.reads.p99_ms:.1f} | {up.done if up else 0} "
            f"| {up.p50_ms if up else 0:.0f} | {p.reads.errors + (up.errors if up else 0)} |"
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
