"""A picklable recipe for a worker's Postgres store, Redis cache and task queue.

Connections cannot cross a process boundary; the recipe can. Every worker (a thread pool's
owner, each spawned process, the event loop, a queue worker) opens its own store, cache and
broker from it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from workbench.errors import ConfigError

if TYPE_CHECKING:
    from workbench.db.postgres import PostgresStore
    from workbench.db.redis_cache import AsyncRedisCache, RedisCache
    from workbench.queue.broker import Broker
    from workbench.queue.options import QueueOptions


@dataclass(frozen=True)
class Connections:
    """Where Postgres and Redis are, and how a worker should connect to them."""

    postgres_dsn: str
    redis_url: str | None = None  # None: run without the response cache and dedup
    cache_ttl_s: int = 300
    pool_size: int = 4
    #: Prefix of every Redis key: runs with different namespaces never see each other's
    #: cached responses or dedup sets (each notebook's Playground has its own).
    cache_namespace: str = "wb"
    #: The task queue (queue mode, ``workbench worker``): its Redis (None: the cache's) and
    #: timings; None: the defaults, on the cache's Redis.
    queue: QueueOptions | None = None

    def store(self) -> PostgresStore:
        """Open a store with its own connection pool (connections are made on first use)."""
        from workbench.db.postgres import PostgresStore

        return PostgresStore(self.postgres_dsn, maxconn=self.pool_size)

    def cache(self) -> RedisCache | None:
        """Open a fail-open sync cache, or None when running without Redis."""
        if self.redis_url is None:
            return None
        from workbench.db.redis_cache import RedisCache

        return RedisCache(
            self.redis_url, namespace=self.cache_namespace, ttl_s=self.cache_ttl_s, fail_open=True
        )

    def async_cache(self) -> AsyncRedisCache | None:
        """Open a fail-open async cache bound to the running event loop, or None."""
        if self.redis_url is None:
            return None
        from workbench.db.redis_cache import AsyncRedisCache

        return AsyncRedisCache(
            self.redis_url, namespace=self.cache_namespace, ttl_s=self.cache_ttl_s, fail_open=True
        )

    def broker(self) -> Broker:
        """Open the task queue's broker, on the queue's Redis or else the cache's."""
        from workbench.queue.broker import Broker
        from workbench.queue.options import QueueOptions

        options = self.queue or QueueOptions()
        url = options.url or self.redis_url
        if url is None:
            raise ConfigError(
                "the task queue needs a Redis: set WORKBENCH_QUEUE_URL or WORKBENCH_REDIS_URL "
                "(or use the cache, not --no-cache, with the embedded one)"
            )
        return Broker.connect(url, namespace=self.cache_namespace, options=options)
