from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

import psycopg2
import pytest
from psycopg2.extensions import connection

from workbench.db.postgres_schema import TABLES, create_schema, reject_key, upsert_rejects
from workbench.processing import Reject

SOURCE = "jsonplaceholder"

Connect = Callable[[], connection]


@pytest.fixture
def connect(postgres_dsn: str) -> Iterator[Connect]:
    """Open connections to a fresh database, all closed after the test."""
    opened: list[connection] = []

    def open_one() -> connection:
        opened.append(psycopg2.connect(postgres_dsn))
        return opened[-1]

    yield open_one
    for conn in opened:
        conn.close()


@pytest.fixture
def conn(connect: Connect) -> connection:
    """One connection to a fresh database that already has the schema."""
    conn = connect()
    with conn.cursor() as cur:
        create_schema(cur)
    conn.commit()
    return conn


def tables(conn: connection) -> list[str]:
    """The names of the tables in the public schema, sorted."""
    with conn.cursor() as cur:
        cur.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1")
        return [name for (name,) in cur.fetchall()]


def reject_rows(conn: connection) -> list[dict[str, Any]]:
    """Every ingest_rejects row as a dict, in key order."""
    with conn.cursor() as cur:
        cur.execute("SELECT * FROM ingest_rejects ORDER BY source, resource, reject_key")
        names = [column.name for column in cur.description]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def upsert(conn: connection, rejects: list[Reject], run_id: str = "r1") -> None:
    """Upsert ``rejects`` in a transaction of their own."""
    with conn.cursor() as cur:
        upsert_rejects(cur, SOURCE, rejects, run_id)
    conn.commit()


class TestCreateSchema:
    """Creating the tables, idempotently and under races."""

    def test_creates_every_table(self, conn: connection) -> None:
        """All three tables exist afterwards, and nothing else."""
        assert tables(conn) == sorted(TABLES)

    def test_repeating_keeps_data(self, conn: connection) -> None:
        """Running it again on a populated database neither fails nor loses rows."""
        upsert(conn, [Reject("posts", "1", "raw", "bad")])
        with conn.cursor() as cur:
            create_schema(cur)
            create_schema(cur)
        conn.commit()
        assert len(reject_rows(conn)) == 1

    def test_concurrent_sessions_all_succeed(self, connect: Connect) -> None:
        """Four sessions creating the schema at the same moment all succeed (the lock at work)."""
        sessions = [connect() for _ in range(4)]
        start = threading.Barrier(len(sessions))
        errors: list[BaseException] = []

        def create(conn: connection) -> None:
            start.wait()
            try:
                with conn.cursor() as cur:
                    create_schema(cur)
                conn.commit()
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=create, args=(conn,)) for conn in sessions]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        assert tables(sessions[0]) == sorted(TABLES)


class TestRejectKey:
    """The digest that identifies a reject."""

    def test_same_input_same_key(self) -> None:
        """The key depends only on external_id and raw, so a re-run finds the same row."""
        assert reject_key("7", "raw") == reject_key("7", "raw")
        assert reject_key(None, "x") == reject_key("", "x")

    def test_parts_do_not_run_together(self) -> None:
        """Moving characters between external_id and raw gives another key."""
        assert reject_key("ab", "c") != reject_key("a", "bc")
        assert reject_key("7", "a") != reject_key("7", "b")


class TestUpsertRejects:
    """Writing rejects so the same bad input always stays one row."""

    def test_seen_again_updates_one_row(self, conn: connection) -> None:
        """Seeing a reject again bumps occurrences and last_seen_at and takes the new reason."""
        upsert(conn, [Reject("posts", "7", "raw", "old reason")], run_id="r1")
        upsert(conn, [Reject("posts", "7", "raw", "new reason")], run_id="r2")
        [row] = reject_rows(conn)
        assert (row["occurrences"], row["reason"], row["run_id"]) == (2, "new reason", "r2")
        assert row["last_seen_at"] > row["first_seen_at"]
        assert row["reject_key"] == reject_key("7", "raw")

    def test_repeats_within_batch_share_a_row(self, conn: connection) -> None:
        """Two identical rejects in one call make one row seen twice, not a conflict error."""
        reject = Reject("posts", "7", "raw", "bad")
        upsert(conn, [reject, reject])
        assert [row["occurrences"] for row in reject_rows(conn)] == [2]

    def test_different_raw_or_resource_is_another_row(self, conn: connection) -> None:
        """Different raw text, or the same text under another resource, is another reject."""
        upsert(conn, [Reject("posts", "7", "a", "bad"), Reject("posts", "7", "b", "bad")])
        upsert(conn, [Reject("users", "7", "a", "bad")])
        assert len(reject_rows(conn)) == 3

    def test_nothing_to_write_skips_database(self, conn: connection) -> None:
        """No rejects means no statement, even on a closed cursor."""
        with conn.cursor() as cur:
            pass
        upsert_rejects(cur, SOURCE, [], None)
