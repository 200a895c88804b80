"""Write a benchmark data set straight into PostgreSQL with COPY: users, power-law follows,
posts and API tokens. Deterministic for a given tier and seed.

    python bench/generate.py --tier small   # 10k users
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import itertools
import json
import random
import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
from sqlalchemy.engine import make_url
from tqdm import tqdm

from chirp.auth.passwords import hash_password_blocking
from chirp.auth.tokens import digest
from chirp.ids import id_at
from chirp.migrate import upgrade

BENCH_PASSWORD = "bench-password"  # noqa: S105 - synthetic accounts on a local database
WORDS = [
    "the",
    "a",
    "new",
    "release",
    "coffee",
    "train",
    "garden",
    "standup",
    "bug",
    "book",
    "cat",
    "rain",
    "monday",
    "sunset",
    "build",
    "deploy",
    "review",
    "merge",
    "test",
    "lunch",
    "walk",
    "music",
    "film",
    "code",
    "idea",
    "plan",
    "ship",
    "today",
    "tomorrow",
]


@dataclass(frozen=True)
class Tier:
    """Size of a data set."""

    users: int
    follows_per_user: int  # mean
    posts: int
    token_users: int  # users the load driver logs in as


TIERS = {
    "tiny": Tier(users=2_000, follows_per_user=30, posts=40_000, token_users=500),
    "small": Tier(users=10_000, follows_per_user=50, posts=200_000, token_users=2_000),
    "medium": Tier(users=100_000, follows_per_user=50, posts=2_000_000, token_users=5_000),
    "large": Tier(users=1_000_000, follows_per_user=50, posts=20_000_000, token_users=10_000),
}
# Share of follow choices drawn by popularity (a Zipf law); the rest are uniform, so most
# accounts have tens of followers and a handful have 100k+ on the larger tiers.
POPULAR_SHARE = 0.7
# Likes and reposts per post on average, spread over posts by a Zipf law over a random
# popularity order: a few posts get thousands, most get none.
LIKES_PER_POST = 1.0
REPOSTS_PER_POST = 0.05
# Posts the load driver likes and reposts, drawn with the same popularity.
ACTED_ON_SAMPLE = 20_000


def dsn(database_url: str) -> str:
    """Turn a SQLAlchemy URL into a plain libpq DSN for asyncpg."""
    return make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)


def user_ids(tier: Tier, rng: random.Random, now: datetime) -> list[int]:
    """Time-ordered ids for users who joined over the past year."""
    base = now - timedelta(days=365)
    ids = {
        id_at(base + timedelta(seconds=rng.randrange(365 * 86400))) + rng.randrange(1 << 22)
        for _ in range(tier.users)
    }
    while len(ids) < tier.users:
        ids.add(id_at(base) + rng.randrange(1 << 40))
    return sorted(ids)


def follow_pairs(tier: Tier, ids: list[int], rng: random.Random) -> Iterator[tuple[int, int]]:
    """Yield (follower, followee) pairs with a power-law follower distribution."""
    n = len(ids)
    popularity = list(range(n))
    rng.shuffle(popularity)  # which accounts are famous is random, not the oldest
    cum = list(itertools.accumulate(1.0 / (rank + 1) for rank in range(n)))
    for follower_index in range(n):
        k = max(1, min(n - 1, int(rng.lognormvariate(0, 0.8) * tier.follows_per_user / 1.377)))
        chosen: set[int] = set()
        popular = rng.choices(range(n), cum_weights=cum, k=int(k * POPULAR_SHARE))
        chosen.update(popularity[i] for i in popular)
        while len(chosen) < k:
            chosen.add(rng.randrange(n))
        chosen.discard(follower_index)
        for followee_index in chosen:
            yield ids[follower_index], ids[followee_index]


async def copy(conn: asyncpg.Connection, table: str, columns: list[str], rows: list[tuple]) -> None:  # type: ignore[type-arg]
    """Bulk-load rows with COPY."""
    await conn.copy_records_to_table(table, records=rows, columns=columns)


USER_COLUMNS = [
    "id",
    "username",
    "username_key",
    "email",
    "email_key",
    "password_hash",
    "display_name",
    "bio",
    "is_admin",
    "created_at",
    "last_active_at",
    "posts_count",
    "followers_count",
    "following_count",
]
FOLLOW_COLUMNS = ["id", "follower_id", "followee_id", "created_at"]
POST_COLUMNS = ["id", "author_id", "text", "created_at"]
REPOST_COLUMNS = [*POST_COLUMNS, "reblog_of_id"]
LIKE_COLUMNS = ["id", "user_id", "post_id", "created_at"]


class Popularity:
    """Draws post indexes by a Zipf law over a random order of the posts."""

    def __init__(self, count: int, rng: random.Random) -> None:
        self.order = list(range(count))
        rng.shuffle(self.order)  # which posts are popular is random, not the oldest
        self.cum = list(itertools.accumulate(1.0 / (rank + 1) for rank in range(count)))
        self.rng = rng

    def draw(self, k: int) -> list[int]:
        """``k`` post indexes, popular ones more often (repeats included)."""
        return [
            self.order[i]
            for i in self.rng.choices(range(len(self.order)), cum_weights=self.cum, k=k)
        ]


def _time_after(at: datetime, now: datetime, rng: random.Random) -> datetime:
    """A moment between ``at`` and ``now``."""
    return at + (now - at) * rng.random()


async def add_likes_and_reposts(
    conn: asyncpg.Connection,  # type: ignore[type-arg]
    posts: list[tuple[int, int, datetime]],
    ids: list[int],
    rng: random.Random,
    now: datetime,
    popularity: Popularity,
) -> tuple[int, int]:
    """Like and repost posts (id, author, time) by random users; return how many of each."""
    used = {post_id for post_id, _, _ in posts}

    def new_id(at: datetime) -> int:
        candidate = id_at(at) + rng.randrange(1 << 20)
        while candidate in used:
            candidate += 1
        used.add(candidate)
        return candidate

    likes: dict[tuple[int, int], tuple[int, int, int, datetime]] = {}
    for index in tqdm(popularity.draw(int(len(posts) * LIKES_PER_POST)), desc="likes"):
        post_id, _, at = posts[index]
        user = rng.choice(ids)
        if (user, post_id) not in likes:
            when = _time_after(at, now, rng)
            likes[(user, post_id)] = (new_id(when), user, post_id, when)
    rows = list(likes.values())
    for start in range(0, len(rows), 50_000):
        await copy(conn, "favourites", LIKE_COLUMNS, rows[start : start + 50_000])
    reposts: dict[tuple[int, int], tuple[int, int, str, datetime, int]] = {}
    for index in popularity.draw(int(len(posts) * REPOSTS_PER_POST)):
        post_id, _, at = posts[index]
        user = rng.choice(ids)
        if (user, post_id) not in reposts:
            when = _time_after(at, now, rng)
            reposts[(user, post_id)] = (new_id(when), user, "", when, post_id)
    await copy(conn, "posts", REPOST_COLUMNS, sorted(reposts.values()))
    await conn.execute(
        """
        UPDATE posts SET favourites_count = c.n FROM
          (SELECT post_id AS id, count(*) AS n FROM favourites GROUP BY post_id) c
        WHERE posts.id = c.id;
        UPDATE posts SET reblogs_count = c.n FROM
          (SELECT reblog_of_id AS id, count(*) AS n FROM posts
           WHERE reblog_of_id IS NOT NULL GROUP BY reblog_of_id) c
        WHERE posts.id = c.id;
        """
    )
    return len(likes), len(reposts)


def user_row(
    user_id: int,
    name: str,
    email: str,
    *,
    password_hash: str,
    display_name: str,
    joined: datetime,
    now: datetime,
) -> tuple[object, ...]:
    """A ``users`` row in ``USER_COLUMNS`` order; its counters are set by ``set_counters``."""
    return (
        user_id,
        name,
        name,
        email,
        email,
        password_hash,
        display_name,
        "",
        False,
        joined,
        now,
        0,
        0,
        0,
    )


async def add_tokens(
    conn: asyncpg.Connection,  # type: ignore[type-arg]
    app_name: str,
    tokens: dict[int, str],
    now: datetime,
) -> None:
    """Register an OAuth app and give each user (id -> token) an access token of it."""
    app_id = id_at(now)
    await conn.execute(
        "INSERT INTO oauth_apps (id, name, redirect_uris, scopes, client_id, client_secret, created_at)"
        " VALUES ($1, $2, 'urn:ietf:wg:oauth:2.0:oob', 'read write follow', $3, $4, $5)",
        app_id,
        app_name,
        secrets.token_hex(16),
        secrets.token_hex(16),
        now,
    )
    await copy(
        conn,
        "oauth_tokens",
        ["id", "token_hash", "app_id", "user_id", "scopes", "created_at"],
        [
            (app_id + 1 + i, digest(token), app_id, uid, "read write follow", now)
            for i, (uid, token) in enumerate(tokens.items())
        ],
    )


async def set_counters(conn: asyncpg.Connection) -> None:  # type: ignore[type-arg]
    """Set every user's counters in one set-based pass, as the services would have kept them."""
    await conn.execute(
        """
        UPDATE users SET followers_count = c.n FROM
          (SELECT followee_id AS id, count(*) AS n FROM follows GROUP BY followee_id) c
        WHERE users.id = c.id;
        UPDATE users SET following_count = c.n FROM
          (SELECT follower_id AS id, count(*) AS n FROM follows GROUP BY follower_id) c
        WHERE users.id = c.id;
        UPDATE users SET posts_count = c.n, last_post_at = c.last FROM
          (SELECT author_id AS id, count(*) AS n, max(created_at) AS last
           FROM posts GROUP BY author_id) c
        WHERE users.id = c.id;
        """
    )


async def generate(
    database_url: str, tier_name: str, seed: int, out_dir: Path
) -> dict[str, object]:
    """Reset the database, load a tier, and write the tokens file the load driver uses."""
    tier = TIERS[tier_name]
    rng = random.Random(seed)
    now = datetime.now(UTC)
    started = time.monotonic()
    conn = await asyncpg.connect(dsn(database_url))
    await conn.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
    await conn.close()
    await asyncio.to_thread(upgrade, database_url)
    conn = await asyncpg.connect(dsn(database_url))
    await conn.execute("SET synchronous_commit = off")

    ids = user_ids(tier, rng, now)
    password_hash = hash_password_blocking(BENCH_PASSWORD)
    await copy(
        conn,
        "users",
        USER_COLUMNS,
        [
            user_row(
                uid,
                f"u{i}",
                f"u{i}@bench.test",
                password_hash=password_hash,
                display_name=f"User {i}",
                joined=now - timedelta(days=1),
                now=now,
            )
            for i, uid in enumerate(ids)
        ],
    )
    followers = dict.fromkeys(ids, 0)
    following = dict.fromkeys(ids, 0)
    batch: list[tuple[int, int, int, datetime]] = []
    next_follow_id = id_at(now - timedelta(days=400))
    total_follows = 0
    with tqdm(total=tier.users * tier.follows_per_user, desc="follows", unit="row") as bar:
        for follower, followee in follow_pairs(tier, ids, rng):
            next_follow_id += 1 + rng.randrange(64)
            batch.append((next_follow_id, follower, followee, now))
            followers[followee] += 1
            following[follower] += 1
            if len(batch) >= 50_000:
                await copy(conn, "follows", FOLLOW_COLUMNS, batch)
                bar.update(len(batch))
                total_follows += len(batch)
                batch = []
        if batch:
            await copy(conn, "follows", FOLLOW_COLUMNS, batch)
            bar.update(len(batch))
            total_follows += len(batch)

    start = now - timedelta(days=30)
    offsets = sorted(rng.randrange(30 * 86400 * 1000) for _ in range(tier.posts))
    previous = 0
    rows: list[tuple[int, int, str, datetime]] = []
    written: list[tuple[int, int, datetime]] = []
    for offset in tqdm(offsets, desc="posts", unit="row"):
        at = start + timedelta(milliseconds=offset)
        post_id = max(previous + 1, id_at(at) + rng.randrange(1 << 20))
        previous = post_id
        author = (
            ids[min(int(rng.paretovariate(1.2)) - 1, len(ids) - 1)]
            if rng.random() < 0.3
            else rng.choice(ids)
        )
        text = " ".join(rng.choices(WORDS, k=rng.randint(4, 14))).capitalize() + "."
        rows.append((post_id, author, text, at))
        written.append((post_id, author, at))
        if len(rows) >= 50_000:
            await copy(conn, "posts", POST_COLUMNS, rows)
            rows = []
    if rows:
        await copy(conn, "posts", POST_COLUMNS, rows)

    popularity = Popularity(len(written), rng)
    like_count, repost_count = await add_likes_and_reposts(conn, written, ids, rng, now, popularity)
    acted_on = [written[i][0] for i in popularity.draw(min(ACTED_ON_SAMPLE, len(written)))]

    token_users = rng.sample(ids, min(tier.token_users, len(ids)))
    tokens = [hashlib.sha256(f"{seed}:{uid}".encode()).hexdigest() for uid in token_users]
    await add_tokens(conn, "bench", dict(zip(token_users, tokens, strict=True)), now)
    await set_counters(conn)
    await conn.execute("VACUUM ANALYZE")
    top = sorted(ids, key=lambda u: followers[u], reverse=True)
    ordinary = [u for u in token_users if 20 <= followers[u] <= 200]
    await conn.close()

    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "tokens.txt").write_text("\n".join(tokens) + "\n")
    (out_dir / "token_users.txt").write_text("\n".join(map(str, token_users)) + "\n")
    (out_dir / "user_ids.txt").write_text(
        "\n".join(map(str, rng.sample(ids, min(20_000, len(ids))))) + "\n"
    )
    (out_dir / "post_ids.txt").write_text("\n".join(map(str, acted_on)) + "\n")
    summary = {
        "tier": tier_name,
        "seed": seed,
        "users": len(ids),
        "follows": total_follows,
        "posts": tier.posts,
        "likes": like_count,
        "reposts": repost_count,
        "max_followers": followers[top[0]],
        "accounts_over_100k_followers": sum(1 for u in ids if followers[u] >= 100_000),
        "accounts_over_10k_followers": sum(1 for u in ids if followers[u] > 10_000),
        "median_followers": followers[sorted(ids, key=lambda u: followers[u])[len(ids) // 2]],
        "top_account": {
            "id": top[0],
            "username": f"u{ids.index(top[0])}",
            "followers": followers[top[0]],
        },
        "ordinary_token_users": ordinary[:50],
        "seconds": round(time.monotonic() - started, 1),
    }
    (out_dir / "dataset.json").write_text(json.dumps(summary, indent=2))
    return summary


def add_dataset_arguments(parser: argparse.ArgumentParser) -> None:
    """The options every benchmark on a tier's data set takes: tier, seed, where it lives."""
    parser.add_argument("--tier", choices=TIERS, default="small")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--database-url",
        default="postgresql+asyncpg://postgres:postgres@127.0.0.1:5432/chirp_bench",
    )
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/1")


def ensure_dataset(args: argparse.Namespace, data_dir: Path, *, regenerate: bool = False) -> None:
    """Generate the tier's data set unless it exists (or always, with ``regenerate``), then
    bring its schema up to date (a data set from an older release)."""
    if regenerate or not (data_dir / "dataset.json").exists():
        print(f"== generating the {args.tier} data set")
        asyncio.run(generate(args.database_url, args.tier, args.seed, data_dir))
    upgrade(args.database_url)


def main() -> None:
    """Parse arguments and generate."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tier", choices=TIERS, default="small")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--out", type=Path, default=Path("bench/data"))
    args = parser.parse_args()
    summary = asyncio.run(generate(args.database_url, args.tier, args.seed, args.out / args.tier))
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
