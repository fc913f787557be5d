from __future__ import annotations

import asyncio
import math
from collections.abc import Awaitable, Callable, Iterator
from typing import Any, TypeVar

import pytest
import redis
import redis.asyncio

from workbench.db.redis_dedup import (
    ASYNC_DEDUP_STRATEGIES,
    BATCH_SIZE,
    DEDUP_STRATEGIES,
    aadd_to_sets,
    add_to_sets,
    aseen_in_sets,
    aunlink_matching,
    batches,
    seen_in_sets,
    unlink_matching,
)

T = TypeVar("T")

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


async def _with_async_client(
    redis_url: str, use: Callable[[redis.asyncio.Redis], Awaitable[T]]
) -> T:
    """Run ``use`` with a fresh async client on the test database and close it."""
    client = redis.asyncio.Redis.from_url(redis_url)
    try:
        return await use(client)
    finally:
        await client.aclose()


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> list[bytes]:
    """Record the bytes of every packed command the sync and async clients send."""
    import redis.asyncio.connection
    import redis.connection

    payloads: list[bytes] = []
    sync_send = redis.connection.AbstractConnection.send_packed_command
    async_send = redis.asyncio.connection.AbstractConnection.send_packed_command

    def as_bytes(command: Any) -> bytes:
        chunks = [command] if isinstance(command, (bytes, str)) else command
        return b"".join(c.encode() if isinstance(c, str) else bytes(c) for c in chunks)

    def recording_send(self: Any, command: Any, check_health: bool = True) -> None:
        payloads.append(as_bytes(command))
        sync_send(self, command, check_health)

    async def async_recording_send(self: Any, command: Any, check_health: bool = True) -> None:
        payloads.append(as_bytes(command))
        await async_send(self, command, check_health)

    monkeypatch.setattr(redis.connection.AbstractConnection, "send_packed_command", recording_send)
    monkeypatch.setattr(
        redis.asyncio.connection.AbstractConnection, "send_packed_command", async_recording_send
    )
    return payloads


def _fill(client: redis.Redis, prefix: str, count: int) -> None:
    """Create ``count`` one-member sets named ``<prefix><i>``."""
    pipe = client.pipeline(transaction=False)
    for i in range(count):
        pipe.sadd(f"{prefix}{i}", "1:x")
    pipe.execute()


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

    def test_no_pipeline_is_a_transaction(
        self, client: redis.Redis, redis_url: str, sent: list[bytes]
    ) -> None:
        """Every strategy and helper sends plain pipelines: the server never gets MULTI/EXEC."""
        groups = [(KEY, MEMBERS[:5]), ("wb:seen:test:b", ["3"])]
        for strategy in DEDUP_STRATEGIES.values():
            strategy(client, KEY, MEMBERS[:5])
        seen_in_sets(client, groups)
        add_to_sets(client, groups)

        async def run_async(aclient: redis.asyncio.Redis) -> None:
            for astrategy in ASYNC_DEDUP_STRATEGIES.values():
                await astrategy(aclient, KEY, MEMBERS[:5])
            await aseen_in_sets(aclient, groups)
            await aadd_to_sets(aclient, groups)

        asyncio.run(_with_async_client(redis_url, run_async))
        assert any(b"SMISMEMBER" in payload for payload in sent)  # the recording works
        assert not [payload for payload in sent if b"\r\nMULTI\r\n" in payload]


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

    def test_adding_on_the_callers_pipeline_only_queues(self, client: redis.Redis) -> None:
        """Given a pipeline, add_to_sets only queues its SADDs; the caller's execute sends them."""
        pipe = client.pipeline(transaction=False)
        add_to_sets(client, [("wb:seen:test:new", ["a", "b"])], pipe=pipe)
        assert client.exists("wb:seen:test:new") == 0
        pipe.execute()
        assert client.smembers("wb:seen:test:new") == {b"a", b"b"}

    def test_async_adding_on_the_callers_pipeline_only_queues(self, redis_url: str) -> None:
        """The async add_to_sets, given a pipeline, only queues there too."""

        async def add(aclient: redis.asyncio.Redis) -> tuple[int, set[bytes]]:
            pipe = aclient.pipeline(transaction=False)
            await aadd_to_sets(aclient, [("wb:seen:test:new", ["a", "b"])], pipe=pipe)
            before = int(await aclient.exists("wb:seen:test:new"))
            await pipe.execute()
            return before, await aclient.smembers("wb:seen:test:new")

        assert asyncio.run(_with_async_client(redis_url, add)) == (0, {b"a", b"b"})

    def test_unlinking_counts_keys_across_batches(self, client: redis.Redis) -> None:
        """Unlinking more keys than one UNLINK batch removes them all and counts them all."""
        _fill(client, "wb:seen:bulk:", BATCH_SIZE + 500)
        assert unlink_matching(client, "wb:seen:bulk:*") == BATCH_SIZE + 500
        assert client.dbsize() == 1  # only KEY is left

    def test_async_unlinking_counts_keys_across_batches(
        self, client: redis.Redis, redis_url: str
    ) -> None:
        """The async unlink removes and counts more keys than one UNLINK batch."""
        _fill(client, "wb:seen:bulk:", BATCH_SIZE + 500)
        removed = asyncio.run(
            _with_async_client(redis_url, lambda a: aunlink_matching(a, "wb:seen:bulk:*"))
        )
        assert removed == BATCH_SIZE + 500
        assert client.dbsize() == 1

    def test_unlinking_scans_a_batch_of_keys_per_round_trip(
        self, client: redis.Redis, redis_url: str, round_trips: Any
    ) -> None:
        """SCAN asks for BATCH_SIZE keys a call: a few hundred keys cost one SCAN and one UNLINK."""
        _fill(client, "wb:seen:few:", 300)
        _fill(client, "wb:seen:more:", 300)
        client.ping()
        round_trips.reset()
        assert unlink_matching(client, "wb:seen:few:*") == 300
        assert round_trips.count == 2

        async def unlink_after_handshake(aclient: redis.asyncio.Redis) -> int:
            await aclient.ping()
            round_trips.reset()
            return await aunlink_matching(aclient, "wb:seen:more:*")

        assert asyncio.run(_with_async_client(redis_url, unlink_after_handshake)) == 300
        assert round_trips.count == 2

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
