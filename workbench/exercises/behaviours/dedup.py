"""Exercise 08 · dedup: batched Redis dedup that fails open.

``impl.filter_unseen(client, key, members)`` returns the members not in the Redis set at
``key``, in order, in one round trip however many there are; ``impl.mark_seen(client, key,
members)`` adds them in one round trip. When Redis is unreachable or times out,
``filter_unseen`` returns every member and ``mark_seen`` does nothing; neither raises. Any
other Redis error is raised.
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from workbench.exercises.behaviours.support import faster, timed
from workbench.exercises.fixtures import RedisSandbox
from workbench.exercises.probes import RoundTrips
from workbench.services.valkey import ThrowawayValkey

hint = pytest.mark.hint


def members(count: int, start: int = 0) -> list[str]:
    """Fingerprints ``id:checksum`` of ``count`` records."""
    return [f"{i}:c{i % 7}" for i in range(start, start + count)]


def client_for(url: str, timeout_s: float = 1.0) -> redis.Redis:
    """A client that gives up after ``timeout_s`` and does not retry on its own."""
    return redis.Redis.from_url(
        url,
        socket_connect_timeout=timeout_s,
        socket_timeout=timeout_s,
        retry=Retry(NoBackoff(), 0),
    )


@pytest.fixture
def silent_server() -> Iterator[str]:
    """A URL where something accepts connections and never answers: a hung Redis."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        yield f"redis://127.0.0.1:{listener.getsockname()[1]}/0"


class TestFiltering:
    """Filtering a batch."""

    @hint("SMISMEMBER key m1 m2 ... answers one flag per member, in order.")
    def test_keeps_only_the_unseen_members_in_order(
        self, impl: Any, redis_sandbox: RedisSandbox
    ) -> None:
        """Members already in the set are dropped; the others come back in their order."""
        key, client = redis_sandbox.key("seen"), redis_sandbox.client
        client.sadd(key, "2:c2", "4:c4")
        got = impl.filter_unseen(client, key, members(6))
        assert got == ["0:c0", "1:c1", "3:c3", "5:c5"], f"returned {got}"

    @hint("mark_seen: SADD key m1 m2 ...; then filter_unseen finds them.")
    def test_marked_members_are_filtered_out(self, impl: Any, redis_sandbox: RedisSandbox) -> None:
        """After mark_seen, those members are filtered out; the others are not."""
        key, client = redis_sandbox.key("seen"), redis_sandbox.client
        impl.mark_seen(client, key, members(3))
        got = impl.filter_unseen(client, key, members(5))
        assert got == ["3:c3", "4:c4"], f"after marking the first 3 of 5, returned {got}"


class TestRoundTrips:
    """Round trips."""

    @hint("Put every command for the batch in one pipeline (transaction=False) and execute once.")
    def test_one_round_trip_per_batch_whatever_its_size(
        self, impl: Any, redis_sandbox: RedisSandbox, redis_round_trips: RoundTrips
    ) -> None:
        """Filtering 5,000 members takes one round trip, and marking them another."""
        key, client = redis_sandbox.key("seen"), redis_sandbox.client
        client.ping()  # connect first: the handshake is not the answer's round trip
        batch = members(5000)
        redis_round_trips.reset()
        impl.filter_unseen(client, key, batch)
        filtering = redis_round_trips.count
        redis_round_trips.reset()
        impl.mark_seen(client, key, batch)
        marking = redis_round_trips.count
        assert (filtering, marking) == (1, 1), (
            f"{filtering} round trip(s) to filter and {marking} to mark 5,000 members, expected 1+1"
        )

    @hint("SMISMEMBER needs at least one member: an empty batch returns [] before any command.")
    def test_an_empty_batch_costs_no_round_trip(
        self, impl: Any, redis_sandbox: RedisSandbox, redis_round_trips: RoundTrips
    ) -> None:
        """An empty batch returns [] and sends nothing, filtering or marking."""
        key, client = redis_sandbox.key("seen"), redis_sandbox.client
        client.ping()
        redis_round_trips.reset()
        got = impl.filter_unseen(client, key, [])
        impl.mark_seen(client, key, [])
        assert got == [], f"returned {got!r} for no members"
        assert redis_round_trips.count == 0, f"{redis_round_trips.count} round trip(s) for nothing"

    @hint("The point of batching: thousands of members in the time of one request.")
    def test_beats_one_request_per_member(
        self,
        impl: Any,
        redis_sandbox: RedisSandbox,
        record_property: Callable[[str, Any], None],
    ) -> None:
        """Filtering 3,000 members is far faster than one SISMEMBER per member."""
        key, client = redis_sandbox.key("seen"), redis_sandbox.client
        batch = members(3000)
        client.sadd(key, *batch[::2])
        baseline_result, baseline = timed(
            lambda: [m for m in batch if not client.sismember(key, m)]
        )
        got, measured = timed(lambda: impl.filter_unseen(client, key, batch))
        ratio = faster(record_property, baseline, measured, "than one by one")
        assert got == baseline_result, "the batched answer differs from the one-by-one answer"
        assert ratio >= 5, f"only {ratio:.1f}x faster than one request per member"


class TestFailingOpen:
    """When Redis is down."""

    @hint("Catch redis.ConnectionError and redis.TimeoutError: keep every member; mark nothing.")
    def test_fails_open_when_redis_goes_away(self, impl: Any) -> None:
        """With the Redis it was using killed, filtering keeps every member and nothing raises."""
        with ThrowawayValkey() as server:
            client = client_for(server.url)
            impl.mark_seen(client, "seen", members(2))
            assert impl.filter_unseen(client, "seen", members(4)) == members(4)[2:], (
                "while Redis was up, marked members were not filtered out"
            )
            server.kill()
            got = impl.filter_unseen(client, "seen", members(4))
            impl.mark_seen(client, "seen", members(4))
        assert got == members(4), f"with Redis gone, returned {got} instead of every member"

    @hint("A timeout is an outage too: redis.TimeoutError gets the same treatment.")
    def test_fails_open_when_redis_hangs(self, impl: Any, silent_server: str) -> None:
        """With a Redis that never answers (a timeout), filtering keeps every member."""
        client = client_for(silent_server, timeout_s=0.3)
        got = impl.filter_unseen(client, "seen", members(4))
        impl.mark_seen(client, "seen", members(4))
        assert got == members(4), f"with Redis hung, returned {got} instead of every member"

    @hint("Fail open only on outages: a ResponseError (WRONGTYPE) is a bug and must raise.")
    def test_a_data_error_is_not_hidden(self, impl: Any, redis_sandbox: RedisSandbox) -> None:
        """When the key holds a string, not a set, the error is raised, not swallowed."""
        key, client = redis_sandbox.key("seen"), redis_sandbox.client
        client.set(key, "not a set")
        try:
            got = impl.filter_unseen(client, key, members(3))
        except Exception as exc:
            assert caused_by(exc, redis.ResponseError), f"raised {exc!r}, not Redis's WRONGTYPE"
            return
        raise AssertionError(f"a WRONGTYPE error was swallowed: returned {got}")


def caused_by(exc: BaseException | None, kind: type[BaseException]) -> bool:
    """Tell whether ``exc`` is a ``kind``, or was raised from or while handling one."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, kind):
            return True
        seen.add(id(exc))
        exc = exc.__cause__ or exc.__context__
    return False
