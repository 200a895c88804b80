"""Run Chirp's benchmark end to end and write a results table to bench/results/.

    python -m bench.run --tier small            # generate, serve, load, measure, report

Everything runs on this machine over loopback: PostgreSQL, Redis, the web processes, the
job worker and the load driver (wrk) share its cores, so figures are compared as ratios
measured in the same run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import shutil
import subprocess
import time
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
from redis import Redis

from bench import media_uploads, probes, servers, streams, wrk
from bench.generate import add_dataset_arguments, dsn, ensure_dataset
from chirp.config import Settings

ROOT = Path(__file__).resolve().parent
PORT = 8077
# The runs of each server choice, in order: trivial JSON, the 20-post ceiling through the
# framework, the same without it, home page 1.
PING, BARE, RAW, HOME = range(4)
MIXED = "mixed 90% read / 4% post / 3% like / 1% repost / 2% follow"
# Endpoints whose cost could grow with the whole database (a count, a scan, a deep offset),
# each measured alone: (report name, chirp.lua mode).
ENDPOINTS = [
    ("instance (v1)", "instance"),
    ("public timeline", "public"),
    ("an account", "account"),
    ("an account's posts", "profile"),
    ("an account's followers", "followers"),
    ("an account's follows", "following"),
    ("directory, any page to offset 10,000", "directory"),
]
# Clients uploading photos while home timelines are read at half load, and the photos' size.
UPLOADERS = 2
MEGAPIXELS = 12.0


async def _id_range(database_url: str) -> tuple[int, int]:
    conn = await asyncpg.connect(dsn(database_url))
    low, high = await conn.fetchrow("SELECT min(id), max(id) FROM posts")
    await conn.close()
    return int(low), int(high)


def main() -> None:
    """Parse arguments and run every phase."""
    parser = argparse.ArgumentParser(description=__doc__)
    add_dataset_arguments(parser)
    parser.add_argument("--seconds", type=int, default=20, help="duration of each load run")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--servers", default="uvicorn,granian")
    parser.add_argument("--skip-generate", action="store_true")
    parser.add_argument(
        "--streams",
        type=int,
        default=2000,
        help="open streaming API streams held during a second mixed run (0: skip)",
    )
    parser.add_argument(
        "--soak-seconds",
        type=int,
        default=0,
        help="then run the mixed load this long, sampling web RSS each minute",
    )
    args = parser.parse_args()

    data_dir = ROOT / "data" / args.tier
    logs = ROOT / "results" / "logs"
    ensure_dataset(args, data_dir, regenerate=not args.skip_generate)
    dataset = json.loads((data_dir / "dataset.json").read_text())
    Redis.from_url(args.redis_url).flushdb()
    media_dir = data_dir / "media"
    shutil.rmtree(media_dir, ignore_errors=True)  # the uploads of an earlier run

    env = {
        "CHIRP_DATABASE_URL": args.database_url,
        "CHIRP_REDIS_URL": args.redis_url,
        "CHIRP_ENVIRONMENT": "production",
        "CHIRP_SECRET_KEY": secrets.token_urlsafe(48),
        "CHIRP_DOMAIN": f"127.0.0.1:{PORT}",
        "CHIRP_BENCH_ENDPOINTS": "true",
        # The load driver is a handful of accounts hammering one IP: Mastodon's default
        # limits would refuse almost everything, so the benchmark turns them off.
        "CHIRP_RATE_LIMIT_ENABLED": "false",
        "CHIRP_MEDIA_DIR": str(media_dir),
    }
    settings = Settings(**{k.removeprefix("CHIRP_").lower(): v for k, v in env.items()})  # type: ignore[arg-type]
    url = f"http://127.0.0.1:{PORT}"
    tokens = (data_dir / "tokens.txt").read_text().split()
    id_range = asyncio.run(_id_range(args.database_url))
    conns, secs = args.connections, args.seconds
    results: dict[str, object] = {"dataset": dataset, "started": datetime.now(UTC).isoformat()}

    server_runs: dict[str, list[wrk.LoadResult]] = {}
    for kind in args.servers.split(","):
        print(f"== {kind}: ceilings and home page 1")
        procs = servers.start(kind, env, port=PORT, web_workers=2, job_workers=1, log_dir=logs)
        try:
            if "warmup_seconds" not in results:
                results["warmup_seconds"] = round(
                    asyncio.run(probes.warm_timelines(url, tokens)), 1
                )
            runs = [
                wrk.run(
                    "trivial JSON (ceiling)", url, "ping", data_dir, seconds=secs, connections=conns
                ),
                wrk.run(
                    "20 posts by id from Redis + PostgreSQL (ceiling)",
                    url,
                    "bare",
                    data_dir,
                    seconds=secs,
                    connections=conns,
                ),
                wrk.run(
                    "20 posts by id, asyncpg + redis-py alone (ceiling without the framework)",
                    url,
                    "raw",
                    data_dir,
                    seconds=secs,
                    connections=conns,
                ),
                wrk.run(
                    "home timeline, page 1", url, "home", data_dir, seconds=secs, connections=conns
                ),
            ]
        finally:
            procs.stop()
        server_runs[kind] = runs
        for r in runs:
            print(f"   {r.name}: {r.rps:.0f} req/s, p50 {r.p50_ms:.1f} ms, p99 {r.p99_ms:.1f} ms")
    chosen = max(server_runs, key=lambda k: server_runs[k][HOME].rps)
    results["servers"] = {k: [asdict(r) for r in v] for k, v in server_runs.items()}
    results["chosen_server"] = chosen

    print(f"== {chosen}: deep pages, posting, mixed load, delivery delay")
    procs = servers.start(chosen, env, port=PORT, web_workers=2, job_workers=1, log_dir=logs)
    try:
        rss_before = procs.rss_mb()
        load = [
            wrk.run(
                "home timeline, deep pages",
                url,
                "deep",
                data_dir,
                seconds=secs,
                connections=conns,
                id_range=id_range,
            )
        ]

        # Latency below saturation: the same connections, each pausing between its requests,
        # offering about half the throughput of the saturated run.
        def at_half_load(name: str, mode: str, saturated: wrk.LoadResult) -> wrk.LoadResult:
            pace = _pace_ms(conns, saturated.rps / 2)
            return wrk.run(
                f"{name}, at half load",
                url,
                mode,
                data_dir,
                seconds=secs,
                connections=conns,
                pace_ms=pace,
            )

        paced = [at_half_load("home timeline, page 1", "home", server_runs[chosen][HOME])]
        load.append(
            wrk.run("post creation", url, "post", data_dir, seconds=secs, connections=conns)
        )
        # The post-creation run leaves a fan-out backlog; the runs after it measure their own
        # load, so they start once that backlog is gone (and the report says how long it took).
        results["backlog_seconds"] = round(asyncio.run(probes.drain_jobs(settings)), 1)
        paced.append(at_half_load("post creation", "post", load[1]))
        asyncio.run(probes.drain_jobs(settings))
        authors = [int(a) for a in dataset["ordinary_token_users"][:10]]
        results["probe_followers_materialised"] = asyncio.run(
            probes.prepare_followers(settings, authors)
        )
        mixed_cmd = wrk.command(
            url, "mixed", data_dir, seconds=secs, connections=conns, id_range=id_range
        )
        mixed = subprocess.Popen(mixed_cmd, stdout=subprocess.PIPE, text=True)
        time.sleep(1)
        delays = asyncio.run(
            probes.delivery_delays(
                url, settings, args.seed, authors, probes=max(10, secs), spacing=0.5
            )
        )
        out, _ = mixed.communicate()
        load.append(wrk.parse(MIXED, conns, secs, out))
        rss_after = procs.rss_mb()
        endpoints = [
            wrk.run(name, url, mode, data_dir, seconds=min(secs, 10), connections=conns)
            for name, mode in ENDPOINTS
        ]
        print("== image uploads during home reads")
        results["uploads"] = _uploads(
            url, tokens[0], data_dir, conns, secs, server_runs[chosen][HOME]
        )
        celebrity = asyncio.run(probes.celebrity_next_read(url, settings, args.seed))
        if args.streams:
            print(f"== {args.streams} open streams during the mixed load")
            held = asyncio.run(
                streams.measure(
                    url,
                    settings,
                    seed=args.seed,
                    data_dir=data_dir,
                    procs=procs,
                    count=args.streams,
                    seconds=secs,
                    connections=conns,
                    id_range=id_range,
                )
            )
            results["streams"] = asdict(held)
        if args.soak_seconds:
            results["soak"] = _soak(url, data_dir, procs, args.soak_seconds, conns, id_range)
    finally:
        procs.stop()
    results["load"] = [asdict(r) for r in load]
    results["endpoints"] = [asdict(r) for r in endpoints]
    results["paced"] = [asdict(r) for r in paced]
    results["delivery_ms"] = {
        "p50": probes.percentile(delays, 50),
        "p99": probes.percentile(delays, 99),
        "samples": len(delays),
        "each": [round(d, 1) for d in delays],  # in posting order, to tell a spike from a backlog
    }
    results["celebrity"] = asdict(celebrity)
    results["web_rss_mb"] = {"before": round(rss_before, 1), "after": round(rss_after, 1)}

    print("== fan-out throughput (one worker process)")
    fan = asyncio.run(probes.fanout_throughput(settings))
    results["fanout"] = {**asdict(fan), "per_second": round(fan.per_second)}

    out_file = write_report(results, server_runs[chosen], load, args.tier)
    print(f"== results written to {out_file}")


def _uploads(
    url: str, token: str, data_dir: Path, conns: int, secs: int, home: wrk.LoadResult
) -> dict[str, object]:
    """Home page 1 at half load alone, then the same while clients upload large photos."""
    pace = _pace_ms(conns, home.rps / 2)
    name = "home timeline, page 1, at half load"
    alone = wrk.run(name, url, "home", data_dir, seconds=secs, connections=conns, pace_ms=pace)
    cmd = wrk.command(url, "home", data_dir, seconds=secs, connections=conns, pace_ms=pace)
    out, uploads = asyncio.run(
        media_uploads.during_load(url, token, cmd, uploaders=UPLOADERS, megapixels=MEGAPIXELS)
    )
    during = wrk.parse(f"{name}, during uploads", conns, secs, out)
    return {"alone": asdict(alone), "during": asdict(during), "uploads": asdict(uploads)}


def _uploads_lines(uploads: dict[str, dict[str, float]] | None) -> list[str]:
    if not uploads:
        return []
    alone, during, up = uploads["alone"], uploads["during"], uploads["uploads"]
    return [
        "",
        "## Image uploads (chosen server)",
        "",
        f"Home page 1 at half load, alone and while {UPLOADERS} clients upload "
        f"{MEGAPIXELS:g} MP JPEGs in a loop (each decoded, re-encoded twice and stored, in a "
        "thread: `CHIRP_MEDIA_PROCESSING_THREADS`).",
        "",
        "| reads | req/s | p50 ms | p99 ms | errors | req/s vs alone | p99 vs alone |",
        "|---|---|---|---|---|---|---|",
        *(
            f"| {r['name']} | {r['rps']:.0f} | {r['p50_ms']:.1f} | {r['p99_ms']:.1f} "
            f"| {r['errors']:.0f} | {r['rps'] / alone['rps']:.2f} "
            f"| {r['p99_ms'] / alone['p99_ms']:.1f} |"
            for r in (alone, during)
        ),
        "",
        f"Uploads: {up['done']:.0f} done, {up['errors']:.0f} refused or failed, p50 "
        f"{up['p50_ms']:.0f} ms, p99 {up['p99_ms']:.0f} ms.",
    ]


def _soak(
    url: str,
    data_dir: Path,
    procs: servers.Processes,
    seconds: int,
    conns: int,
    id_range: tuple[int, int],
) -> dict[str, object]:
    """Run the mixed load in one-minute rounds; RSS after each shows whether memory is flat."""
    print(f"== soak: mixed load for {seconds} s")
    rss, rps = [round(procs.rss_mb(), 1)], []
    for _ in range(max(1, seconds // 60)):
        run = wrk.run(
            "soak", url, "mixed", data_dir, seconds=60, connections=conns, id_range=id_range
        )
        rps.append(round(run.rps))
        rss.append(round(procs.rss_mb(), 1))
        print(f"   {run.rps:.0f} req/s, web RSS {rss[-1]} MiB")
    return {"seconds": 60 * len(rps), "rss_mb": rss, "rps": rps}


def _soak_lines(soak: object) -> list[str]:
    if not isinstance(soak, dict):
        return []
    return [
        f"- Soak: the mixed load for {soak['seconds']} s more; web RSS each minute (MiB): "
        f"{', '.join(map(str, soak['rss_mb']))}; req/s each minute: "
        f"{', '.join(map(str, soak['rps']))}."
    ]


def _pace_ms(connections: int, rps: float) -> int:
    """The pause per connection between requests that offers about ``rps`` in all."""
    return max(1, round(connections * 1000 / max(rps, 1.0)))


def write_report(
    results: dict[str, object], base: list[wrk.LoadResult], load: list[wrk.LoadResult], tier: str
) -> Path:
    """Write the Markdown table and the raw JSON next to it."""
    ping, bare, raw = base[PING], base[BARE], base[RAW]
    stamp = datetime.now(UTC).strftime("%Y-%m-%d-%H%M")
    lines = [
        f"# Chirp benchmark: {tier} tier, {stamp} UTC",
        "",
        "Everything on one 2-core machine over loopback (PostgreSQL, Redis, 2 web processes, "
        "1 job worker, wrk). Rate limits were off for the run (one IP, a few thousand accounts). "
        "Every other setting is the default (e.g. 20 database connections per process).",
        "",
        f"Data set: {json.dumps({k: results['dataset'][k] for k in ('users', 'follows', 'posts', 'likes', 'reposts', 'max_followers', 'accounts_over_10k_followers', 'median_followers')})}",  # type: ignore[index]
        "",
        "## ASGI server choice (2 workers each)",
        "",
        "| server | trivial JSON req/s | 20-post ceiling req/s | without the framework req/s | home page 1 req/s | home p99 ms |",
        "|---|---|---|---|---|---|",
    ]
    for kind, runs in results["servers"].items():  # type: ignore[attr-defined]
        lines.append(
            f"| {kind} | {runs[PING]['rps']:.0f} | {runs[BARE]['rps']:.0f} | {runs[RAW]['rps']:.0f} "
            f"| {runs[HOME]['rps']:.0f} | {runs[HOME]['p99_ms']:.1f} |"
        )
    lines += [
        "",
        f"Chosen: **{results['chosen_server']}** (highest home-timeline throughput).",
        "",
        "## Load (chosen server)",
        "",
        "| scenario | conns | req/s | p50 ms | p99 ms | errors | vs 20-post ceiling | vs ceiling without the framework | vs trivial JSON |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in [*base, *load]:
        lines.append(
            f"| {r.name} | {r.connections} | {r.rps:.0f} | {r.p50_ms:.1f} | {r.p99_ms:.1f} | "
            f"{r.errors} | {r.rps / bare.rps:.2f} | {r.rps / raw.rps:.2f} | {r.rps / ping.rps:.2f} |"
        )
    # Both ceilings run on the same 2 processes: the time one request holds them, apart.
    layers_ms = 2 * 1000 * (1 / bare.rps - 1 / raw.rps)
    lines += [
        "",
        f"FastAPI's dependency injection and the SQLAlchemy session cost {layers_ms:.2f} ms of "
        f"the 2 web processes' time per request ({bare.rps / raw.rps:.2f} of the ceiling "
        "without them); bench/README.md says where it goes.",
    ]
    lines += [
        "",
        "## Latency below saturation (chosen server)",
        "",
        "The same connections, each pausing between requests (a random 0.5-1.5x of a fixed "
        "pause), so that together they offer about half the throughput of the saturated run: "
        "the latency a request sees when it does not queue behind 63 others.",
        "",
        "| scenario | conns | req/s | p50 ms | p99 ms | errors |",
        "|---|---|---|---|---|---|",
    ]
    for p in results.get("paced", []):  # type: ignore[attr-defined]
        lines.append(
            f"| {p['name']} | {p['connections']} | {p['rps']:.0f} | {p['p50_ms']:.1f} | "
            f"{p['p99_ms']:.1f} | {p['errors']} |"
        )
    lines += [
        "",
        "## One endpoint at a time (chosen server, saturated)",
        "",
        "Endpoints whose cost could grow with the whole database; each should stay near the "
        "ceilings whatever the tier.",
        "",
        "| endpoint | conns | req/s | p50 ms | p99 ms | errors | vs 20-post ceiling |",
        "|---|---|---|---|---|---|---|",
    ]
    for e in results.get("endpoints", []):  # type: ignore[attr-defined]
        lines.append(
            f"| {e['name']} | {e['connections']} | {e['rps']:.0f} | {e['p50_ms']:.1f} | "
            f"{e['p99_ms']:.1f} | {e['errors']} | {e['rps'] / bare.rps:.2f} |"
        )
    lines += _uploads_lines(results.get("uploads"))  # type: ignore[arg-type]
    delivery = results["delivery_ms"]
    celeb = results["celebrity"]
    fan = results["fanout"]
    rss = results["web_rss_mb"]
    threshold = Settings.model_fields["fanout_max_followers"].default
    lines += [
        "",
        "## Fan-out and delivery",
        "",
        f"- Fan-out: {fan['per_second']:,} timeline inserts/s in one worker process, 4 fan-outs "  # type: ignore[index]
        f"at a time as in `chirp worker --concurrency 4` ({fan['deliveries']:,} deliveries for "  # type: ignore[index]
        f"{fan['posts']} posts in {fan['seconds']:.2f} s).",  # type: ignore[index]
        f"- Ordinary post in every follower's timeline, under the mixed load: p50 "
        f"{delivery['p50']:.0f} ms, p99 {delivery['p99']:.0f} ms ({delivery['samples']} posts).",  # type: ignore[index]
        f"- Fan-out backlog left by the post-creation run, drained before the next run: "
        f"{results.get('backlog_seconds', 'n/a')} s.",
        f"- A {celeb['followers']:,}-follower account's post visible on the follower's very next "  # type: ignore[index]
        f"read: **{'yes' if celeb['visible_on_next_read'] else 'NO'}** (post {celeb['post_ms']:.0f} ms, "  # type: ignore[index]
        f"read {celeb['read_ms']:.0f} ms)"  # type: ignore[index]
        + (
            ""
            if celeb["followers"] > threshold  # type: ignore[index]
            else f"; no account of this tier is over the read-time merge threshold ({threshold:,}"
            " followers), so this post went through ordinary fan-out and a read at once can miss it"
        )
        + ".",
        f"- Web processes' RSS: {rss['before']} MiB before the load runs, {rss['after']} MiB after.",  # type: ignore[index]
        *(streams.report_lines(results["streams"]) if "streams" in results else []),  # type: ignore[arg-type]
        *_soak_lines(results.get("soak")),
        f"- Timeline warm-up (first read rebuilds each load user's timeline from PostgreSQL): "
        f"{results['warmup_seconds']} s.",
    ]
    results_dir = ROOT / "results"
    results_dir.mkdir(exist_ok=True)
    md = results_dir / f"{tier}-{stamp}.md"
    md.write_text("\n".join(lines) + "\n")
    (results_dir / f"{tier}-{stamp}.json").write_text(json.dumps(results, indent=2, default=str))
    return md


if __name__ == "__main__":
    main()
