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
* ``upsert_copy`` COPYs into a temporary staging table, then upserts from it, updating only
  rows whose checksum changed; within one batch the last record with a key wins. This is the
  one ``PostgresStore.write_batch`` uses.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from psycopg2.extensions import connection, cursor
from psycopg2.extras import execute_values

from workbench.error_mapping import map_psycopg2_errors
from workbench.errors import StorageDataError
from workbench.processing import ProcessedRecord

__all__ = [
    "STRATEGIES",
    "Strategy",
    "WriteResult",
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

_COLUMNS = "source, resource, external_id, data, checksum, run_id"
_ON_CONFLICT_SKIP = "ON CONFLICT (source, resource, external_id) DO NOTHING"
_ROW_TEMPLATE = "(%s, %s, %s, %s::jsonb, %s, %s)"
_INSERT_ROW = f"INSERT INTO ingested_data ({_COLUMNS}) VALUES {_ROW_TEMPLATE} {_ON_CONFLICT_SKIP}"
_INSERT_PAGE = f"INSERT INTO ingested_data ({_COLUMNS}) VALUES %s {_ON_CONFLICT_SKIP} RETURNING 1"

_STAGING = "_wb_staging"
# ON COMMIT DROP cleans up after a failed batch too; the explicit DROP at the end lets one
# transaction upsert several batches.
_CREATE_STAGING = f"""
    CREATE TEMP TABLE {_STAGING} (
        ordinal     integer NOT NULL,
        resource    text    NOT NULL,
        external_id text    NOT NULL,
        data        jsonb   NOT NULL,
        checksum    text    NOT NULL
    ) ON COMMIT DROP
"""
# DISTINCT ON keeps one row per key (the last in the batch): ON CONFLICT DO UPDATE refuses
# to touch the same row twice in one statement. xmax is 0 only on a freshly inserted row.
_UPSERT_FROM_STAGING = f"""
    WITH batch AS (
        SELECT DISTINCT ON (resource, external_id) resource, external_id, data, checksum
        FROM {_STAGING}
        ORDER BY resource, external_id, ordinal DESC
    ), written AS (
        INSERT INTO ingested_data ({_COLUMNS})
        SELECT %(source)s, resource, external_id, data, checksum, %(run_id)s FROM batch
        ON CONFLICT (source, resource, external_id) DO UPDATE
            SET data = EXCLUDED.data,
                checksum = EXCLUDED.checksum,
                updated_at = now(),
                run_id = EXCLUDED.run_id
            WHERE ingested_data.checksum IS DISTINCT FROM EXCLUDED.checksum
        RETURNING (xmax = 0) AS inserted
    )
    SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted) FROM written
"""


@dataclass(frozen=True, slots=True)
class WriteResult:
    """What a write did; ``inserted + updated + unchanged`` is the number of records given.

    ``unchanged`` counts records whose row already held the same checksum, and records
    superseded by another one with the same key in the same batch.
    """

    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0

    def __add__(self, other: object) -> WriteResult:
        if not isinstance(other, WriteResult):
            return NotImplemented
        return WriteResult(
            self.inserted + other.inserted,
            self.updated + other.updated,
            self.unchanged + other.unchanged,
            self.rejected + other.rejected,
        )

    def __radd__(self, other: object) -> WriteResult:
        # sum() starts from 0; accepting it lets reports write sum(results).
        if other == 0:
            return self
        return NotImplemented


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

    def __call__(
        self, cur: cursor, records: Sequence[ProcessedRecord], source: str, run_id: str | None
    ) -> WriteResult: ...


def data_json(data: Mapping[str, Any]) -> str:
    """Serialise a record's data compactly as UTF-8 text, the form every strategy sends."""
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False)


def copy_field(value: str | None) -> str:
    r"""Escape one value for COPY's text format: backslash, tab, newline, CR; None is ``\N``."""
    if value is None:
        return "\\N"
    # Backslash first, so the backslashes the other escapes add are not doubled.
    return (
        value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    )


def copy_payload(rows: Iterable[Sequence[str | None]]) -> bytes:
    """Encode rows as one COPY text-format buffer in UTF-8, one line per row."""
    lines = ["\t".join([copy_field(value) for value in row]) for row in rows]
    lines.append("")  # so the join ends the last row with its newline too
    try:
        return "\n".join(lines).encode("utf-8")
    except UnicodeEncodeError as exc:  # an unpaired surrogate the processor did not fix
        raise StorageDataError(f"a record is not valid UTF-8 text ({exc})") from exc


def _copy_into(cur: cursor, target: str, rows: Iterable[Sequence[str | None]]) -> None:
    """COPY ``rows`` into ``target`` (a table and its column list) from one buffer."""
    statement = f"COPY {target} FROM STDIN WITH (FORMAT text, ENCODING 'UTF8')"
    cur.copy_expert(statement, io.BytesIO(copy_payload(rows)))


def _target_rows(
    records: Sequence[ProcessedRecord], source: str, run_id: str | None
) -> Iterator[tuple[str | None, ...]]:
    """Yield each record as an ``ingested_data`` row in ``_COLUMNS`` order."""
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
    _copy_into(cur, f"ingested_data ({_COLUMNS})", _target_rows(records, source, run_id))
    return WriteResult(inserted=len(records))


@_strategy
def upsert_copy(
    cur: cursor, records: Sequence[ProcessedRecord], source: str, run_id: str | None
) -> WriteResult:
    """COPY into a staging table, then upsert: new keys inserted, changed checksums updated."""
    cur.execute(_CREATE_STAGING)
    staged = (
        (str(ordinal), r.resource, r.external_id, data_json(r.data), r.checksum)
        for ordinal, r in enumerate(records)
    )
    _copy_into(cur, f"{_STAGING} (ordinal, resource, external_id, data, checksum)", staged)
    cur.execute(_UPSERT_FROM_STAGING, {"source": source, "run_id": run_id})
    inserted, updated = cur.fetchone()
    cur.execute(f"DROP TABLE {_STAGING}")
    return WriteResult(inserted, updated, len(records) - inserted - updated)


#: Every strategy by the name the benchmark reports it under.
STRATEGIES: dict[str, Strategy] = {
    "row_by_row": insert_row_by_row,
    "executemany": insert_executemany,
    "execute_values": insert_execute_values,
    "copy": insert_copy,
    "upsert_copy": upsert_copy,
}
