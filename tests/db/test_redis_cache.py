"""Every cache test runs against both twins: ``RedisCache`` and ``AsyncRedisCache``."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable
from typing import Any

import pytest
import redis

from workbench.db.redis_cache import RedisCache
from workbench.errors import (
    CacheDataError,
    CacheFullError,
    CacheUnavailableError,
    ConfigError,
    is_transient,
)
from workbench.processing import ProcessedRecord

MakeCache = Callable[..., Any]  # the make_cache fixture (tests/db/conftest.py)

URL = "http://api.local/posts?_page=1"
UNAVAILABLE = "Redis unavailable at {}: continuing without cache"
BACK = "Redis available again at {}: cache resumed"


def records(*pairs: tuple[str, str]) -> list[ProcessedRecord]:
    """Build posts records from (external_id, checksum) pairs."""
    return [
        ProcessedRecord(resource="posts", external_id=eid, data={"id": eid}, checksum=checksum)
        for eid, checksum in pairs
    ]


def many_records(count: int) -> list[ProcessedRecord]:
    """Build ``count`` distinct records, enough to span several dedup batches."""
    return records(*[(str(i), f"sum{i}") for i in range(count)])


class TestResponseCache:
    """Caching API responses under a TTL."""

    def test_round_trip_returns_the_stored_body(
        self, make_cache: MakeCache, redis_url: str
    ) -> None:
        """A body set for a URL comes back byte for byte."""
        cache = make_cache(redis_url)
        cache.set_response(URL, b'[{"id": 1}]')
        assert cache.get_response(URL) == b'[{"id": 1}]'

    def test_miss_returns_none(self, make_cache: MakeCache, redis_url: str) -> None:
        """A URL never cached gives None."""
        assert make_cache(redis_url).get_response(URL) is None

    def test_default_ttl_comes_from_the_constructor(
        self, make_cache: MakeCache, redis_url: str, raw: redis.Redis
    ) -> None:
        """Without ttl_s the key expires after the cache's ttl_s."""
        cache = make_cache(redis_url, ttl_s=120)
        cache.set_response(URL, b"[]")
        assert 110 <= raw.ttl(cache.keys.response(URL)) <= 120

    def test_explicit_ttl_wins(
        self, make_cache: MakeCache, redis_url: str, raw: redis.Redis
    ) -> None:
        """A ttl_s passed to set_response overrides the default."""
        cache = make_cache(redis_url)
        cache.set_response(URL, b"[]", ttl_s=7)
        assert 1 <= raw.ttl(cache.keys.response(URL)) <= 7

    def test_keys_live_under_the_namespace(
        self, make_cache: MakeCache, redis_url: str, raw: redis.Redis
    ) -> None:
        """A cache writes only under its namespace and does not see another namespace's keys."""
        make_cache(redis_url, namespace="lab").set_response(URL, b"[]")
        assert raw.keys("*") == [f"lab:resp:{hashlib.sha1(URL.encode()).hexdigest()}".encode()]
        assert make_cache(redis_url).get_response(URL) is None

    def test_forget_responses_drops_cached_bodies_only(
        self, make_cache: MakeCache, redis_url: str
    ) -> None:
        """Forgetting responses empties the response cache and leaves dedup state alone."""
        cache = make_cache(redis_url)
        cache.set_response(URL, b"[]")
        cache.mark_seen("jp", "posts", records(("1", "a")))
        assert cache.forget_responses() == 1
        assert cache.get_response(URL) is None
        assert cache.filter_unseen("jp", "posts", records(("1", "a"))) == []

    def test_invalid_settings_are_refused(self, make_cache: MakeCache, redis_url: str) -> None:
        """A non-positive TTL or an empty namespace raises ConfigError."""
        with pytest.raises(ConfigError):
            make_cache(redis_url, ttl_s=0)
        with pytest.raises(ConfigError):
            make_cache(redis_url, namespace="")


class TestResponsesInBulk:
    """Looking up and storing many responses in one round trip (the async mode's way)."""

    def test_bulk_store_then_bulk_lookup(self, make_cache: MakeCache, redis_url: str) -> None:
        """Bodies stored together come back together, in order, with None for a miss."""
        cache = make_cache(redis_url)
        cache.set_responses([(URL, b"[1]"), (URL + "2", b"[2]")])
        assert cache.get_responses([URL + "2", URL + "miss", URL]) == [b"[2]", None, b"[1]"]
        assert cache.get_response(URL) == b"[1]"

    def test_bulk_store_uses_the_ttl(
        self, make_cache: MakeCache, redis_url: str, raw: redis.Redis
    ) -> None:
        """Every body stored in bulk expires after the cache's ttl_s, or the one given."""
        cache = make_cache(redis_url, ttl_s=120)
        cache.set_responses([(URL, b"[]")])
        cache.set_responses([(URL + "2", b"[]")], ttl_s=7)
        assert 110 <= raw.ttl(cache.keys.response(URL)) <= 120
        assert 1 <= raw.ttl(cache.keys.response(URL + "2")) <= 7

    def test_one_round_trip_each_and_none_when_empty(
        self, make_cache: MakeCache, redis_url: str, round_trips: Any
    ) -> None:
        """A bulk lookup or store is one round trip, and an empty one needs none."""
        cache = make_cache(redis_url)
        cache.get_response(URL)  # open the connection so its handshake is not counted
        round_trips.reset()
        cache.set_responses([(f"{URL}{i}", b"[]") for i in range(50)])
        cache.get_responses([f"{URL}{i}" for i in range(50)])
        assert round_trips.count == 2
        assert cache.get_responses([]) == []
        cache.set_responses([])
        assert round_trips.count == 2

    def test_counted_as_hits_and_misses(self, make_cache: MakeCache, redis_url: str) -> None:
        """Each URL of a bulk lookup counts as one hit or one miss."""
        cache = make_cache(redis_url)
        cache.set_responses([(URL, b"[]")])
        cache.get_responses([URL, URL + "miss", URL + "other"])
        assert (cache.stats.hits, cache.stats.misses) == (1, 2)

    def test_fail_open_misses_everything(self, make_cache: MakeCache, dead_url: str) -> None:
        """With Redis unreachable and fail_open, bulk lookups miss and bulk stores are dropped."""
        cache = make_cache(dead_url, fail_open=True)
        assert cache.get_responses([URL, URL + "2"]) == [None, None]
        cache.set_responses([(URL, b"[]")])
        assert cache.availability.is_down


class TestDedup:
    """Dropping records whose (external_id, checksum) is already stored."""

    def test_filter_drops_exactly_the_seen_fingerprints(
        self, make_cache: MakeCache, redis_url: str
    ) -> None:
        """Seen fingerprints are dropped, unseen ones kept, in the input order."""
        cache = make_cache(redis_url)
        cache.mark_seen("jp", "posts", records(("1", "a"), ("3", "c")))
        batch = records(("1", "a"), ("2", "b"), ("3", "c"), ("4", "d"))
        assert cache.filter_unseen("jp", "posts", batch) == [batch[1], batch[3]]

    def test_changed_checksum_goes_through(self, make_cache: MakeCache, redis_url: str) -> None:
        """A known id with a new checksum counts as unseen."""
        cache = make_cache(redis_url)
        cache.mark_seen("jp", "posts", records(("1", "old")))
        changed = records(("1", "new"))
        assert cache.filter_unseen("jp", "posts", changed) == changed

    def test_marked_batch_is_then_all_seen(self, make_cache: MakeCache, redis_url: str) -> None:
        """After mark_seen, filtering the same batch leaves nothing."""
        cache = make_cache(redis_url)
        batch = many_records(2500)
        assert cache.filter_unseen("jp", "posts", batch) == batch
        cache.mark_seen("jp", "posts", batch)
        assert cache.filter_unseen("jp", "posts", batch) == []

    def test_seen_sets_are_per_source_and_resource(
        self, make_cache: MakeCache, redis_url: str
    ) -> None:
        """Fingerprints marked for one (source, resource) do not hide records of another."""
        cache = make_cache(redis_url)
        batch = records(("1", "a"))
        cache.mark_seen("jp", "posts", batch)
        assert cache.filter_unseen("jp", "comments", batch) == batch
        assert cache.filter_unseen("other", "posts", batch) == batch

    def test_empty_batches_need_no_redis(self, make_cache: MakeCache, dead_url: str) -> None:
        """Empty batches return at once, even with Redis unreachable and fail_open off."""
        cache = make_cache(dead_url)
        assert cache.filter_unseen("jp", "posts", []) == []
        cache.mark_seen("jp", "posts", [])

    def test_one_round_trip_per_call(
        self, make_cache: MakeCache, redis_url: str, round_trips: Any
    ) -> None:
        """Filtering and marking each cost one round trip, even for more than one batch."""
        cache = make_cache(redis_url)
        cache.get_response(URL)  # open the connection so its handshake is not counted
        batch = many_records(2500)
        round_trips.reset()
        cache.filter_unseen("jp", "posts", batch)
        assert round_trips.count == 1
        cache.mark_seen("jp", "posts", batch)
        assert round_trips.count == 2

    def test_forget_clears_one_resource_or_all(self, make_cache: MakeCache, redis_url: str) -> None:
        """Forgetting (source, resource) clears that set only; forgetting all clears every set."""
        cache = make_cache(redis_url)
        batch = records(("1", "a"))
        for source, resource in [("jp", "posts"), ("jp", "users"), ("other", "posts")]:
            cache.mark_seen(source, resource, batch)
        cache.set_response(URL, b"[]")
        assert cache.forget("jp", "posts") == 1
        assert cache.filter_unseen("jp", "posts", batch) == batch
        assert cache.filter_unseen("jp", "users", batch) == []
        assert cache.forget() == 2
        assert cache.filter_unseen("other", "posts", batch) == batch
        assert cache.get_response(URL) == b"[]"  # responses are not dedup state

    def test_forgetting_one_set_does_not_scan_the_keyspace(
        self, make_cache: MakeCache, redis_url: str, round_trips: Any
    ) -> None:
        """Forgetting one (source, resource) is one round trip, however many keys Redis holds."""
        cache = make_cache(redis_url)
        cache.set_responses([(f"{URL}{i}", b"[]") for i in range(3000)])
        cache.mark_seen("jp", "posts", records(("1", "a")))
        round_trips.reset()
        assert cache.forget("jp", "posts") == 1
        assert round_trips.count == 1
        assert cache.forget("jp", "posts") == 0

    def test_wrong_type_raises_data_error_even_fail_open(
        self, make_cache: MakeCache, redis_url: str, raw: redis.Redis
    ) -> None:
        """A Redis refusal (a string where a set belongs) is a bug and is never hidden."""
        cache = make_cache(redis_url, fail_open=True)
        raw.set(cache.keys.seen("jp", "posts"), b"not a set")
        with pytest.raises(CacheDataError):
            cache.filter_unseen("jp", "posts", records(("1", "a")))


class TestFailOpen:
    """Degrading to an empty cache while Redis is unreachable, and coming back."""

    @staticmethod
    def run_sequence(cache: Any) -> list[Any]:
        """Make the calls one ingestion batch makes and return what the caller sees."""
        batch = records(("1", "a"), ("2", "b"))
        body = cache.get_response(URL)
        cache.set_response(URL, b"[]")
        fresh = cache.filter_unseen("jp", "posts", batch)
        cache.mark_seen("jp", "posts", fresh)
        return [body, fresh == batch, cache.forget("jp")]

    def test_strict_mode_raises_unavailable(self, make_cache: MakeCache, dead_url: str) -> None:
        """Without fail_open an unreachable Redis raises CacheUnavailableError."""
        cache = make_cache(dead_url)
        with pytest.raises(CacheUnavailableError):
            cache.get_response(URL)
        assert cache.stats.errors == 1

    def test_down_from_the_start_falls_back_with_one_warning(
        self, make_cache: MakeCache, dead_url: str, clock: Any, cache_log: Any
    ) -> None:
        """A run against a dead Redis completes as if the cache were empty, warning exactly once."""
        cache = make_cache(dead_url, fail_open=True, clock=clock, retry_every_s=5)
        for _ in range(3):
            assert self.run_sequence(cache) == [None, True, 0]
            clock.advance(6)  # so each round retries the connection once more
        masked = dead_url.replace("s3cret", "***")
        assert cache_log.warnings == [UNAVAILABLE.format(masked)]
        assert cache.stats.snapshot() == {
            "hits": 0,
            "misses": 3,
            "errors": 3,
            "deduplicated": 0,
            "retries": 3,
        }

    def test_retries_at_most_every_retry_every_s(
        self, make_cache: MakeCache, dead_url: str, clock: Any
    ) -> None:
        """While down, calls inside the retry interval skip Redis; the first one after it tries."""
        cache = make_cache(dead_url, fail_open=True, clock=clock, retry_every_s=5)
        for _ in range(10):
            cache.get_response(URL)
        assert cache.stats.errors == 1
        clock.advance(5)
        cache.get_response(URL)
        cache.get_response(URL)
        assert cache.stats.errors == 2

    def test_password_never_shows(
        self, make_cache: MakeCache, dead_url: str, cache_log: Any
    ) -> None:
        """The password is masked in the repr and absent from every log line."""
        cache = make_cache(dead_url, fail_open=True)
        cache.get_response(URL)
        assert "s3cret" not in repr(cache)
        assert "***" in repr(cache)
        assert cache_log.records
        assert "s3cret" not in cache_log.text

    def test_killed_mid_run_falls_back_then_recovers(
        self, make_cache: MakeCache, valkey: Any, clock: Any, cache_log: Any
    ) -> None:
        """A Redis dying mid-run degrades the cache, which uses it again after a restart."""
        cache = make_cache(valkey.url, fail_open=True, clock=clock, retry_every_s=5)
        batch = records(("1", "a"))
        cache.set_response(URL, b"first")
        cache.mark_seen("jp", "posts", batch)
        assert cache.get_response(URL) == b"first"
        assert cache.filter_unseen("jp", "posts", batch) == []

        valkey.stop()
        assert cache.get_response(URL) is None
        assert cache.filter_unseen("jp", "posts", batch) == batch
        assert cache_log.warnings == [UNAVAILABLE.format(valkey.url)]

        valkey.start()  # same port, empty
        clock.advance(4.9)
        cache.set_response(URL, b"skipped")  # still inside the retry interval: not sent
        clock.advance(0.1)
        assert cache.get_response(URL) is None  # reached the new server, which is empty
        cache.set_response(URL, b"second")
        assert cache.get_response(URL) == b"second"
        assert cache_log.warnings == [UNAVAILABLE.format(valkey.url), BACK.format(valkey.url)]
        assert cache.stats.errors == 1

    def test_full_redis_is_an_outage_not_a_crash(
        self, make_cache: MakeCache, valkey: Any, cache_log: Any
    ) -> None:
        """A Redis at maxmemory under noeviction refuses writes; fail-open drops them, goes on."""
        admin = redis.Redis.from_url(valkey.url)
        admin.config_set("maxmemory-policy", "noeviction")
        admin.config_set("maxmemory", admin.info("memory")["used_memory"] + 1024)
        admin.close()
        cache = make_cache(valkey.url, fail_open=True)
        batch = many_records(2000)
        cache.mark_seen("jp", "posts", batch)  # refused: OOM
        assert cache.filter_unseen("jp", "posts", batch) == batch
        assert cache.stats.errors == 1
        assert cache_log.warnings == [UNAVAILABLE.format(valkey.url)]

    def test_full_redis_raises_full_when_strict(self, make_cache: MakeCache, valkey: Any) -> None:
        """Without fail_open, a write refused for memory raises CacheFullError (transient)."""
        admin = redis.Redis.from_url(valkey.url)
        admin.config_set("maxmemory", admin.info("memory")["used_memory"] + 1024)
        admin.close()
        cache = make_cache(valkey.url)
        with pytest.raises(CacheFullError) as caught:
            cache.mark_seen("jp", "posts", many_records(2000))
        assert is_transient(caught.value)

    def test_uses_short_socket_timeouts(self, make_cache: MakeCache, redis_url: str) -> None:
        """The client connects and reads with the cache's socket timeout, never hanging long."""
        cache = make_cache(redis_url, socket_timeout_s=0.5)
        options = cache.client.connection_pool.connection_kwargs
        assert options["socket_timeout"] == 0.5
        assert options["socket_connect_timeout"] == 0.5


class TestCounters:
    """Counters for the run report."""

    def test_hits_misses_and_deduplicated_are_counted(
        self, make_cache: MakeCache, redis_url: str
    ) -> None:
        """Lookups count as hits or misses and dropped records as deduplicated."""
        cache = make_cache(redis_url)
        cache.get_response(URL)
        cache.set_response(URL, b"[]")
        cache.get_response(URL)
        cache.get_response(URL)
        cache.mark_seen("jp", "posts", records(("1", "a"), ("2", "b")))
        cache.filter_unseen("jp", "posts", records(("1", "a"), ("2", "b"), ("3", "c")))
        assert cache.stats.snapshot() == {
            "hits": 2,
            "misses": 1,
            "errors": 0,
            "deduplicated": 2,
            "retries": 0,
        }

    def test_threads_sharing_one_cache_count_exactly(self, redis_url: str) -> None:
        """Threads sharing one sync cache (threaded mode) lose no counts and no fingerprints."""
        batch = many_records(200)
        with RedisCache(redis_url) as cache:
            cache.mark_seen("jp", "posts", batch[:100])

            def work() -> None:
                for _ in range(20):
                    cache.filter_unseen("jp", "posts", batch)
                    cache.get_response(URL)

            threads = [threading.Thread(target=work) for _ in range(8)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            assert cache.stats.deduplicated == 8 * 20 * 100
            assert cache.stats.misses == 8 * 20
