"""Every mode end to end on the real Postgres and Redis, reading the local API."""

from __future__ import annotations

import asyncio
import multiprocessing
import threading
import time
from typing import Any

import psycopg2

from workbench.ingestion import MODES, UnitResult
from workbench.ingestion.report import writer_names
from workbench.local_api import ServerHandle
from workbench.logging_setup import get_context


class TestFirstRun:
    """A first run into an empty database."""

    def test_every_record_lands_exactly_once(
        self,
        mode: str,
        api: ServerHandle,
        build: Any,
        expected: Any,
        stored: Any,
        served_pages: Any,
    ) -> None:
        """Each resource's row count is its X-Total-Count and the rows are the served records."""
        ingestor = build(mode, api.url)
        report = ingestor.run()
        assert report.ok, report.failed_pages
        for resource, total in expected.totals.items():
            assert ingestor.store.count("local", resource) == total
        assert stored(ingestor.store) == expected.checksums
        assert served_pages(api) == expected.pages

    def test_report_counts_every_page_and_record(
        self, mode: str, api: ServerHandle, build: Any, expected: Any
    ) -> None:
        """The report counts every page once and every fetched record, and names its run."""
        ingestor = build(mode, api.url)
        started = time.perf_counter()
        report = ingestor.run()
        assert 0 < report.seconds <= time.perf_counter() - started  # the run's own time
        counts = (report.pages, report.fetched, report.inserted, report.updated, report.unchanged)
        assert counts == (expected.pages, expected.records, expected.records, 0, 0)
        assert (report.rejected, report.retries, report.cache_hits) == (0, 0, 0)
        assert (report.mode, report.source) == (mode, ingestor.source.name)
        assert report.resources == ingestor.resources
        assert ingestor.pool is None  # the run's executor, shut down, is not kept past it
        assert report.cache_available

    def test_what_a_run_logs_names_the_run(self, mode: str, api: ServerHandle, build: Any) -> None:
        """While pages land, the log context names the run, its mode and its source."""
        ingestor = build(mode, api.url)
        seen: list[dict[str, Any]] = []
        ingestor.run(progress=lambda result: seen.append(get_context()))
        expected = {"run_id": ingestor.run_id, "mode": mode, "source": ingestor.source.name}
        assert seen and all(context.items() >= expected.items() for context in seen)

    def test_the_first_round_asks_a_page_per_lane(
        self, mode: str, api: ServerHandle, build: Any
    ) -> None:
        """Page 1 and its guesses start together, one per lane; guesses past the end are no page."""
        ingestor = build(mode, api.url, resources=("users",))  # one page of users
        report = ingestor.run()
        assert (report.ok, report.pages, report.retries) == (True, 1, 0)
        # A queue task's pages run in turn on one worker, which skips guesses page 1 rules out.
        asked = 1 if mode == "queue" else ingestor.in_flight()
        assert api.stats()["by_resource"]["users"] == asked

    def test_nothing_is_kept_per_page(self, mode: str, api: ServerHandle, build: Any) -> None:
        """The run's retry wrappers are one per function, never one per page (a page's leak)."""
        ingestor = build(mode, api.url)
        report = ingestor.run()
        assert report.pages > 10
        assert len(ingestor._retry_wrappers._wrapped) <= 5, ingestor._retry_wrappers._wrapped


class TestEveryModeAgrees:
    """The four modes store the same thing."""

    def test_stored_rows_are_identical_across_modes(
        self, api: ServerHandle, build: Any, postgres_dsn: str, expected: Any, stored: Any
    ) -> None:
        """Ingesting under one source name per mode stores identical data and checksums."""
        rows = {}
        for mode in MODES:
            ingestor = build(mode, api.url, name=mode, cache=False)
            assert ingestor.run().ok
            assert stored(ingestor.store, mode) == expected.checksums
            rows[mode] = _rows(postgres_dsn, mode)
        assert len(rows["sync"]) == expected.records
        assert all(found == rows["sync"] for found in rows.values())


def _rows(dsn: str, source: str) -> dict[tuple[str, str], tuple[Any, str]]:
    """Return (resource, external_id) -> (data, checksum) of every stored row of ``source``."""
    with psycopg2.connect(dsn) as conn, conn.cursor() as cur:
        cur.execute(
            "SELECT resource, external_id, data, checksum FROM ingested_data WHERE source = %s",
            (source,),
        )
        found = {(resource, key): (data, checksum) for resource, key, data, checksum in cur}
    conn.close()
    return found


class TestSecondRun:
    """Running again over data already stored."""

    def test_with_the_cache_nothing_is_written_or_fetched(
        self, mode: str, api: ServerHandle, build: Any, expected: Any, served_pages: Any
    ) -> None:
        """With Redis, a second run answers every page from the cache and changes nothing."""
        assert build(mode, api.url).run().ok
        api.reset_stats()
        report = build(mode, api.url).run()
        assert report.ok
        counts = (report.pages, report.fetched, report.inserted, report.updated, report.unchanged)
        assert counts == (expected.pages, expected.records, 0, 0, expected.records)
        assert report.cache_hits == expected.pages
        assert served_pages(api) == 0

    def test_without_redis_postgres_alone_keeps_it_idempotent(
        self, mode: str, api: ServerHandle, build: Any, expected: Any, served_pages: Any
    ) -> None:
        """Without Redis, a second run refetches every page and finds every record unchanged."""
        assert build(mode, api.url, cache=False).run().ok
        api.reset_stats()
        ingestor = build(mode, api.url, cache=False)
        report = ingestor.run()
        assert report.ok
        counts = (report.pages, report.fetched, report.inserted, report.updated, report.unchanged)
        assert counts == (expected.pages, expected.records, 0, 0, expected.records)
        assert report.cache_hits == 0
        assert served_pages(api) == expected.pages
        assert ingestor.store.count("local") == expected.records

    def test_changed_records_are_updated(
        self,
        mode: str,
        api: ServerHandle,
        changed_api: ServerHandle,
        build: Any,
        expected: Any,
        expected_of: Any,
        stored: Any,
    ) -> None:
        """A run over changed data updates exactly the changed records to their new content."""
        assert build(mode, api.url).run().ok
        changed = expected_of(changed_api)
        differing = sum(
            expected.checksums[resource][key] != checksum
            for resource, checksums in changed.checksums.items()
            for key, checksum in checksums.items()
        )
        ingestor = build(mode, changed_api.url)
        report = ingestor.run()
        assert report.ok
        assert differing > 0
        assert (report.inserted, report.updated) == (0, differing)
        assert report.unchanged == expected.records - differing
        assert stored(ingestor.store) == changed.checksums


class TestProgressAndSpans:
    """What a run tells while it runs, and the timeline it leaves."""

    def test_progress_sees_each_page_as_it_lands(
        self, mode: str, api: ServerHandle, build: Any, expected: Any, served_pages: Any
    ) -> None:
        """Progress gets every page once, as it lands; in sync mode, each before the next fetch.

        With a transaction per page (batches of 10 rows), each page lands as it is written.
        """
        landed: list[tuple[str, int, int]] = []

        def progress(result: UnitResult) -> None:
            landed.append((result.resource, result.page, served_pages(api)))

        build(mode, api.url, cache=False, batch_rows=10).run(progress=progress)
        pages = {(resource, page) for resource, page, _ in landed}
        assert len(landed) == len(pages) == expected.pages
        # The first page to land is one of the first asked for (each resource's first ones, as
        # many as the mode runs at once); how far the others run ahead is the mode's timing.
        first_pages = 1 if mode == "sync" else (2 if mode == "multiprocess" else 4)
        assert landed[0][1] <= first_pages
        if mode == "sync":  # one page at a time: each lands before the next is asked for
            assert [served for _, _, served in landed] == list(range(1, expected.pages + 1))

    def test_one_span_per_page_with_ordered_stages(
        self, mode: str, api: ServerHandle, build: Any, expected: Any
    ) -> None:
        """Every page has one span whose stages run in order within the run's duration."""
        report = build(mode, api.url, cache=False).run()
        assert len(report.spans) == len({(s.resource, s.page) for s in report.spans})
        assert len(report.spans) == expected.pages
        for span in report.spans:
            assert span.process is not None and span.persist is not None
            marks = [*span.fetch, *span.process, *span.persist]
            assert marks == sorted(marks)
            assert marks[0] >= 0
            assert marks[-1] <= report.seconds

    def test_the_report_names_the_writers_it_was_given(
        self, mode: str, api: ServerHandle, build: Any
    ) -> None:
        """The report keeps its write connections, and every batch names one of their writers."""
        default = build(mode, api.url, cache=False).run()
        assert default.write_connections == MODES[mode].default_write_connections
        report = build(mode, api.url, cache=False, batch_rows=10, write_connections=2).run()
        assert report.ok and report.write_connections == 2
        assert {span.writer for span in report.spans} <= set(writer_names(2))

    def test_workers_show_the_modes_concurrency(
        self, mode: str, api: ServerHandle, build: Any
    ) -> None:
        """Sync works in one worker; threads and tasks share pages; processes are the pool's."""
        report = build(mode, api.url, cache=False).run()
        workers = {span.worker for span in report.spans}
        if mode == "sync":
            assert workers == {"main"}
        elif mode == "multiprocess":
            assert 1 <= len(workers) <= 2
            assert all(name.startswith("process-") for name in workers)
        else:
            assert 1 < len(workers) <= 4


class TestStoppedOrEmbedded:
    """Runs stopped by their caller, and runs started from inside an event loop."""

    def test_a_stopped_run_is_saved_as_interrupted_and_the_next_completes(
        self, mode: str, api: ServerHandle, build: Any, expected: Any, stored: Any
    ) -> None:
        """Ctrl-C from progress stops the run and its workers; saved interrupted, it reruns."""

        def stop_at_page_three(result: UnitResult) -> None:
            if len(seen) == 2:
                raise KeyboardInterrupt
            seen.append(result)

        seen: list[UnitResult] = []
        ingestor = build(mode, api.url)
        stopped: KeyboardInterrupt | None = None
        try:
            ingestor.run(progress=stop_at_page_three)
        except KeyboardInterrupt as exc:
            stopped = exc  # holds the run's frame, as a REPL's last traceback does
        assert stopped is not None
        assert stopped.__traceback__ is not None
        names = ("thread", "event-loop", "asyncio")
        workers = [t.name for t in threading.enumerate() if t.name.startswith(names)]
        assert workers == []
        assert multiprocessing.active_children() == []
        [run] = ingestor.store.runs(1)
        assert run["status"] == "interrupted"
        assert run["report"]["stopped"] == "KeyboardInterrupt"  # why it stopped, by name
        report = build(mode, api.url).run()
        assert report.ok
        assert stored(ingestor.store) == expected.checksums

    def test_runs_from_inside_a_running_event_loop(
        self, mode: str, api: ServerHandle, build: Any, expected: Any
    ) -> None:
        """Called from code that holds a running event loop (a notebook cell), a run works."""
        ingestor = build(mode, api.url)

        async def notebook_cell() -> Any:
            return ingestor.run()

        report = asyncio.run(notebook_cell())
        assert report.ok
        assert report.inserted == expected.records
