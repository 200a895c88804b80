"""Argon2 password hashing, in worker threads so the event loop keeps serving."""

from __future__ import annotations

import asyncio
import os
from weakref import WeakKeyDictionary

import anyio
import anyio.to_thread
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()
# Verified against when no account matches, so a miss costs as long as a wrong password.
_DUMMY_HASH = _hasher.hash("chirp-timing-equaliser")
# At most this many hashes at once per process: a burst of logins queues here instead of
# taking every core from the event loop (argon2 runs in C without holding the GIL).
HASH_CONCURRENCY = os.cpu_count() or 1
# One limiter per event loop: a limiter's waiters belong to the loop that made them.
_limiters: WeakKeyDictionary[asyncio.AbstractEventLoop, anyio.CapacityLimiter] = WeakKeyDictionary()


def _limiter() -> anyio.CapacityLimiter:
    loop = asyncio.get_running_loop()
    limiter = _limiters.get(loop)
    if limiter is None:
        limiter = _limiters[loop] = anyio.CapacityLimiter(HASH_CONCURRENCY)
    return limiter


def hashing_now() -> int:
    """How many hashes or verifications this event loop has running in threads right now."""
    return int(_limiter().borrowed_tokens)


def hash_password_blocking(password: str) -> str:
    """Return an argon2id hash of ``password`` on this thread (offline tools only)."""
    return _hasher.hash(password)


async def hash_password(password: str) -> str:
    """Return an argon2id hash of ``password``, computed off the event loop."""
    return await anyio.to_thread.run_sync(_hasher.hash, password, limiter=_limiter())


def _verify(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


async def verify_password(password_hash: str | None, password: str) -> bool:
    """Check ``password`` against a hash off the event loop; a None hash takes as long, fails."""
    return await anyio.to_thread.run_sync(_verify, password_hash, password, limiter=_limiter())


def needs_rehash(password_hash: str) -> bool:
    """Whether the hash was made with weaker parameters than today's (cheap: no hashing)."""
    return _hasher.check_needs_rehash(password_hash)
