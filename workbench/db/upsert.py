"""The upsert ``PostgresStore`` writes with: COPY new keys in, stage and upsert the others.

A first load writes keys that are not there yet, and nothing is cheaper for Postgres than a
COPY straight into the table (about half the work of staging the rows and upserting them).
So the rows are COPYed in under a savepoint; if a key turns out to be stored already (a
re-run, an update), that COPY is rolled back and the same buffer goes through a temporary
staging table and ``INSERT ... ON CONFLICT DO UPDATE``, which rewrites only rows whose
checksum changed. Either way the caller's transaction holds the whole write.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

import psycopg2.errors
from psycopg2 import sql
from psycopg2.extensions import cursor

from workbench.db.copy_format import ingested_data_rows
from workbench.processing import ProcessedRecord

__all__ = [
    "COLUMNS",
    "TARGET",
    "Key",
    "copy_into",
    "latest_per_key",
    "upsert_pages",
    "upsert_rows",
]

#: What identifies a stored record within its source: ``(resource, external_id)``.
Key = tuple[str, str]

#: The columns of ``ingested_data`` a COPY buffer holds, in its order.
COLUMNS = ("source", "resource", "external_id", "data", "checksum", "run_id")
_COLUMN_LIST = sql.SQL(", ").join(map(sql.Identifier, COLUMNS))
#: The table every record goes to, with the columns a COPY buffer holds.
TARGET = sql.SQL("{} ({})").format(sql.Identifier("ingested_data"), _COLUMN_LIST)
#: Bytes handed to the server per write while COPYing (psycopg2's default is 8 KiB).
_COPY_CHUNK = 256 * 1024

_STAGING = sql.Identifier("_wb_staging")
# Made once per session and emptied by every commit: creating and dropping a table in every
# transaction costs Postgres more catalog work than small batches cost it to write.
_CREATE_STAGING = sql.SQL("""
    CREATE TEMP TABLE IF NOT EXISTS {staging} (
        source      text  NOT NULL,
        resource    text  NOT NULL,
        external_id text  NOT NULL,
        data        jsonb NOT NULL,
        checksum    text  NOT NULL,
        run_id      text
    ) ON COMMIT DELETE ROWS
""").format(staging=_STAGING)
# The staged rows are taken out as they are read, so a second batch in the same transaction
# starts from an empty table. Keys are distinct by then (see latest_per_key): ON CONFLICT DO
# UPDATE refuses to touch the same row twice in one statement. Only rows written come back,
# and xmax is 0 only on a freshly inserted one.
_UPSERT_FROM_STAGING = sql.SQL("""
    WITH batch AS (
        DELETE FROM {staging} RETURNING {columns}
    )
    INSERT INTO {target}
    SELECT {columns} FROM batch
    ON CONFLICT (source, resource, external_id) DO UPDATE
        SET data = EXCLUDED.data,
            checksum = EXCLUDED.checksum,
            updated_at = now(),
            run_id = EXCLUDED.run_id
        WHERE ingested_data.checksum IS DISTINCT FROM EXCLUDED.checksum
    RETURNING resource, external_id, (xmax = 0) AS inserted
""").format(staging=_STAGING, columns=_COLUMN_LIST, target=TARGET)
_COPY = sql.SQL("COPY {} FROM STDIN WITH (FORMAT text, ENCODING 'UTF8')")


def copy_into(cur: cursor, target: sql.Composable, payload: bytes) -> None:
    """COPY one text-format buffer into ``target`` (a table and its column list)."""
    cur.copy_expert(_COPY.format(target), io.BytesIO(payload), size=_COPY_CHUNK)


def latest_per_key(records: Sequence[ProcessedRecord]) -> list[ProcessedRecord]:
    """Keep the last record of each key, in the order keys first appear."""
    latest = {(record.resource, record.external_id): record for record in records}
    return list(latest.values()) if len(latest) < len(records) else list(records)


def upsert_rows(cur: cursor, payload: bytes) -> dict[Key, bool] | None:
    """Upsert an ``ingested_data`` COPY buffer whose keys are distinct; say what each key did.

    Returns None when every row was new (one COPY inserted them all), else a dict from each
    key written to True (inserted) or False (updated); a key missing from it was already
    stored with the same checksum. Runs in the caller's transaction; psycopg2's errors are
    left to the caller to map.
    """
    cur.execute("SAVEPOINT wb_upsert")
    try:
        copy_into(cur, TARGET, payload)
    except psycopg2.errors.UniqueViolation:
        # A key is already stored (a re-run, an update): undo the COPY, upsert instead.
        cur.execute("ROLLBACK TO SAVEPOINT wb_upsert")
        cur.execute(_CREATE_STAGING)
        copy_into(cur, _STAGING, payload)
        cur.execute(_UPSERT_FROM_STAGING)
        written: dict[Key, bool] | None = {(r, e): inserted for r, e, inserted in cur}
    else:
        written = None
    cur.execute("RELEASE SAVEPOINT wb_upsert")
    return written


def upsert_pages(
    cur: cursor,
    pages: Sequence[Sequence[ProcessedRecord]],
    *,
    source: str,
    run_id: str | None,
) -> list[tuple[int, int]]:
    """Upsert several pages' records as one batch; return (inserted, updated) for each page.

    A key that comes more than once is written once, with its last record, and counted for
    the page that record came from; its earlier records count as unchanged.
    """
    latest: dict[Key, ProcessedRecord] = {}
    owner: dict[Key, int] = {}
    for index, records in enumerate(pages):
        for record in records:
            key = (record.resource, record.external_id)
            latest[key] = record
            owner[key] = index
    inserted, updated = [0] * len(pages), [0] * len(pages)
    if not latest:
        return list(zip(inserted, updated, strict=True))
    written = upsert_rows(cur, ingested_data_rows(latest.values(), source, run_id))
    if written is None:
        for index in owner.values():
            inserted[index] += 1
    else:
        for key, was_inserted in written.items():
            (inserted if was_inserted else updated)[owner[key]] += 1
    return list(zip(inserted, updated, strict=True))
