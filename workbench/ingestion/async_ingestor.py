"""Async mode: aiohttp on one event loop, ``concurrency`` pages in flight, writes off the loop.

A fixed set of worker tasks pulls pages from one iterator (bounded concurrency without a
semaphore per page, and bounded memory: no task exists for a page not yet started). Fetches
share one ``ClientSession`` (connection reuse); processing runs on the loop (it is short);
Postgres writes run on a small thread pool (psycopg2 blocks) so the loop keeps fetching.

Results are yielded as they land, like the other modes (a progress bar moves during the run):
the loop runs while the runner waits for the next result and pauses while it folds one in.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import Callable, Coroutine, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from workbench.errors import WorkbenchError
from workbench.ingestion.base import Ingestor, Worker
from workbench.ingestion.report import UnitResult
from workbench.processing import ProcessedRecord
from workbench.sources.source import Payload, RawPage, WorkUnit


class AsyncIngestor(Ingestor):
    """Handle units on an event loop with ``concurrency`` worker tasks."""

    mode = "async"

    def schedule(self, units: Iterable[WorkUnit]) -> Iterator[UnitResult]:
        """Yield each unit's result as it lands, from an event loop run step by step."""
        landed: asyncio.Queue[UnitResult | None] = asyncio.Queue()
        with _stepped_loop() as run_until:
            work = run_until(self._start(units, landed))
            while (result := run_until(landed.get())) is not None:
                yield result
            work.result()  # re-raise what ended the work early, if anything did

    async def _start(
        self, units: Iterable[WorkUnit], landed: asyncio.Queue[UnitResult | None]
    ) -> asyncio.Task[None]:
        """Start handling the units; None lands after the last result, however the work ends."""
        work = asyncio.create_task(self.aschedule(units, landed))
        work.add_done_callback(lambda _: landed.put_nowait(None))
        return work

    async def aschedule(
        self, units: Iterable[WorkUnit], landed: asyncio.Queue[UnitResult | None]
    ) -> None:
        """Handle all units with ``concurrency`` tasks sharing one session and one cache client."""
        pending = iter(units)
        session = await self.source.aopen_session(self.concurrency)
        self.acache = self.connections.async_cache()
        writers = concurrent.futures.ThreadPoolExecutor(
            self.connections.pool_size, thread_name_prefix="writer"
        )

        async def work(name: str) -> None:
            worker = Worker(name, session)
            for unit in pending:  # next() never awaits, so tasks never take the same unit
                landed.put_nowait(await self.ahandle(unit, worker, writers))

        try:
            tasks = [work(f"task-{i}") for i in range(self.concurrency)]
            await asyncio.gather(*tasks)
        finally:
            writers.shutdown(wait=True)
            if session is not None:
                await session.close()
            if self.acache is not None:
                await self.acache.aclose()

    def cache_available(self) -> bool:
        """Tell whether Redis answered at the end of the run, judged by the async client."""
        acache = getattr(self, "acache", None)
        return acache is None or not acache.availability.is_down

    async def afetch(self, unit: WorkUnit, worker: Worker, result: UnitResult) -> RawPage:
        """Async twin of ``fetch``: the response cache, then the source, retried."""
        if self.acache is not None and self.source.cacheable:
            page = self.parse_cached(unit, await self.acache.get_response(unit.ref))
            if page is not None:
                result.cache_hit = True
                return page
        fetch_and_parse = self.retry_options.decorator()(self._afetch_and_parse)
        try:
            page, payload = await fetch_and_parse(unit, worker)
        finally:
            result.retries += fetch_and_parse.statistics.attempts - 1
        if self.acache is not None and self.source.cacheable:
            await self.acache.set_response(unit.ref, payload.to_bytes())
        return page

    async def _afetch_and_parse(self, unit: WorkUnit, worker: Worker) -> tuple[RawPage, Payload]:
        """Fetch and parse as one retried step."""
        payload = await self.source.afetch(unit, worker.session)
        return self.source.parse(unit, payload), payload

    async def adedup(self, resource: str, records: list[ProcessedRecord]) -> list[ProcessedRecord]:
        """Async twin of ``dedup``."""
        if self.acache is None or not records:
            return records
        return await self.acache.filter_unseen(self.source.name, resource, records)

    async def ahandle(
        self, unit: WorkUnit, worker: Worker, writers: concurrent.futures.Executor
    ) -> UnitResult:
        """Async twin of ``handle``: the same stages, the same report."""
        loop = asyncio.get_running_loop()
        result = UnitResult(unit.resource, unit.page, unit.ref)
        t0 = self.now()
        try:
            page = await self.afetch(unit, worker, result)
        except WorkbenchError as exc:
            return await loop.run_in_executor(writers, self.fail, unit, result, exc, worker, t0)
        t1 = self.now()
        batch = self.process(page, worker)
        t2 = self.now()
        fresh = await self.adedup(unit.resource, batch.records)
        t3 = self.now()
        try:
            outcome = await loop.run_in_executor(writers, self.write, batch, fresh)
        except WorkbenchError as exc:
            return await loop.run_in_executor(writers, self.fail, unit, result, exc, worker, t0)
        if self.acache is not None and fresh:
            await self.acache.mark_seen(self.source.name, unit.resource, fresh)
        t4 = self.now()
        return self.finish(result, page, batch, fresh, outcome, worker, (t0, t1, t2, t3, t4))


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
