"""The connection pool behind ``PostgresStore``: psycopg2's, keeping what it is given back."""

from __future__ import annotations

from typing import Any

from psycopg2.extensions import connection
from psycopg2.pool import ThreadedConnectionPool

__all__ = ["ReusingPool"]


class ReusingPool(ThreadedConnectionPool):
    """A ``ThreadedConnectionPool`` that keeps up to ``maxconn`` idle connections for reuse.

    psycopg2's pool keeps only ``minconn`` of the connections given back and closes the
    others, so a store shared by more threads than ``minconn`` would connect and disconnect
    around most transactions (a new backend process, cold caches, each time).
    """

    def _putconn(self, conn: connection, key: Any = None, close: bool = False) -> None:
        # The base class keeps a connection while fewer than minconn are idle: for this
        # call (made under the pool's lock), let that bound be maxconn.
        minconn, self.minconn = self.minconn, self.maxconn
        try:
            super()._putconn(conn, key, close)
        finally:
            self.minconn = minconn
