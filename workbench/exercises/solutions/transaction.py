"""Model answer to exercise 02: ``transaction`` (the package's) and its async twin.

The sync manager is ``workbench.contexts.transaction``, which the ingestion writes through.
The package talks to Postgres only through psycopg2, so its async twin, on psycopg 3's
``AsyncConnectionPool``, lives here; the two read line for line alike, ``await`` aside.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import psycopg
from psycopg_pool import AsyncConnectionPool

from workbench.contexts import transaction

__all__ = ["atransaction", "transaction"]


@asynccontextmanager
async def atransaction(pool: AsyncConnectionPool) -> AsyncIterator[psycopg.AsyncCursor]:
    """Yield a cursor in one transaction: commit on success, else roll back; always give back.

    "Else" includes ``asyncio.CancelledError``, a ``BaseException``: a task cancelled inside
    the block rolls back like any failure.
    """
    conn = await pool.getconn()
    try:
        async with conn.cursor() as cur:
            yield cur
        await conn.commit()
    except BaseException:
        await _rollback_quietly(conn)
        raise
    finally:
        # Shielded, so a second cancellation arriving now cannot strand the connection.
        await asyncio.shield(pool.putconn(conn))


async def _rollback_quietly(conn: psycopg.AsyncConnection) -> None:
    """Roll back, ignoring failure: the error that got us here is the one worth raising."""
    # A dead connection cannot roll back, and the server discards its work anyway.
    with contextlib.suppress(psycopg.Error):
        await conn.rollback()
