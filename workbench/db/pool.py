"""Postgres connections for one process: a bounded pool that waits, and keeps what it is given.

``ConnectionPool`` hands out connections one transaction at a time (``transaction()``), opens
them on first use, never holds more than ``maxconn`` and makes a caller wait up to
``timeout`` seconds for a free one instead of failing. Underneath is psycopg2's
``ThreadedConnectionPool``, taught to keep every idle connection it is given back and never
to hand out one the server has closed meanwhile (``ReusingPool``): after a Postgres restart
the next transaction gets a new connection instead of an error.
"""

from __future__ import annotations

import select
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg2
from psycopg2.extensions import connection, parse_dsn
from psycopg2.pool import ThreadedConnectionPool

from workbench.contexts import transaction
from workbench.error_mapping import map_psycopg2_errors
from workbench.errors import ConfigError, StorageUnavailableError
from workbench.redaction import redact

__all__ = ["ConnectionPool", "ReusingPool"]


class ReusingPool(ThreadedConnectionPool):
    """A ``ThreadedConnectionPool`` that keeps up to ``maxconn`` idle connections for reuse.

    psycopg2's pool keeps only ``minconn`` of the connections given back and closes the
    others, so a store shared by more threads than ``minconn`` would connect and disconnect
    around most transactions (a new backend process, cold caches, each time). An idle
    connection the server has ended since (a restart, an admin's terminate) is dropped when
    it would be handed out: its socket reads as ready, which an idle one never is.
    """

    # The base class's idle list and its private methods, which psycopg2's stubs leave out.
    _pool: list[connection]

    def _getconn(self, key: Any = None) -> connection:
        # Called under the pool's lock, like _putconn.
        while self._pool and _ended_by_server(self._pool[-1]):
            self._pool.pop().close()
        return super()._getconn(key)  # type: ignore[misc,no-any-return]

    def _putconn(self, conn: connection, key: Any = None, close: bool = False) -> None:
        # The base class keeps a connection while fewer than minconn are idle: for this
        # call (made under the pool's lock), let that bound be maxconn.
        minconn, self.minconn = self.minconn, self.maxconn
        try:
            super()._putconn(conn, key, close)  # type: ignore[misc]
        finally:
            self.minconn = minconn


def _ended_by_server(conn: connection) -> bool:
    """Tell whether an idle connection's server has spoken (a goodbye or EOF): it is dead.

    An idle connection has nothing to read; a readable one carries the server's termination
    notice or the end of the stream. ``select`` with no timeout costs no round trip.
    """
    if conn.closed:
        return True
    try:
        readable, _, _ = select.select([conn.fileno()], [], [], 0)
    except (OSError, ValueError, psycopg2.Error):
        return True
    return bool(readable)


class ConnectionPool:
    """At most ``maxconn`` connections to ``dsn``, opened on first use, shared by threads."""

    def __init__(
        self,
        dsn: str,
        *,
        minconn: int = 1,
        maxconn: int = 4,
        connect_timeout: int = 5,
        timeout: float = 30.0,
    ) -> None:
        if minconn < 0 or maxconn < max(1, minconn):
            raise ConfigError(
                f"pool size: need 0 <= minconn <= maxconn >= 1, got {minconn=}, {maxconn=}"
            )
        try:
            given = parse_dsn(dsn)
        except psycopg2.ProgrammingError as exc:
            raise ConfigError(f"invalid Postgres DSN {redact(dsn)!r}: {exc}") from None
        self.dsn = dsn
        self.minconn = minconn
        self.maxconn = maxconn
        self.timeout = timeout
        # A timeout written in the DSN wins over the default.
        self._connect_options = (
            {} if "connect_timeout" in given else {"connect_timeout": connect_timeout}
        )
        self._pool: ReusingPool | None = None
        self._lock = threading.Lock()
        self._slots = threading.BoundedSemaphore(maxconn)
        self._in_use = 0

    @property
    def in_use(self) -> int:
        """Return how many connections are checked out right now."""
        return self._in_use

    def _opened(self) -> ReusingPool:
        """Return psycopg2's pool, opening it (and its ``minconn`` connections) on first use."""
        with self._lock:
            if self._pool is None:
                with map_psycopg2_errors():
                    self._pool = ReusingPool(
                        self.minconn, self.maxconn, self.dsn, **self._connect_options
                    )
            return self._pool

    def _count_in_use(self, delta: int) -> None:
        """Track checked-out connections (``+=`` on an int is not atomic across threads)."""
        with self._lock:
            self._in_use += delta

    @contextmanager
    def transaction(self) -> Iterator[connection]:
        """Yield a pooled connection in one transaction: commit on success, else roll back."""
        # psycopg2's pool raises instead of waiting when exhausted; the semaphore waits.
        if not self._slots.acquire(timeout=self.timeout):
            raise StorageUnavailableError(
                f"no Postgres connection free within {self.timeout}s (all {self.maxconn} in use)"
            )
        self._count_in_use(+1)
        try:
            with transaction(self._opened()) as cur:
                yield cur.connection
        finally:
            self._count_in_use(-1)
            self._slots.release()

    def close(self) -> None:
        """Close every pooled connection; using the pool again opens new ones."""
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            with map_psycopg2_errors():
                pool.closeall()
