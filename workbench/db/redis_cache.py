"""Response cache and record dedup on Redis: ``RedisCache`` (sync) and ``AsyncRedisCache``.

The twins share key naming, counters and the fail-open policy through ``CacheBase``
(``workbench.db.redis_policy``) and differ only in how they talk to Redis::

    with RedisCache(redis_url, fail_open=True) as cache:
        body = cache.get_response(url)              # checked before the API
        ...
        cache.set_response(url, body)               # only 2xx with valid JSON
        fresh = cache.filter_unseen("jsonplaceholder", "posts", records)
        ...                                         # commit ``fresh`` to Postgres, then:
        cache.mark_seen("jsonplaceholder", "posts", fresh)

Responses live at ``<namespace>:resp:<sha1 of url>`` with a TTL; dedup fingerprints
(``external_id:checksum``) in one set per (source, resource) at ``<namespace>:seen:<s>:<r>``,
so a record whose content changed has a new fingerprint and goes through again. A writer's
batch uses ``unseen`` (one round trip), and after its commit ``remember`` (one round trip).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from types import TracebackType
from typing import Self, TypeVar, cast

import redis
import redis.asyncio
import redis.asyncio.retry
import redis.retry
from redis.backoff import NoBackoff

from workbench.db.redis_dedup import (
    Groups,
    aadd_to_sets,
    add_to_sets,
    aseen_in_sets,
    aunlink_matching,
    seen_in_sets,
    unlink_matching,
)
from workbench.db.redis_policy import CacheBase, count_retries
from workbench.error_mapping import map_redis_errors
from workbench.errors import CacheError
from workbench.processing import ProcessedRecord

__all__ = ["AsyncRedisCache", "RedisCache"]

T = TypeVar("T")

# One immediate retry reconnects a pooled connection the server dropped (after a restart);
# more would only stretch the time a dead Redis costs each call.
_RETRIES = 1


class RedisCache(CacheBase):
    """Response cache and record dedup on a sync ``redis.Redis``; safe to share across threads.

    See ``CacheBase`` for the caching contract and what ``fail_open`` does.
    """

    client: redis.Redis

    def _connect(self, url: str) -> redis.Redis:
        """Build the sync client with short timeouts and one quick reconnect."""
        retry = count_retries(redis.retry.Retry, self.stats)(NoBackoff(), _RETRIES)
        return redis.Redis.from_url(url, **self._client_options(retry))

    def _call(self, operation: Callable[[redis.Redis], T], fallback: T) -> T:
        """Run one Redis operation, or return ``fallback`` when fail-open hides an outage."""
        if not self._may_call():
            return fallback
        try:
            with map_redis_errors():
                result = operation(self.client)
        except CacheError as exc:
            if not self._absorbs(exc):
                raise
            return fallback
        self._called()
        return result

    def get_response(self, url: str) -> bytes | None:
        """Return the cached body for ``url``, or None on a miss."""
        key = self.keys.response(url)
        body = self._call(lambda client: client.get(key), None)
        return self._count_lookup(cast("bytes | None", body))  # replies are not decoded here

    def set_response(self, url: str, body: bytes, ttl_s: int | None = None) -> None:
        """Cache ``body`` for ``url`` for ``ttl_s`` seconds (default: the cache's ``ttl_s``)."""
        key, ttl = self.keys.response(url), self.ttl_s if ttl_s is None else ttl_s
        self._call(lambda client: client.set(key, body, ex=ttl), None)

    def get_responses(self, urls: Sequence[str]) -> list[bytes | None]:
        """Return the cached body of each URL (None on a miss), in one round trip."""
        if not urls:
            return []
        keys = [self.keys.response(url) for url in urls]
        misses: list[bytes | str | None] = [None] * len(keys)
        bodies = self._call(lambda client: client.mget(keys), misses)
        return self._count_lookups(cast("list[bytes | None]", bodies))

    def set_responses(self, bodies: Sequence[tuple[str, bytes]], ttl_s: int | None = None) -> None:
        """Cache several ``(url, body)`` pairs for ``ttl_s`` seconds each, in one round trip."""
        self._store([], *self._response_items(bodies, ttl_s))

    def filter_unseen(
        self, source: str, resource: str, records: Sequence[ProcessedRecord]
    ) -> list[ProcessedRecord]:
        """Return the records whose (external_id, checksum) is not known yet, in one round trip."""
        return self._unseen(records, [(self.keys.seen(source, resource), records)])

    def unseen(self, source: str, records: Sequence[ProcessedRecord]) -> list[ProcessedRecord]:
        """Like ``filter_unseen`` for records of any resources: one round trip for them all."""
        return self._unseen(records, self._by_resource(source, records))

    def _unseen(
        self,
        records: Sequence[ProcessedRecord],
        groups: Sequence[tuple[str, Sequence[ProcessedRecord]]],
    ) -> list[ProcessedRecord]:
        """Check the grouped records' fingerprints; keep the unseen, in the groups' order."""
        if not records:
            return []
        ordered, members = self._members(groups)
        seen = self._call(lambda c: seen_in_sets(c, members), [False] * len(ordered))
        return self._keep_unseen(ordered, seen)

    def mark_seen(self, source: str, resource: str, records: Sequence[ProcessedRecord]) -> None:
        """Remember the records' fingerprints; call it only after Postgres committed them."""
        self._store(self._members([(self.keys.seen(source, resource), records)])[1], [], 0)

    def remember(
        self,
        source: str,
        records: Sequence[ProcessedRecord],
        responses: Sequence[tuple[str, bytes]] = (),
    ) -> None:
        """After a commit: mark records of any resources seen and cache responses, one trip."""
        members = self._members(self._by_resource(source, records))[1]
        self._store(members, *self._response_items(responses, None))

    def _store(self, members: Groups, items: list[tuple[str, bytes]], ttl: int) -> None:
        """Add fingerprints to their sets and set responses, all in one pipeline."""
        if not any(group for _, group in members) and not items:
            return

        def store(client: redis.Redis) -> None:
            pipe = client.pipeline(transaction=False)
            add_to_sets(client, members, pipe)
            for key, body in items:
                pipe.set(key, body, ex=ttl)
            pipe.execute()

        self._call(store, None)

    def forget(self, source: str | None = None, resource: str | None = None) -> int:
        """Clear dedup state for one source/resource (None: all); return the keys removed."""
        if source is not None and resource is not None:  # one key: no need to SCAN them all
            key = self.keys.seen(source, resource)
            return self._call(lambda client: int(client.unlink(key)), 0)
        pattern = self.keys.seen_pattern(source, resource)
        return self._call(lambda client: unlink_matching(client, pattern), 0)

    def forget_responses(self) -> int:
        """Drop every cached response; return the keys removed."""
        pattern = self.keys.response_pattern()
        return self._call(lambda client: unlink_matching(client, pattern), 0)

    def close(self) -> None:
        """Close the client's connections."""
        self.client.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class AsyncRedisCache(CacheBase):
    """Response cache and record dedup on ``redis.asyncio.Redis``; the twin of ``RedisCache``.

    See ``CacheBase`` for the caching contract and what ``fail_open`` does.
    """

    client: redis.asyncio.Redis

    def _connect(self, url: str) -> redis.asyncio.Redis:
        """Build the async client with short timeouts and one quick reconnect."""
        retry = count_retries(redis.asyncio.retry.Retry, self.stats)(NoBackoff(), _RETRIES)
        return redis.asyncio.Redis.from_url(url, **self._client_options(retry))

    async def _call(
        self, operation: Callable[[redis.asyncio.Redis], Awaitable[T]], fallback: T
    ) -> T:
        """Run one Redis operation, or return ``fallback`` when fail-open hides an outage."""
        if not self._may_call():
            return fallback
        try:
            with map_redis_errors():
                result = await operation(self.client)
        except CacheError as exc:
            if not self._absorbs(exc):
                raise
            return fallback
        self._called()
        return result

    async def get_response(self, url: str) -> bytes | None:
        """Return the cached body for ``url``, or None on a miss."""
        key = self.keys.response(url)
        body = await self._call(lambda client: client.get(key), None)
        return self._count_lookup(cast("bytes | None", body))

    async def set_response(self, url: str, body: bytes, ttl_s: int | None = None) -> None:
        """Cache ``body`` for ``url`` for ``ttl_s`` seconds (default: the cache's ``ttl_s``)."""
        key, ttl = self.keys.response(url), self.ttl_s if ttl_s is None else ttl_s
        await self._call(lambda client: client.set(key, body, ex=ttl), None)

    async def get_responses(self, urls: Sequence[str]) -> list[bytes | None]:
        """Return the cached body of each URL (None on a miss), in one round trip."""
        if not urls:
            return []
        keys = [self.keys.response(url) for url in urls]
        misses: list[bytes | str | None] = [None] * len(keys)
        bodies = await self._call(lambda client: client.mget(keys), misses)
        return self._count_lookups(cast("list[bytes | None]", bodies))

    async def set_responses(
        self, bodies: Sequence[tuple[str, bytes]], ttl_s: int | None = None
    ) -> None:
        """Cache several ``(url, body)`` pairs for ``ttl_s`` seconds each, in one round trip."""
        await self._store([], *self._response_items(bodies, ttl_s))

    async def filter_unseen(
        self, source: str, resource: str, records: Sequence[ProcessedRecord]
    ) -> list[ProcessedRecord]:
        """Return the records whose (external_id, checksum) is not known yet, in one round trip."""
        return await self._unseen(records, [(self.keys.seen(source, resource), records)])

    async def unseen(
        self, source: str, records: Sequence[ProcessedRecord]
    ) -> list[ProcessedRecord]:
        """Like ``filter_unseen`` for records of any resources: one round trip for them all."""
        return await self._unseen(records, self._by_resource(source, records))

    async def _unseen(
        self,
        records: Sequence[ProcessedRecord],
        groups: Sequence[tuple[str, Sequence[ProcessedRecord]]],
    ) -> list[ProcessedRecord]:
        """Check the grouped records' fingerprints; keep the unseen, in the groups' order."""
        if not records:
            return []
        ordered, members = self._members(groups)
        seen = await self._call(lambda c: aseen_in_sets(c, members), [False] * len(ordered))
        return self._keep_unseen(ordered, seen)

    async def mark_seen(
        self, source: str, resource: str, records: Sequence[ProcessedRecord]
    ) -> None:
        """Remember the records' fingerprints; call it only after Postgres committed them."""
        await self._store(self._members([(self.keys.seen(source, resource), records)])[1], [], 0)

    async def remember(
        self,
        source: str,
        records: Sequence[ProcessedRecord],
        responses: Sequence[tuple[str, bytes]] = (),
    ) -> None:
        """After a commit: mark records of any resources seen and cache responses, one trip."""
        members = self._members(self._by_resource(source, records))[1]
        await self._store(members, *self._response_items(responses, None))

    async def _store(self, members: Groups, items: list[tuple[str, bytes]], ttl: int) -> None:
        """Add fingerprints to their sets and set responses, all in one pipeline."""
        if not any(group for _, group in members) and not items:
            return

        async def store(client: redis.asyncio.Redis) -> None:
            pipe = client.pipeline(transaction=False)
            await aadd_to_sets(client, members, pipe)
            for key, body in items:
                pipe.set(key, body, ex=ttl)
            await pipe.execute()

        await self._call(store, None)

    async def forget(self, source: str | None = None, resource: str | None = None) -> int:
        """Clear dedup state for one source/resource (None: all); return the keys removed."""
        if source is not None and resource is not None:  # one key: no need to SCAN them all
            key = self.keys.seen(source, resource)
            return int(await self._call(lambda client: client.unlink(key), 0))
        pattern = self.keys.seen_pattern(source, resource)
        return await self._call(lambda client: aunlink_matching(client, pattern), 0)

    async def forget_responses(self) -> int:
        """Drop every cached response; return the keys removed."""
        pattern = self.keys.response_pattern()
        return await self._call(lambda client: aunlink_matching(client, pattern), 0)

    async def aclose(self) -> None:
        """Close the client's connections."""
        await self.client.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
