"""The abstract ingestor: the seed's fetch / process / persist contract, one runner, one report.

Every mode shares this file's pipeline for one unit of work (a page):

    fetch (response cache, then the source, retried)  ->  process (clean, validate, checksum)
      ->  dedup (Redis: drop records whose checksum is already stored)
      ->  persist (Postgres: one transaction per page)  ->  mark the page's records as seen

and this file's runner, which reads the first page of each resource, learns how many pages
there are, then hands all the other pages to ``schedule``. A mode is a subclass that only says
how pages are scheduled: one after another, on threads, on processes or on an event loop.

A mode that has many pages ready at once may persist them together (``write_pages``): one
transaction for the lot, and each page's records marked as seen only after it committed.
"""

from __future__ import annotations

import itertools
import logging
import time
import uuid
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, ClassVar

from workbench.db.connections import Connections
from workbench.errors import MalformedPayloadError, PermanentError, WorkbenchError
from workbench.ingestion.report import PageSpan, RunReport, UnitResult
from workbench.ingestion.workers import RetryOptions, RetryWrappers, Worker
from workbench.processing import ProcessedBatch, ProcessedRecord
from workbench.sources.source import Payload, RawPage, Source, WorkUnit

__all__ = ["Ingestor", "Marks", "RetryOptions", "Worker"]

#: When a page's stages ran: fetch start, fetch end (process start), process end, dedup
#: start, dedup end (persist start), persist end. Dedup and persist may be a batch's.
Marks = tuple[float, float, float, float, float, float]

log = logging.getLogger("workbench.ingestion")


class Ingestor(ABC):
    """Fetch, process, dedup and persist pages of resources; subclasses only schedule."""

    mode: ClassVar[str]

    def __init__(
        self,
        source: Source,
        connections: Connections,
        *,
        resources: Iterable[str] = ("posts",),
        max_pages: int | None = None,
        concurrency: int = 16,
        workers: int = 2,
        retry_options: RetryOptions | None = None,
        cpu_cost: int = 0,
        run_id: str | None = None,
    ) -> None:
        self.source = source
        self.connections = connections
        self.resources = tuple(resources)
        self.max_pages = max_pages
        self.concurrency = concurrency
        self.workers = workers
        self.retry_options = retry_options or RetryOptions()
        self.cpu_cost = cpu_cost
        self.run_id = run_id or uuid.uuid4().hex[:12]
        self.store = connections.store()
        self.cache = connections.cache()
        self._started = time.perf_counter()
        self._retry_wrappers = RetryWrappers()

    def retrying(self, fn: Callable[..., Any]) -> Any:
        """Return ``fn`` wrapped by ``retry_options``' decorator (built once, then reused)."""
        return self._retry_wrappers.wrap(self.retry_options, fn)

    # --- the contract: fetch / process / persist ------------------------------------------

    def fetch(self, unit: WorkUnit, worker: Worker, result: UnitResult) -> RawPage:
        """Return the unit's records from the response cache, else from the source (retried)."""
        cached = self._cached_page(unit)
        if cached is not None:
            result.cache_hit = True
            return cached
        fetch_and_parse = self.retrying(self._fetch_and_parse)
        try:
            page, payload = fetch_and_parse(unit, worker)
        finally:
            result.retries += fetch_and_parse.statistics.attempts - 1
        self._cache_payload(unit, payload)
        return page

    def _fetch_and_parse(self, unit: WorkUnit, worker: Worker) -> tuple[RawPage, Payload]:
        """Fetch and parse as one retried step: a truncated body is worth another attempt."""
        payload = self.source.fetch(unit, worker.session)
        return self.source.parse(unit, payload), payload

    def _cached_page(self, unit: WorkUnit) -> RawPage | None:
        """Return the parsed page from the response cache, if there and still parseable."""
        if self.cache is None or not self.source.cacheable:
            return None
        return self.parse_cached(unit, self.cache.get_response(unit.ref))

    def parse_cached(self, unit: WorkUnit, blob: bytes | None) -> RawPage | None:
        """Parse a cached payload; a missing or unparseable one is a miss."""
        if blob is None:
            return None
        try:
            page = self.source.parse(unit, Payload.from_bytes(blob))
        except (MalformedPayloadError, ValueError):
            return None
        page.from_cache = True
        return page

    def _cache_payload(self, unit: WorkUnit, payload: Payload) -> None:
        """Keep a good (parsed) response for the next run, when the source allows caching."""
        if self.cache is not None and self.source.cacheable:
            self.cache.set_response(unit.ref, payload.to_bytes())

    def process(self, page: RawPage, worker: Worker) -> ProcessedBatch:
        """Clean, validate and checksum a page's records; invalid ones become rejects."""
        return worker.processor(page.unit.resource, self.cpu_cost).process_many(page.records)

    def dedup(self, resource: str, records: list[ProcessedRecord]) -> list[ProcessedRecord]:
        """Drop records whose (id, checksum) Redis has already seen committed."""
        if self.cache is None or not records:
            return records
        return self.cache.filter_unseen(self.source.name, resource, records)

    def forget_unbacked_dedup(self) -> None:
        """Forget what Redis saw of resources Postgres has no rows of (a reset database)."""
        if self.cache is None:
            return
        for resource in self.resources:
            if self.store.count(self.source.name, resource) == 0:
                self.cache.forget(self.source.name, resource)  # else dedup drops every record

    def write(self, batch: ProcessedBatch, fresh: list[ProcessedRecord]) -> Any:
        """Write one page's new records and rejects in one transaction, retried."""
        write = self.retrying(self.store.write_batch)
        return write(self.source.name, fresh, batch.rejects, run_id=self.run_id)

    def persist(self, unit: WorkUnit, batch: ProcessedBatch, fresh: list[ProcessedRecord]) -> Any:
        """Write the page, then mark its records as seen (only after the commit: no loss)."""
        outcome = self.write(batch, fresh)
        if self.cache is not None and fresh:
            self.cache.mark_seen(self.source.name, unit.resource, fresh)
        return outcome

    def write_pages(
        self, pages: Sequence[tuple[ProcessedBatch, list[ProcessedRecord]]]
    ) -> list[Any]:
        """Write several pages in one transaction (retried); return each page's result or error.

        A batch refused for its data is written page by page, so only the page at fault fails.
        """
        write = self.retrying(self.store.write_pages)
        parts = [(fresh, batch.rejects) for batch, fresh in pages]
        try:
            return list(write(self.source.name, parts, run_id=self.run_id))
        except PermanentError as exc:
            if len(pages) == 1:
                return [exc]
        except WorkbenchError as exc:
            return [exc] * len(pages)
        outcomes: list[Any] = []
        for batch, fresh in pages:
            try:
                outcomes.append(self.write(batch, fresh))
            except WorkbenchError as exc:
                outcomes.append(exc)
        return outcomes

    # --- one unit, start to end -----------------------------------------------------------

    def now(self) -> float:
        """Return seconds since the run started (the spans' time axis)."""
        return time.perf_counter() - self._started

    def handle(self, unit: WorkUnit, worker: Worker) -> UnitResult:
        """Run the whole pipeline for one unit; a failure is recorded, never raised."""
        result = UnitResult(unit.resource, unit.page, unit.ref)
        t0 = self.now()
        try:
            page = self.fetch(unit, worker, result)
        except WorkbenchError as exc:
            return self.fail(unit, result, exc, worker.name, t0)
        t1 = self.now()
        batch = self.process(page, worker)
        t2 = self.now()
        fresh = self.dedup(unit.resource, batch.records)
        t3 = self.now()
        try:
            outcome = self.persist(unit, batch, fresh)
        except WorkbenchError as exc:
            return self.fail(unit, result, exc, worker.name, t0)
        t4 = self.now()
        result.total_pages, result.fetched = page.total_pages, len(page.records)
        return self.finish(result, batch, fresh, outcome, worker.name, (t0, t1, t2, t2, t3, t4))

    def finish(
        self,
        result: UnitResult,
        batch: ProcessedBatch,
        fresh: list[ProcessedRecord],
        outcome: Any,
        worker: str,
        marks: Marks,
        *,
        batch_pages: int = 1,
    ) -> UnitResult:
        """Fill a unit's counts, stage timings and span (shared by every mode).

        A page persisted in a batch of ``batch_pages`` gets the batch's dedup and write
        interval in its span, and a share of their time in its stage seconds, so stage
        seconds still add up to the time spent over the run.
        """
        t0, t1, t2, t3, t4, t5 = marks
        result.inserted = outcome.inserted
        result.updated = outcome.updated
        result.unchanged = outcome.unchanged + len(batch.records) - len(fresh)
        result.rejected = len(batch.rejects)
        result.stage_seconds = {
            "fetch": t1 - t0,
            "process": t2 - t1,
            "dedup": (t4 - t3) / batch_pages,
            "persist": (t5 - t4) / batch_pages,
        }
        result.span = PageSpan(result.resource, result.page, worker, (t0, t1), (t1, t2), (t4, t5))
        result.cache_available = self.cache_available()
        return result

    def fail(
        self, unit: WorkUnit, result: UnitResult, exc: Exception, worker: str, t0: float
    ) -> UnitResult:
        """Record a page that failed after its retries; the run goes on without it."""
        result.error = f"{type(exc).__name__}: {exc}"
        result.span = PageSpan(unit.resource, unit.page, worker, (t0, self.now()))
        result.cache_available = self.cache_available()
        log.error("page failed", extra={"resource": unit.resource, "page": unit.page})
        try:
            self.store.record_failure(
                self.source.name, unit.resource, unit.ref, result.error, run_id=self.run_id
            )
        except WorkbenchError:
            log.exception("could not record the failed page %s", unit.ref)
        return result

    # --- the runner -------------------------------------------------------------------------

    @abstractmethod
    def schedule(self, units: Iterable[WorkUnit]) -> Iterator[UnitResult]:
        """Handle every unit and yield each result: the only thing a mode decides."""

    def plan_follow_ups(self, first_results: list[UnitResult]) -> Iterator[WorkUnit]:
        """Yield the units learnt from the first pages (pages 2..N of each resource)."""
        for result in first_results:
            if result.page == 1:
                yield from self.source.follow_up_units(
                    result.resource, result.total_pages, self.max_pages
                )

    def first_units(self) -> list[WorkUnit]:
        """Return every resource's first units (for an API: page 1, which tells the total)."""
        return [unit for resource in self.resources for unit in self.source.first_units(resource)]

    def run(self, progress: Callable[[UnitResult], None] | None = None) -> RunReport:
        """Ingest every resource and return the report; the run is saved in ``ingest_runs``.

        ``progress`` is called with each page's result as it lands (a progress bar, a plot).
        A run stopped by an exception (Ctrl-C, a failing ``progress``) is saved as failed.
        """
        report = RunReport(self.run_id, self.mode, self.source.name, self.resources)
        report.completed = False
        self._started = time.perf_counter()
        self.store.ensure_schema()
        self.forget_unbacked_dedup()
        self.store.start_run(self.run_id, self.mode, self.source.name, list(self.resources))
        try:
            first = list(self.schedule(self.first_units()))
            follow_ups = self.schedule(self.plan_follow_ups(first))
            try:
                for result in itertools.chain(first, follow_ups):
                    report.add(result)
                    if progress is not None:
                        progress(result)
            finally:
                # Stop the workers now, not whenever the traceback that holds them is freed.
                getattr(follow_ups, "close", lambda: None)()
            report.completed = True
        finally:
            report.seconds = time.perf_counter() - self._started
            report.cache_available = self.cache_available()
            status = "ok" if report.ok else "failed"
            self.store.finish_run(self.run_id, status, report.summary())
        return report

    def cache_available(self) -> bool:
        """Tell whether Redis answered at the end of the run (no cache at all counts as yes)."""
        return self.cache is None or not self.cache.availability.is_down

    def close(self) -> None:
        """Release the store's connections and the cache's client."""
        self.store.close()
        if self.cache is not None:
            self.cache.close()
