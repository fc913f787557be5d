from __future__ import annotations

from workbench.db.pool import ReusingPool


class TestReusingPool:
    """Connections given back stay open for the next caller, up to maxconn."""

    def test_keeps_every_connection_given_back(self, postgres_dsn: str) -> None:
        """Two connections taken at once are both kept and handed out again, not reopened."""
        pool = ReusingPool(1, 2, postgres_dsn)
        try:
            first, second = pool.getconn(), pool.getconn()
            pool.putconn(first)
            pool.putconn(second)
            assert not first.closed and not second.closed
            again = {id(pool.getconn()), id(pool.getconn())}
            assert again == {id(first), id(second)}
            assert pool.minconn == 1
        finally:
            pool.closeall()

    def test_closes_a_connection_given_back_as_broken(self, postgres_dsn: str) -> None:
        """A connection returned with close=True is closed, as with psycopg2's pool."""
        pool = ReusingPool(1, 2, postgres_dsn)
        try:
            conn = pool.getconn()
            pool.putconn(conn, close=True)
            assert conn.closed
        finally:
            pool.closeall()
