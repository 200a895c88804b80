"""Does heavy CPU work in one request slow everyone else's? Reads under logins and long posts.

    python -m bench.starvation                        # SQLite in a temporary directory
    python -m bench.starvation --database-url postgresql+asyncpg://.../chirp_bench_starvation \\
        --redis-url redis://127.0.0.1:6379/1          # the production shape (+ a worker)
    python -m bench.starvation --server-src /path/to/other/checkout/src   # compare code

Starts one web process on loopback, loads a small data set, then runs two phases of the
same length: (1) wrk reads the home timelines of many users at a steady pace, alone;
(2) the same reads while one client posts at the length limit (a text full of long URLs)
and another logs in (OAuth password grant) in a loop, and a probe asks ``/health`` every
half second. Prints the readers' p50/p99 in both phases, their ratios, and what the poster,
the logins and the health probe saw. Bounded: about ``2 * --seconds`` plus setup.
A PostgreSQL database given by ``--database-url`` is dropped and created afresh.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
from pathlib import Path

import asyncpg
import httpx
from sqlalchemy.engine import make_url

from bench import loops, servers, wrk
from bench.generate import dsn
from bench.loops import Loop
from chirp.db import make_engine, make_session_factory
from chirp.demo import DEMO_PASSWORD, generate
from chirp.migrate import upgrade
from chirp.oauth import service as oauth_service
from chirp.users.models import User

ROOT = Path(__file__).resolve().parent
MAX_POST_LENGTH = 500  # Mastodon's default


async def _prepare(database_url: str, data_dir: Path) -> dict[str, str]:
    """Migrate, load demo data, write the wrk driver's token files; return an OAuth app."""
    if not database_url.startswith("sqlite"):
        name = make_url(database_url).database
        admin = await asyncpg.connect(dsn(database_url).rsplit("/", 1)[0] + "/postgres")
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{name}"')
        await admin.close()
    await asyncio.to_thread(upgrade, database_url)
    engine = make_engine(database_url)
    factory = make_session_factory(engine)
    async with factory() as session:
        await generate(session, users=300, posts_per_user=20, seed=1, progress=False)
        await session.commit()
        app = await oauth_service.create_app(
            session,
            name="starvation bench",
            redirect_uris=[oauth_service.OOB_REDIRECT],
            scopes="read write follow",
            website=None,
        )
        users = list((await session.execute(User.__table__.select())).all())
        tokens = []
        for user in users:
            issued = await oauth_service.issue_for_user(
                session, app=app, user=await session.get_one(User, user.id), scopes=["read"]
            )
            tokens.append((issued.access_token, user.id))
        poster = await oauth_service.issue_for_user(
            session, app=app, user=await session.get_one(User, users[0].id), scopes=["write"]
        )
        await session.commit()
        client = {
            "client_id": app.client_id,
            "client_secret": app.client_secret,
            "poster_token": poster.access_token,
            "login": users[1].username,
        }
    await engine.dispose()
    (data_dir / "tokens.txt").write_text("\n".join(t for t, _ in tokens) + "\n")
    (data_dir / "token_users.txt").write_text("\n".join(str(u) for _, u in tokens) + "\n")
    (data_dir / "user_ids.txt").write_text("\n".join(str(u) for _, u in tokens) + "\n")
    return client


def long_post(serial: int, url_length: int) -> str:
    """A text at the length limit made of long URLs (each counts as 23 characters)."""
    urls: list[str] = []
    counted = len(str(serial)) + 1
    while counted + 24 <= MAX_POST_LENGTH:
        path = f"{serial}-{len(urls)}-".ljust(url_length - len("https://e.example/"), "a")
        urls.append("https://e.example/" + path)
        counted += 24
    return f"{serial} " + " ".join(urls)


async def _contention(
    url: str, client_app: dict[str, str], wrk_cmd: list[str], url_length: int
) -> tuple[str, list[Loop]]:
    """Run wrk's reads while the poster, the logins and the health probe loop."""
    stop = asyncio.Event()
    async with httpx.AsyncClient(base_url=url, timeout=60) as http:
        serial = iter(range(1_000_000))

        async def post() -> httpx.Response:
            return await http.post(
                "/api/v1/statuses",
                data={"status": long_post(next(serial), url_length)},
                headers={"Authorization": f"Bearer {client_app['poster_token']}"},
            )

        async def login() -> httpx.Response:
            return await http.post(
                "/oauth/token",
                data={
                    "grant_type": "password",
                    "client_id": client_app["client_id"],
                    "client_secret": client_app["client_secret"],
                    "username": client_app["login"],
                    "password": DEMO_PASSWORD,
                    "scope": "read",
                },
            )

        async def health() -> httpx.Response:
            return await http.get("/health")

        tasks = [
            asyncio.create_task(loops.timed(stop, post, "post at the length limit")),
            asyncio.create_task(loops.timed(stop, login, "login (password grant)")),
            asyncio.create_task(loops.timed(stop, health, "/health every 0.5 s", pause=0.5)),
        ]
        proc = await asyncio.create_subprocess_exec(*wrk_cmd, stdout=asyncio.subprocess.PIPE)
        out, _ = await proc.communicate()
        stop.set()
        return out.decode(), list(await asyncio.gather(*tasks))


def main() -> None:
    """Parse arguments, run both phases and print the comparison."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", help="default: SQLite in a temporary directory")
    parser.add_argument("--redis-url", help="with PostgreSQL: the production shape")
    parser.add_argument("--seconds", type=int, default=15, help="length of each phase")
    parser.add_argument("--connections", type=int, default=16, help="wrk reader connections")
    parser.add_argument(
        "--pace-ms", type=int, default=100, help="each reader's pause between requests"
    )
    parser.add_argument("--url-length", type=int, default=200, help="raw length of each URL")
    parser.add_argument("--port", type=int, default=8078)
    parser.add_argument("--server-src", help="serve the chirp package found in this directory")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="chirp-starvation-") as tmp:
        data_dir = Path(tmp)
        database_url = args.database_url or f"sqlite+aiosqlite:///{data_dir / 'chirp.db'}"
        print(f"== preparing {make_url(database_url).get_backend_name()} data")
        client_app = asyncio.run(_prepare(database_url, data_dir))
        env = {
            "CHIRP_DATABASE_URL": database_url,
            "CHIRP_ENVIRONMENT": "development",
            "CHIRP_DOMAIN": f"127.0.0.1:{args.port}",
            "CHIRP_RATE_LIMIT_ENABLED": "false",
            "CHIRP_MAX_POST_LENGTH": str(MAX_POST_LENGTH),
        }
        if args.redis_url:
            env["CHIRP_REDIS_URL"] = args.redis_url
        if args.server_src:
            env["PYTHONPATH"] = os.path.abspath(args.server_src)
        url = f"http://127.0.0.1:{args.port}"
        procs = servers.start(
            "uvicorn",
            env,
            port=args.port,
            web_workers=1,
            job_workers=1 if args.redis_url else 0,
            log_dir=ROOT / "results" / "logs",
        )
        try:
            common = {
                "seconds": args.seconds,
                "connections": args.connections,
                "pace_ms": args.pace_ms,
            }
            wrk.run("warm-up", url, "home", data_dir, **{**common, "seconds": 3})
            alone = wrk.run("home timeline reads, alone", url, "home", data_dir, **common)
            cmd = wrk.command(url, "home", data_dir, **common)
            out, loops = asyncio.run(_contention(url, client_app, cmd, args.url_length))
            loaded = wrk.parse(
                "home timeline reads, with a poster and logins",
                args.connections,
                args.seconds,
                out,
            )
        finally:
            procs.stop()
    print(f"\n| reads of {args.connections} users' home timelines | req/s | p50 ms | p99 ms |")
    print("|---|---|---|---|")
    for r in (alone, loaded):
        print(f"| {r.name} | {r.rps:.0f} | {r.p50_ms:.1f} | {r.p99_ms:.1f} |")
    print(
        f"| ratio (with / alone) | {loaded.rps / alone.rps:.2f} | "
        f"{loaded.p50_ms / alone.p50_ms:.2f} | {loaded.p99_ms / alone.p99_ms:.2f} |"
    )
    print("\n| looping client | done | errors | p50 ms | max ms |\n|---|---|---|---|---|")
    for loop in loops:
        print(
            f"| {loop.name} | {loop.done} | {loop.errors} | {loop.p50_ms:.1f} | {loop.max_ms:.1f} |"
        )


if __name__ == "__main__":
    main()
