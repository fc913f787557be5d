"""Set-membership strategies for record dedup on Redis, sync and async twins, for the benchmark.

Each strategy answers "which of these members are in the set at ``key``?" with one bool per
member, in order, and all three give the same answers; they differ in round trips:

- ``one_by_one``: one SISMEMBER round trip per member (the naive loop);
- ``pipelined``: SISMEMBER commands pipelined, one round trip per ``BATCH_SIZE`` members;
- ``smismember``: SMISMEMBER with ``BATCH_SIZE`` members per command, every command in one
  pipeline, so one round trip whatever the count (what the cache's ``filter_unseen`` uses).

``seen_in_sets`` is ``smismember`` for several sets at once (a batch of pages of several
resources in one round trip); ``add_to_sets`` and ``unlink_matching`` are the write-side
helpers the cache shares.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator, Sequence
from typing import Any, TypeVar

import redis
import redis.asyncio

from workbench.error_mapping import map_redis_errors

__all__ = [
    "ASYNC_DEDUP_STRATEGIES",
    "BATCH_SIZE",
    "DEDUP_STRATEGIES",
    "AsyncDedupStrategy",
    "DedupStrategy",
    "Groups",
    "aadd_to_sets",
    "add_to_sets",
    "aseen_in_sets",
    "aseen_one_by_one",
    "aseen_pipelined",
    "aseen_smismember",
    "aunlink_matching",
    "batches",
    "seen_in_sets",
    "seen_one_by_one",
    "seen_pipelined",
    "seen_smismember",
    "unlink_matching",
]

#: Members per command (SMISMEMBER, SADD) or per pipeline (SISMEMBER): bounded request size.
BATCH_SIZE = 1000

T = TypeVar("T")
#: Sets and the members to check in (or add to) each: ``[(key, members), ...]``.
Groups = Sequence[tuple[str, Sequence[str]]]
DedupStrategy = Callable[[redis.Redis, str, Sequence[str]], list[bool]]
AsyncDedupStrategy = Callable[[redis.asyncio.Redis, str, Sequence[str]], Awaitable[list[bool]]]


def batches(items: Sequence[T], size: int = BATCH_SIZE) -> Iterator[Sequence[T]]:
    """Yield consecutive slices of at most ``size`` items."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


# --- sync ------------------------------------------------------------------------------


def seen_one_by_one(client: redis.Redis, key: str, members: Sequence[str]) -> list[bool]:
    """Check each member with its own SISMEMBER round trip."""
    with map_redis_errors():
        return [bool(client.sismember(key, member)) for member in members]


def seen_pipelined(client: redis.Redis, key: str, members: Sequence[str]) -> list[bool]:
    """Check members with pipelined SISMEMBER, one round trip per batch."""
    seen: list[bool] = []
    with map_redis_errors():
        for batch in batches(members):
            pipe = client.pipeline(transaction=False)
            for member in batch:
                pipe.sismember(key, member)
            seen.extend(bool(flag) for flag in pipe.execute())
    return seen


def seen_smismember(client: redis.Redis, key: str, members: Sequence[str]) -> list[bool]:
    """Check members with SMISMEMBER batches sent together in a single round trip."""
    return seen_in_sets(client, [(key, members)])


def _queue_smismember(pipe: Any, groups: Groups) -> None:
    """Queue SMISMEMBER commands for every group, ``BATCH_SIZE`` members per command."""
    for key, members in groups:
        for batch in batches(members):
            pipe.smismember(key, list(batch))


def _queue_sadd(pipe: Any, groups: Groups) -> None:
    """Queue SADD commands for every group, ``BATCH_SIZE`` members per command."""
    for key, members in groups:
        for batch in batches(members):
            pipe.sadd(key, *batch)


def seen_in_sets(client: redis.Redis, groups: Groups) -> list[bool]:
    """Check each group's members in its set, every group in one round trip; flags in order."""
    groups = [(key, members) for key, members in groups if members]  # SMISMEMBER needs one
    if not groups:
        return []
    with map_redis_errors():
        pipe = client.pipeline(transaction=False)
        _queue_smismember(pipe, groups)
        return [bool(flag) for reply in pipe.execute() for flag in reply]


def add_to_sets(client: redis.Redis, groups: Groups, pipe: Any = None) -> None:
    """Add each group's members to its set in one round trip (or queue them on ``pipe``)."""
    own = pipe is None
    pipe = client.pipeline(transaction=False) if own else pipe
    _queue_sadd(pipe, [(key, members) for key, members in groups if members])
    if own and len(pipe):
        with map_redis_errors():
            pipe.execute()


def unlink_matching(client: redis.Redis, pattern: str) -> int:
    """Delete every key matching ``pattern`` with SCAN + UNLINK (never KEYS); return the count."""
    removed = 0
    with map_redis_errors():
        keys = list(client.scan_iter(match=pattern, count=BATCH_SIZE))
        for batch in batches(keys):
            removed += int(client.unlink(*batch))
    return removed


DEDUP_STRATEGIES: dict[str, DedupStrategy] = {
    "one_by_one": seen_one_by_one,
    "pipelined": seen_pipelined,
    "smismember": seen_smismember,
}


# --- async -----------------------------------------------------------------------------


async def aseen_one_by_one(
    client: redis.asyncio.Redis, key: str, members: Sequence[str]
) -> list[bool]:
    """Check each member with its own SISMEMBER round trip."""
    with map_redis_errors():
        return [bool(await client.sismember(key, member)) for member in members]


async def aseen_pipelined(
    client: redis.asyncio.Redis, key: str, members: Sequence[str]
) -> list[bool]:
    """Check members with pipelined SISMEMBER, one round trip per batch."""
    seen: list[bool] = []
    with map_redis_errors():
        for batch in batches(members):
            pipe = client.pipeline(transaction=False)
            for member in batch:
                pipe.sismember(key, member)
            seen.extend(bool(flag) for flag in await pipe.execute())
    return seen


async def aseen_smismember(
    client: redis.asyncio.Redis, key: str, members: Sequence[str]
) -> list[bool]:
    """Check members with SMISMEMBER batches sent together in a single round trip."""
    return await aseen_in_sets(client, [(key, members)])


async def aseen_in_sets(client: redis.asyncio.Redis, groups: Groups) -> list[bool]:
    """Async twin of ``seen_in_sets``."""
    groups = [(key, members) for key, members in groups if members]
    if not groups:
        return []
    with map_redis_errors():
        pipe = client.pipeline(transaction=False)
        _queue_smismember(pipe, groups)
        return [bool(flag) for reply in await pipe.execute() for flag in reply]


async def aadd_to_sets(client: redis.asyncio.Redis, groups: Groups, pipe: Any = None) -> None:
    """Async twin of ``add_to_sets``."""
    own = pipe is None
    pipe = client.pipeline(transaction=False) if own else pipe
    _queue_sadd(pipe, [(key, members) for key, members in groups if members])
    if own and len(pipe):
        with map_redis_errors():
            await pipe.execute()


async def aunlink_matching(client: redis.asyncio.Redis, pattern: str) -> int:
    """Delete every key matching ``pattern`` with SCAN + UNLINK (never KEYS); return the count."""
    removed = 0
    with map_redis_errors():
        keys = [key async for key in client.scan_iter(match=pattern, count=BATCH_SIZE)]
        for batch in batches(keys):
            removed += int(await client.unlink(*batch))
    return removed


ASYNC_DEDUP_STRATEGIES: dict[str, AsyncDedupStrategy] = {
    "one_by_one": aseen_one_by_one,
    "pipelined": aseen_pipelined,
    "smismember": aseen_smismember,
}
