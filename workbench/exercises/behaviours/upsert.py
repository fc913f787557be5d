"""Exercise 07 · upsert: an idempotent bulk upsert into Postgres.

``impl.upsert(cur, records, *, source)`` writes ``ProcessedRecord`` s into ``ingested_data``
(``workbench.db.postgres_schema``) inside the caller's transaction: COPY into a staging table,
then ``INSERT ... ON CONFLICT (source, resource, external_id) DO UPDATE`` only where the
checksum changed. It returns ``(inserted, updated)``; running it again changes nothing.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import psycopg2
import pytest

from workbench.db.postgres_schema import create_schema
from workbench.exercises.behaviours.support import faster, timed
from workbench.exercises.probes import logging_connection
from workbench.processing import ProcessedRecord

hint = pytest.mark.hint

SOURCE = "exercise"
#: Text that COPY's text format must escape, and text that only looks like its NULL.
AWKWARD = ["tab\there", "line\nbreak", "carriage\rreturn", "back\\slash", "\\N", "é ✓ 𝄞", "'\""]


def record(i: int, version: int = 1, **extra: Any) -> ProcessedRecord:
    """Post ``i`` at ``version``; its checksum changes exactly when its data does."""
    data = {"id": i, "title": f"post {i}, version {version}", **extra}
    checksum = hashlib.sha1(json.dumps(data, sort_keys=True).encode()).hexdigest()
    return ProcessedRecord("posts", str(i), data, checksum)


def batch(ids: Sequence[int], version: int = 1) -> list[ProcessedRecord]:
    """Posts ``ids``, all at ``version``."""
    return [record(i, version) for i in ids]


@pytest.fixture
def conn(fresh_dsn: str) -> Iterator[Any]:
    """A connection to a database holding the empty ``ingested_data``; it logs its statements."""
    conn = logging_connection(fresh_dsn)
    with conn.cursor() as cur:
        create_schema(cur)
    conn.commit()
    try:
        yield conn
    finally:
        conn.close()


def write(impl: Any, conn: Any, records: Sequence[ProcessedRecord], commit: bool = True) -> Any:
    """Upsert ``records`` with the answer, then commit; return what it returned."""
    with conn.cursor() as cur:
        result = impl.upsert(cur, list(records), source=SOURCE)
    if commit:
        conn.commit()
    return tuple(result) if isinstance(result, list | tuple) else result


def stored(conn: Any) -> dict[str, tuple[Any, str, str]]:
    """Every stored row of the source: external id -> (data, checksum, xmin)."""
    with conn.cursor() as cur:
        cur.execute(
            "SELECT external_id, data, checksum, xmin::text FROM ingested_data WHERE source = %s",
            (SOURCE,),
        )
        rows = {external_id: (data, checksum, xmin) for external_id, data, checksum, xmin in cur}
    conn.commit()
    return rows


def rewritten(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    """The ids whose row version (xmin) changed: rows Postgres wrote again."""
    return sorted((k for k in before if k in after and before[k][2] != after[k][2]), key=int)


class TestWrites:
    """Writing records."""

    @hint("COPY the rows into a staging table, then INSERT INTO ingested_data SELECT ... FROM it.")
    def test_inserts_new_records(self, impl: Any, conn: Any) -> None:
        """Fifty new records are all inserted, data and checksum as given: (50, 0)."""
        records = batch(range(1, 51))
        assert write(impl, conn, records) == (50, 0), "expected (inserted, updated) = (50, 0)"
        rows = stored(conn)
        wrong = [
            r.external_id
            for r in records
            if rows.get(r.external_id, ())[:2] != (r.data, r.checksum)
        ]
        assert not wrong, f"{len(wrong)} record(s) stored wrong or missing, e.g. id {wrong[:3]}"

    @hint("ON CONFLICT ... DO UPDATE ... WHERE the stored checksum IS DISTINCT FROM the new one.")
    def test_a_rerun_changes_nothing(self, impl: Any, conn: Any) -> None:
        """Writing the same records again inserts and updates nothing, and rewrites no row."""
        records = batch(range(1, 51))
        write(impl, conn, records)
        before = stored(conn)
        result = write(impl, conn, records)
        after = stored(conn)
        assert result == (0, 0), f"the re-run returned {result}, expected (0, 0)"
        assert len(after) == 50, f"{len(after)} rows after the re-run, expected 50"
        changed = rewritten(before, after)
        assert not changed, f"{len(changed)} unchanged row(s) were rewritten, e.g. {changed[:3]}"

    @hint("Count with RETURNING (xmax = 0) AS inserted: true for a new row, false for an update.")
    def test_updates_only_the_records_whose_content_changed(self, impl: Any, conn: Any) -> None:
        """When 3 of 50 records change, those 3 are updated and the other 47 left alone."""
        write(impl, conn, batch(range(1, 51)))
        before = stored(conn)
        changed_ids = {5, 17, 42}
        records = [record(i, 2 if i in changed_ids else 1) for i in range(1, 51)]
        assert write(impl, conn, records) == (0, 3), "expected (inserted, updated) = (0, 3)"
        after = stored(conn)
        assert rewritten(before, after) == ["5", "17", "42"], (
            f"rows rewritten: {rewritten(before, after)}, expected ['5', '17', '42']"
        )
        assert after["17"][0] == record(17, 2).data, "the changed record's data was not updated"

    @hint("Inserted and updated are counted apart; an unchanged row is neither.")
    def test_counts_new_changed_and_unchanged_records_apart(self, impl: Any, conn: Any) -> None:
        """A batch of 2 new, 2 changed and 5 unchanged records returns (2, 2)."""
        write(impl, conn, batch(range(1, 8)))
        records = batch([8, 9]) + batch([1, 2], version=2) + batch(range(3, 8))
        result = write(impl, conn, records)
        assert result == (2, 2), f"returned {result}, expected (2, 2)"

    @hint("ON CONFLICT cannot touch a row twice in one statement: keep each key's last record.")
    def test_a_key_repeated_in_a_batch_is_written_once_with_its_last_version(
        self, impl: Any, conn: Any
    ) -> None:
        """A batch holding the same key twice writes it once, with its later record."""
        result = write(impl, conn, [record(1), record(2), record(1, version=2)])
        assert result == (2, 0), f"returned {result}, expected (2, 0)"
        assert stored(conn)["1"][0] == record(1, 2).data, "the key kept its first record"


class TestCopy:
    """The bulk path."""

    @hint("One COPY for the whole batch and a fixed few statements, whatever the batch size.")
    def test_loads_through_copy_in_a_fixed_number_of_statements(self, impl: Any, conn: Any) -> None:
        """Ten records and two thousand cost the same few statements, one of them a COPY."""
        write(impl, conn, batch([0]))  # first use may set things up (a temporary table)
        sent = []
        for ids in (range(1, 11), range(11, 2011)):
            log = conn.statement_log
            log.entries.clear()
            write(impl, conn, batch(ids))
            sent.append((len(log), log.copies))
        (small, small_copies), (large, large_copies) = sent
        assert small_copies >= 1 and large_copies >= 1, "no COPY was sent: rows went one by one"
        assert large <= small + 2, (
            f"{large} statements for 2,000 records against {small} for 10: not one batch"
        )

    @hint("Escape \\ first, then tab, newline and CR (\\t, \\n, \\r) in every COPY field.")
    def test_escapes_what_copy_text_format_treats_specially(self, impl: Any, conn: Any) -> None:
        r"""Tabs, newlines, backslashes, a literal \N and non-ASCII text come back unchanged."""
        records = [record(i, notes=text) for i, text in enumerate(AWKWARD, start=1)]
        records.append(ProcessedRecord("posts", "back\\slash\tid", {"id": 0}, "c0"))
        write(impl, conn, records)
        rows = stored(conn)
        wrong = [r.external_id for r in records if rows.get(r.external_id, ())[:1] != (r.data,)]
        assert not wrong, f"came back changed or missing: {wrong}"


class TestTransactions:
    """Transactions."""

    @hint("Use the cursor you are given; never commit inside upsert: the caller decides.")
    def test_stays_inside_the_callers_transaction(
        self, impl: Any, conn: Any, fresh_dsn: str
    ) -> None:
        """Nothing is visible to others before the caller commits, and a rollback undoes it all."""
        write(impl, conn, batch(range(1, 11)), commit=False)
        other = psycopg2.connect(fresh_dsn)
        try:
            with other.cursor() as cur:
                cur.execute("SELECT count(*) FROM ingested_data")
                (seen,) = cur.fetchone() or ()
        finally:
            other.close()
        conn.rollback()
        assert seen == 0, f"another connection saw {seen} rows before the caller committed"
        assert stored(conn) == {}, "rows survived the caller's rollback"

    @hint("Empty the staging table after each batch (ON COMMIT DELETE ROWS is not enough).")
    def test_two_batches_in_one_transaction_count_their_own_records(
        self, impl: Any, conn: Any
    ) -> None:
        """Two upserts before one commit each count only their own records."""
        first = write(impl, conn, batch(range(1, 11)), commit=False)
        second = write(impl, conn, batch(range(11, 16)) + batch(range(1, 6), 2), commit=False)
        conn.commit()
        assert (first, second) == ((10, 0), (5, 5)), f"returned {first} then {second}"
        assert len(stored(conn)) == 15, f"{len(stored(conn))} rows stored, expected 15"


class TestSpeed:
    """Speed."""

    @hint("The point of COPY + one statement: no round trip per row.")
    def test_beats_a_row_by_row_upsert(
        self, impl: Any, conn: Any, fresh_dsn: str, record_property: Callable[[str, Any], None]
    ) -> None:
        """3,000 records go in far faster than with one INSERT ... ON CONFLICT per row."""
        records = batch(range(1, 3001))
        plain = psycopg2.connect(fresh_dsn)
        try:
            with plain.cursor() as cur:
                rows = [
                    (r.resource, r.external_id, json.dumps(r.data), r.checksum) for r in records
                ]
                _, baseline = timed(lambda: cur.executemany(ROW_BY_ROW, rows))
            plain.commit()
        finally:
            plain.close()
        _, measured = timed(lambda: write(impl, conn, records))
        ratio = faster(record_property, baseline, measured, "than row by row")
        assert ratio >= 3, f"only {ratio:.1f}x faster than one statement per row"


ROW_BY_ROW = """
    INSERT INTO ingested_data (source, resource, external_id, data, checksum)
    VALUES ('row-by-row', %s, %s, %s, %s)
    ON CONFLICT (source, resource, external_id) DO UPDATE
        SET data = EXCLUDED.data, checksum = EXCLUDED.checksum
        WHERE ingested_data.checksum IS DISTINCT FROM EXCLUDED.checksum
"""
