"""What the Redis cache twins share without doing I/O: key names, counters, fail-open policy.

``RedisCache`` and ``AsyncRedisCache`` (in ``workbench.db.redis_cache``) inherit
``CacheBase``; everything here is plain Python, so the two twins cannot drift apart on
naming, counting or when to give up on Redis and when to try it again.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from workbench.errors import CacheError, CacheUnavailableError, ConfigError
from workbench.processing import ProcessedRecord
from workbench.redaction import redact

__all__ = ["Availability", "CacheBase", "CacheKeys", "CacheStats", "Clock", "count_retries"]

logger = logging.getLogger("workbench.cache")

T = TypeVar("T")

#: A monotonic clock in seconds; injected so tests can move time without sleeping.
Clock = Callable[[], float]

_GLOB_SPECIALS = str.maketrans({c: f"\\{c}" for c in "\\*?[]"})


@dataclass(frozen=True, slots=True)
class CacheKeys:
    """Build every Redis key under one namespace: ``<ns>:resp:<sha1>``, ``<ns>:seen:<s>:<r>``."""

    namespace: str = "wb"

    def response(self, url: str) -> str:
        """Return the key caching the body fetched from ``url``."""
        return f"{self.namespace}:resp:{hashlib.sha1(url.encode()).hexdigest()}"

    def seen(self, source: str, resource: str) -> str:
        """Return the key of the set of fingerprints already stored for (source, resource)."""
        return f"{self.namespace}:seen:{_name(source)}:{_name(resource)}"

    def seen_pattern(self, source: str | None = None, resource: str | None = None) -> str:
        """Return a SCAN pattern for the seen-sets of one source/resource, or all when None."""
        parts = [self.namespace.translate(_GLOB_SPECIALS), "seen"]
        for name in (source, resource):
            parts.append("*" if name is None else _name(name).translate(_GLOB_SPECIALS))
        return ":".join(parts)

    def response_pattern(self) -> str:
        """Return a SCAN pattern matching every cached response."""
        return f"{self.namespace.translate(_GLOB_SPECIALS)}:resp:*"

    def namespace_pattern(self) -> str:
        """Return a SCAN pattern matching every key under the namespace (cache and queue)."""
        return f"{self.namespace.translate(_GLOB_SPECIALS)}:*"

    @staticmethod
    def fingerprints(records: Sequence[ProcessedRecord]) -> list[str]:
        """Return each record's ``external_id:checksum``: a new checksum is a new fingerprint."""
        return [f"{record.external_id}:{record.checksum}" for record in records]


def _name(value: str) -> str:
    """Return a source or resource name, refusing ``:`` so one key never matches another's."""
    if not value or ":" in value:
        raise ConfigError(f"cache key part {value!r} is invalid: expected a non-empty name, no ':'")
    return value


class CacheStats:
    """Thread-safe counters for the run report: hits, misses, errors, deduplicated, retries."""

    FIELDS = ("hits", "misses", "errors", "deduplicated", "retries")

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0
        self.errors = 0
        self.deduplicated = 0
        #: Commands the client sent again after a dropped connection (its quick reconnect).
        self.retries = 0

    def add(self, **counts: int) -> None:
        """Add to the named counters atomically (threads in a run share one cache)."""
        with self._lock:
            for field, count in counts.items():
                if field not in self.FIELDS:
                    raise ValueError(f"unknown cache counter {field!r}")
                setattr(self, field, getattr(self, field) + count)

    def snapshot(self) -> dict[str, int]:
        """Return all counters at one instant, ready for a run report."""
        with self._lock:
            return {field: getattr(self, field) for field in self.FIELDS}

    def __repr__(self) -> str:
        counts = ", ".join(f"{k}={v}" for k, v in self.snapshot().items())
        return f"CacheStats({counts})"


def count_retries(retry_class: type[T], stats: CacheStats) -> type[T]:
    """Return a subclass of redis-py's (sync or async) ``Retry`` that counts its retries.

    redis-py retries inside the client, out of our retry decorator's sight; counting them in
    ``stats`` lets a run report say how often Redis was retried too. Only failures followed
    by another attempt count: the last one is raised (or absorbed by fail-open), not retried.
    """

    def counting(self: Any, fail: Callable[..., Any], with_count: bool) -> Callable[..., Any]:
        def counted(error: Exception, failures: int) -> Any:
            if self._retries < 0 or failures <= self._retries:
                stats.add(retries=1)
            return fail(error, failures) if with_count else fail(error)

        return counted

    class CountingRetry(retry_class):  # type: ignore[valid-type,misc]
        def call_with_retry(
            self, do: Any, fail: Any, is_retryable: Any = None, with_failure_count: bool = False
        ) -> Any:
            wrapped = counting(self, fail, with_failure_count)
            return super().call_with_retry(do, wrapped, is_retryable, True)

    CountingRetry.__name__ = CountingRetry.__qualname__ = f"Counting{retry_class.__name__}"
    return CountingRetry


class Availability:
    """Track whether Redis is up; while down, allow one attempt every ``retry_every_s``."""

    def __init__(self, safe_url: str, *, retry_every_s: float, clock: Clock) -> None:
        self._safe_url = safe_url
        self._retry_every_s = retry_every_s
        self._clock = clock
        self._lock = threading.Lock()
        self._down = False
        self._last_attempt = 0.0

    @property
    def is_down(self) -> bool:
        """Tell whether the last attempt failed and no attempt has succeeded since."""
        return self._down

    def should_attempt(self) -> bool:
        """Tell whether to call Redis now; when down, the first caller after the wait wins."""
        with self._lock:
            if not self._down:
                return True
            now = self._clock()
            if now - self._last_attempt < self._retry_every_s:
                return False
            # Claiming the slot here keeps a burst of threads from all retrying at once.
            self._last_attempt = now
            return True

    def failed(self, exc: CacheUnavailableError) -> None:
        """Record a failed attempt; warn only on the transition from up to down."""
        with self._lock:
            was_down, self._down = self._down, True
            self._last_attempt = self._clock()
        logger.debug("Redis call failed: %s", redact(str(exc)))
        if not was_down:
            logger.warning("Redis unavailable at %s: continuing without cache", self._safe_url)

    def succeeded(self) -> None:
        """Record a successful call; say so once when Redis is back."""
        with self._lock:
            was_down, self._down = self._down, False
        if was_down:
            logger.warning("Redis available again at %s: cache resumed", self._safe_url)


class CacheBase:
    """Key naming, TTL, counters and fail-open policy shared by the sync and async caches.

    The cache stores only what it is given: the caller decides what deserves caching (only
    2xx responses with valid JSON) and calls ``mark_seen`` only after Postgres committed the
    batch, so a crash between the two costs a harmless re-check, never a lost record.

    With ``fail_open=True`` an unreachable Redis (``CacheUnavailableError``) is logged once
    on logger ``workbench.cache`` and the cache then acts as an empty one — lookups miss,
    ``filter_unseen`` keeps every record, writes are dropped — trying Redis again at most
    every ``retry_every_s`` seconds and logging once when it is back. Postgres stays the
    source of truth, so a run goes on. With ``fail_open=False`` (the default, for benchmarks
    and tools) every error propagates. ``CacheDataError`` always propagates: it is a bug.
    """

    def __init__(
        self,
        url: str,
        *,
        namespace: str = "wb",
        ttl_s: int = 300,
        fail_open: bool = False,
        retry_every_s: float = 5.0,
        socket_timeout_s: float = 1.0,
        clock: Clock = time.monotonic,
    ) -> None:
        if ttl_s <= 0:
            raise ConfigError(f"cache ttl_s={ttl_s!r} is invalid: expected seconds > 0")
        if not namespace:
            raise ConfigError("cache namespace '' is invalid: expected a non-empty prefix")
        self.safe_url = redact(url)
        self.keys = CacheKeys(namespace)
        self.ttl_s = ttl_s
        self.fail_open = fail_open
        self.socket_timeout_s = socket_timeout_s
        self.stats = CacheStats()
        self.availability = Availability(self.safe_url, retry_every_s=retry_every_s, clock=clock)
        self.client = self._connect(url)

    def _connect(self, url: str) -> Any:
        """Build the Redis client for ``url``; each twin makes its own kind."""
        raise NotImplementedError

    def _client_options(self, retry: Any) -> dict[str, Any]:
        """Return the client settings that keep a dead Redis from hanging a run."""
        return {
            "socket_connect_timeout": self.socket_timeout_s,
            "socket_timeout": self.socket_timeout_s,
            "retry": retry,
        }

    def _may_call(self) -> bool:
        """Tell whether to call Redis now (always, unless fail-open and waiting to retry)."""
        return not self.fail_open or self.availability.should_attempt()

    def _absorbs(self, exc: CacheError) -> bool:
        """Count a failed call; return True when fail-open should hide it, False to re-raise."""
        self.stats.add(errors=1)
        if self.fail_open and isinstance(exc, CacheUnavailableError):
            self.availability.failed(exc)
            return True
        return False

    def _called(self) -> None:
        """Record that a Redis call succeeded."""
        if self.fail_open:
            self.availability.succeeded()

    def _count_lookup(self, body: bytes | None) -> bytes | None:
        """Count a response lookup as a hit or a miss and pass the body through."""
        self.stats.add(**{"hits" if body is not None else "misses": 1})
        return body

    def _count_lookups(self, bodies: list[bytes | None]) -> list[bytes | None]:
        """Count several response lookups as hits or misses and pass the bodies through."""
        hits = sum(body is not None for body in bodies)
        self.stats.add(hits=hits, misses=len(bodies) - hits)
        return bodies

    def _response_items(
        self, bodies: Sequence[tuple[str, bytes]], ttl_s: int | None
    ) -> tuple[list[tuple[str, bytes]], int]:
        """Return the (key, body) pairs to store for (url, body) pairs, and their TTL."""
        items = [(self.keys.response(url), body) for url, body in bodies]
        return items, self.ttl_s if ttl_s is None else ttl_s

    def _by_resource(
        self, source: str, records: Sequence[ProcessedRecord]
    ) -> list[tuple[str, list[ProcessedRecord]]]:
        """Group records by resource, each group under its seen-set key, in first-seen order."""
        groups: dict[str, list[ProcessedRecord]] = {}
        for record in records:
            groups.setdefault(record.resource, []).append(record)
        return [(self.keys.seen(source, resource), group) for resource, group in groups.items()]

    def _members(
        self, groups: Sequence[tuple[str, Sequence[ProcessedRecord]]]
    ) -> tuple[list[ProcessedRecord], list[tuple[str, list[str]]]]:
        """Return the grouped records in group order and each group's fingerprints by key."""
        ordered = [record for _, records in groups for record in records]
        members = [(key, self.keys.fingerprints(records)) for key, records in groups]
        return ordered, members

    def _keep_unseen(
        self, records: Sequence[ProcessedRecord], seen: Sequence[bool]
    ) -> list[ProcessedRecord]:
        """Return the records whose fingerprint is not seen, counting the dropped ones."""
        unseen = [record for record, known in zip(records, seen, strict=True) if not known]
        self.stats.add(deduplicated=len(records) - len(unseen))
        return unseen

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(url={self.safe_url!r}, namespace={self.keys.namespace!r}, "
            f"ttl_s={self.ttl_s}, fail_open={self.fail_open})"
        )
