"""What every trial of one benchmark run shares: the services, source servers, scratch space.

The source API runs in a process of its own (``serve_in_process``), one per added latency,
so its Python work never competes with the client being measured for a GIL. Every trial
writes under a scratch source name (``bench-...``) and clears exactly that before each
repetition: its rows, rejects, dedup set and the cached responses of its own URLs. Nothing a
user ingested is read, changed or deleted.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable

import psycopg2
import psycopg2.extensions
from psycopg2 import sql

from workbench.db.postgres import PostgresStore
from workbench.db.redis_cache import RedisCache
from workbench.db.redis_dedup import batches
from workbench.error_mapping import map_psycopg2_errors, map_redis_errors
from workbench.local_api import FaultConfig
from workbench.local_api.process_server import ProcessServerHandle, serve_in_process
from workbench.services import Services
from workbench.sources.http_api import HttpApiSource

__all__ = ["VACUUM_AFTER_ROWS", "BenchContext", "scratch_source"]

#: Deleting more rows than this leaves enough dead tuples to slow the next run: vacuum first.
VACUUM_AFTER_ROWS = 20_000


def scratch_source(scenario: str, mode: str) -> str:
    """Return the source name a scenario's mode writes under (``bench-io-async``)."""
    return f"bench-{scenario}-{mode}"


class BenchContext:
    """The services, one source server per added latency, and scratch clean-up."""

    def __init__(self, services: Services, *, max_records: int, seed: int = 0) -> None:
        self.postgres_dsn = services.postgres_dsn
        self.redis_url = services.redis_url
        # Records are generated on demand, so a server holding the largest case costs nothing.
        self.scale = max(1.0, max_records / 100)
        self.seed = seed
        self._servers: dict[float, ProcessServerHandle] = {}
        self._stack = contextlib.ExitStack()
        self.store = PostgresStore(self.postgres_dsn, maxconn=1)
        self.cache = RedisCache(self.redis_url)

    def __enter__(self) -> BenchContext:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def server(self, latency_ms: float) -> ProcessServerHandle:
        """Return the source server with ``latency_ms`` added to every answer (started once)."""
        if latency_ms not in self._servers:
            faults = FaultConfig(latency_ms=latency_ms)
            serve = serve_in_process(seed=self.seed, scale=self.scale, faults=faults)
            self._servers[latency_ms] = self._stack.enter_context(serve)
        return self._servers[latency_ms]

    def page_urls(self, base_url: str, page_size: int, pages: int) -> list[str]:
        """Return the URLs of posts pages 1..``pages``, as the ingestors request them."""
        source = HttpApiSource(base_url, page_size=page_size)
        return [source.page_url("posts", page) for page in range(1, pages + 1)]

    def clear_source(self, source: str, urls: Iterable[str] = ()) -> None:
        """Forget a scratch source: rows, rejects, dedup set, and the responses of ``urls``."""
        deleted = self.store.delete_source(source)
        self.store.delete_rejects(source)
        self.cache.forget(source)
        keys = [self.cache.keys.response(url) for url in urls]
        with map_redis_errors():
            for batch in batches(keys):
                self.cache.client.unlink(*batch)
        if deleted > VACUUM_AFTER_ROWS:
            self.execute("VACUUM ingested_data")

    def execute(self, *statements: str | sql.Composable) -> None:
        """Run statements outside a transaction (VACUUM, DDL of the bench's own tables)."""
        with map_psycopg2_errors():
            connection = psycopg2.connect(self.postgres_dsn)
            try:
                connection.autocommit = True
                with connection.cursor() as cur:
                    for statement in statements:
                        cur.execute(statement)
            finally:
                connection.close()

    def close(self) -> None:
        """Stop the source servers and close the connections."""
        try:
            self._stack.close()
        finally:
            self.store.close()
            self.cache.close()
