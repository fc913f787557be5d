"""The one runner every mode shares: the planned units, the writer, the record, the report.

    report = ingestor.run()        # which calls run(ingestor)

1. Record the run (``RunRecord``: Postgres reached, silent runs marked abandoned, heartbeat).
2. The units, planned as the run learns (``Frontier.plan``): each resource's first pages, as
   many as the mode runs at once (page 1 tells how many there are, the others are guesses),
   then, once page 1 has answered, the follow-ups it announced, handed to the mode while
   the other first pages are still in flight. A guess past the end is no page (its retries
   still counted). Every page goes through the one writer.
3. The rest, if any: more past a full last page, checked against the pages themselves
   (``Frontier``: none past a short page).
4. The report: every page's result folded in as it lands; the run recorded as ``ok``,
   ``failed`` or ``interrupted``.

``ingestor.stopping.request(...)`` ends a run gracefully (pages in flight are written) as
``interrupted``; Postgres gone past the retries ends it as ``failed``, with the reason in
``report.stopped``; an exception (Ctrl-C in a notebook) is recorded, then raised.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Generator, Iterator
from typing import TYPE_CHECKING, cast

from workbench.errors import StorageUnavailableError
from workbench.ingestion.lifecycle import RunRecord, forget_unbacked_dedup
from workbench.ingestion.pages import ReadyPage
from workbench.ingestion.planning import Frontier, with_cached
from workbench.ingestion.report import RunReport, UnitResult
from workbench.ingestion.scheduling import Wait
from workbench.ingestion.writer import PageWriter
from workbench.logging_setup import bind_context
from workbench.sources.source import WorkUnit

if TYPE_CHECKING:
    from workbench.ingestion.base import Ingestor

__all__ = ["results", "run"]


def run(ingestor: Ingestor, progress: Callable[[UnitResult], None] | None = None) -> RunReport:
    """Ingest every resource of ``ingestor`` and return the report, saved in ``ingest_runs``."""
    report = RunReport(
        ingestor.run_id,
        ingestor.mode,
        ingestor.source.name,
        ingestor.resources,
        processor=ingestor.processor,
        write_connections=ingestor.write_connections,
    )
    report.completed = False
    ingestor._started = time.perf_counter()
    redis_retries = _redis_retries(ingestor)
    record = RunRecord(ingestor.store, ingestor.retrying, ingestor.run_id, ingestor.heartbeat_s)
    source = ingestor.source.name
    with bind_context(run_id=ingestor.run_id, mode=ingestor.mode, source=source):
        record.start(ingestor.mode, source, ingestor.resources)
        try:
            forget_unbacked_dedup(ingestor.store, ingestor.cache, source, ingestor.resources)
            with (
                ingestor.executor() as ingestor.pool,
                contextlib.closing(ingestor.writer()) as writer,
                contextlib.closing(results(ingestor, writer, report.add_retries)) as landing,
            ):
                for result in landing:
                    report.add(result)
                    if progress is not None:
                        progress(result)
            report.completed = not ingestor.stopping
        except StorageUnavailableError as exc:
            report.stopped = str(exc)  # no page could be written any more: stop cleanly
        except BaseException as exc:
            ingestor.stopping.request(type(exc).__name__)
            raise
        finally:
            ingestor.pool = None
            report.interrupted = bool(ingestor.stopping)
            report.stopped = report.stopped or ingestor.stopping.reason
            report.seconds = time.perf_counter() - ingestor._started
            report.cache_available = report.cache_available and ingestor.cache_available()
            report.add_retries({"redis": _redis_retries(ingestor) - redis_retries})
            record.finish(report.status, report.summary())
    return report


def results(
    ingestor: Ingestor,
    writer: PageWriter,
    count_retries: Callable[[dict[str, int]], object] = lambda retries: None,
) -> Generator[UnitResult, None, None]:
    """Yield every page's result as it lands: the planned units, then any round they leave.

    A guess past a resource's end yields nothing, but its requests were made: its retries
    go to ``count_retries`` (the report's), so a report counts every retry.
    """
    source, stopping = ingestor.source, ingestor.stopping
    cache = ingestor.cache if source.cacheable else None
    frontier = Frontier(source, ingestor.max_pages)
    units: Iterator[WorkUnit | Wait] = frontier.plan(ingestor.resources, ingestor.in_flight())
    while True:
        pages = ingestor.schedule(stopping.until(frontier.within(with_cached(units, cache))))
        try:
            for page in pages:
                for landed in frontier.settle(page):
                    yield from _land(landed, frontier, writer, count_retries)
        finally:
            # Stop the mode's workers now, not when the generator is freed (every mode's
            # schedule is a generator).
            cast(Generator[object, None, None], pages).close()
        if not (more := frontier.beyond()):
            break
        units = iter(more)
    yield from writer.flush()


def _land(
    page: ReadyPage | UnitResult,
    frontier: Frontier,
    writer: PageWriter,
    count_retries: Callable[[dict[str, int]], object],
) -> list[UnitResult]:
    """Hand a settled page to the writer, unless it was a guess past the end (retries kept)."""
    if frontier.missed(page):
        count_retries(page.retries)
        return []
    return writer.add(page)


def _redis_retries(ingestor: Ingestor) -> int:
    """Return how many times the Redis client has retried a command so far."""
    return 0 if ingestor.cache is None else ingestor.cache.stats.retries
