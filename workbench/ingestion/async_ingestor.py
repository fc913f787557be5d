"""Async mode: aiohttp on one event loop, ``concurrency`` pages in flight, batched writes.

A fixed set of fetching tasks pulls pages from one iterator (bounded concurrency without a
semaphore per page, and bounded memory: no task exists for a page not yet started), their
cached responses looked up a chunk of pages at a time. Fetches share one ``ClientSession``
(connection reuse); processing runs on the loop (it is short). Each processed page goes on
a bounded queue (``workbench.ingestion.batching``), and a few writer tasks take what is
ready as one batch: one Redis round trip to drop the records already stored, one Postgres
transaction on a writer thread (psycopg2 blocks; it releases the GIL while it waits), then
one round trip marks the batch's records as seen and caches its fresh responses. Fetching,
processing and writing overlap, and Postgres runs a few large statements, not one per page.

Results are yielded as they land, like the other modes (a progress bar moves during the run):
the loop runs while the runner waits for the next result and pauses while it folds one in.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import itertools
from collections.abc import Callable, Coroutine, Iterable, Iterator
from contextlib import contextmanager
from typing import Any, ClassVar

from workbench.errors import WorkbenchError
from workbench.ingestion.base import Ingestor, Worker
from workbench.ingestion.batching import CachedUnits, PageQueue, ReadyPage, by_resource
from workbench.ingestion.report import UnitResult
from workbench.processing import ProcessedRecord
from workbench.sources.source import Payload, RawPage, WorkUnit

Landed = asyncio.Queue[UnitResult | None]


class AsyncIngestor(Ingestor):
    """Handle units on an event loop with ``concurrency`` fetching tasks and batched writes."""

    mode = "async"
    #: Writer tasks, each with its own Postgres connection: two backends use both cores.
    writer_tasks: ClassVar[int] = 2
    #: Records (and rejects) a writer puts in one transaction at most.
    batch_rows: ClassVar[int] = 5000
    #: Processed pages that may wait for a writer before fetching waits too.
    queued_pages: ClassVar[int] = 64

    def schedule(self, units: Iterable[WorkUnit]) -> Iterator[UnitResult]:
        """Yield each unit's result as it lands, from an event loop run step by step."""
        landed: Landed = asyncio.Queue()
        with _stepped_loop() as run_until:
            work = run_until(self._start(units, landed))
            while True:
                # A batch lands many results at once: hand those on without turning the loop.
                result = run_until(landed.get()) if landed.empty() else landed.get_nowait()
                if result is None:
                    break
                yield result
            work.result()  # re-raise what ended the work early, if anything did

    async def _start(self, units: Iterable[WorkUnit], landed: Landed) -> asyncio.Task[None]:
        """Start handling the units; None lands after the last result, however the work ends."""
        work = asyncio.create_task(self.aschedule(units, landed))
        work.add_done_callback(lambda _: landed.put_nowait(None))
        return work

    async def aschedule(self, units: Iterable[WorkUnit], landed: Landed) -> None:
        """Fetch with ``concurrency`` tasks and write with a few, sharing a queue of pages."""
        session = await self.source.aopen_session(self.concurrency)
        self.acache = self.connections.async_cache()
        lookup = self.acache.get_responses if self.acache and self.source.cacheable else None
        # Several units per task and lookup: fewer moments when every task waits for one.
        pending = CachedUnits(units, lookup, chunk=4 * self.concurrency)
        writer_count = max(1, min(self.writer_tasks, self.connections.pool_size))
        threads = concurrent.futures.ThreadPoolExecutor(writer_count, thread_name_prefix="writer")
        ready = PageQueue(max(self.queued_pages, 2 * self.concurrency))

        async def fetch(name: str) -> None:
            worker = Worker(name, session)
            while (next_unit := await pending.next()) is not None:
                unit, cached = next_unit
                failed = await self.ahandle(unit, worker, ready, threads, cached)
                if failed is not None:
                    landed.put_nowait(failed)

        async def fetch_all() -> None:
            async with asyncio.TaskGroup() as fetchers:
                for i in range(self.concurrency):
                    fetchers.create_task(fetch(f"task-{i}"))
            await ready.close(writer_count)

        async def write() -> None:
            while pages := await ready.take(self.batch_rows):
                for result in await self.apersist(pages, threads):
                    landed.put_nowait(result)

        try:
            async with asyncio.TaskGroup() as group:
                group.create_task(fetch_all())
                for _ in range(writer_count):
                    group.create_task(write())
        finally:
            threads.shutdown(wait=True)
            if session is not None:
                await session.close()
            if self.acache is not None:
                await self.acache.aclose()

    def cache_available(self) -> bool:
        """Tell whether Redis answered at the end of the run, judged by the async client."""
        acache = getattr(self, "acache", None)
        return acache is None or not acache.availability.is_down

    async def afetch(
        self, unit: WorkUnit, worker: Worker, result: UnitResult, cached: bytes | None = None
    ) -> tuple[RawPage, bytes | None]:
        """Async twin of ``fetch``: the cached response, else the source, retried.

        ``cached`` is the unit's cached response, looked up by the caller (with others, in
        one round trip). Returns the page and the response worth caching once the page is
        written (None when it came from the cache or the source is not cacheable).
        """
        page = self.parse_cached(unit, cached)
        if page is not None:
            result.cache_hit = True
            return page, None
        fetch_and_parse = self.retrying(self._afetch_and_parse)
        try:
            page, payload = await fetch_and_parse(unit, worker)
        finally:
            result.retries += fetch_and_parse.statistics.attempts - 1
        cacheable = self.acache is not None and self.source.cacheable
        return page, payload.to_bytes() if cacheable else None

    async def _afetch_and_parse(self, unit: WorkUnit, worker: Worker) -> tuple[RawPage, Payload]:
        """Fetch and parse as one retried step."""
        payload = await self.source.afetch(unit, worker.session)
        return self.source.parse(unit, payload), payload

    async def ahandle(
        self,
        unit: WorkUnit,
        worker: Worker,
        ready: PageQueue,
        threads: concurrent.futures.Executor,
        cached: bytes | None = None,
    ) -> UnitResult | None:
        """Fetch and process one page, then queue it for writing: the per-page half of ``handle``.

        Returns the result of a page whose fetch failed (recorded on a writer thread, since
        recording blocks), else None: the page's result lands once its batch is written.
        """
        result = UnitResult(unit.resource, unit.page, unit.ref)
        t0 = self.now()
        try:
            page, response = await self.afetch(unit, worker, result, cached)
        except WorkbenchError as exc:
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(
                threads, self.fail, unit, result, exc, worker.name, t0
            )
        t1 = self.now()
        batch = self.process(page, worker)
        t2 = self.now()
        processed = (t0, t1, t2)
        await ready.put(
            ReadyPage(
                unit,
                result,
                worker.name,
                batch,
                processed,
                page.total_pages,
                len(page.records),
                response,
            )
        )
        return None

    async def adedup_pages(self, pages: list[ReadyPage]) -> list[list[ProcessedRecord]]:
        """Async twin of ``dedup`` for a batch: one Redis round trip per resource in it."""
        if self.acache is None:
            return [page.batch.records for page in pages]
        unseen: set[int] = set()
        for resource, records in by_resource(pages, [p.batch.records for p in pages]).items():
            fresh = await self.acache.filter_unseen(self.source.name, resource, records)
            unseen.update(map(id, fresh))
        return [[r for r in page.batch.records if id(r) in unseen] for page in pages]

    async def apersist(
        self, pages: list[ReadyPage], threads: concurrent.futures.Executor
    ) -> list[UnitResult]:
        """Dedup, write and mark as seen a batch of pages; return their results.

        The batch is one transaction on a writer thread, and its records are marked as seen
        only once it committed: a crash in between leaves them unseen, so the next run writes
        them again (idempotently) rather than losing them.
        """
        loop = asyncio.get_running_loop()
        t3 = self.now()
        fresh = await self.adedup_pages(pages)
        t4 = self.now()
        batches = [(page.batch, records) for page, records in zip(pages, fresh, strict=True)]
        outcomes = await loop.run_in_executor(threads, self.write_pages, batches)
        if self.acache is not None:
            ok = [not _failed(outcome) for outcome in outcomes]
            written = list(itertools.compress(pages, ok))
            seen = by_resource(written, list(itertools.compress(fresh, ok)))
            for resource, records in seen.items():
                if records:
                    await self.acache.mark_seen(self.source.name, resource, records)
            responses = [(p.unit.ref, p.response) for p in written if p.response is not None]
            await self.acache.set_responses(responses)
        t5 = self.now()
        results = []
        for page, records, outcome in zip(pages, fresh, outcomes, strict=True):
            if _failed(outcome):
                t0 = page.marks[0]
                args = (page.unit, page.result, outcome, page.worker, t0)
                results.append(await loop.run_in_executor(threads, self.fail, *args))
                continue
            page.result.total_pages, page.result.fetched = page.total_pages, page.fetched
            marks = (*page.marks, t3, t4, t5)
            results.append(
                self.finish(
                    page.result,
                    page.batch,
                    records,
                    outcome,
                    page.worker,
                    marks,
                    batch_pages=len(pages),
                )
            )
        return results


def _failed(outcome: Any) -> bool:
    """Tell whether a page's write outcome is the error that failed it."""
    return isinstance(outcome, WorkbenchError)


@contextmanager
def _stepped_loop() -> Iterator[Callable[[Coroutine[Any, Any, Any]], Any]]:
    """Yield ``run_until(coro)``, which runs one event loop until ``coro`` is done.

    Tasks started earlier advance while it runs and pause between calls. The loop runs in
    this thread, or in a helper thread when one already runs here (inside Jupyter).
    """
    runner = asyncio.Runner()
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        helper = None
    else:
        helper = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="event-loop")

    def call(fn: Callable[..., Any], *args: Any) -> Any:
        return fn(*args) if helper is None else helper.submit(fn, *args).result()

    try:
        yield lambda coro: call(runner.run, coro)
    finally:
        try:
            call(runner.close)  # cancels tasks left behind when the caller stopped early
        finally:
            if helper is not None:
                helper.shutdown()
