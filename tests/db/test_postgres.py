from __future__ import annotations

import pickle
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import psycopg2
import pytest

from workbench.db.postgres import PostgresStore, WriteResult, reject_key
from workbench.db.postgres_schema import TABLES
from workbench.errors import ConfigError, StorageDataError, StorageUnavailableError
from workbench.processing import ProcessedRecord, Reject, content_checksum

SOURCE = "jsonplaceholder"
UNREACHABLE = "host=/nonexistent/workbench/socket dbname=nothing user=nobody"

Query = Callable[..., list[tuple[Any, ...]]]


def record(external_id: str, resource: str = "posts", **data: Any) -> ProcessedRecord:
    """A processed record whose checksum follows its data, as the processor's does."""
    return ProcessedRecord(resource, external_id, data, content_checksum(data))


@pytest.fixture
def store(postgres_dsn: str) -> Iterator[PostgresStore]:
    """A store on a fresh database, closed after the test."""
    with PostgresStore(postgres_dsn, maxconn=2, pool_timeout=10) as store:
        yield store


@pytest.fixture
def query(postgres_dsn: str) -> Iterator[Query]:
    """Run SQL on a separate autocommit connection, to see what other sessions see."""
    conn = psycopg2.connect(postgres_dsn)
    conn.autocommit = True

    def run(sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        with conn.cursor() as cur:
            cur.execute(sql, params)
            return cur.fetchall()

    yield run
    conn.close()


def data_rows(query: Query) -> list[tuple[Any, ...]]:
    """Every ingested_data row with all its columns, in key order."""
    return query("SELECT * FROM ingested_data ORDER BY source, resource, external_id")


def backends(query: Query) -> int:
    """Count the other sessions connected to the test database."""
    sql = (
        "SELECT count(*) FROM pg_stat_activity"
        " WHERE datname = current_database() AND pid <> pg_backend_pid()"
    )
    return int(query(sql)[0][0])


class TestSchema:
    """Creating the three tables."""

    def test_first_use_creates_every_table(self, store: PostgresStore, query: Query) -> None:
        """The first read on a fresh database creates all three tables."""
        assert store.count() == 0
        found = query("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        assert sorted(name for (name,) in found) == sorted(TABLES)

    def test_repeating_keeps_data(self, store: PostgresStore) -> None:
        """Ensuring the schema again neither fails nor touches stored rows."""
        store.write_batch(SOURCE, [record("1", title="a")])
        store.ensure_schema()
        store.ensure_schema()
        assert store.count() == 1


class TestWriteBatch:
    """Upserting records in one transaction per batch."""

    def test_inserts_new_records(self, store: PostgresStore) -> None:
        """New records are inserted with their checksum and reported as inserted."""
        batch = [record("1", title="a"), record("2", title="b")]
        assert store.write_batch(SOURCE, batch, run_id="r1") == WriteResult(inserted=2)
        assert store.checksums(SOURCE, "posts") == {r.external_id: r.checksum for r in batch}

    def test_rerun_changes_nothing(self, store: PostgresStore, query: Query) -> None:
        """The same batch again updates nothing: not data, not updated_at, not run_id."""
        batch = [record(str(i), title=f"t{i}") for i in range(5)]
        store.write_batch(SOURCE, batch, run_id="r1")
        before = data_rows(query)
        assert store.write_batch(SOURCE, batch, run_id="r2") == WriteResult(unchanged=5)
        assert data_rows(query) == before

    def test_updates_only_changed_record(self, store: PostgresStore, query: Query) -> None:
        """A record whose data changed is rewritten with its new checksum; the rest stay."""
        batch = [record(str(i), title=f"t{i}") for i in range(3)]
        store.write_batch(SOURCE, batch, run_id="r1")
        before = {row[2]: row for row in data_rows(query)}
        changed = record("1", title="new title")
        result = store.write_batch(SOURCE, [batch[0], changed, batch[2]], run_id="r2")
        assert result == WriteResult(updated=1, unchanged=2)
        after = {row[2]: row for row in data_rows(query)}
        assert after["0"] == before["0"]
        assert after["2"] == before["2"]
        _, _, _, data, checksum, first_seen, updated_at, run_id = after["1"]
        assert (data, checksum, run_id) == ({"title": "new title"}, changed.checksum, "r2")
        assert first_seen == before["1"][5]
        assert updated_at > before["1"][6]

    def test_duplicates_within_batch_last_wins(self, store: PostgresStore) -> None:
        """Two records with one key in a batch do not break the upsert; the last is kept."""
        first, last = record("1", title="first"), record("1", title="last")
        assert store.write_batch(SOURCE, [first, last]) == WriteResult(inserted=1, unchanged=1)
        assert store.checksums(SOURCE, "posts") == {"1": last.checksum}

    def test_key_includes_source_and_resource(self, store: PostgresStore) -> None:
        """The same external_id under another resource or source is a row of its own."""
        store.write_batch(SOURCE, [record("1"), record("1", resource="users")])
        store.write_batch("other", [record("1")])
        assert store.count() == 3
        assert store.count(source=SOURCE) == 2
        assert store.count(source=SOURCE, resource="users") == 1
        assert store.count(resource="posts") == 2

    def test_empty_batch_opens_no_transaction(self) -> None:
        """An empty batch returns a zero result without ever connecting."""
        store = PostgresStore(UNREACHABLE)
        assert store.write_batch(SOURCE, []) == WriteResult()

    def test_refused_record_rolls_back_whole_batch(
        self, store: PostgresStore, query: Query
    ) -> None:
        """A record Postgres refuses (NUL in jsonb) fails the batch and none of it is kept."""
        store.write_batch(SOURCE, [record("1", title="a")])
        before = data_rows(query)
        batch = [record("1", title="changed"), record("2", title="new"), record("3", body="\0")]
        rejects = [Reject("posts", "9", "{}", "bad")]
        with pytest.raises(StorageDataError, match="Unicode"):
            store.write_batch(SOURCE, batch, rejects)
        assert data_rows(query) == before
        assert store.rejects() == []


class TestWritePages:
    """Several pages in one transaction, each told what it changed."""

    def test_each_page_gets_its_own_result(self, store: PostgresStore) -> None:
        """Inserted, updated, unchanged and rejected are counted per page."""
        store.write_batch(SOURCE, [record("1", title="a"), record("2", title="b")])
        rejects = [Reject("posts", "9", "{}", "bad")]
        results = store.write_pages(
            SOURCE,
            [
                ([record("1", title="a"), record("3", title="c")], rejects),
                ([record("2", title="changed")], []),
                ([], []),
            ],
        )
        assert results == [
            WriteResult(inserted=1, unchanged=1, rejected=1),
            WriteResult(updated=1),
            WriteResult(),
        ]
        assert store.count() == 3
        assert [row["external_id"] for row in store.rejects()] == ["9"]

    def test_one_refused_page_rolls_back_every_page(
        self, store: PostgresStore, query: Query
    ) -> None:
        """The pages share one transaction: a refused record keeps none of them."""
        with pytest.raises(StorageDataError):
            store.write_pages(
                SOURCE,
                [
                    ([record("1")], [Reject("posts", "9", "{}", "bad")]),
                    ([record("2", body="\0")], []),
                ],
            )
        assert data_rows(query) == []
        assert store.rejects() == []

    def test_nothing_to_write_opens_no_transaction(self) -> None:
        """Pages without records or rejects get empty results without connecting."""
        store = PostgresStore(UNREACHABLE)
        assert store.write_pages(SOURCE, [([], []), ([], [])]) == [WriteResult(), WriteResult()]


class TestCopyEscaping:
    """Text that COPY's format must escape survives the round trip."""

    @pytest.mark.parametrize(
        "text",
        [
            "tab\tinside",
            "line\nbreak",
            "carriage\rreturn\r\n",
            "back\\slash \\N \\t \\\\",
            "'single' and \"double\" quotes",
            "ünïcödé, 中文, emoji 🚀, combining é",
            '{"looks": "like json"}\t\\',
        ],
    )
    def test_round_trips(self, store: PostgresStore, query: Query, text: str) -> None:
        """The text comes back unchanged as external_id, as a data key and as a data value."""
        stored = record(text, **{text: text, "list": [text]})
        store.write_batch(SOURCE, [stored])
        assert query("SELECT external_id, data FROM ingested_data") == [(text, stored.data)]
        assert store.checksums(SOURCE, "posts") == {text: stored.checksum}


class TestRejects:
    """Rejected records and failed pages, recorded idempotently."""

    def test_written_with_batch(self, store: PostgresStore) -> None:
        """Rejects are stored with the batch and counted in its result."""
        rejects = [
            Reject("posts", "7", '{"id": 7}', "title: missing"),
            Reject("posts", None, "x", "no id"),
        ]
        result = store.write_batch(SOURCE, [record("1")], rejects, run_id="r1")
        assert result == WriteResult(inserted=1, rejected=2)
        rows = store.rejects(SOURCE)
        assert {(r["external_id"], r["raw"], r["reason"], r["run_id"]) for r in rows} == {
            ("7", '{"id": 7}', "title: missing", "r1"),
            (None, "x", "no id", "r1"),
        }
        assert {r["reject_key"] for r in rows} == {
            reject_key("7", '{"id": 7}'),
            reject_key(None, "x"),
        }

    def test_record_failure(self, store: PostgresStore) -> None:
        """A failed page becomes a reject with no external_id and its URL as raw, once."""
        url = "http://127.0.0.1:1/posts?_page=3"
        store.record_failure(SOURCE, "posts", url, "HTTP 500", run_id="r1")
        store.record_failure(SOURCE, "posts", url, "HTTP 503", run_id="r2")
        [row] = store.rejects(SOURCE)
        assert (row["external_id"], row["raw"], row["reason"]) == (None, url, "HTTP 503")
        assert row["occurrences"] == 2


class TestRuns:
    """The ingest_runs table."""

    def test_round_trip(self, store: PostgresStore) -> None:
        """A started run reads back as running; finishing it stores its status and report."""
        store.start_run("r1", "threads", SOURCE, ["posts", "users"])
        [started] = store.runs()
        assert (started["status"], started["resources"], started["finished_at"]) == (
            "running",
            ["posts", "users"],
            None,
        )
        store.finish_run("r1", "ok", {"written": WriteResult(inserted=3), "seconds": 1.5})
        [finished] = store.runs()
        assert finished["status"] == "ok"
        assert finished["finished_at"] >= finished["started_at"]
        assert finished["report"] == {
            "written": {"inserted": 3, "updated": 0, "unchanged": 0, "rejected": 0},
            "seconds": 1.5,
        }

    def test_finishing_unknown_run_fails(self, store: PostgresStore) -> None:
        """Finishing a run that was never started is refused."""
        with pytest.raises(StorageDataError, match="never started"):
            store.finish_run("missing", "ok", {})

    def test_restart_resets_row(self, store: PostgresStore) -> None:
        """Starting a run id again makes it running with no report, still one row."""
        store.start_run("r1", "sync", SOURCE, ["posts"])
        store.finish_run("r1", "failed", {"error": "x"})
        store.start_run("r1", "async", SOURCE, [])
        [run] = store.runs()
        assert (run["mode"], run["status"], run["report"], run["resources"]) == (
            "async",
            "running",
            None,
            [],
        )

    def test_newest_first_with_limit(self, store: PostgresStore) -> None:
        """runs() lists the most recent runs first, at most ``limit`` of them."""
        for run_id in ("a", "b", "c"):
            store.start_run(run_id, "sync", SOURCE, ["posts"])
        assert [run["run_id"] for run in store.runs(limit=2)] == ["c", "b"]

    def test_truncate_empties_every_table(self, store: PostgresStore, query: Query) -> None:
        """truncate() removes records, rejects and runs alike."""
        store.start_run("r1", "sync", SOURCE, ["posts"])
        store.write_batch(SOURCE, [record("1")], [Reject("posts", None, "x", "bad")])
        store.truncate()
        counts = [query(f"SELECT count(*) FROM {table}")[0][0] for table in TABLES]
        assert counts == [0, 0, 0]


class TestPool:
    """Connections: pooled, given back, shared by threads, never pickled."""

    def test_connection_given_back_after_success_and_failure(self, postgres_dsn: str) -> None:
        """With a single connection, the store keeps working after a failed batch."""
        with PostgresStore(postgres_dsn, maxconn=1, pool_timeout=5) as store:
            store.write_batch(SOURCE, [record("1")])
            assert store.in_use == 0
            with pytest.raises(StorageDataError):
                store.write_batch(SOURCE, [record("2", body="\0")])
            assert store.in_use == 0
            assert store.write_batch(SOURCE, [record("3")]) == WriteResult(inserted=1)

    def test_busy_pool_times_out(self, store: PostgresStore) -> None:
        """When every connection stays checked out, a caller gets a transient error, not a hang."""
        store.pool.timeout = 0.05
        store.ensure_schema()
        with (
            store._transaction(),
            store._transaction(),
            pytest.raises(StorageUnavailableError, match="in use"),
        ):
            store.count()

    def test_threads_share_one_store(self, store: PostgresStore) -> None:
        """Eight threads writing through two connections all succeed, waiting their turn."""

        def write(worker: int) -> None:
            store.write_batch(SOURCE, [record(f"{worker}-{i}") for i in range(50)])

        threads = [threading.Thread(target=write, args=(w,)) for w in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert store.count() == 400
        assert store.in_use == 0

    def test_connections_given_back_are_kept_for_reuse(
        self, postgres_dsn: str, query: Query
    ) -> None:
        """Connections beyond minconn are kept when given back, not closed and reopened."""
        with PostgresStore(postgres_dsn, minconn=1, maxconn=2) as store:
            store.ensure_schema()
            with store._transaction(), store._transaction():
                assert backends(query) == 2
            pids = set()
            for _ in range(4):
                with store._transaction() as conn:
                    pids.add(conn.get_backend_pid())
            assert backends(query) == 2
            assert len(pids) <= 2

    def test_lost_connection_is_replaced_before_it_is_used(
        self, postgres_dsn: str, query: Query
    ) -> None:
        """A pooled connection whose server session died is dropped, unused: no error at all."""
        with PostgresStore(postgres_dsn, maxconn=1) as store:
            store.count()
            query(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
            time.sleep(0.1)  # the goodbye reaches the idle socket
            assert store.count() == 0

    def test_close_disconnects_and_reopens(self, postgres_dsn: str, query: Query) -> None:
        """Leaving the with block closes every connection; using the store again reconnects."""
        with PostgresStore(postgres_dsn, minconn=2) as store:
            store.count()
            assert backends(query) == 2
        deadline = time.monotonic() + 10
        while backends(query) and time.monotonic() < deadline:
            time.sleep(0.01)  # the server notices a closed socket asynchronously
        assert backends(query) == 0
        assert store.count() == 0
        store.close()

    def test_refuses_pickling(self, store: PostgresStore) -> None:
        """A store cannot be pickled into another process; the message says what to do."""
        with pytest.raises(TypeError, match="DSN"):
            pickle.dumps(store)

    def test_unreachable_server_is_transient_and_quick(self) -> None:
        """A socket directory that does not exist raises StorageUnavailableError at once."""
        store = PostgresStore(UNREACHABLE, maxconn=1, connect_timeout=2, pool_timeout=1)
        started = time.monotonic()
        for _ in range(2):  # the second proves the failed attempt gave its slot back
            with pytest.raises(StorageUnavailableError, match="Postgres unavailable"):
                store.count()
        assert time.monotonic() - started < 10
        assert store.in_use == 0

    @pytest.mark.parametrize(
        "arguments", [{"dsn": "not a dsn"}, {"minconn": 3, "maxconn": 2}, {"maxconn": 0}]
    )
    def test_bad_settings_are_config_errors(self, arguments: dict[str, Any]) -> None:
        """An unparsable DSN or an impossible pool size is refused before connecting."""
        arguments = {"dsn": UNREACHABLE, **arguments}
        with pytest.raises(ConfigError):
            PostgresStore(**arguments)

    def test_repr_hides_password(self) -> None:
        """The password in a DSN never shows in the store's repr."""
        assert "s3cret" not in repr(PostgresStore("postgresql://u:s3cret@/db?host=/tmp"))


class TestDeleteSource:
    """Clearing one source's records."""

    def test_delete_source_removes_only_that_source(self, postgres_dsn: str) -> None:
        """Records of other sources stay; the count of deleted rows is returned."""
        from workbench.processing import Processor

        processor = Processor("posts")
        records = processor.process_many(
            [{"userId": 1, "id": 1, "title": "t", "body": "b"}]
        ).records
        with PostgresStore(postgres_dsn) as store:
            store.write_batch("scratch", records)
            store.write_batch("keep", records)
            assert store.delete_source("scratch") == 1
            assert store.count(source="scratch") == 0
            assert store.count(source="keep") == 1

    def test_delete_rejects_removes_only_that_source(self, postgres_dsn: str) -> None:
        """Rejects of other sources stay; the count of deleted rows is returned."""
        with PostgresStore(postgres_dsn) as store:
            store.record_failure("scratch", "posts", "http://x/posts?_page=1", "boom")
            store.record_failure("keep", "posts", "http://x/posts?_page=1", "boom")
            assert store.delete_rejects("scratch") == 1
            assert [row["source"] for row in store.rejects()] == ["keep"]
