"""Ways to put processed records into ``ingested_data``, side by side for the benchmark.

Every strategy is called as ``strategy(conn, records, source=..., run_id=...)`` and returns a
``WriteResult``. It runs inside the caller's transaction on ``conn`` (a connection that is not
in autocommit mode) and neither commits nor rolls back, so the caller decides what one
transaction holds. psycopg2 errors leave as ``StorageError`` subclasses.

* ``insert_row_by_row``, ``insert_executemany`` and ``insert_execute_values`` send
  ``INSERT ... ON CONFLICT DO NOTHING``: a re-run changes nothing, and within one batch the
  first of two records with the same key wins.
* ``insert_copy`` COPYs straight into the table: the fastest plain insert, but COPY has no
  ``ON CONFLICT``, so a key that is already there (a re-run) fails the whole batch.
* ``upsert_copy`` upserts, updating only rows whose checksum changed; within one batch the
  last record with a key wins. It first tries a plain COPY into the table (new keys are what
  a first load writes, and nothing is cheaper for Postgres); when a key is already there
  that COPY is rolled back to a savepoint and the rows go through a staging table and
  ``INSERT ... ON CONFLICT`` instead: the same ``upsert_rows`` that ``PostgresStore`` uses.

The COPY buffers are built by ``workbench.db.copy_format``; the upsert itself lives in
``workbench.db.upsert``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Protocol

from psycopg2 import sql
from psycopg2.extensions import connection, cursor
from psycopg2.extras import execute_values

from workbench.db.copy_format import copy_field, copy_payload, data_json, ingested_data_rows
from workbench.db.postgres import WriteResult
from workbench.db.upsert import TARGET, copy_into, latest_per_key, upsert_rows
from workbench.error_mapping import map_psycopg2_errors
from workbench.processing import ProcessedRecord

__all__ = [
    "STRATEGIES",
    "Strategy",
    "copy_field",
    "copy_payload",
    "data_json",
    "insert_copy",
    "insert_execute_values",
    "insert_executemany",
    "insert_row_by_row",
    "upsert_copy",
]

EXECUTE_VALUES_PAGE_SIZE = 1000

_ROW_TEMPLATE = "(%s, %s, %s, %s::jsonb, %s, %s)"
_INSERT = (
    "INSERT INTO {target} VALUES {values} ON CONFLICT (source, resource, external_id) DO NOTHING"
)
_INSERT_ROW = sql.SQL(_INSERT).format(target=TARGET, values=sql.SQL(_ROW_TEMPLATE))
_INSERT_PAGE = sql.SQL(_INSERT + " RETURNING 1").format(target=TARGET, values=sql.SQL("%s"))


class Strategy(Protocol):
    """A way to write records into ``ingested_data`` within the caller's transaction."""

    def __call__(
        self,
        conn: connection,
        records: Sequence[ProcessedRecord],
        *,
        source: str,
        run_id: str | None = None,
    ) -> WriteResult:
        """Write ``records`` for ``source`` on ``conn`` and say what happened."""
        ...


class _CursorWrite(Protocol):
    """A strategy's body: writes a non-empty batch with a cursor it is handed."""

    __name__: str

    def __call__(
        self, cur: cursor, records: Sequence[ProcessedRecord], source: str, run_id: str | None
    ) -> WriteResult: ...


def _target_rows(
    records: Sequence[ProcessedRecord], source: str, run_id: str | None
) -> Iterator[tuple[str | None, ...]]:
    """Yield each record as an ``ingested_data`` row in ``COLUMNS`` order."""
    for record in records:
        yield (
            source,
            record.resource,
            record.external_id,
            data_json(record.data),
            record.checksum,
            run_id,
        )


def _skipped_conflicts(inserted: int, total: int) -> WriteResult:
    """Describe a plain insert: rows it did not insert were already there."""
    return WriteResult(inserted=inserted, unchanged=total - inserted)


def _strategy(write: _CursorWrite) -> Strategy:
    """Turn a cursor-level body into a strategy: empty batches skip the database entirely."""

    def strategy(
        conn: connection,
        records: Sequence[ProcessedRecord],
        *,
        source: str,
        run_id: str | None = None,
    ) -> WriteResult:
        if not records:
            return WriteResult()
        with map_psycopg2_errors(), conn.cursor() as cur:
            return write(cur, records, source, run_id)

    # Not functools.wraps: its __wrapped__ would make help() show the body's signature.
    strategy.__name__ = strategy.__qualname__ = write.__name__
    strategy.__doc__ = write.__doc__
    strategy.__module__ = write.__module__
    return strategy


@_strategy
def insert_row_by_row(
    cur: cursor, records: Sequence[ProcessedRecord], source: str, run_id: str | None
) -> WriteResult:
    """Insert each record with its own statement and round trip; existing keys are skipped."""
    inserted = 0
    for row in _target_rows(records, source, run_id):
        cur.execute(_INSERT_ROW, row)
        inserted += cur.rowcount
    return _skipped_conflicts(inserted, len(records))


@_strategy
def insert_executemany(
    cur: cursor, records: Sequence[ProcessedRecord], source: str, run_id: str | None
) -> WriteResult:
    """Insert with ``cursor.executemany`` (still one statement per row); existing keys skipped."""
    cur.executemany(_INSERT_ROW, _target_rows(records, source, run_id))
    return _skipped_conflicts(cur.rowcount, len(records))


@_strategy
def insert_execute_values(
    cur: cursor, records: Sequence[ProcessedRecord], source: str, run_id: str | None
) -> WriteResult:
    """Insert in multi-row ``VALUES`` pages of 1000 (``execute_values``); skip existing keys."""
    returned = execute_values(
        cur,
        _INSERT_PAGE,
        _target_rows(records, source, run_id),
        template=_ROW_TEMPLATE,
        page_size=EXECUTE_VALUES_PAGE_SIZE,
        fetch=True,  # collects RETURNING from every page; rowcount only sees the last one
    )
    return _skipped_conflicts(len(returned), len(records))


@_strategy
def insert_copy(
    cur: cursor, records: Sequence[ProcessedRecord], source: str, run_id: str | None
) -> WriteResult:
    """COPY straight into the table; any key already there fails the whole batch."""
    copy_into(cur, TARGET, ingested_data_rows(records, source, run_id))
    return WriteResult(inserted=len(records))


@_strategy
def upsert_copy(
    cur: cursor, records: Sequence[ProcessedRecord], source: str, run_id: str | None
) -> WriteResult:
    """COPY new keys straight in, or stage and upsert: new keys inserted, changed ones updated."""
    latest = latest_per_key(records)
    written = upsert_rows(cur, ingested_data_rows(latest, source, run_id))
    if written is None:
        inserted, updated = len(latest), 0
    else:
        inserted = sum(written.values())
        updated = len(written) - inserted
    return WriteResult(inserted, updated, len(records) - inserted - updated)


#: Every strategy by the name the benchmark reports it under.
STRATEGIES: dict[str, Strategy] = {
    "row_by_row": insert_row_by_row,
    "executemany": insert_executemany,
    "execute_values": insert_execute_values,
    "copy": insert_copy,
    "upsert_copy": upsert_copy,
}
