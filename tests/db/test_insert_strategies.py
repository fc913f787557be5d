from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from psycopg2.extensions import connection

from workbench.db.insert_strategies import (
    STRATEGIES,
    WriteResult,
    copy_field,
    copy_payload,
    data_json,
    insert_copy,
    upsert_copy,
)
from workbench.errors import StorageDataError, StorageUnavailableError
from workbench.processing import ProcessedRecord, Processor

FIXTURE = Path(__file__).parents[1] / "fixtures" / "jsonplaceholder-data.json"
SOURCE = "jsonplaceholder"
PLAIN_INSERTS = ["row_by_row", "executemany", "execute_values"]
SKIPPING = [*PLAIN_INSERTS, "upsert_copy"]  # every strategy that tolerates existing keys

Row = tuple[str, str, str, Any, str, str | None]


@pytest.fixture(scope="module")
def records() -> list[ProcessedRecord]:
    """The real comments, processed, plus one record full of text COPY has to escape."""
    raws = json.loads(FIXTURE.read_text(encoding="utf-8"))["comments"]
    processed = Processor("comments").process_many(raws).records
    tricky = {"body": 'tab\there\nnew\\line\r "quoted" \\N ünï 🚀', "k\tey": "\\"}
    return [*processed, ProcessedRecord("comments", "tricky\t\\N\n", tricky, "c0ffee")]


def table_rows(conn: connection) -> list[Row]:
    """Every row of ``ingested_data`` in key order, its jsonb decoded."""
    with conn.cursor() as cur:
        cur.execute(
            "SELECT source, resource, external_id, data, checksum, run_id FROM ingested_data"
            " ORDER BY source, resource, external_id"
        )
        return cur.fetchall()


def expected_rows(records: list[ProcessedRecord], run_id: str | None) -> list[Row]:
    """The rows ``records`` should become, in ``table_rows`` order."""
    rows = [(SOURCE, r.resource, r.external_id, r.data, r.checksum, run_id) for r in records]
    return sorted(rows, key=lambda row: row[:3])


def write(conn: connection, name: str, records: list[ProcessedRecord]) -> WriteResult:
    """Run strategy ``name`` in its own committed transaction."""
    result = STRATEGIES[name](conn, records, source=SOURCE, run_id="run-1")
    conn.commit()
    return result


class TestCopyField:
    """Escaping single values for COPY's text format."""

    @pytest.mark.parametrize(
        ("value", "escaped"),
        [
            ("plain", "plain"),
            ("a\tb", "a\\tb"),
            ("a\nb", "a\\nb"),
            ("a\rb", "a\\rb"),
            ("a\\b", "a\\\\b"),
            ("\\N", "\\\\N"),
            ("\\t", "\\\\t"),
            ("\"quotes\" and 'quotes'", "\"quotes\" and 'quotes'"),
            ("ünïcödé 🚀", "ünïcödé 🚀"),
        ],
    )
    def test_escapes_only_what_copy_needs(self, value: str, escaped: str) -> None:
        """Backslash, tab, newline and CR are escaped; everything else passes through."""
        assert copy_field(value) == escaped

    def test_none_is_copy_null(self) -> None:
        r"""None becomes COPY's NULL marker, distinct from the text ``\N``."""
        assert copy_field(None) == "\\N"
        assert copy_field("\\N") != copy_field(None)

    def test_payload_is_one_utf8_buffer_of_lines(self) -> None:
        """Rows become tab-separated, newline-terminated UTF-8 lines in one bytes object."""
        payload = copy_payload([("1", "a\tb", None), ("2", "é", "x")])
        assert payload == "1\ta\\tb\t\\N\n2\té\tx\n".encode()

    def test_unencodable_text_is_a_data_error(self) -> None:
        """A lone surrogate cannot be sent as UTF-8, so the batch is refused as bad data."""
        with pytest.raises(StorageDataError):
            copy_payload([("\ud800",)])

    def test_data_json_is_compact_and_keeps_unicode(self) -> None:
        """Record data is serialised without spaces and with non-ASCII characters as is."""
        assert data_json({"a": [1, 2], "b": "é"}) == '{"a":[1,2],"b":"é"}'


class TestStrategies:
    """Every strategy writes the same rows, within the caller's transaction."""

    def test_registry_names_every_strategy(self) -> None:
        """The benchmark can reach all five strategies by name."""
        assert set(STRATEGIES) == {*PLAIN_INSERTS, "copy", "upsert_copy"}

    @pytest.mark.parametrize("name", sorted(STRATEGIES))
    def test_writes_every_record(
        self, conn: connection, records: list[ProcessedRecord], name: str
    ) -> None:
        """Each strategy leaves exactly the expected rows, tricky text included."""
        result = write(conn, name, records)
        assert result == WriteResult(inserted=len(records))
        assert table_rows(conn) == expected_rows(records, "run-1")

    @pytest.mark.parametrize("name", SKIPPING)
    def test_rerun_changes_nothing(
        self, conn: connection, records: list[ProcessedRecord], name: str
    ) -> None:
        """Writing the same batch again inserts nothing and leaves the table as it was."""
        write(conn, name, records)
        before = table_rows(conn)
        assert write(conn, name, records) == WriteResult(unchanged=len(records))
        assert table_rows(conn) == before

    def test_copy_rerun_fails_whole_batch(
        self, conn: connection, records: list[ProcessedRecord]
    ) -> None:
        """Plain COPY has no ON CONFLICT: a re-run is refused and rolls back to the first run."""
        write(conn, "copy", records)
        before = table_rows(conn)
        with pytest.raises(StorageDataError, match="duplicate key"):
            insert_copy(conn, records, source=SOURCE)
        conn.rollback()
        assert table_rows(conn) == before

    @pytest.mark.parametrize("name", PLAIN_INSERTS)
    def test_plain_inserts_keep_first_duplicate(self, conn: connection, name: str) -> None:
        """Within one batch, ON CONFLICT DO NOTHING keeps the first record of a key."""
        first = ProcessedRecord("posts", "1", {"v": 1}, "one")
        second = ProcessedRecord("posts", "1", {"v": 2}, "two")
        assert write(conn, name, [first, second]) == WriteResult(inserted=1, unchanged=1)
        assert table_rows(conn) == expected_rows([first], "run-1")

    def test_upsert_keeps_last_duplicate(self, conn: connection) -> None:
        """Within one batch, the staging upsert keeps the last record of a key."""
        first = ProcessedRecord("posts", "1", {"v": 1}, "one")
        second = ProcessedRecord("posts", "1", {"v": 2}, "two")
        assert write(conn, "upsert_copy", [first, second]) == WriteResult(inserted=1, unchanged=1)
        assert table_rows(conn) == expected_rows([second], "run-1")

    @pytest.mark.parametrize("name", sorted(STRATEGIES))
    def test_leaves_commit_to_caller(
        self, conn: connection, records: list[ProcessedRecord], name: str
    ) -> None:
        """A strategy does not commit: rolling back the caller's transaction undoes it."""
        STRATEGIES[name](conn, records, source=SOURCE)
        conn.rollback()
        assert table_rows(conn) == []

    @pytest.mark.parametrize("name", sorted(STRATEGIES))
    def test_empty_batch_skips_database(self, conn: connection, name: str) -> None:
        """An empty batch returns a zero result without using the (here closed) connection."""
        conn.close()
        assert STRATEGIES[name](conn, [], source=SOURCE) == WriteResult()

    def test_closed_connection_is_unavailable(
        self, conn: connection, records: list[ProcessedRecord]
    ) -> None:
        """A batch on a closed connection raises StorageUnavailableError, not a psycopg2 error."""
        conn.close()
        with pytest.raises(StorageUnavailableError):
            upsert_copy(conn, records, source=SOURCE)


class TestUpsertCopy:
    """The staging-table upsert that write_batch uses."""

    def test_updates_only_changed_checksums(self, conn: connection) -> None:
        """A changed checksum rewrites its row; an equal one leaves its row alone."""
        old = [ProcessedRecord("posts", str(i), {"v": i}, f"c{i}") for i in range(3)]
        write(conn, "upsert_copy", old)
        changed = ProcessedRecord("posts", "1", {"v": "new"}, "c1-new")
        result = write(conn, "upsert_copy", [old[0], changed, old[2]])
        assert result == WriteResult(updated=1, unchanged=2)
        assert table_rows(conn) == expected_rows([old[0], changed, old[2]], "run-1")

    def test_twice_in_one_transaction(self, conn: connection) -> None:
        """Two batches can share one transaction: the staging table is dropped after each."""
        upsert_copy(conn, [ProcessedRecord("posts", "1", {}, "a")], source=SOURCE)
        upsert_copy(conn, [ProcessedRecord("posts", "2", {}, "b")], source=SOURCE)
        conn.commit()
        assert [row[2] for row in table_rows(conn)] == ["1", "2"]
