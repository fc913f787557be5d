from __future__ import annotations

import asyncio
import sys
import threading
import uuid
from collections.abc import Callable, Iterator

import psycopg2
import psycopg2.errors
import psycopg2.pool
import pytest
from psycopg2.pool import ThreadedConnectionPool

from workbench.config import Settings
from workbench.contexts import Timer, override_settings, transaction
from workbench.errors import ConfigError, StorageDataError, StorageUnavailableError


@pytest.fixture
def table(postgres_dsn: str) -> Iterator[str]:
    """Create a uniquely named one-column table, dropped after the test."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg2.connect(postgres_dsn) as conn, conn.cursor() as cur:
        cur.execute(f"CREATE TABLE {name} (id int PRIMARY KEY)")
    yield name
    with psycopg2.connect(postgres_dsn) as conn, conn.cursor() as cur:
        cur.execute(f"DROP TABLE IF EXISTS {name}")


@pytest.fixture
def pool(postgres_dsn: str) -> Iterator[ThreadedConnectionPool]:
    """Yield a two-connection pool on the test server, closed after the test."""
    pool = ThreadedConnectionPool(1, 2, postgres_dsn)
    yield pool
    pool.closeall()


def row_ids(dsn: str, table: str) -> list[int]:
    """Read the table's ids through a separate, fresh connection."""
    conn = psycopg2.connect(dsn)
    try:
        with conn.cursor() as cur:
            cur.execute(f"SELECT id FROM {table} ORDER BY id")
            return [row[0] for row in cur.fetchall()]
    finally:
        conn.close()


def assert_pool_fully_returned(pool: ThreadedConnectionPool) -> None:
    """Check no connection is checked out and all ``maxconn`` can be taken and work."""
    assert pool._used == {}
    taken = [pool.getconn() for _ in range(pool.maxconn)]
    try:
        for conn in taken:
            with conn.cursor() as cur:
                cur.execute("SELECT 1")
                assert cur.fetchone() == (1,)
    finally:
        for conn in taken:
            pool.putconn(conn)


def ticking_clock(*readings: float) -> Callable[[], float]:
    """Return a fake clock that yields ``readings`` in turn."""
    return iter(readings).__next__


class TestTimer:
    """Timer as a sync and async context manager with sinks."""

    def test_elapsed_grows_inside_and_is_fixed_after(self) -> None:
        """Inside the block elapsed follows the clock; after exit it no longer changes."""
        with Timer(clock=ticking_clock(1.0, 3.0, 6.0, 100.0)) as timer:
            assert timer.elapsed == 2.0
        assert timer.elapsed == 5.0
        assert timer.elapsed == 5.0

    def test_elapsed_is_zero_before_use(self) -> None:
        """A timer never entered reports zero seconds."""
        assert Timer().elapsed == 0.0

    def test_real_clock_gives_a_small_non_negative_duration(self) -> None:
        """With the default perf_counter an empty block takes between 0 and 1 second."""
        with Timer() as timer:
            pass
        assert 0.0 <= timer.elapsed < 1.0

    def test_same_stage_accumulates_in_timings(self) -> None:
        """Timing one stage several times adds up; another stage keeps its own total."""
        timings: dict[str, float] = {"fetch": 1.0}
        for start, end in [(0.0, 2.0), (5.0, 5.5)]:
            with Timer("fetch", timings=timings, clock=ticking_clock(start, end)):
                pass
        with Timer("store", timings=timings, clock=ticking_clock(0.0, 0.25)):
            pass
        assert timings == {"fetch": 3.5, "store": 0.25}

    def test_record_callable_receives_name_and_seconds(self) -> None:
        """record= is called once per block with the stage name and its seconds."""
        calls: list[tuple[str, float]] = []
        with Timer("parse", record=lambda n, s: calls.append((n, s)), clock=ticking_clock(1, 4)):
            pass
        assert calls == [("parse", 3)]

    def test_failed_block_is_still_recorded_and_error_propagates(self) -> None:
        """An exception in the block propagates, and the time spent is still recorded."""
        timings: dict[str, float] = {}
        with (
            pytest.raises(ZeroDivisionError),
            Timer("bad", timings=timings, clock=ticking_clock(0.0, 1.5)),
        ):
            1 / 0  # noqa: B018
        assert timings == {"bad": 1.5}

    def test_async_with_records_time_across_awaits(self) -> None:
        """``async with Timer(...)`` measures the awaited block and records it."""
        timings: dict[str, float] = {}

        async def stage() -> float:
            async with Timer("fetch", timings=timings, clock=ticking_clock(10, 12)) as timer:
                await asyncio.sleep(0)
            return timer.elapsed

        assert asyncio.run(stage()) == 2
        assert timings == {"fetch": 2}

    def test_concurrent_accumulation_loses_nothing(self) -> None:
        """Many threads timing the same stage add up to exactly the sum of their durations."""
        previous = sys.getswitchinterval()
        sys.setswitchinterval(1e-6)  # switch threads as often as possible to provoke races
        timings: dict[str, float] = {}

        def work() -> None:
            for _ in range(500):
                with Timer("stage", timings=timings, clock=ticking_clock(0.0, 1.0)):
                    pass

        try:
            threads = [threading.Thread(target=work) for _ in range(8)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
        finally:
            sys.setswitchinterval(previous)
        assert timings == {"stage": 4000.0}

    def test_sink_without_name_is_refused(self) -> None:
        """Recording needs a stage name, so a sink without one is a ValueError."""
        with pytest.raises(ValueError, match="name"):
            Timer(timings={})


@pytest.mark.services
class TestTransaction:
    """transaction() against the real embedded Postgres."""

    def test_commits_on_success(
        self, pool: ThreadedConnectionPool, table: str, postgres_dsn: str
    ) -> None:
        """Rows written in the block are visible from another connection afterwards."""
        with transaction(pool) as cur:
            cur.execute(f"INSERT INTO {table} VALUES (1), (2)")
        assert row_ids(postgres_dsn, table) == [1, 2]
        assert_pool_fully_returned(pool)

    def test_rolls_back_and_reraises_on_error(
        self, pool: ThreadedConnectionPool, table: str, postgres_dsn: str
    ) -> None:
        """An exception in the block undoes its writes and propagates unchanged."""
        with pytest.raises(RuntimeError, match="abort"), transaction(pool) as cur:
            cur.execute(f"INSERT INTO {table} VALUES (1)")
            raise RuntimeError("abort")
        assert row_ids(postgres_dsn, table) == []
        assert_pool_fully_returned(pool)

    def test_database_errors_are_mapped_and_rolled_back(
        self, pool: ThreadedConnectionPool, table: str, postgres_dsn: str
    ) -> None:
        """A refused statement becomes StorageDataError; earlier writes are undone."""
        with pytest.raises(StorageDataError) as info, transaction(pool) as cur:
            cur.execute(f"INSERT INTO {table} VALUES (1)")
            cur.execute(f"INSERT INTO {table} VALUES (1)")  # duplicate key
        assert isinstance(info.value.__cause__, psycopg2.errors.UniqueViolation)
        assert row_ids(postgres_dsn, table) == []
        assert_pool_fully_returned(pool)

    def test_an_exhausted_pool_raises_its_own_error(
        self, pool: ThreadedConnectionPool, table: str, postgres_dsn: str
    ) -> None:
        """With every connection taken, the pool's PoolError comes out, and nothing is written."""
        held = [pool.getconn() for _ in range(pool.maxconn)]
        try:
            with pytest.raises(psycopg2.pool.PoolError), transaction(pool) as cur:
                cur.execute(f"INSERT INTO {table} VALUES (1)")
        finally:
            for conn in held:
                pool.putconn(conn)
        assert row_ids(postgres_dsn, table) == []
        assert_pool_fully_returned(pool)

    def test_cursor_is_closed_after_the_block(self, pool: ThreadedConnectionPool) -> None:
        """The yielded cursor belongs to the block and is closed on exit."""
        with transaction(pool) as cur:
            cur.execute("SELECT 1")
        assert cur.closed

    def test_broken_connection_is_discarded(
        self, pool: ThreadedConnectionPool, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A connection the server killed is given back with close=True and never reused."""
        close_flags: list[bool] = []
        put_back = pool.putconn

        def spy(conn: object, key: object = None, close: bool = False) -> None:
            close_flags.append(close)
            put_back(conn, key, close)

        monkeypatch.setattr(pool, "putconn", spy)
        with pytest.raises(StorageUnavailableError), transaction(pool) as cur:
            broken = cur.connection
            cur.execute("SELECT pg_terminate_backend(pg_backend_pid())")
        assert close_flags == [True]
        assert broken.closed
        assert broken not in pool._pool
        assert_pool_fully_returned(pool)

    def test_plain_connection_commits_and_stays_open(self, table: str, postgres_dsn: str) -> None:
        """Given a connection, each block commits or rolls back on it, and it stays open."""
        conn = psycopg2.connect(postgres_dsn)
        try:
            with transaction(conn) as cur:
                cur.execute(f"INSERT INTO {table} VALUES (1)")
            with pytest.raises(KeyError), transaction(conn) as cur:
                cur.execute(f"INSERT INTO {table} VALUES (2)")
                raise KeyError(2)
            # Without the rollback, this commit would also commit row 2.
            with transaction(conn) as cur:
                cur.execute(f"INSERT INTO {table} VALUES (3)")
            assert not conn.closed
            assert row_ids(postgres_dsn, table) == [1, 3]
        finally:
            conn.close()


class TestOverrideSettings:
    """override_settings() changes a Settings object temporarily."""

    def test_values_change_inside_and_are_restored_after(self) -> None:
        """Inside the block the validated new values apply; afterwards the old ones return."""
        settings = Settings(page_size=10)
        with override_settings(settings, page_size="20", mode="async") as same:
            assert same is settings
            assert (settings.page_size, settings.mode) == (20, "async")
        assert (settings.page_size, settings.mode) == (10, "sync")

    def test_values_are_restored_after_an_error(self) -> None:
        """An exception in the block still restores the original values."""
        settings = Settings()
        with pytest.raises(LookupError), override_settings(settings, use_cache=False):
            raise LookupError
        assert settings.use_cache is True

    @pytest.mark.parametrize("changes", [{"page_size": 5, "mode": "bogus"}, {"colour": "red"}])
    def test_invalid_changes_raise_and_change_nothing(self, changes: dict[str, object]) -> None:
        """A bad value or unknown name raises ConfigError before any attribute changes."""
        settings = Settings()
        with pytest.raises(ConfigError), override_settings(settings, **changes):
            pytest.fail("the block must not run")
        assert settings == Settings()
