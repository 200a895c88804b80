"""Time-ordered 64-bit ids (snowflake-style), usable as sort keys anywhere."""

from __future__ import annotations

import secrets
import threading
import time
from datetime import UTC, datetime

# Layout: 41 bits of milliseconds since EPOCH_MS | 10 bits of process shard | 12 bits sequence.
# It stays positive in a signed 64-bit column until 2089.
EPOCH_MS = 1_577_836_800_000  # 2020-01-01T00:00:00Z
_SHARD_BITS = 10
_SEQ_BITS = 12
_SEQ_MASK = (1 << _SEQ_BITS) - 1


class SnowflakeGenerator:
    """Generates unique, increasing ids within a process; shards keep processes apart."""

    def __init__(self, shard: int | None = None) -> None:
        self._shard = secrets.randbelow(1 << _SHARD_BITS) if shard is None else shard
        self._lock = threading.Lock()
        self._last_ms = 0
        self._seq = 0

    def next_id(self) -> int:
        """Return a new id greater than every id this generator returned before."""
        with self._lock:
            now = int(time.time() * 1000) - EPOCH_MS
            if now <= self._last_ms:
                # Same millisecond or a clock step backwards: keep ordering by borrowing time.
                self._seq = (self._seq + 1) & _SEQ_MASK
                if self._seq == 0:
                    self._last_ms += 1
                now = self._last_ms
            else:
                self._seq = secrets.randbelow(256)
                self._last_ms = now
            return (now << (_SHARD_BITS + _SEQ_BITS)) | (self._shard << _SEQ_BITS) | self._seq


_generator = SnowflakeGenerator()


def new_id() -> int:
    """Return a new time-ordered id."""
    return _generator.next_id()


def id_at(moment: datetime) -> int:
    """Return the smallest id that could have been made at ``moment`` (for time bounds)."""
    ms = int(moment.timestamp() * 1000) - EPOCH_MS
    return max(ms, 0) << (_SHARD_BITS + _SEQ_BITS)


def id_time(snowflake: int) -> datetime:
    """Return the UTC time encoded in an id."""
    ms = (snowflake >> (_SHARD_BITS + _SEQ_BITS)) + EPOCH_MS
    return datetime.fromtimestamp(ms / 1000, tz=UTC)
