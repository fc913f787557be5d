from __future__ import annotations

import psycopg2
import pytest

from workbench.services import Services
from workbench.services.scratch import scratch_database


def databases(admin_dsn: str) -> set[str]:
    """Name every database on the server."""
    conn = psycopg2.connect(admin_dsn)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT datname FROM pg_database")
            return {name for (name,) in cur}
    finally:
        conn.close()


class TestScratchDatabase:
    """A throwaway database on the running server."""

    def test_exists_empty_inside_the_block_and_is_dropped_after(self, services: Services) -> None:
        """The yielded DSN reaches a new, empty database that is gone after the block."""
        with scratch_database(services.postgres_dsn, prefix="wb_scratch_") as dsn:
            name = psycopg2.extensions.parse_dsn(dsn)["dbname"]
            assert name.startswith("wb_scratch_") and name in databases(services.postgres_dsn)
            conn = psycopg2.connect(dsn)
            with conn.cursor() as cur:
                cur.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")
                assert cur.fetchone() == (0,)
            # Left open on purpose: the drop must not wait for it.
        conn.close()
        assert name not in databases(services.postgres_dsn)

    def test_is_dropped_when_the_block_raises(self, services: Services) -> None:
        """A failure inside the block still drops the database."""
        with pytest.raises(RuntimeError), scratch_database(services.postgres_dsn) as dsn:
            name = psycopg2.extensions.parse_dsn(dsn)["dbname"]
            raise RuntimeError("boom")
        assert name not in databases(services.postgres_dsn)
