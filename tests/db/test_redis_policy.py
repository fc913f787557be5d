from __future__ import annotations

import hashlib
import threading
from typing import Any

import pytest

from workbench.db.redis_policy import Availability, CacheKeys, CacheStats
from workbench.errors import CacheUnavailableError, ConfigError
from workbench.processing import ProcessedRecord


class TestCacheKeys:
    """Key naming under a namespace."""

    def test_response_key_is_namespaced_sha1_of_url(self) -> None:
        """A response key is ``<namespace>:resp:<sha1 hex of the url>``."""
        url = "http://api.local/posts?page=2"
        digest = hashlib.sha1(url.encode()).hexdigest()
        assert CacheKeys("lab").response(url) == f"lab:resp:{digest}"

    def test_seen_key_names_source_and_resource(self) -> None:
        """A seen-set key is ``<namespace>:seen:<source>:<resource>``."""
        assert CacheKeys().seen("jp", "posts") == "wb:seen:jp:posts"

    def test_seen_pattern_widens_missing_parts_and_escapes_globs(self) -> None:
        """None becomes ``*`` in a SCAN pattern, and glob characters in names are escaped."""
        keys = CacheKeys("w*b")
        assert keys.seen_pattern() == r"w\*b:seen:*:*"
        assert keys.seen_pattern("jp") == r"w\*b:seen:jp:*"
        assert keys.seen_pattern("jp", "po[s]ts") == r"w\*b:seen:jp:po\[s\]ts"

    @pytest.mark.parametrize("name", ["", "a:b"])
    def test_names_with_colons_or_empty_are_refused(self, name: str) -> None:
        """A source or resource name that is empty or has ``:`` raises ConfigError."""
        with pytest.raises(ConfigError):
            CacheKeys().seen(name, "posts")

    def test_fingerprint_joins_external_id_and_checksum(self) -> None:
        """A record's fingerprint is ``external_id:checksum``."""
        record = ProcessedRecord(resource="posts", external_id="7", data={}, checksum="abc")
        assert CacheKeys.fingerprints([record]) == ["7:abc"]


class TestCacheStats:
    """Thread-safe run counters."""

    def test_counts_from_many_threads_add_up_exactly(self) -> None:
        """Concurrent increments from several threads lose no count."""
        stats = CacheStats()

        def bump() -> None:
            for _ in range(5000):
                stats.add(hits=1, deduplicated=2)

        threads = [threading.Thread(target=bump) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert stats.snapshot() == {
            "hits": 40000,
            "misses": 0,
            "errors": 0,
            "deduplicated": 80000,
            "retries": 0,
        }

    def test_unknown_counter_is_refused(self) -> None:
        """Adding to a counter that does not exist raises instead of inventing it."""
        with pytest.raises(ValueError, match="bogus"):
            CacheStats().add(bogus=1)


class TestAvailability:
    """When to try Redis again after an outage, and what gets logged."""

    def test_up_always_attempts(self, clock: Any) -> None:
        """While Redis is up every call is attempted."""
        availability = Availability("redis://h", retry_every_s=5, clock=clock)
        assert all(availability.should_attempt() for _ in range(3))

    def test_down_attempts_once_per_retry_interval(self, clock: Any) -> None:
        """After a failure, one attempt is allowed per interval and the rest are refused."""
        availability = Availability("redis://h", retry_every_s=5, clock=clock)
        availability.failed(CacheUnavailableError("refused"))
        assert not availability.should_attempt()
        clock.advance(4.9)
        assert not availability.should_attempt()
        clock.advance(0.1)
        assert availability.should_attempt()
        assert not availability.should_attempt()  # the slot was claimed by the first caller

    def test_warns_once_per_outage_and_once_on_recovery(self, clock: Any, cache_log: Any) -> None:
        """Repeated failures warn once; recovery is announced once; a new outage warns again."""
        availability = Availability("redis://:***@h:1/0", retry_every_s=5, clock=clock)
        for _ in range(3):
            availability.failed(CacheUnavailableError("refused"))
        availability.succeeded()
        availability.succeeded()
        availability.failed(CacheUnavailableError("refused"))
        assert cache_log.warnings == [
            "Redis unavailable at redis://:***@h:1/0: continuing without cache",
            "Redis available again at redis://:***@h:1/0: cache resumed",
            "Redis unavailable at redis://:***@h:1/0: continuing without cache",
        ]
        assert availability.is_down
