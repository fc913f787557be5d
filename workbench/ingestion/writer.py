"""The pipeline's last stage, the same in every mode: ready pages written in batches.

    writer.add(page)   ->  the results of any batch that page completed
    writer.flush()     ->  the results of what is left

A batch holds whole pages, up to ``batch_rows`` records and rejects (a larger page goes
alone, so ``batch_rows=1`` is one transaction per page). It is written when the next page
would not fit, when it is full, or when its first page has waited ``linger_s`` (checked as
pages arrive), like a Kafka producer's ``batch.size`` and ``linger.ms``. With
``connections`` above one, batches are written by that many threads at once, each on its own
Postgres connection (two backends use both cores where one cannot), while pages keep
arriving; otherwise in the calling thread. Writing a batch takes:

1. **dedup**: one Redis round trip drops the records already stored (``RedisCache.unseen``);
2. **persist**: one Postgres transaction upserts the rest and every reject, retried;
3. **remember**: one round trip marks the committed records as seen and caches the pages'
   responses. Only after the commit: a crash in between costs a harmless re-check next
   time, never a lost record.

A batch refused for its data (a permanent error) is written again page by page, so a bad
page never sinks the good ones. A Postgres that stays unavailable through the retries ends
the run (``StorageUnavailableError`` is raised): no later page could be written either, and
nothing is half-written, since a batch commits whole or not at all. Each page still gets
its own ``UnitResult``, as if it had been written alone. Fewer, larger statements are what
make Postgres fast (see notebook 11).
"""

from __future__ import annotations

import contextvars
import logging
import threading
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from workbench.db.postgres import PostgresStore, WriteResult
from workbench.db.redis_cache import RedisCache
from workbench.errors import PermanentError, StorageUnavailableError, WorkbenchError
from workbench.ingestion.pages import ReadyPage, units_context
from workbench.ingestion.report import WRITER, PageSpan, UnitResult
from workbench.logging_setup import bind_context
from workbench.processing import ProcessedRecord

__all__ = ["DEFAULT_BATCH_ROWS", "DEFAULT_LINGER_S", "PageWriter"]

#: Records (and rejects) in one transaction unless told otherwise, in every mode.
DEFAULT_BATCH_ROWS = 5000
#: Seconds a batch's first page waits for the batch to fill before it is written anyway
#: (Flink's buffer timeout, Logstash's batch delay): a slow source's rows are stored as
#: they come, not at the end of the run, and a fast one still fills whole batches.
DEFAULT_LINGER_S = 0.1

log = logging.getLogger("workbench.ingestion")

#: ``retrying(fn)``: ``fn`` wrapped in the run's retry decorator (with ``.statistics``).
Retrying = Callable[[Callable[..., Any]], Any]


class PageWriter:
    """Deduplicate, persist and remember ready pages, a batch at a time; one per run."""

    def __init__(
        self,
        store: PostgresStore,
        cache: RedisCache | None,
        *,
        source: str,
        run_id: str,
        retrying: Retrying,
        clock: Callable[[], float],
        batch_rows: int = DEFAULT_BATCH_ROWS,
        linger_s: float = DEFAULT_LINGER_S,
        connections: int = 1,
    ) -> None:
        self.store = store
        self.cache = cache
        self.source = source
        self.run_id = run_id
        self.retrying = retrying
        self.clock = clock
        self.batch_rows = batch_rows
        self.linger_s = linger_s
        self.connections = connections
        self._pending: list[ReadyPage] = []
        self._rows = 0
        self._oldest = 0.0
        self._threads: ThreadPoolExecutor | None = None
        self._in_flight: deque[Future[list[UnitResult]]] = deque()

    def add(self, page: ReadyPage | UnitResult) -> list[UnitResult]:
        """Take one page; return the results of the pages written meanwhile (often none).

        A ``UnitResult`` was written elsewhere (by a queue worker, with a writer of its own)
        and passes straight through.
        """
        if isinstance(page, UnitResult):
            return [page]
        landed = self._finished()
        if page.error is not None:
            return [*landed, self.fail(page, page.error)]
        if self._pending and self._rows + page.rows > self.batch_rows:
            landed += self._send()
        if not self._pending:
            self._oldest = self.clock()
        self._pending.append(page)
        self._rows += page.rows
        if self._rows >= self.batch_rows or self.clock() - self._oldest >= self.linger_s:
            landed += self._send()
        return landed

    def flush(self) -> list[UnitResult]:
        """Write the pages waiting, if any, wait for every batch in flight; return results."""
        landed = self._send()
        while self._in_flight:
            landed += self._in_flight.popleft().result()
        return landed

    def close(self) -> None:
        """Let the writing threads finish what they hold, and end them."""
        if self._threads is not None:
            self._threads.shutdown(wait=True)
            self._threads = None

    def _send(self) -> list[UnitResult]:
        """Close the batch being filled and write it: here, or on a free writing thread."""
        pages, self._pending, self._rows = self._pending, [], 0
        if not pages:
            return []
        if self.connections == 1:
            return self.write(pages)
        landed = []
        while len(self._in_flight) >= self.connections:  # every connection busy: wait
            landed += self._in_flight.popleft().result()
        if self._threads is None:
            self._threads = ThreadPoolExecutor(self.connections, thread_name_prefix=WRITER)
        context = contextvars.copy_context()  # the run's log fields, in the writing thread
        self._in_flight.append(self._threads.submit(context.run, self.write, pages))
        return landed

    def _finished(self) -> list[UnitResult]:
        """Return the results of the batches written meanwhile, without waiting."""
        landed: list[UnitResult] = []
        while self._in_flight and self._in_flight[0].done():
            landed += self._in_flight.popleft().result()
        return landed

    def write(self, pages: Sequence[ReadyPage]) -> list[UnitResult]:
        """Write pages as one batch: dedup, one transaction, then remember what committed."""
        writer = WRITER if self.connections == 1 else threading.current_thread().name
        with bind_context(**units_context([page.unit for page in pages]), worker=writer):
            started = self.clock()
            fresh = self.dedup(pages)
            deduped = self.clock()
            outcomes, retries = self.persist(pages, fresh)
            self.remember(pages, fresh, outcomes)
            written = self.clock()
        pages[0].retries["persist"] = pages[0].retries.get("persist", 0) + retries
        marks = (started, deduped, written)
        return [
            self.fail(page, outcome)
            if isinstance(outcome, Exception)
            else self.finish(page, records, outcome, marks, len(pages), writer)
            for page, records, outcome in zip(pages, fresh, outcomes, strict=True)
        ]

    def dedup(self, pages: Sequence[ReadyPage]) -> list[list[ProcessedRecord]]:
        """Return each page's records Redis has not seen committed, in one round trip."""
        records = [page.batch.records for page in pages]
        if self.cache is None:
            return records
        unseen = {id(record) for record in self.cache.unseen(self.source, _flat(records))}
        return [[record for record in page if id(record) in unseen] for page in records]

    def persist(
        self, pages: Sequence[ReadyPage], fresh: Sequence[list[ProcessedRecord]]
    ) -> tuple[list[WriteResult | WorkbenchError], int]:
        """Write the batch in one transaction (retried); return each page's outcome and retries.

        A batch refused for its data is written page by page, so only the page at fault fails.
        """
        parts = [(records, page.batch.rejects) for page, records in zip(pages, fresh, strict=True)]
        outcome, retries = self._retried(parts)
        if isinstance(outcome, list):
            return list(outcome), retries
        if isinstance(outcome, StorageUnavailableError):
            raise outcome
        if not isinstance(outcome, PermanentError) or len(parts) == 1:
            return [outcome] * len(parts), retries
        outcomes: list[WriteResult | WorkbenchError] = []
        for part in parts:
            alone, more = self._retried([part])
            outcomes.append(alone[0] if isinstance(alone, list) else alone)
            retries += more
        return outcomes, retries

    def _retried(self, parts: list[Any]) -> tuple[list[WriteResult] | WorkbenchError, int]:
        """Write ``parts`` in one retried transaction; return the results or the error."""
        write = self.retrying(self.store.write_pages)
        try:
            return write(self.source, parts, run_id=self.run_id), write.statistics.attempts - 1
        except WorkbenchError as exc:
            return exc, write.statistics.attempts - 1

    def remember(
        self,
        pages: Sequence[ReadyPage],
        fresh: Sequence[list[ProcessedRecord]],
        outcomes: Sequence[WriteResult | WorkbenchError],
    ) -> None:
        """Mark the committed pages' records as seen and cache their responses, one round trip."""
        if self.cache is None:
            return
        committed = [i for i, outcome in enumerate(outcomes) if isinstance(outcome, WriteResult)]
        records = _flat([fresh[i] for i in committed])
        responses = [(pages[i].unit.ref, pages[i].response) for i in committed]
        self.cache.remember(self.source, records, [(u, r) for u, r in responses if r is not None])

    def finish(
        self,
        page: ReadyPage,
        fresh: list[ProcessedRecord],
        outcome: WriteResult,
        marks: tuple[float, float, float],
        batch_pages: int,
        writer: str = WRITER,
    ) -> UnitResult:
        """Build a written page's result: counts, stage seconds and its span.

        A page written in a batch of ``batch_pages`` gets the batch's dedup and persist
        intervals in its span, and the name of the ``writer`` that wrote it, and a share of
        their time in its stage seconds, so stage seconds still add up to the time spent over
        the run.
        """
        t0, t1, t2 = page.marks
        started, deduped, written = marks
        result = self._result(page)
        result.inserted, result.updated = outcome.inserted, outcome.updated
        result.unchanged = outcome.unchanged + len(page.batch.records) - len(fresh)
        result.rejected = len(page.batch.rejects)
        result.stage_seconds = {
            "fetch": t1 - t0,
            "process": t2 - t1,
            "dedup": (deduped - started) / batch_pages,
            "persist": (written - deduped) / batch_pages,
        }
        result.span = PageSpan(
            page.unit.resource,
            page.unit.page,
            page.worker,
            (t0, t1),
            (t1, t2),
            (started, deduped),
            (deduped, written),
            writer,
        )
        return result

    def fail(self, page: ReadyPage, error: str | Exception) -> UnitResult:
        """Record a page that failed after its retries; the run goes on without it."""
        result = self._result(page)
        result.error = error if isinstance(error, str) else f"{type(error).__name__}: {error}"
        unit = page.unit
        result.span = PageSpan(unit.resource, unit.page, page.worker, (page.marks[0], self.clock()))
        with bind_context(resource=unit.resource, page=unit.page):
            log.error("page failed: %s", result.error)
            try:
                self.retrying(self.store.record_failure)(
                    self.source, unit.resource, unit.ref, result.error, run_id=self.run_id
                )
            except WorkbenchError:
                log.exception("could not record the failed page %s", unit.ref)
        return result

    def _result(self, page: ReadyPage) -> UnitResult:
        """Start a page's result from what handling it found out."""
        unit = page.unit
        return UnitResult(
            unit.resource,
            unit.page,
            unit.ref,
            fetched=page.fetched,
            retries=dict(page.retries),
            cache_hit=page.cache_hit,
            cache_available=self.cache is None or not self.cache.availability.is_down,
            total_pages=page.total_pages,
            more=page.more,
        )


def _flat(groups: Sequence[list[ProcessedRecord]]) -> list[ProcessedRecord]:
    """Concatenate lists of records."""
    return [record for group in groups for record in group]
