"""Exercise 02 · transaction: a transaction context manager, sync and async.

``with impl.transaction(pool) as cur:`` on a psycopg2 pool and ``async with
impl.atransaction(pool) as cur:`` on a psycopg_pool ``AsyncConnectionPool`` each yield a cursor
in one transaction: commit when the block ends, roll back when it raises anything, and give
the connection back to its pool either way.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any

import psycopg2
import pytest
from psycopg2.pool import PoolError, ThreadedConnectionPool
from psycopg_pool import AsyncConnectionPool, PoolTimeout

from workbench.exercises.behaviours.support import run_async

hint = pytest.mark.hint

#: Transactions run on a pool of one connection, so one not given back is noticed at once.
ROUNDS = 4


class Boom(Exception):
    """The error a block raises on purpose."""


class Interrupted(BaseException):
    """Not an Exception, as KeyboardInterrupt or SystemExit are not."""


@pytest.fixture
def dsn(fresh_dsn: str) -> str:
    """A fresh database holding one empty table, ``items``."""
    with psycopg2.connect(fresh_dsn) as conn, conn.cursor() as cur:
        cur.execute("CREATE TABLE items (id int PRIMARY KEY)")
    conn.close()
    return fresh_dsn


@pytest.fixture
def pool(dsn: str) -> Iterator[ThreadedConnectionPool]:
    """A psycopg2 pool of exactly one connection."""
    pool = ThreadedConnectionPool(1, 1, dsn)
    yield pool
    pool.closeall()


@asynccontextmanager
async def async_pool(dsn: str) -> AsyncIterator[AsyncConnectionPool]:
    """A psycopg_pool pool of exactly one connection; waiting for it gives up after 3 s."""
    pool = AsyncConnectionPool(dsn, min_size=1, max_size=1, timeout=3, open=False)
    await pool.open(wait=True)
    try:
        yield pool
    finally:
        await pool.close()


def stored(dsn: str) -> list[int]:
    """Read the ids in ``items`` through a connection of its own (only committed rows)."""
    conn = psycopg2.connect(dsn)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT id FROM items ORDER BY id")
            return [row[0] for row in cur.fetchall()]
    finally:
        conn.close()


class TestSync:
    """The sync manager, on a psycopg2 pool."""

    @hint("conn = pool.getconn(); yield conn.cursor(); then conn.commit().")
    def test_commits_when_the_block_succeeds(self, impl: Any, pool: Any, dsn: str) -> None:
        """Rows written in a block that ends normally are committed."""
        with impl.transaction(pool) as cur:
            cur.execute("INSERT INTO items VALUES (1), (2)")
        assert stored(dsn) == [1, 2], f"after the block the table holds {stored(dsn)}"

    @hint("Wrap the yield in try/except: roll back, then re-raise the same exception.")
    def test_rolls_back_and_re_raises_when_the_block_fails(
        self, impl: Any, pool: Any, dsn: str
    ) -> None:
        """A block that raises leaves nothing behind, and its exception comes out unchanged."""
        error = Boom("the block failed")
        with pytest.raises(Boom) as raised, impl.transaction(pool) as cur:
            cur.execute("INSERT INTO items VALUES (1)")
            raise error
        assert raised.value is error, f"raised {raised.value!r} instead of the block's error"
        assert stored(dsn) == [], f"the failed block left {stored(dsn)} committed"

    @hint("Catch BaseException, not Exception: Ctrl-C and cancellation must roll back too.")
    def test_rolls_back_on_any_exception_even_a_base_exception(
        self, impl: Any, pool: Any, dsn: str
    ) -> None:
        """A BaseException (as KeyboardInterrupt is) rolls back too, and goes on up."""
        with pytest.raises(Interrupted), impl.transaction(pool) as cur:
            cur.execute("INSERT INTO items VALUES (1)")
            raise Interrupted
        assert stored(dsn) == [], f"an interrupted block left {stored(dsn)} committed"

    @hint("pool.putconn(conn) in a finally: after success and after failure alike.")
    def test_gives_the_connection_back_every_time(self, impl: Any, pool: Any) -> None:
        """On a one-connection pool, transactions that succeed and fail in turn never run dry."""
        for round_ in range(ROUNDS):
            try:
                with impl.transaction(pool) as cur:
                    cur.execute("SELECT 1")
                    if round_ % 2:
                        raise Boom("fail this one")
            except Boom:
                pass
            except PoolError as exc:
                raise AssertionError(
                    f"transaction {round_ + 1} found the pool empty: a connection was kept ({exc})"
                ) from exc

    @hint("If the rollback itself fails (a dead connection), swallow that and re-raise the first.")
    def test_a_dead_connection_neither_hides_the_error_nor_poisons_the_pool(
        self, impl: Any, pool: Any, dsn: str
    ) -> None:
        """When the server kills the connection mid-block, its error comes out; the pool heals."""
        admin = psycopg2.connect(dsn)
        admin.autocommit = True
        try:
            with pytest.raises(Exception) as raised, impl.transaction(pool) as cur:
                with admin.cursor() as kill:
                    kill.execute(
                        "SELECT pg_terminate_backend(%s)", (cur.connection.get_backend_pid(),)
                    )
                cur.execute("SELECT 1")
        finally:
            admin.close()
        error = raised.value
        lost = (psycopg2.OperationalError,)
        assert isinstance(error, lost) or isinstance(error.__cause__, lost), (
            f"raised {type(error).__name__}: {error} instead of the lost connection's error"
        )
        try:
            with impl.transaction(pool) as cur:
                cur.execute("SELECT 1")
        except (PoolError, psycopg2.Error) as exc:
            raise AssertionError(f"the next transaction failed: {exc!r}") from exc


class TestAsync:
    """The async twin, on a psycopg_pool AsyncConnectionPool."""

    @hint("conn = await pool.getconn(); yield a cursor; await conn.commit(); await pool.putconn.")
    def test_commits_when_the_block_succeeds(self, impl: Any, dsn: str) -> None:
        """Rows written in a block that ends normally are committed."""

        async def scenario() -> None:
            async with async_pool(dsn) as pool, impl.atransaction(pool) as cur:
                await cur.execute("INSERT INTO items VALUES (1), (2)")

        run_async(scenario())
        assert stored(dsn) == [1, 2], f"after the block the table holds {stored(dsn)}"

    @hint("try/except BaseException around the yield: await conn.rollback(), then raise.")
    def test_rolls_back_and_re_raises_when_the_block_fails(self, impl: Any, dsn: str) -> None:
        """A block that raises leaves nothing behind, and its exception comes out unchanged."""
        error = Boom("the block failed")

        async def scenario() -> None:
            async with async_pool(dsn) as pool, impl.atransaction(pool) as cur:
                await cur.execute("INSERT INTO items VALUES (1)")
                raise error

        with pytest.raises(Boom) as raised:
            run_async(scenario())
        assert raised.value is error, f"raised {raised.value!r} instead of the block's error"
        assert stored(dsn) == [], f"the failed block left {stored(dsn)} committed"

    @hint("CancelledError is a BaseException: roll back on it and give the connection back.")
    def test_a_cancelled_task_rolls_back_and_gives_the_connection_back(
        self, impl: Any, dsn: str
    ) -> None:
        """Cancelling a task inside the block rolls back, and the pool's one connection is free."""

        async def scenario() -> str:
            async with async_pool(dsn) as pool:
                inside = asyncio.Event()

                async def stuck() -> None:
                    async with impl.atransaction(pool) as cur:
                        await cur.execute("INSERT INTO items VALUES (1)")
                        inside.set()
                        await asyncio.Event().wait()  # until cancelled

                task = asyncio.create_task(stuck())
                entered = asyncio.create_task(inside.wait())
                await asyncio.wait([task, entered], return_when=asyncio.FIRST_COMPLETED)
                entered.cancel()
                if task.done():
                    task.result()  # the block never ran: raise what stopped it
                    return "the block ended by itself instead of waiting to be cancelled"
                task.cancel()
                outcome = await asyncio.gather(task, return_exceptions=True)
                try:
                    async with impl.atransaction(pool) as cur:
                        await cur.execute("SELECT 1")
                except PoolTimeout:
                    return "after the cancel the pool's only connection never came back"
                return (
                    ""
                    if isinstance(outcome[0], asyncio.CancelledError)
                    else (f"the cancelled task ended with {outcome[0]!r}, not CancelledError")
                )

        problem = run_async(scenario())
        assert not problem, problem
        assert stored(dsn) == [], f"the cancelled block left {stored(dsn)} committed"

    @hint("await pool.putconn(conn) in a finally, after success and failure alike.")
    def test_gives_the_connection_back_every_time(self, impl: Any, dsn: str) -> None:
        """On a one-connection pool, transactions that succeed and fail in turn never run dry."""

        async def scenario() -> None:
            async with async_pool(dsn) as pool:
                for round_ in range(ROUNDS):
                    try:
                        async with impl.atransaction(pool) as cur:
                            await cur.execute("SELECT 1")
                            if round_ % 2:
                                raise Boom("fail this one")
                    except Boom:
                        pass
                    except PoolTimeout as exc:
                        raise AssertionError(
                            f"transaction {round_ + 1} waited in vain: a connection was kept"
                        ) from exc

        run_async(scenario())
