"""Where a reliability scenario runs: a database of its own, a clean Redis, servers to break.

Every row starts from nothing: a new database on the given Postgres (dropped after), a
flushed Redis database, and, for the outage scenarios, a ``ThrowawayPostgres`` or a
``ThrowawayValkey`` of the row's own to restart, stop or kill. ``workbench reliability``
gives it the embedded Postgres and a private Valkey; tests give it their own fixtures.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg2
import psycopg2.extensions
import redis
from psycopg2 import sql

from workbench.error_mapping import map_psycopg2_errors, map_redis_errors
from workbench.services.common import state_dir
from workbench.services.postgres import ThrowawayPostgres
from workbench.services.valkey import ThrowawayValkey

__all__ = ["Workspace"]


class Workspace:
    """Scratch databases on one Postgres, and one Redis database this run may flush."""

    def __init__(self, postgres_dsn: str, redis_url: str) -> None:
        self.postgres_dsn = postgres_dsn
        self.redis_url = redis_url

    def _admin(self, statement: sql.Composable) -> None:
        """Run one statement outside a transaction (CREATE and DROP DATABASE need that)."""
        with map_psycopg2_errors():
            connection = psycopg2.connect(self.postgres_dsn)
            try:
                connection.autocommit = True
                with connection.cursor() as cur:
                    cur.execute(statement)
            finally:
                connection.close()

    @contextmanager
    def database(self) -> Iterator[str]:
        """Yield the DSN of a new, empty database; drop it afterwards."""
        name = f"wb_rel_{uuid.uuid4().hex[:12]}"
        self._admin(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        try:
            yield psycopg2.extensions.make_dsn(self.postgres_dsn, dbname=name)
        finally:
            drop = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)")
            self._admin(drop.format(sql.Identifier(name)))

    def flush_redis(self) -> None:
        """Empty the Redis database: no cached response or dedup set of another row."""
        with map_redis_errors():
            client = redis.Redis.from_url(self.redis_url)
            try:
                client.flushdb()
            finally:
                client.close()

    @contextmanager
    def throwaway_postgres(self) -> Iterator[ThrowawayPostgres]:
        """Yield a running Postgres of the row's own (its data deleted afterwards)."""
        with ThrowawayPostgres(state_dir() / "throwaway" / uuid.uuid4().hex[:12]) as server:
            yield server

    @contextmanager
    def throwaway_valkey(self) -> Iterator[ThrowawayValkey]:
        """Yield a running Valkey of the row's own, stopped afterwards if still alive."""
        with ThrowawayValkey() as server:
            yield server
