"""The abstract ingestor: the seed's fetch / process / persist contract, one runner, one report.

Every mode runs the same pipeline; only the middle line runs differently:

    units   -> jobs: each unit with its cached response (``planning.with_cached``)
    jobs    -> handle (or its async twin ahandle): fetch, else the source, retried -> process
               (its two halves, fetch_page and finish, for a mode that runs them apart)
    pages   -> the writer (``workbench.ingestion.writer``): dedup -> persist a batch in one
               transaction -> mark its records seen and cache its responses

The one runner (``workbench.ingestion.runner``) hands ``schedule`` the units as it plans
them: the first pages of each resource, then, once page 1 tells how many there are, the
rest. ``schedule`` is the only thing a mode decides: whether ``handle`` runs here, on
threads or on processes, or its async halves as tasks on an event loop (``afetch_page`` in a
lane, ``finish`` once the lane has moved on). Whatever a mode schedules, the ready pages come
back to the calling thread and the one writer, so every mode deduplicates, batches and
writes in exactly the same way.
"""

from __future__ import annotations

import contextlib
import logging
import time
import uuid
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator
from functools import cached_property
from typing import TYPE_CHECKING, Any, ClassVar

from workbench.db.connections import Connections
from workbench.errors import MalformedPayloadError, WorkbenchError
from workbench.ingestion.lifecycle import Stop
from workbench.ingestion.pages import Fetched, Job, ReadyPage
from workbench.ingestion.report import RunReport, UnitResult
from workbench.ingestion.scheduling import WAIT, Wait
from workbench.ingestion.workers import RetryOptions, RetryWrappers, Worker
from workbench.ingestion.writer import DEFAULT_BATCH_ROWS, DEFAULT_LINGER_S, PageWriter
from workbench.logging_setup import bind_context
from workbench.processing import ProcessedBatch
from workbench.processing.registry import processor_module
from workbench.sources.source import Payload, RawPage, Source, WorkUnit

if TYPE_CHECKING:
    from workbench.db.postgres import PostgresStore
    from workbench.db.redis_cache import RedisCache

__all__ = ["WAIT", "Ingestor", "Job", "ReadyPage", "RetryOptions", "Wait", "Worker"]

log = logging.getLogger("workbench.ingestion")


class Ingestor(ABC):
    """Fetch, process, dedup and persist pages of resources; subclasses only schedule."""

    mode: ClassVar[str]
    #: Postgres connections the writer uses at once unless told otherwise.
    default_write_connections: ClassVar[int] = 1

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
        processor: str = "records",
        batch_rows: int = DEFAULT_BATCH_ROWS,
        linger_s: float = DEFAULT_LINGER_S,
        write_connections: int | None = None,
        heartbeat_s: float = 5.0,
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
        processor_module(processor)  # refuses an unknown name now, not on the first page
        #: How pages are processed: ``records`` one at a time, ``pandas`` a column at a time.
        self.processor = processor
        self.batch_rows = batch_rows
        #: Seconds a batch waits to fill before it is written anyway (``PageWriter``).
        self.linger_s = linger_s
        self.write_connections = write_connections or self.default_write_connections
        self.heartbeat_s = heartbeat_s
        self.run_id = run_id or uuid.uuid4().hex[:12]
        #: Set it (``stopping.request("SIGTERM")``) to end the run gracefully.
        self.stopping = Stop()
        self._started = time.perf_counter()
        self._retry_wrappers = RetryWrappers()
        #: What ``executor()`` opened for the current run (None outside a run).
        self.pool: Any = None

    # Opened on first use: a worker process rebuilds an ingestor that never touches them.
    @cached_property
    def store(self) -> PostgresStore:
        """The Postgres store the writer and the run record use."""
        return self.connections.store()

    @cached_property
    def cache(self) -> RedisCache | None:
        """The fail-open Redis cache (responses and dedup), or None when running without."""
        return self.connections.cache()

    def retrying(self, fn: Callable[..., Any]) -> Any:
        """Return ``fn`` wrapped by ``retry_options``' decorator (built once, then reused)."""
        return self._retry_wrappers.wrap(self.retry_options, fn)

    def now(self) -> float:
        """Return seconds since the run started (the spans' time axis)."""
        return time.perf_counter() - self._started

    # --- the contract: fetch / process, and their async twins -------------------------------

    def fetch(self, job: Job, worker: Worker, page: ReadyPage) -> RawPage:
        """Return the unit's records from its cached response, else from the source (retried)."""
        if (cached := self.from_cache(job, page)) is not None:
            return cached
        fetch_and_parse = self.retrying(self._fetch_and_parse)
        try:
            raw, payload = fetch_and_parse(job.unit, worker)
        finally:
            page.retries["fetch"] = fetch_and_parse.statistics.attempts - 1
        return self.keep_response(page, raw, payload)

    async def afetch(self, job: Job, worker: Worker, page: ReadyPage) -> RawPage:
        """Async twin of ``fetch``."""
        if (cached := self.from_cache(job, page)) is not None:
            return cached
        fetch_and_parse = self.retrying(self._afetch_and_parse)
        try:
            raw, payload = await fetch_and_parse(job.unit, worker)
        finally:
            page.retries["fetch"] = fetch_and_parse.statistics.attempts - 1
        return self.keep_response(page, raw, payload)

    def from_cache(self, job: Job, page: ReadyPage) -> RawPage | None:
        """Return the job's cached page when it still parses (a cache hit), else None."""
        cached = self.parse_cached(job.unit, job.cached)
        page.cache_hit = cached is not None
        return cached

    def keep_response(self, page: ReadyPage, raw: RawPage, payload: Payload) -> RawPage:
        """Keep a fetched response on its page, for the writer to cache after the commit."""
        page.response = payload.to_bytes() if self.source.cacheable else None
        return raw

    def _fetch_and_parse(self, unit: WorkUnit, worker: Worker) -> tuple[RawPage, Payload]:
        """Fetch and parse as one retried step: a truncated body is worth another attempt."""
        payload = self.source.fetch(unit, worker.session)
        return self.source.parse(unit, payload), payload

    async def _afetch_and_parse(self, unit: WorkUnit, worker: Worker) -> tuple[RawPage, Payload]:
        """Async twin of ``_fetch_and_parse``."""
        payload = await self.source.afetch(unit, worker.session)
        return self.source.parse(unit, payload), payload

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

    def process(self, raw: RawPage, worker: Worker) -> ProcessedBatch:
        """Clean, validate and checksum a page's records; invalid ones become rejects."""
        processor = worker.processor(raw.unit.resource, self.cpu_cost, self.processor)
        return processor.process_many(raw.records)

    # --- one job, fetched and processed: what every mode schedules --------------------------

    def handle(self, job: Job, worker: Worker) -> ReadyPage:
        """Fetch and process one job; a failure of any kind is kept on the page, never raised."""
        return self.finish(self.fetch_page(job, worker))

    async def ahandle(self, job: Job, worker: Worker) -> ReadyPage:
        """Async twin of ``handle``: the same steps, with the fetch awaited."""
        return self.finish(await self.afetch_page(job, worker))

    def fetch_page(self, job: Job, worker: Worker) -> Fetched:
        """Begin the job's page and fetch its records (``handle``'s first half)."""
        page = ReadyPage.begin(job.unit, worker.name, self.now())
        with bind_context(resource=job.unit.resource, page=job.unit.page, worker=worker.name):
            try:
                return Fetched(page, self.fetch(job, worker, page), self.now(), worker)
            except Exception as exc:
                return Fetched(self.failed(page, exc))

    async def afetch_page(self, job: Job, worker: Worker) -> Fetched:
        """Async twin of ``fetch_page``."""
        page = ReadyPage.begin(job.unit, worker.name, self.now())
        with bind_context(resource=job.unit.resource, page=job.unit.page, worker=worker.name):
            try:
                return Fetched(page, await self.afetch(job, worker, page), self.now(), worker)
            except Exception as exc:
                return Fetched(self.failed(page, exc))

    def finish(self, fetched: Fetched) -> ReadyPage:
        """Process a fetched page's records (``handle``'s second half); a failed page stays so."""
        page, raw, worker = fetched.page, fetched.raw, fetched.worker
        if raw is None or worker is None:
            return page
        with bind_context(resource=page.resource, page=page.page, worker=worker.name):
            try:
                page.batch = self.process(raw, worker)
            except Exception as exc:
                return self.failed(page, exc)
        return self.ready(page, raw, fetched.at)

    def ready(
        self, page: ReadyPage, raw: RawPage, fetched: float, count: int | None = None
    ) -> ReadyPage:
        """Complete a processed page with what its fetch said and when each stage ended.

        ``count`` is how many records the page held, when ``raw`` no longer carries them.
        """
        page.marks = (page.marks[0], fetched, self.now())
        page.total_pages, page.more = raw.total_pages, raw.more
        page.fetched = len(raw.records) if count is None else count
        return page

    def failed(self, page: ReadyPage, exc: Exception) -> ReadyPage:
        """Keep why a page failed; an error outside our hierarchy is a bug, logged in full."""
        page.error = f"{type(exc).__name__}: {exc}"
        page.marks = (page.marks[0], self.now())
        if not isinstance(exc, WorkbenchError):
            log.error("unexpected error handling a page", exc_info=exc)
        return page

    # --- the runner -------------------------------------------------------------------------

    @abstractmethod
    def schedule(self, jobs: Iterable[Job | Wait]) -> Iterator[ReadyPage | UnitResult]:
        """Handle every job and yield each ready page: the only thing a mode decides.

        A mode whose workers also write (a queue's) yields their results instead.
        """

    def in_flight(self) -> int:
        """Return how many jobs this mode runs at once (how many first pages it asks for)."""
        return self.concurrency

    def executor(self) -> contextlib.AbstractContextManager[Any]:
        """Return what ``schedule`` may run jobs on for a whole run, as ``self.pool``.

        Nothing by default; a mode whose workers are costly to start (processes) opens them
        here once, for the first pages and the rest alike.
        """
        return contextlib.nullcontext()

    def writer(self) -> PageWriter:
        """Return the run's writer: batches of ``batch_rows`` or ``linger_s``, on its store."""
        return PageWriter(
            self.store,
            self.cache,
            source=self.source.name,
            run_id=self.run_id,
            retrying=self.retrying,
            clock=self.now,
            batch_rows=self.batch_rows,
            linger_s=self.linger_s,
            connections=self.write_connections,
        )

    def run(self, progress: Callable[[UnitResult], None] | None = None) -> RunReport:
        """Ingest every resource and return the report (see ``workbench.ingestion.runner``).

        ``progress`` is called with each page's result as it lands (a progress bar, a plot).
        """
        from workbench.ingestion.runner import run

        return run(self, progress)

    def cache_available(self) -> bool:
        """Tell whether Redis answered at the end of the run (no cache at all counts as yes)."""
        return self.cache is None or not self.cache.availability.is_down

    def close(self) -> None:
        """Release the store's connections and the cache's client, if they were opened."""
        if "store" in self.__dict__:
            self.store.close()
        if self.__dict__.get("cache") is not None:
            self.cache.close()  # type: ignore[union-attr]
