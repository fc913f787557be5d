"""A run's life around its pages: asked to stop, kept alive, recorded however it ends."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from workbench.errors import StorageUnavailableError
from workbench.ingestion import UnitResult
from workbench.ingestion.lifecycle import RunRecord, Stop
from workbench.local_api import ServerHandle


class TestStop:
    """A graceful stop, in every mode."""

    def test_stopping_mid_run_writes_what_was_fetched_and_resumes(
        self, mode: str, api: ServerHandle, build: Any, expected: Any, stored: Any
    ) -> None:
        """No page starts after the request; pages in flight land; the next run completes."""
        ingestor = build(mode, api.url, batch_rows=10)

        def stop_after_five(result: UnitResult) -> None:
            if len(seen) == 4:
                ingestor.stopping.request("SIGTERM")
            seen.append(result)

        seen: list[UnitResult] = []
        report = ingestor.run(progress=stop_after_five)
        assert (report.status, report.stopped, report.interrupted) == (
            "interrupted",
            "SIGTERM",
            True,
        )
        assert not report.completed
        assert report.pages < expected.pages
        assert ingestor.store.count("local") == report.inserted  # landed pages are all written
        [row] = ingestor.store.runs(1)
        assert row["status"] == "interrupted"
        api.reset_stats()
        again = build(mode, api.url).run()
        assert again.ok
        assert stored(ingestor.store) == expected.checksums
        assert again.cache_hits == report.pages  # committed pages are not fetched again

    def test_until_stops_yielding_once_requested(self) -> None:
        """``until`` passes items through until a stop is requested, then ends."""
        stop, taken = Stop(), []
        for item in stop.until(range(10)):
            taken.append(item)
            if item == 2:
                stop.request("SIGINT")
                stop.request("SIGTERM")  # the first reason is kept
        assert taken == [0, 1, 2] and stop.reason == "SIGINT" and bool(stop)


class TestRunRecord:
    """The row in ingest_runs."""

    def test_a_silent_run_is_marked_abandoned_by_the_next(
        self, api: ServerHandle, build: Any
    ) -> None:
        """A run whose heartbeat stopped (killed) is marked abandoned when the next starts."""
        ingestor = build("sync", api.url, heartbeat_s=0.2)
        ingestor.store.ensure_schema()
        ingestor.store.start_run("killed-run", "sync", "local", ["posts"])
        time.sleep(1.0)  # four heartbeats missed
        assert ingestor.run().ok
        rows = {row["run_id"]: row["status"] for row in ingestor.store.runs(5)}
        assert rows["killed-run"] == "abandoned"
        assert rows[ingestor.run_id] == "ok"

    def test_a_living_run_beats_and_is_never_abandoned(self, api: ServerHandle, build: Any) -> None:
        """A run that keeps beating stays running while another run starts beside it."""
        slow = build("sync", api.url, heartbeat_s=0.1, name="slow")
        started = threading.Event()

        def progress(result: UnitResult) -> None:
            started.set()
            time.sleep(0.05)

        thread = threading.Thread(target=slow.run, kwargs={"progress": progress})
        thread.start()
        try:
            assert started.wait(10)
            time.sleep(0.5)
            other = build("sync", api.url, heartbeat_s=0.1, max_pages=1)
            assert other.run().ok
            status = {r["run_id"]: r["status"] for r in other.store.runs(5)}[slow.run_id]
            assert status == "running"
        finally:
            thread.join()
        assert {r["run_id"]: r["status"] for r in slow.store.runs(5)}[slow.run_id] == "ok"

    def test_an_unreachable_postgres_at_start_is_one_clear_error(self) -> None:
        """No Postgres: three quick tries, then an error naming where, never the password."""
        from workbench.db.postgres import PostgresStore

        store = PostgresStore("postgresql://wb:s3cret-pw@127.0.0.1:1/workbench", connect_timeout=1)
        record = RunRecord(store, lambda fn: fn, "r1")
        started = time.perf_counter()
        with pytest.raises(StorageUnavailableError) as caught:
            record.start("sync", "local", ["posts"])
        message = str(caught.value)
        assert message.startswith("Postgres at 127.0.0.1:1/workbench is unreachable (tried 3")
        assert "s3cret-pw" not in message
        assert time.perf_counter() - started < 10


class TestDatabaseReset:
    """Postgres lost a source's rows between runs while Redis kept what it had seen."""

    def test_the_next_run_writes_every_record_again(
        self, api: ServerHandle, build: Any, expected: Any
    ) -> None:
        """Redis's dedup of rows Postgres no longer has is forgotten, so nothing is skipped.

        Another source keeps its rows of the same resources: only this source's are judged.
        """
        first = build("sync", api.url)
        assert first.run().inserted == expected.records
        assert build("sync", api.url, name="other").run().inserted == expected.records
        first.store.delete_source("local")
        again = build("sync", api.url)
        report = again.run()
        assert (report.inserted, report.unchanged) == (expected.records, 0)
        assert again.store.count("local") == expected.records
