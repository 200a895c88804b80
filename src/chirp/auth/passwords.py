"""Argon2 password hashing, in worker threads so the event loop keeps serving."""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

T = TypeVar("T")

_hasher = PasswordHasher()
# Verified against when no account matches, so a miss costs as long as a wrong password.
_DUMMY_HASH = _hasher.hash("chirp-timing-equaliser")
# At most this many hashes at once per process: a burst of logins queues here instead of
# taking every core (argon2 runs in C without holding the GIL, each hash on several threads).
HASH_CONCURRENCY = os.cpu_count() or 1
# Hashes are slow on purpose; when the CPU is short they should wait, not the requests beside
# them. Linux applies a nice value per thread, and argon2's own threads inherit it.
HASH_NICENESS = 10


def _lower_priority() -> None:
    with contextlib.suppress(OSError, AttributeError):  # not Linux, or not allowed
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), HASH_NICENESS)


_executor = ThreadPoolExecutor(
    max_workers=HASH_CONCURRENCY, thread_name_prefix="argon2", initializer=_lower_priority
)
_running = 0
_running_lock = threading.Lock()


def _counted(work: Callable[[], T]) -> T:
    global _running
    with _running_lock:
        _running += 1
    try:
        return work()
    finally:
        with _running_lock:
            _running -= 1


async def _off_loop(work: Callable[[], T]) -> T:
    return await asyncio.get_running_loop().run_in_executor(_executor, _counted, work)


def hashing_now() -> int:
    """How many hashes or verifications are running in this process's hashing threads."""
    return _running


def hash_password_blocking(password: str) -> str:
    """Return an argon2id hash of ``password`` on this thread (offline tools only)."""
    return _hasher.hash(password)


async def hash_password(password: str) -> str:
    """Return an argon2id hash of ``password``, computed off the event loop."""
    return await _off_loop(lambda: _hasher.hash(password))


def _verify(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


async def verify_password(password_hash: str | None, password: str) -> bool:
    """Check ``password`` against a hash off the event loop; a None hash takes as long, fails."""
    return await _off_loop(lambda: _verify(password_hash, password))


def needs_rehash(password_hash: str) -> bool:
    """Whether the hash was made with weaker parameters than today's (cheap: no hashing)."""
    return _hasher.check_needs_rehash(password_hash)
