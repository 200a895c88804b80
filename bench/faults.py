"""Fault runs of the production shape: is every acknowledged post delivered, once?

    python -m bench.faults                         # every fault, 2,000 users
    python -m bench.faults --faults db-cut,redis-flush --users 500

Runs PostgreSQL (a database of the run's own, reached through a proxy of the script's, so
the database can be cut or blackholed without touching the server), a private redis-server,
``chirp serve --workers 2`` and two ``chirp worker`` processes, over a generated data set
(one author followed by 1,500 users). For each fault in turn, client tasks post and read
home timelines at a bounded rate while the fault is injected and healed; once the queue has
drained, every follower of the posting authors reads their home timeline through the API,
and what they see is compared with SQL. Results go to bench/results/faults-<time>.json and
.md.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import hashlib
import json
import random
import secrets
import shutil
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from redis import Redis
from redis.exceptions import RedisError
from sqlalchemy.engine import make_url
from tests import procs
from tests.faults.conftest import RedisServer
from tests.live import recreate_postgres_db
from tests.proxy import TcpProxy

from bench.generate import (
    FOLLOW_COLUMNS,
    POST_COLUMNS,
    USER_COLUMNS,
    add_tokens,
    copy,
    dsn,
    set_counters,
    user_row,
)
from chirp.ids import id_at
from chirp.migrate import upgrade

ROOT = Path(__file__).resolve().parent
FAULTS = ("worker-kill", "redis-restart", "redis-flush", "db-cut", "db-blackhole")
DB_FAULTS = ("db-cut", "db-blackhole")
CLIENT_TIMEOUT = 10.0  # seconds a client waits for an answer
HOME_LIMIT = 40


@dataclass(frozen=True)
class Options:
    """What to run (the command line)."""

    database_url: str
    users: int
    big_followers: int
    authors: int
    faults: tuple[str, ...]
    outage: float
    before: float
    after: float
    posts_per_second: float
    reads_per_second: float
    clients: int
    web_workers: int
    job_workers: int
    seed: int
    out: Path


@dataclass
class Dataset:
    """The generated accounts: who posts, who follows them, everyone's token."""

    tokens: dict[int, str]
    big: int
    authors: list[int]  # the accounts that post during the runs, the big one first
    followers: dict[int, set[int]]  # of each posting author
    checked: list[int]  # every posting author and every follower of one: read after each run


@dataclass
class Request:
    """One request of the load: what, when, and how it ended."""

    kind: str
    start: float
    end: float
    status: str  # the HTTP status, or "timeout" / "error:<kind>"


@dataclass
class FaultResult:
    """The figures of one fault run."""

    fault: str
    outage_seconds: float
    requests_by_status: dict[str, dict[str, int]] = field(default_factory=dict)
    posts_acknowledged: int = 0
    posts_acknowledged_missing_from_sql: int = 0
    posts_stored_unacknowledged: int = 0
    deliveries_expected: int = 0
    deliveries_found: int = 0
    lost: int = 0
    lost_after_recheck: int = 0
    duplicated: int = 0
    timelines_checked: int = 0
    timelines_differing_from_sql: int = 0
    examples: list[str] = field(default_factory=list)
    server_errors_during_outage: dict[str, int] = field(default_factory=dict)
    queue_drained_seconds: float | None = None
    jobs_failed: int = 0
    healthy_after_seconds: float | None = None
    health_slowest_seconds: float = 0.0
    processes_restarted: list[str] = field(default_factory=list)
    web_processes_replaced: int = 0
    recovered_without_restart: bool = False
    seconds: float = 0.0


# --- the data set -------------------------------------------------------------------------


async def generate(opts: Options) -> Dataset:
    """A fresh database: users, follows (one big author), a history of posts, tokens."""
    rng = random.Random(opts.seed)
    url = make_url(opts.database_url)
    await recreate_postgres_db(
        url.set(database="postgres").render_as_string(hide_password=False), str(url.database)
    )
    await asyncio.to_thread(upgrade, opts.database_url)
    now = datetime.now(UTC)
    start = id_at(now - timedelta(days=3))
    ids = [start + (i << 22) for i in range(opts.users)]  # time-ordered, distinct
    big, authors = ids[0], ids[: opts.authors + 1]
    follows: set[tuple[int, int]] = set()
    for f in rng.sample(ids[1:], min(opts.big_followers, len(ids) - 1)):
        follows.add((f, big))
    for author in authors[1:]:
        for f in rng.sample(ids, rng.randint(10, 60)):
            if f != author:
                follows.add((f, author))
    for f in ids:  # everyone follows a few others, so homes mix authors
        for other in rng.sample(ids, 5):
            if other != f:
                follows.add((f, other))
    tokens = {uid: hashlib.sha256(f"faults:{opts.seed}:{uid}".encode()).hexdigest() for uid in ids}
    history = id_at(now - timedelta(days=2))
    posts = [
        (history + (n << 22) + rng.randrange(1 << 20), author, f"history {n}", now)
        for n, author in enumerate(rng.choices(ids, k=opts.users * 3) + [big] * 100)
    ]
    conn = await asyncpg.connect(dsn(opts.database_url))
    try:
        await copy(
            conn,
            "users",
            USER_COLUMNS,
            [
                user_row(
                    u,
                    f"u{i}",
                    f"u{i}@f.test",
                    password_hash="-",  # noqa: S106 - no password: these accounts use tokens
                    display_name="",
                    joined=now,
                    now=now,
                )
                for i, u in enumerate(ids)
            ],
        )
        await copy(
            conn,
            "follows",
            FOLLOW_COLUMNS,
            [(start + n, f, e, now) for n, (f, e) in enumerate(sorted(follows))],
        )
        await copy(conn, "posts", POST_COLUMNS, posts)
        await add_tokens(conn, "faults", tokens, now)
        await set_counters(conn)
        await conn.execute("ANALYZE")
    finally:
        await conn.close()
    followers = {a: {f for f, e in follows if e == a} for a in authors}
    checked = sorted(set(authors).union(*followers.values()))
    return Dataset(tokens, big, authors, followers, checked)


# --- the load ------------------------------------------------------------------------------


class Load:
    """Client tasks posting and reading home timelines at a bounded rate; every answer kept."""

    def __init__(self, url: str, data: Dataset, opts: Options) -> None:
        self.url = url
        self.data = data
        self.opts = opts
        self.requests: list[Request] = []
        self.acknowledged: dict[int, int] = {}  # post id -> author
        self.stop = asyncio.Event()
        self.rng = random.Random(opts.seed + 1)

    async def _timed(
        self, client: httpx.AsyncClient, kind: str, send: Callable[[], Awaitable[httpx.Response]]
    ) -> httpx.Response | None:
        start = time.monotonic()
        response = None
        try:
            response = await send()
            status = str(response.status_code)
        except httpx.TimeoutException:
            status = "timeout"
        except httpx.HTTPError as exc:
            status = f"error:{type(exc).__name__}"
        self.requests.append(Request(kind, start, time.monotonic(), status))
        return response

    async def _client(self, n: int) -> None:
        share = self.opts.clients
        post_every = share / self.opts.posts_per_second
        read_every = share / self.opts.reads_per_second
        next_post = time.monotonic() + self.rng.random() * post_every
        next_read = time.monotonic() + self.rng.random() * read_every
        async with httpx.AsyncClient(base_url=self.url, timeout=CLIENT_TIMEOUT) as client:
            while not self.stop.is_set():
                now = time.monotonic()
                if now >= next_post:
                    next_post = max(next_post + post_every, now)
                    await self._post(client, n)
                elif now >= next_read:
                    next_read = max(next_read + read_every, now)
                    await self._read(client)
                else:
                    delay = min(next_post, next_read) - now
                    await asyncio.wait([asyncio.ensure_future(self.stop.wait())], timeout=delay)

    async def _post(self, client: httpx.AsyncClient, n: int) -> None:
        data = self.data
        # A quarter of the posts are the big author's (1,500 followers), the rest ordinary.
        author = data.big if self.rng.random() < 0.25 else self.rng.choice(data.authors[1:])
        headers = {"Authorization": f"Bearer {data.tokens[author]}"}
        body = {"status": f"load {n} {self.rng.random():.6f}"}
        response = await self._timed(
            client, "post", lambda: client.post("/api/v1/statuses", data=body, headers=headers)
        )
        if response is not None and response.status_code == 200:
            self.acknowledged[int(response.json()["id"])] = author

    async def _read(self, client: httpx.AsyncClient) -> None:
        reader = self.rng.choice(self.data.checked)
        headers = {"Authorization": f"Bearer {self.data.tokens[reader]}"}
        await self._timed(
            client, "home", lambda: client.get("/api/v1/timelines/home", headers=headers)
        )

    async def run(self, seconds: float) -> None:
        """Run the clients for ``seconds`` (or until ``stop`` is set)."""
        tasks = [asyncio.ensure_future(self._client(n)) for n in range(self.opts.clients)]
        try:
            await asyncio.wait([asyncio.ensure_future(self.stop.wait())], timeout=seconds)
        finally:
            self.stop.set()
            # A request in flight ends within the client timeout.
            await asyncio.wait(tasks, timeout=CLIENT_TIMEOUT + 5)
            for task in tasks:
                task.cancel()


# --- the stack -----------------------------------------------------------------------------


class Stack:
    """The production shape: web processes and workers, PostgreSQL behind a proxy, Redis."""

    def __init__(self, opts: Options, workdir: Path) -> None:
        self.opts = opts
        self.logs = workdir
        db = make_url(opts.database_url)
        self.proxy = TcpProxy(db.host or "127.0.0.1", db.port or 5432)
        self.proxy.start()
        self.redis = RedisServer(workdir)
        self.redis.start()
        self.port = procs.free_port()
        through_proxy = db.set(host="127.0.0.1", port=self.proxy.port)
        self.env = procs.chirp_env(
            through_proxy.render_as_string(hide_password=False),
            redis_url=self.redis.url,
            port=self.port,
            CHIRP_ENVIRONMENT="production",
            CHIRP_SECRET_KEY=secrets.token_urlsafe(48),
            # A handful of accounts on one IP: Mastodon's limits would refuse the load.
            CHIRP_RATE_LIMIT_ENABLED="false",
        )
        self.url = f"http://127.0.0.1:{self.port}"
        self.web = procs.start_server(
            self.env, port=self.port, log_dir=workdir, workers=opts.web_workers, wait=120
        )
        self.workers = [self.start_worker(n) for n in range(opts.job_workers)]

    def start_worker(self, n: int) -> procs.ChirpProcess:
        """Start job worker ``n`` (again, after a kill)."""
        return procs.start_worker(self.env, log_dir=self.logs, name=f"worker-{n}")

    def pids(self) -> dict[str, int]:
        """Every Chirp process by role, to tell whether one was restarted."""
        found = {"web": self.web.pid}
        found.update({f"web-child-{n}": pid for n, pid in enumerate(self.web.children())})
        found.update({w.name: w.pid for w in self.workers})
        return found

    def close(self) -> None:
        """Stop everything this run started."""
        for proc in [self.web, *self.workers]:
            proc.stop()
        self.proxy.stop()
        self.redis.stop()


async def _sql(opts: Options, query: str, *args: Any) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(dsn(opts.database_url), timeout=10)
    try:
        return list(await conn.fetch(query, *args))
    finally:
        await conn.close()


async def _queue(opts: Options) -> tuple[int, int]:
    """Jobs waiting or running, and jobs that failed for good."""
    [row] = await _sql(
        opts,
        "SELECT count(*) FILTER (WHERE status <> 'failed') AS open,"
        " count(*) FILTER (WHERE status = 'failed') AS failed FROM jobs",
    )
    return int(row["open"]), int(row["failed"])


async def _healthy(url: str) -> bool:
    try:
        async with httpx.AsyncClient(base_url=url, timeout=2) as client:
            return (await client.get("/health")).status_code == 200
    except httpx.HTTPError:
        return False


async def _read_home(
    client: httpx.AsyncClient, token: str, since: int, limit: int = HOME_LIMIT, pages: int = 50
) -> list[int] | str:
    """Every post of a home timeline newer than ``since``, paged; or the failing status."""
    headers = {"Authorization": f"Bearer {token}"}
    seen: list[int] = []
    for _ in range(pages):  # bounded
        params: dict[str, int] = {"limit": limit, "since_id": since}
        if seen:
            params["max_id"] = seen[-1]
        try:
            response = await client.get("/api/v1/timelines/home", params=params, headers=headers)
        except httpx.HTTPError as exc:
            return f"error:{type(exc).__name__}"
        if response.status_code != 200:
            return str(response.status_code)
        page = [int(s["id"]) for s in response.json()]
        if not page:
            break
        seen += page
    return seen


async def _read_homes(
    url: str, data: Dataset, users: list[int], since: int, *, warm: bool = False
) -> dict[int, list[int] | str]:
    found: dict[int, list[int] | str] = {}
    queue = list(users)

    async def reader() -> None:
        async with httpx.AsyncClient(base_url=url, timeout=CLIENT_TIMEOUT) as client:
            while queue:
                user = queue.pop()
                if warm:  # one post is enough to have the timeline built in Redis
                    found[user] = await _read_home(client, data.tokens[user], since, 1, 1)
                else:
                    found[user] = await _read_home(client, data.tokens[user], since)

    await asyncio.gather(*(reader() for _ in range(8)))
    return found


# --- one fault -----------------------------------------------------------------------------


async def _inject(fault: str, stack: Stack, opts: Options) -> Callable[[], None]:
    """Start ``fault``; return what ends it (nothing to end for a kill or a flush)."""
    if fault == "worker-kill":
        stack.workers[0].kill()  # the other worker must take its claimed jobs over
        return lambda: None
    if fault == "redis-flush":
        Redis(port=stack.redis.port).flushall()
        return lambda: None
    if fault == "redis-restart":
        stack.redis.stop()  # it keeps nothing on disk: it comes back empty
        return stack.redis.start
    if fault == "db-cut":
        stack.proxy.cut()
        return stack.proxy.restore
    if fault == "db-blackhole":
        stack.proxy.blackhole()
        return stack.proxy.restore
    raise ValueError(fault)


async def run_fault(fault: str, stack: Stack, data: Dataset, opts: Options) -> FaultResult:
    """Load, inject, heal, drain, then read every checked home timeline and compare with SQL."""
    result = FaultResult(fault, opts.outage)
    started = time.monotonic()
    pids_before = stack.pids()
    died_before = stack.web.log(tail=10**8).count("died")
    [row] = await _sql(opts, "SELECT coalesce(max(id), 0) AS top FROM posts")
    watermark = int(row["top"])
    load = Load(stack.url, data, opts)
    outage: list[float] = []

    async def probe_health() -> None:
        # Load balancers ask this all the time: it must answer, and quickly, whatever fails.
        async with httpx.AsyncClient(base_url=stack.url, timeout=5) as client:
            while not load.stop.is_set():
                await load._timed(client, "health", lambda: client.get("/health"))
                await asyncio.sleep(0.25)

    async def fault_script() -> None:
        await asyncio.sleep(opts.before)
        outage.append(time.monotonic())
        print(f"   {fault}: injected")
        heal = await _inject(fault, stack, opts)
        await asyncio.sleep(opts.outage)
        await asyncio.to_thread(heal)
        outage.append(time.monotonic())
        print(f"   {fault}: healed")

    await asyncio.gather(
        load.run(opts.before + opts.outage + opts.after), fault_script(), probe_health()
    )
    healed = outage[1]
    health = [r for r in load.requests if r.kind == "health"]
    result.health_slowest_seconds = round(max((r.end - r.start for r in health), default=0), 2)
    answered = [r.end for r in health if r.start >= healed and r.status == "200"]
    if answered:
        result.healthy_after_seconds = round(min(answered) - healed, 1)

    # Recovery: no process is restarted; the queue must drain and /health answer.
    bound = 120.0
    while time.monotonic() - healed < bound:
        if result.healthy_after_seconds is None and await _healthy(stack.url):
            result.healthy_after_seconds = round(time.monotonic() - healed, 1)
        if result.queue_drained_seconds is None:
            try:
                open_jobs, result.jobs_failed = await _queue(opts)
                if open_jobs == 0:
                    result.queue_drained_seconds = round(time.monotonic() - healed, 1)
            except (OSError, asyncpg.PostgresError):
                pass
        if result.healthy_after_seconds is not None and result.queue_drained_seconds is not None:
            break
        await asyncio.sleep(0.5)
    await asyncio.sleep(1)  # the last fan-out's Redis writes after its job row is gone

    # Requests by status, and server errors while the database was out.
    by_kind: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    for r in load.requests:
        by_kind[r.kind][r.status] += 1
        server_error = r.status.startswith("5") and r.status != "503"
        during = r.end >= outage[0] and r.start <= healed + 2
        if fault in DB_FAULTS and during and (server_error or not r.status.isdigit()):
            # A 500, or no answer at all (a reset connection, a timeout): what a 503 is for.
            errors = result.server_errors_during_outage
            errors[r.status] = errors.get(r.status, 0) + 1
    result.requests_by_status = {k: dict(sorted(v.items())) for k, v in sorted(by_kind.items())}

    # What SQL holds, what was acknowledged, what every follower reads.
    stored = {
        int(r["id"]): int(r["author_id"])
        for r in await _sql(opts, "SELECT id, author_id FROM posts WHERE id > $1", watermark)
    }
    acked = load.acknowledged
    result.posts_acknowledged = len(acked)
    result.posts_acknowledged_missing_from_sql = sum(1 for p in acked if p not in stored)
    result.posts_stored_unacknowledged = sum(1 for p in stored if p not in acked)
    follows = await _sql(
        opts,
        "SELECT follower_id, followee_id FROM follows WHERE follower_id = ANY($1::bigint[])",
        data.checked,
    )
    followed: dict[int, set[int]] = collections.defaultdict(set)
    for r in follows:
        followed[int(r["follower_id"])].add(int(r["followee_id"]))
    homes = await _read_homes(stack.url, data, data.checked, watermark)
    lossy: list[int] = []
    for user, seen in homes.items():
        authors = followed[user] | {user}
        want_sql = sorted((p for p, a in stored.items() if a in authors), reverse=True)
        want_acked = {p for p, a in acked.items() if a in followed[user]}
        result.timelines_checked += 1
        if isinstance(seen, str):
            result.timelines_differing_from_sql += 1
            result.lost += len(want_acked)
            result.deliveries_expected += len(want_acked)
            lossy.append(user)
            _example(result, f"user {user}: home answered {seen}")
            continue
        result.duplicated += len(seen) - len(set(seen))
        result.deliveries_expected += len(want_acked)
        got = want_acked & set(seen)
        result.deliveries_found += len(got)
        result.lost += len(want_acked) - len(got)
        if len(got) < len(want_acked):
            lossy.append(user)
        if seen != want_sql:
            result.timelines_differing_from_sql += 1
            _example(
                result,
                f"user {user}: {len(seen)} posts in home, {len(want_sql)} in SQL "
                f"({len(set(want_sql) - set(seen))} missing, "
                f"{len(set(seen) - set(want_sql))} extra)",
            )
    if lossy:  # read them again: a loss that lasts is a loss for good
        await asyncio.sleep(5)
        again = await _read_homes(stack.url, data, lossy, watermark)
        redis = Redis(port=stack.redis.port, decode_responses=True)
        for user, seen in again.items():
            want_acked = {p for p, a in acked.items() if a in followed[user]}
            found = set(seen) if not isinstance(seen, str) else set()
            result.lost_after_recheck += len(want_acked - found)
            if want_acked - found:
                _example(result, f"user {user}, still missing 5 s later: {_cached(redis, user)}")

    pids_after = stack.pids()
    # uvicorn's supervisor replaces a web process that dies or misses its health ping.
    result.web_processes_replaced = stack.web.log(tail=10**8).count("died") - died_before
    killed = {stack.workers[0].name} if fault == "worker-kill" else set()
    result.processes_restarted = sorted(
        name
        for name in set(pids_before) | set(pids_after)
        if name not in killed and pids_before.get(name) != pids_after.get(name)
    )
    result.recovered_without_restart = (
        result.healthy_after_seconds is not None
        and result.queue_drained_seconds is not None
        and not result.processes_restarted
        and result.lost_after_recheck == 0
    )
    result.seconds = round(time.monotonic() - started, 1)
    if fault == "worker-kill":  # its supervisor would start it again: ready for the next run
        stack.workers[0] = stack.start_worker(0)
    return result


def _example(result: FaultResult, text: str) -> None:
    if len(result.examples) < 8:
        result.examples.append(text)


def _cached(redis: Redis, user: int) -> str:
    """What Redis holds for a user's home timeline: size, floor, rebuild marker."""
    try:
        size = redis.zcard(f"chirp:tl:{user}")
        floor = redis.get(f"chirp:tlf:{user}")
        marker = redis.ttl(f"chirp:tlb:{user}")
    except RedisError as exc:
        return f"Redis unreachable ({exc})"
    return f"Redis timeline of {size} ids, floor {floor!r}, rebuild marker ttl {marker}"


# --- the report ----------------------------------------------------------------------------


def table(results: list[FaultResult]) -> str:
    """The figures as a Markdown table, one column per fault."""

    def statuses(r: FaultResult) -> str:
        return "; ".join(
            f"{kind} " + ", ".join(f"{k}: {v}" for k, v in counts.items())
            for kind, counts in r.requests_by_status.items()
        )

    def errors(r: FaultResult) -> str:
        if r.fault not in DB_FAULTS:
            return "n/a"
        counts = r.server_errors_during_outage
        return f"{sum(counts.values())} ({', '.join(f'{k}: {v}' for k, v in counts.items())})"

    rows: list[tuple[str, Callable[[FaultResult], object]]] = [
        ("requests by status", statuses),
        ("posts acknowledged", lambda r: r.posts_acknowledged),
        ("acknowledged, not in SQL", lambda r: r.posts_acknowledged_missing_from_sql),
        ("in SQL, not acknowledged", lambda r: r.posts_stored_unacknowledged),
        ("deliveries expected", lambda r: r.deliveries_expected),
        ("deliveries found", lambda r: r.deliveries_found),
        ("lost", lambda r: r.lost),
        ("lost, read again 5 s later", lambda r: r.lost_after_recheck),
        ("duplicated", lambda r: r.duplicated),
        (
            "home timelines differing from SQL",
            lambda r: f"{r.timelines_differing_from_sql} of {r.timelines_checked}",
        ),
        ("5xx other than 503 (or no answer) during the outage", errors),
        ("slowest /health answer (s)", lambda r: r.health_slowest_seconds),
        ("first /health 200 after heal (s)", lambda r: r.healthy_after_seconds),
        ("queue drained after heal (s)", lambda r: r.queue_drained_seconds),
        ("jobs failed for good", lambda r: r.jobs_failed),
        ("web processes replaced by uvicorn", lambda r: r.web_processes_replaced),
        ("recovered without a restart", lambda r: "yes" if r.recovered_without_restart else "no"),
    ]
    lines = [
        "| figure | " + " | ".join(r.fault for r in results) + " |",
        "|---|" + "---|" * len(results),
    ]
    for name, get in rows:
        lines.append(f"| {name} | " + " | ".join(str(get(r)) for r in results) + " |")
    return "\n".join(lines)


def main() -> None:
    """Parse arguments, set up, run each fault, write the results."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument(
        "--database-url",
        default="postgresql+asyncpg://postgres:postgres@127.0.0.1:5432/chirp_faults",
        help="PostgreSQL database to create afresh (dropped first!) for the run",
    )
    parser.add_argument("--users", type=int, default=2000)
    parser.add_argument("--big-followers", type=int, default=1500)
    parser.add_argument("--authors", type=int, default=20, help="ordinary posting accounts")
    parser.add_argument("--faults", default=",".join(FAULTS), help=", ".join(FAULTS))
    parser.add_argument("--outage", type=float, default=10, help="seconds each fault lasts")
    parser.add_argument("--before", type=float, default=5, help="seconds of load before it")
    parser.add_argument("--after", type=float, default=8, help="seconds of load after it")
    parser.add_argument("--posts-per-second", type=float, default=6)
    parser.add_argument("--reads-per-second", type=float, default=40)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--web-workers", type=int, default=2)
    parser.add_argument("--job-workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, default=ROOT / "results")
    a = parser.parse_args()
    faults = tuple(f for f in a.faults.split(",") if f)
    if unknown := set(faults) - set(FAULTS):
        parser.error(f"unknown faults: {', '.join(sorted(unknown))}")
    if shutil.which("redis-server") is None:
        parser.error("needs the redis-server binary")
    opts = Options(
        database_url=a.database_url,
        users=a.users,
        big_followers=a.big_followers,
        authors=a.authors,
        faults=faults,
        outage=a.outage,
        before=a.before,
        after=a.after,
        posts_per_second=a.posts_per_second,
        reads_per_second=a.reads_per_second,
        clients=a.clients,
        web_workers=a.web_workers,
        job_workers=max(a.job_workers, 2 if "worker-kill" in faults else 1),
        seed=a.seed,
        out=a.out,
    )
    asyncio.run(run(opts))


async def run(opts: Options) -> list[FaultResult]:
    """Generate, start the stack, run every fault, write the results."""
    stamp = datetime.now(UTC).strftime("%Y-%m-%d-%H%M")
    began = time.monotonic()
    print(f"== generating {opts.users} users")
    data = await generate(opts)
    print(
        f"   {len(data.checked)} home timelines to check per fault, in {time.monotonic() - began:.0f} s"
    )
    workdir = Path(tempfile.mkdtemp(prefix="chirp-faults-"))
    stack = await asyncio.to_thread(Stack, opts, workdir)
    results: list[FaultResult] = []
    try:
        print("== warming every checked home timeline (built in Redis)")
        warm_start = time.monotonic()
        await _read_homes(stack.url, data, data.checked, 0, warm=True)
        print(f"   in {time.monotonic() - warm_start:.0f} s")
        for fault in opts.faults:
            print(f"== {fault}")
            result = await run_fault(fault, stack, data, opts)
            print(
                f"   acknowledged {result.posts_acknowledged}, expected "
                f"{result.deliveries_expected}, found {result.deliveries_found}, lost "
                f"{result.lost}, duplicated {result.duplicated}, recovered: "
                f"{result.recovered_without_restart} ({result.seconds} s)"
            )
            results.append(result)
    finally:
        await asyncio.to_thread(stack.close)
    opts.out.mkdir(parents=True, exist_ok=True)
    base = opts.out / f"faults-{stamp}"
    settings = {k: str(v) if isinstance(v, Path) else v for k, v in asdict(opts).items()}
    settings["database_url"] = make_url(opts.database_url).render_as_string(hide_password=True)
    report = {
        "started": stamp,
        "options": settings,
        "checked_timelines": len(data.checked),
        "big_author_followers": len(data.followers[data.big]),
        "logs": str(workdir),
        "results": [asdict(r) for r in results],
    }
    base.with_suffix(".json").write_text(json.dumps(report, indent=2) + "\n")
    md = (
        f"# Fault runs {stamp}\n\n"
        f"{opts.users} users, one author with {len(data.followers[data.big])} followers, "
        f"{opts.authors} ordinary posting authors; {len(data.checked)} home timelines "
        f"checked per fault; {opts.web_workers} web processes, {opts.job_workers} workers; "
        f"each fault lasts {opts.outage:g} s under {opts.posts_per_second:g} posts/s and "
        f"{opts.reads_per_second:g} home reads/s from {opts.clients} clients.\n\n"
        f"{table(results)}\n"
    )
    examples = [f"- {r.fault}: {e}" for r in results for e in r.examples]
    if examples:
        md += "\nExamples:\n\n" + "\n".join(examples) + "\n"
    base.with_suffix(".md").write_text(md)
    print(md)
    print(f"results: {base}.md and .json; logs in {workdir}")
    return results


if __name__ == "__main__":
    main()
