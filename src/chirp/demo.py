"""A small, deterministic demo data set: users who follow each other and post."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession
from tqdm import tqdm

from chirp.auth.passwords import hash_password_blocking
from chirp.db import utcnow
from chirp.follows.models import Follow
from chirp.ids import id_at
from chirp.posts.models import Post
from chirp.users import service as users_service
from chirp.users.models import User

DEMO_PASSWORD = "chirp-demo"  # noqa: S105 - printed on the console for people to log in with
NAMES = [
    "alice",
    "bob",
    "carol",
    "dave",
    "erin",
    "frank",
    "grace",
    "heidi",
    "ivan",
    "judy",
    "mallory",
    "niaj",
    "olivia",
    "peggy",
    "rupert",
    "sybil",
    "trent",
    "victor",
    "walter",
    "zoe",
]
SUBJECTS = [
    "The new release",
    "My morning coffee",
    "This sunset",
    "The 8:15 train",
    "Our garden",
    "Today's standup",
    "The bug I chased all day",
    "A good book",
    "The cat",
    "Rainy Mondays",
]
VERDICTS = [
    "is better than expected.",
    "made my day.",
    "needs more testing.",
    "is oddly relaxing.",
    "could use some love.",
    "was worth the wait.",
    "is a whole mood.",
    "deserves a thread.",
]
EXTRAS = [
    "",
    "",
    " #weekend",
    " Details: https://example.com/notes",
    " Anyone else?",
    " 🎉",
    " 10/10.",
]


@dataclass(frozen=True)
class DemoSummary:
    """What the generator made."""

    users: int
    follows: int
    posts: int
    usernames: list[str]


def _username(i: int) -> str:
    base = NAMES[i % len(NAMES)]
    return base if i < len(NAMES) else f"{base}{i // len(NAMES)}"


async def generate(
    session: AsyncSession,
    *,
    users: int = 20,
    posts_per_user: int = 10,
    seed: int = 1,
    progress: bool = True,
) -> DemoSummary:
    """Insert demo users, follows and posts; the same seed gives the same data."""
    rng = random.Random(seed)  # noqa: S311 - demo data, not secrets
    now = utcnow()
    password_hash = hash_password_blocking(DEMO_PASSWORD)  # one hash: argon2 is slow on purpose
    made: list[User] = []
    for i in tqdm(range(users), desc="users", disable=not progress, unit="user"):
        name = _username(i)
        joined = now - timedelta(days=30, minutes=rng.randrange(0, 60 * 24 * 20))
        made.append(
            User(
                id=id_at(joined) + rng.randrange(1 << 22),
                username=name,
                username_key=name.lower(),
                email=f"{name}@demo.chirp.test",
                email_key=f"{name}@demo.chirp.test",
                password_hash=password_hash,
                display_name=name.capitalize(),
                bio=f"Hi, I'm {name.capitalize()}. This is a demo account.",
                created_at=joined,
                last_active_at=now,
            )
        )
    session.add_all(made)
    await session.flush()

    follow_count = 0
    for user in tqdm(made, desc="follows", disable=not progress, unit="user"):
        others = [u for u in made if u.id != user.id]
        for target in rng.sample(others, k=min(len(others), rng.randint(3, 8))):
            session.add(Follow(follower_id=user.id, followee_id=target.id))
            user.following_count += 1
            target.followers_count += 1
            follow_count += 1
    await session.flush()

    post_count = 0
    for user in tqdm(made, desc="posts", disable=not progress, unit="user"):
        for _ in range(posts_per_user):
            at = now - timedelta(minutes=rng.randrange(1, 60 * 24 * 7))
            text = f"{rng.choice(SUBJECTS)} {rng.choice(VERDICTS)}{rng.choice(EXTRAS)}"
            session.add(
                Post(
                    id=id_at(at) + rng.randrange(1 << 22),
                    author_id=user.id,
                    text=text,
                    created_at=at,
                )
            )
            user.posts_count += 1
            user.last_post_at = max(filter(None, [user.last_post_at, at]))
            post_count += 1
        await session.flush()
    await session.commit()
    return DemoSummary(len(made), follow_count, post_count, [u.username for u in made])


async def is_empty(session: AsyncSession) -> bool:
    """Whether the database has no accounts yet."""
    return await users_service.count_users(session) == 0
