"""Snowflake ids: unique, increasing, 64-bit, time-ordered."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from chirp.ids import SnowflakeGenerator, id_at, id_time


def test_ids_increase_and_never_repeat_even_in_one_millisecond() -> None:
    gen = SnowflakeGenerator(shard=7)
    ids = [gen.next_id() for _ in range(20_000)]
    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids)
    assert all(0 < i < 2**63 for i in ids)


def test_ids_encode_their_time() -> None:
    gen = SnowflakeGenerator()
    before = datetime.now(UTC) - timedelta(milliseconds=5)
    made = gen.next_id()
    assert abs(id_time(made) - datetime.now(UTC)) < timedelta(seconds=2)
    assert id_at(before) < made


def test_processes_with_different_shards_do_not_collide() -> None:
    a, b = SnowflakeGenerator(shard=1), SnowflakeGenerator(shard=2)
    assert not {a.next_id() for _ in range(5000)} & {b.next_id() for _ in range(5000)}
