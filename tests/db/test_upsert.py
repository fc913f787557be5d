from __future__ import annotations

from typing import Any

import pytest
from psycopg2.extensions import connection

from workbench.db.copy_format import ingested_data_rows
from workbench.db.upsert import latest_per_key, upsert_pages, upsert_rows
from workbench.error_mapping import map_psycopg2_errors
from workbench.errors import StorageDataError
from workbench.processing import ProcessedRecord

SOURCE = "src"


def rec(external_id: str, checksum: str, resource: str = "posts") -> ProcessedRecord:
    """A record whose data names its checksum, so stored rows show which version won."""
    return ProcessedRecord(resource, external_id, {"v": checksum}, checksum)


def stored(conn: connection) -> dict[tuple[str, str], str]:
    """(resource, external_id) -> checksum of every stored row."""
    with conn.cursor() as cur:
        cur.execute("SELECT resource, external_id, checksum FROM ingested_data")
        return {(resource, key): checksum for resource, key, checksum in cur.fetchall()}


def upsert_keys(conn: connection, records: list[ProcessedRecord]) -> Any:
    """Upsert distinct records in the connection's open transaction, errors mapped."""
    with map_psycopg2_errors(), conn.cursor() as cur:
        return upsert_rows(cur, ingested_data_rows(records, SOURCE, "r"))


def upsert(conn: connection, records: list[ProcessedRecord]) -> Any:
    """Upsert in a committed transaction of its own."""
    written = upsert_keys(conn, records)
    conn.commit()
    return written


def pages(conn: connection, batch: list[list[ProcessedRecord]]) -> list[tuple[int, int]]:
    """Upsert pages as one batch in the connection's open transaction."""
    with conn.cursor() as cur:
        return upsert_pages(cur, batch, source=SOURCE, run_id="r")


class TestUpsertRows:
    """COPY for new keys, the staging upsert as soon as one key exists."""

    def test_new_keys_are_copied_in(self, conn: connection) -> None:
        """A batch of new keys is inserted whole and reported as None (all inserted)."""
        assert upsert(conn, [rec("1", "a"), rec("2", "b")]) is None
        assert stored(conn) == {("posts", "1"): "a", ("posts", "2"): "b"}

    def test_existing_keys_are_upserted_key_by_key(self, conn: connection) -> None:
        """With one key stored, the batch is upserted: new inserted, changed updated, same kept."""
        upsert(conn, [rec("1", "a"), rec("2", "b")])
        written = upsert(conn, [rec("1", "a"), rec("2", "B"), rec("3", "c")])
        assert written == {("posts", "2"): False, ("posts", "3"): True}
        assert stored(conn) == {("posts", "1"): "a", ("posts", "2"): "B", ("posts", "3"): "c"}

    def test_unchanged_rerun_writes_nothing(self, conn: connection) -> None:
        """The same batch again leaves every row as it was and reports no key written."""
        upsert(conn, [rec("1", "a"), rec("2", "b")])
        with conn.cursor() as cur:
            cur.execute("SELECT xmin::text FROM ingested_data ORDER BY external_id")
            before = cur.fetchall()
        assert upsert(conn, [rec("1", "a"), rec("2", "b")]) == {}
        with conn.cursor() as cur:
            cur.execute("SELECT xmin::text FROM ingested_data ORDER BY external_id")
            assert cur.fetchall() == before

    def test_staging_twice_in_one_transaction(self, conn: connection) -> None:
        """Two fallback upserts in one transaction each see only their own rows."""
        upsert(conn, [rec("1", "a"), rec("2", "b")])
        first = upsert_keys(conn, [rec("1", "A"), rec("3", "c")])
        second = upsert_keys(conn, [rec("2", "B")])
        conn.commit()
        assert first == {("posts", "1"): False, ("posts", "3"): True}
        assert second == {("posts", "2"): False}

    def test_refused_data_fails_the_batch(self, conn: connection) -> None:
        """A value Postgres refuses fails the batch as StorageDataError, nothing kept."""
        bad = ProcessedRecord("posts", "1", {"v": "\x00"}, "a")
        with pytest.raises(StorageDataError):
            upsert_keys(conn, [rec("2", "b"), bad])
        conn.rollback()
        assert stored(conn) == {}

    def test_empty_pages_touch_nothing(self, conn: connection) -> None:
        """Pages without records: zero counts, without a statement on the (closed) cursor."""
        with conn.cursor() as cur:
            pass
        assert upsert_pages(cur, [[], []], source=SOURCE, run_id=None) == [(0, 0), (0, 0)]


class TestLatestPerKey:
    """One record per key before a COPY."""

    def test_last_record_of_a_key_wins_in_first_seen_order(self) -> None:
        """Duplicates keep their last record, at the place the key first appeared."""
        records = [rec("1", "a"), rec("2", "b"), rec("1", "c"), rec("1", "a", resource="users")]
        assert latest_per_key(records) == [records[2], records[1], records[3]]

    def test_distinct_keys_are_kept_as_given(self) -> None:
        """Without duplicates the records come back unchanged, in order."""
        records = [rec("1", "a"), rec("2", "b")]
        assert latest_per_key(records) == records


class TestUpsertPages:
    """Several pages in one write, counted page by page."""

    def test_each_page_gets_its_own_counts(self, conn: connection) -> None:
        """Inserted and updated keys are counted for the page they came from."""
        pages(conn, [[rec("1", "a")], [rec("2", "b")]])
        counts = pages(conn, [[rec("1", "a"), rec("3", "c")], [rec("2", "B")], []])
        conn.commit()
        assert counts == [(1, 0), (0, 1), (0, 0)]

    def test_all_new_pages_count_their_records(self, conn: connection) -> None:
        """When one COPY inserts everything, each page counts its own records."""
        counts = pages(conn, [[rec("1", "a"), rec("2", "b")], [rec("3", "c")]])
        assert counts == [(2, 0), (1, 0)]

    def test_a_key_on_two_pages_counts_for_the_last(self, conn: connection) -> None:
        """A key repeated across pages is written once, from and for the page that came last."""
        counts = pages(conn, [[rec("1", "a")], [rec("1", "b")]])
        conn.commit()
        assert counts == [(0, 0), (1, 0)]
        assert stored(conn) == {("posts", "1"): "b"}

    def test_a_page_counts_every_key_it_changed(self, conn: connection) -> None:
        """A page with several inserted and several updated keys counts each of them."""
        pages(conn, [[rec("1", "a"), rec("2", "b")]])
        counts = pages(conn, [[rec("1", "A"), rec("2", "B"), rec("3", "c"), rec("4", "d")]])
        conn.commit()
        assert counts == [(2, 2)]

    def test_rows_carry_the_run_that_wrote_them(self, conn: connection) -> None:
        """Every row a batch writes, new or updated, names the batch's run."""
        pages(conn, [[rec("1", "a")]])
        with conn.cursor() as cur:
            upsert_pages(cur, [[rec("1", "A"), rec("2", "b")]], source=SOURCE, run_id="r2")
            cur.execute("SELECT external_id, run_id FROM ingested_data ORDER BY external_id")
            assert cur.fetchall() == [("1", "r2"), ("2", "r2")]
