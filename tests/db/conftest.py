"""Redis fixtures for the db tests: both cache twins, round trips, fake clock, logs, servers."""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Callable, Iterator
from typing import Any

import psycopg2
import pytest
import redis
import redis.asyncio.connection
import redis.connection
from psycopg2.extensions import connection

from workbench.db.postgres_schema import create_schema
from workbench.db.redis_cache import AsyncRedisCache, RedisCache
from workbench.services.common import free_port
from workbench.services.valkey import ThrowawayValkey


class FakeClock:
    """A monotonic clock that moves only when a test advances it."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        """Return the current fake time in seconds."""
        return self.now

    def advance(self, seconds: float) -> None:
        """Move the clock forward."""
        self.now += seconds


class CacheLog(logging.Handler):
    """Collects the messages logged on ``workbench.cache``."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        """Keep the record."""
        self.records.append(record)

    @property
    def warnings(self) -> list[str]:
        """The messages logged at WARNING or above, in order."""
        return [r.getMessage() for r in self.records if r.levelno >= logging.WARNING]

    @property
    def text(self) -> str:
        """Every message at every level, one per line."""
        return "\n".join(r.getMessage() for r in self.records)


@pytest.fixture
def clock() -> FakeClock:
    """Give a fake clock starting at an arbitrary instant."""
    return FakeClock()


@pytest.fixture
def cache_log() -> Iterator[CacheLog]:
    """Everything logged on ``workbench.cache`` during the test, whatever logging is configured."""
    handler = CacheLog()
    log = logging.getLogger("workbench.cache")
    old_level = log.level
    log.setLevel(logging.DEBUG)
    log.addHandler(handler)
    try:
        yield handler
    finally:
        log.removeHandler(handler)
        log.setLevel(old_level)


# --- caches of both twins, and Redis servers to break ------------------------------


class AsyncAsSync:
    """Drive an AsyncRedisCache through the sync API on one event loop, so tests serve both."""

    def __init__(self, cache: AsyncRedisCache, runner: asyncio.Runner) -> None:
        self.cache = cache
        self._runner = runner

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self.cache, name)
        if not inspect.iscoroutinefunction(attribute):
            return attribute
        return lambda *args, **kwargs: self._runner.run(attribute(*args, **kwargs))

    def __repr__(self) -> str:
        return repr(self.cache)

    def close(self) -> None:
        """Close the async cache on its loop."""
        self._runner.run(self.cache.aclose())


MakeCache = Callable[..., Any]


@pytest.fixture(params=["sync", "async"])
def make_cache(request: pytest.FixtureRequest) -> Iterator[MakeCache]:
    """Give a factory of caches of one twin with the sync API, closing them after the test."""
    runner = asyncio.Runner()
    made: list[Any] = []

    def make(url: str, **options: Any) -> Any:
        if request.param == "sync":
            cache: Any = RedisCache(url, **options)
        else:
            cache = AsyncAsSync(AsyncRedisCache(url, **options), runner)
        made.append(cache)
        return cache

    yield make
    for cache in made:
        cache.close()
    runner.close()


@pytest.fixture
def raw(redis_url: str) -> Iterator[redis.Redis]:
    """Give a plain client on the test database, to look behind the cache's back."""
    client = redis.Redis.from_url(redis_url)
    yield client
    client.close()


@pytest.fixture
def dead_url() -> str:
    """Give a Redis URL, with a password, on a local port where nothing listens."""
    return f"redis://:s3cret@127.0.0.1:{free_port()}/0"


@pytest.fixture
def valkey() -> Iterator[ThrowawayValkey]:
    """Give a started throwaway Valkey server, stopped after the test."""
    server = ThrowawayValkey()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def conn(postgres_dsn: str) -> Iterator[connection]:
    """A plain connection to a fresh database that already has the schema."""
    conn = psycopg2.connect(postgres_dsn)
    with conn.cursor() as cur:
        create_schema(cur)
    conn.commit()
    yield conn
    conn.close()
