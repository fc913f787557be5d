"""The Postgres persistence of ingestion: one transaction per batch, every write idempotent.

A run killed at any point and run again ends exactly as an uninterrupted one would: a batch
is committed whole or not at all, records are upserted by key and only rewritten when their
checksum changed, and a reject seen again updates its row rather than adding one (only its
``occurrences`` and ``last_seen_at`` tell that it was seen twice).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any, NoReturn

from psycopg2 import sql
from psycopg2.extras import RealDictCursor

from workbench.db.pool import ConnectionPool
from workbench.db.postgres_schema import (
    ABANDON_RUNS,
    FINISH_RUN,
    HEARTBEAT,
    START_RUN,
    TABLES,
    create_schema,
    reject_key,
    upsert_rejects,
)
from workbench.db.upsert import upsert_pages
from workbench.error_mapping import map_psycopg2_errors
from workbench.errors import StorageDataError
from workbench.processing import ProcessedRecord, Reject
from workbench.redaction import describe_dsn, redact

__all__ = ["PostgresStore", "WriteResult", "reject_key"]


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


def _jsonable(value: object) -> object:
    """Make a report value JSON-friendly: dataclasses (``WriteResult``) as dicts, else text."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    return str(value)


class PostgresStore:
    """Ingestion's tables in one Postgres database, behind a thread-safe connection pool.

    The pool is opened on first use and at most ``maxconn`` connections are ever checked
    out: further threads wait up to ``pool_timeout`` seconds for one instead of failing.
    Tables are created on first use. Each process needs its own store (create it from the
    DSN in the process that uses it, and after a fork): connections cannot cross processes,
    so a store refuses to be pickled.
    """

    def __init__(
        self,
        dsn: str,
        *,
        minconn: int = 1,
        maxconn: int = 4,
        connect_timeout: int = 5,
        pool_timeout: float = 30.0,
    ) -> None:
        self.pool = ConnectionPool(
            dsn,
            minconn=minconn,
            maxconn=maxconn,
            connect_timeout=connect_timeout,
            timeout=pool_timeout,
        )
        self.dsn = dsn
        self._transaction = self.pool.transaction
        self._schema_ready = False

    def __repr__(self) -> str:
        return f"PostgresStore({redact(self.dsn)!r}, maxconn={self.pool.maxconn})"

    @property
    def where(self) -> str:
        """Name the server for messages: host (or socket folder), port and database."""
        return describe_dsn(self.dsn)

    def __getstate__(self) -> NoReturn:
        raise TypeError(
            "PostgresStore cannot be pickled: its connections belong to this process; "
            "pass the DSN and create a PostgresStore in the other process"
        )

    def __enter__(self) -> PostgresStore:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close every pooled connection; using the store again opens new ones."""
        self.pool.close()

    @property
    def in_use(self) -> int:
        """Return how many connections are checked out of the pool right now."""
        return self.pool.in_use

    def _query(
        self, statement: str, params: Mapping[str, Any] | Sequence[Any] = ()
    ) -> list[dict[str, Any]]:
        """Run one read statement and return its rows as dicts."""
        self._ready()
        with self._transaction() as conn, conn.cursor(cursor_factory=RealDictCursor) as cur:
            cur.execute(statement, params)
            return [dict(row) for row in cur.fetchall()]

    # --- schema ---------------------------------------------------------------------------

    def ensure_schema(self) -> None:
        """Create the tables that are missing; safe to repeat and to race with other processes."""
        with self._transaction() as conn, conn.cursor() as cur:
            create_schema(cur)
        self._schema_ready = True

    def _ready(self) -> None:
        """Make sure the schema exists before this store's first statement."""
        if not self._schema_ready:
            self.ensure_schema()

    # --- writes ---------------------------------------------------------------------------

    def write_batch(
        self,
        source: str,
        records: Sequence[ProcessedRecord],
        rejects: Sequence[Reject] = (),
        *,
        run_id: str | None = None,
    ) -> WriteResult:
        """Upsert a batch of records and its rejects in one transaction; say what changed."""
        return self.write_pages(source, [(records, rejects)], run_id=run_id)[0]

    def write_pages(
        self,
        source: str,
        pages: Sequence[tuple[Sequence[ProcessedRecord], Sequence[Reject]]],
        *,
        run_id: str | None = None,
    ) -> list[WriteResult]:
        """Upsert several pages' records and rejects in one transaction; say what each changed.

        One COPY (or staging upsert) for all of them: fewer, larger statements cost Postgres
        less than one transaction per page. Each ``(records, rejects)`` pair gets its own
        ``WriteResult``, as if it had been written alone.
        """
        if not any(records or rejects for records, rejects in pages):
            return [WriteResult() for _ in pages]
        self._ready()
        with self._transaction() as conn, map_psycopg2_errors(), conn.cursor() as cur:
            counts = upsert_pages(
                cur, [records for records, _ in pages], source=source, run_id=run_id
            )
            upsert_rejects(cur, source, [r for _, rejects in pages for r in rejects], run_id)
        return [
            WriteResult(inserted, updated, len(records) - inserted - updated, len(rejects))
            for (records, rejects), (inserted, updated) in zip(pages, counts, strict=True)
        ]

    def record_failure(
        self, source: str, resource: str, ref: str, reason: str, *, run_id: str | None = None
    ) -> None:
        """Record a page that failed after its retries as a reject whose raw text is ``ref``."""
        self._ready()
        with self._transaction() as conn, map_psycopg2_errors(), conn.cursor() as cur:
            upsert_rejects(cur, source, [Reject(resource, None, ref, reason)], run_id)

    def start_run(
        self, run_id: str, mode: str, source: str, resources: Sequence[str], *, beats: bool = True
    ) -> None:
        """Record that a run started; starting the same ``run_id`` again resets its row.

        ``beats=False``: the run's liveness is kept elsewhere (a queue job's workers), so a
        silent heartbeat never marks it abandoned.
        """
        self._ready()
        with self._transaction() as conn, conn.cursor() as cur:
            cur.execute(START_RUN, (run_id, mode, source, list(resources), beats))

    def heartbeat(self, run_id: str) -> None:
        """Say a run is still alive (its row's ``heartbeat_at``)."""
        with self._transaction() as conn, conn.cursor() as cur:
            cur.execute(HEARTBEAT, (run_id,))

    def abandon_stale_runs(self, after_s: float) -> list[str]:
        """Mark 'running' runs silent for ``after_s`` seconds as 'abandoned'; return their ids."""
        self._ready()
        with self._transaction() as conn, conn.cursor() as cur:
            cur.execute(ABANDON_RUNS, (after_s,))
            return [run_id for (run_id,) in cur.fetchall()]

    def finish_run(self, run_id: str, status: str, report: Mapping[str, Any]) -> None:
        """Record how a started run ended and its report; an unknown ``run_id`` is an error."""
        document = json.dumps(report, ensure_ascii=False, default=_jsonable)
        self._ready()
        with self._transaction() as conn, conn.cursor() as cur:
            cur.execute(FINISH_RUN, (status, document, run_id))
            if cur.rowcount == 0:
                raise StorageDataError(f"cannot finish run {run_id!r}: it was never started")

    def truncate(self) -> None:
        """Empty all three tables (for notebooks and benchmarks)."""
        self._ready()
        with self._transaction() as conn, conn.cursor() as cur:
            cur.execute(
                sql.SQL("TRUNCATE {}").format(sql.SQL(", ").join(map(sql.Identifier, TABLES)))
            )

    # --- reads ----------------------------------------------------------------------------

    def delete_source(self, source: str) -> int:
        """Delete every stored record of one source (a benchmark's scratch space); say how many."""
        self._ready()
        with self._transaction() as conn, conn.cursor() as cur:
            cur.execute("DELETE FROM ingested_data WHERE source = %s", (source,))
            return cur.rowcount

    def delete_rejects(self, source: str) -> int:
        """Delete every reject recorded for one source; say how many."""
        self._ready()
        with self._transaction() as conn, conn.cursor() as cur:
            cur.execute("DELETE FROM ingest_rejects WHERE source = %s", (source,))
            return cur.rowcount

    def count(self, source: str | None = None, resource: str | None = None) -> int:
        """Count stored records, optionally of one source and/or one resource."""
        rows = self._query(
            "SELECT count(*) AS n FROM ingested_data"
            " WHERE (%(source)s IS NULL OR source = %(source)s)"
            " AND (%(resource)s IS NULL OR resource = %(resource)s)",
            {"source": source, "resource": resource},
        )
        return int(rows[0]["n"])

    def checksums(self, source: str, resource: str) -> dict[str, str]:
        """Map each stored external_id of ``source``/``resource`` to its checksum."""
        rows = self._query(
            "SELECT external_id, checksum FROM ingested_data WHERE source = %s AND resource = %s",
            (source, resource),
        )
        return {row["external_id"]: row["checksum"] for row in rows}

    def rejects(self, source: str | None = None) -> list[dict[str, Any]]:
        """Return every reject row, optionally of one source, oldest first."""
        return self._query(
            "SELECT * FROM ingest_rejects WHERE (%(source)s IS NULL OR source = %(source)s)"
            " ORDER BY source, resource, first_seen_at, reject_key",
            {"source": source},
        )

    def runs(self, limit: int = 10) -> list[dict[str, Any]]:
        """Return the ``limit`` most recently started runs, newest first."""
        return self._query(
            "SELECT * FROM ingest_runs ORDER BY started_at DESC, run_id DESC LIMIT %s", (limit,)
        )
