"""The three tables workbench writes to Postgres: creation (race-safe), keys and upserts."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence

from psycopg2.extensions import cursor
from psycopg2.extras import execute_values

from workbench.processing import Reject

__all__ = [
    "ABANDON_RUNS",
    "FINISH_RUN",
    "HEARTBEAT",
    "SCHEMA_LOCK_KEY",
    "SCHEMA_STATEMENTS",
    "START_RUN",
    "TABLES",
    "create_schema",
    "reject_key",
    "upsert_rejects",
]

#: Every table, in the order ``TRUNCATE`` and tests list them.
TABLES = ("ingested_data", "ingest_rejects", "ingest_runs")

#: The advisory lock serialising schema creation across sessions ("wb-schema" as an integer).
SCHEMA_LOCK_KEY = int.from_bytes(b"wb-schema", "big") & 0x7FFF_FFFF_FFFF_FFFF

SCHEMA_STATEMENTS = (
    """
    CREATE TABLE IF NOT EXISTS ingested_data (
        source        text        NOT NULL,
        resource      text        NOT NULL,
        external_id   text        NOT NULL,
        data          jsonb       NOT NULL,
        checksum      text        NOT NULL,
        first_seen_at timestamptz NOT NULL DEFAULT now(),
        updated_at    timestamptz NOT NULL DEFAULT now(),
        run_id        text,
        PRIMARY KEY (source, resource, external_id)
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS ingest_rejects (
        source        text        NOT NULL,
        resource      text        NOT NULL,
        reject_key    text        NOT NULL,
        external_id   text,
        raw           text        NOT NULL,
        reason        text        NOT NULL,
        occurrences   integer     NOT NULL DEFAULT 1,
        first_seen_at timestamptz NOT NULL DEFAULT now(),
        last_seen_at  timestamptz NOT NULL DEFAULT now(),
        run_id        text,
        PRIMARY KEY (source, resource, reject_key)
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS ingest_runs (
        run_id      text PRIMARY KEY,
        started_at  timestamptz NOT NULL DEFAULT now(),
        finished_at timestamptz,
        mode        text,
        source      text,
        resources   text[],
        status      text,
        report      jsonb
    )
    """,
    # Added after the table first shipped: a database made before it gets the column too.
    "ALTER TABLE ingest_runs ADD COLUMN IF NOT EXISTS heartbeat_at timestamptz",
)


def create_schema(cur: cursor) -> None:
    """Create every table that is missing, inside the caller's transaction.

    ``IF NOT EXISTS`` alone is not race-safe: two sessions creating the same table at once
    can both pass the check and one then fails on the catalog's unique index. The
    transaction-scoped advisory lock makes concurrent callers take turns, and is released
    by the caller's commit or rollback.
    """
    cur.execute("SELECT pg_advisory_xact_lock(%s)", (SCHEMA_LOCK_KEY,))
    for statement in SCHEMA_STATEMENTS:
        cur.execute(statement)


#: Start (or restart) a run: parameters run_id, mode, source, resources and whether it
#: beats (one that does not gets an ``infinity`` heartbeat: never abandoned for silence).
START_RUN = """
    INSERT INTO ingest_runs (run_id, mode, source, resources, status, heartbeat_at)
    VALUES (%s, %s, %s, %s::text[], 'running',
            CASE WHEN %s THEN now() ELSE 'infinity'::timestamptz END)
    ON CONFLICT (run_id) DO UPDATE
        SET started_at = now(), finished_at = NULL, mode = EXCLUDED.mode,
            source = EXCLUDED.source, resources = EXCLUDED.resources,
            status = EXCLUDED.status, report = NULL, heartbeat_at = EXCLUDED.heartbeat_at
"""

#: A running run says it is alive: parameter run_id.
HEARTBEAT = "UPDATE ingest_runs SET heartbeat_at = now() WHERE run_id = %s AND status = 'running'"

#: Runs still 'running' whose heartbeat stopped (killed, machine lost): parameter seconds.
ABANDON_RUNS = """
    UPDATE ingest_runs SET status = 'abandoned', finished_at = heartbeat_at
    WHERE status = 'running'
      AND coalesce(heartbeat_at, started_at) < now() - make_interval(secs => %s)
    RETURNING run_id
"""

#: Finish a run: parameters status, report (JSON text), run_id.
FINISH_RUN = """
    UPDATE ingest_runs SET finished_at = now(), status = %s, report = %s::jsonb
    WHERE run_id = %s
"""


def reject_key(external_id: str | None, raw: str) -> str:
    """Digest what identifies a reject, so the same bad input always lands on the same row."""
    # A JSON array keeps the two parts apart whatever characters they contain.
    identity = json.dumps([external_id or "", raw]).encode("utf-8")
    return hashlib.blake2b(identity, digest_size=16).hexdigest()


_UPSERT_REJECTS = """
    INSERT INTO ingest_rejects
        (source, resource, reject_key, external_id, raw, reason, occurrences, run_id)
    VALUES %s
    ON CONFLICT (source, resource, reject_key) DO UPDATE
        SET occurrences = ingest_rejects.occurrences + EXCLUDED.occurrences,
            last_seen_at = now(),
            reason = EXCLUDED.reason,
            run_id = EXCLUDED.run_id
"""


def upsert_rejects(cur: cursor, source: str, rejects: Sequence[Reject], run_id: str | None) -> None:
    """Upsert ``rejects`` into ``ingest_rejects`` within the caller's transaction."""
    if not rejects:
        return
    # One row per key: ON CONFLICT DO UPDATE cannot touch a row twice in one statement, so
    # repeats within the batch are counted here and added to occurrences in one go.
    latest: dict[tuple[str, str], Reject] = {}
    seen: dict[tuple[str, str], int] = {}
    for reject in rejects:
        key = (reject.resource, reject_key(reject.external_id, reject.raw))
        latest[key] = reject
        seen[key] = seen.get(key, 0) + 1
    # In key order, so two transactions writing the same rejects lock them in the same order.
    rows = [
        (source, resource, key, r.external_id, r.raw, r.reason, seen[resource, key], run_id)
        for (resource, key), r in sorted(latest.items(), key=lambda item: item[0])
    ]
    execute_values(cur, _UPSERT_REJECTS, rows, page_size=len(rows))
