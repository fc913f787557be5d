"""A picklable recipe for a worker's Postgres store and Redis cache.

Connections cannot cross a process boundary; the recipe can. Every worker (a thread pool's
owner, each spawned process, the event loop) opens its own store and cache from it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from workbench.db.postgres import PostgresStore
    from workbench.db.redis_cache import AsyncRedisCache, RedisCache


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
