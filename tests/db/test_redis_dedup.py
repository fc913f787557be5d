from __future__ import annotations

import asyncio
import math
from collections.abc import Iterator
from typing import Any

import pytest
import redis
import redis.asyncio

from workbench.db.redis_dedup import (
    ASYNC_DEDUP_STRATEGIES,
    BATCH_SIZE,
    DEDUP_STRATEGIES,
    aadd_to_sets,
    add_to_sets,
    aunlink_matching,
    batches,
    seen_in_sets,
    unlink_matching,
)

KEY = "wb:seen:test:posts"
# More than two batches, with members present and absent interleaved.
MEMBERS = [f"{i}:sum{i}" for i in range(2 * BATCH_SIZE + 500)]
PRESENT = set(MEMBERS[::3])
EXPECTED = [member in PRESENT for member in MEMBERS]


@pytest.fixture
def client(redis_url: str) -> Iterator[redis.Redis]:
    """Give a sync client on the test database, with every third member already in the set."""
    client = redis.Redis.from_url(redis_url)
    client.sadd(KEY, *PRESENT)
    yield client
    client.close()


async def _run_async(redis_url: str, name: str, members: list[str]) -> list[bool]:
    """Run one async strategy on a fresh async client and close it."""
    client = redis.asyncio.Redis.from_url(redis_url)
    try:
        return await ASYNC_DEDUP_STRATEGIES[name](client, KEY, members)
    finally:
        await client.aclose()


class TestStrategies:
    """The three membership strategies, sync and async."""

    def test_registries_name_the_same_strategies(self) -> None:
        """The sync and async registries offer the same three strategy names."""
        assert set(DEDUP_STRATEGIES) == set(ASYNC_DEDUP_STRATEGIES)
        assert set(DEDUP_STRATEGIES) == {"one_by_one", "pipelined", "smismember"}

    @pytest.mark.parametrize("name", sorted(DEDUP_STRATEGIES))
    def test_sync_strategy_answers_membership_in_order(
        self, client: redis.Redis, name: str
    ) -> None:
        """Each sync strategy gives the true membership of every member, in input order."""
        assert DEDUP_STRATEGIES[name](client, KEY, MEMBERS) == EXPECTED

    @pytest.mark.parametrize("name", sorted(ASYNC_DEDUP_STRATEGIES))
    def test_async_strategy_answers_membership_in_order(
        self, client: redis.Redis, redis_url: str, name: str
    ) -> None:
        """Each async strategy gives the same answers as the sync ones."""
        assert asyncio.run(_run_async(redis_url, name, MEMBERS)) == EXPECTED

    @pytest.mark.parametrize("name", sorted(DEDUP_STRATEGIES))
    def test_no_members_gives_no_answers(self, client: redis.Redis, name: str) -> None:
        """An empty member list answers an empty list instead of a Redis error."""
        assert DEDUP_STRATEGIES[name](client, KEY, []) == []

    @pytest.mark.parametrize(
        ("name", "expected_trips"),
        [
            ("one_by_one", len(MEMBERS)),
            ("pipelined", math.ceil(len(MEMBERS) / BATCH_SIZE)),
            ("smismember", 1),
        ],
    )
    def test_round_trips_per_strategy(
        self, client: redis.Redis, round_trips: Any, name: str, expected_trips: int
    ) -> None:
        """One-by-one costs a trip per member, pipelined one per batch, SMISMEMBER one in all."""
        client.ping()  # open the connection so its handshake is not counted
        round_trips.reset()
        DEDUP_STRATEGIES[name](client, KEY, MEMBERS)
        assert round_trips.count == expected_trips


class TestWriteHelpers:
    """Adding members and unlinking keys by pattern."""

    def test_adding_to_several_sets_takes_one_round_trip(
        self, client: redis.Redis, round_trips: Any
    ) -> None:
        """Adding stores every group's members across several SADD batches in one round trip."""
        client.ping()
        round_trips.reset()
        add_to_sets(client, [("wb:seen:test:new", MEMBERS), ("wb:seen:test:two", ["a"])])
        assert round_trips.count == 1
        assert client.scard("wb:seen:test:new") == len(MEMBERS)
        assert client.smembers("wb:seen:test:two") == {b"a"}

    def test_checking_several_sets_takes_one_round_trip(
        self, client: redis.Redis, round_trips: Any
    ) -> None:
        """Members of several sets are checked in one round trip; flags follow the groups' order."""
        add_to_sets(client, [("wb:seen:test:a", ["1", "2"]), ("wb:seen:test:b", ["3"])])
        round_trips.reset()
        groups = [
            ("wb:seen:test:a", ["2", "3"]),
            ("wb:seen:test:none", []),
            ("wb:seen:test:b", ["3"]),
        ]
        assert seen_in_sets(client, groups) == [True, False, True]
        assert round_trips.count == 1

    def test_async_add_to_sets_stores_every_member(self, redis_url: str) -> None:
        """The async add_to_sets stores all members across several SADD batches."""

        async def add_and_count() -> int:
            client = redis.asyncio.Redis.from_url(redis_url)
            try:
                await aadd_to_sets(client, [("wb:seen:test:new", MEMBERS)])
                return int(await client.scard("wb:seen:test:new"))
            finally:
                await client.aclose()

        assert asyncio.run(add_and_count()) == len(MEMBERS)

    def test_unlink_matching_removes_only_matching_keys(self, client: redis.Redis) -> None:
        """Unlinking deletes the keys matching its pattern and leaves the others."""
        client.set("wb:resp:abc", b"body")
        client.sadd("wb:seen:other:posts", "1:x")
        assert unlink_matching(client, "wb:seen:*:posts") == 2
        assert client.exists(KEY, "wb:seen:other:posts") == 0
        assert client.get("wb:resp:abc") == b"body"

    def test_async_unlink_matching_removes_only_matching_keys(
        self, client: redis.Redis, redis_url: str
    ) -> None:
        """The async unlink_matching deletes matching keys and leaves the others."""
        client.set("wb:resp:abc", b"body")

        async def unlink() -> int:
            aclient = redis.asyncio.Redis.from_url(redis_url)
            try:
                return await aunlink_matching(aclient, "wb:seen:*")
            finally:
                await aclient.aclose()

        assert asyncio.run(unlink()) == 1
        assert client.exists(KEY) == 0
        assert client.get("wb:resp:abc") == b"body"

    def test_batches_cover_every_item_in_bounded_slices(self) -> None:
        """Slicing yields consecutive slices of at most the given size that rebuild the input."""
        slices = list(batches(list(range(7)), 3))
        assert slices == [[0, 1, 2], [3, 4, 5], [6]]
