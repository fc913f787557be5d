"""The async mode's bulk plumbing: units in, with cached responses; pages out, in batches.

Per-page round trips are what a fast pipeline cannot afford. On the way in, ``CachedUnits``
hands fetching tasks their units together with the responses cached for them, looked up
``chunk`` units at a time (one MGET instead of a GET per page). On the way out, a transaction
per page would make Postgres run a thousand small COPYs and commits for 100k records:
instead, fetching tasks put processed pages on a bounded ``PageQueue`` and each writer takes
what is ready, up to ``max_rows`` records, for one transaction. While writes are quick the
batches stay small (a page lands as soon as it is written), and while a write is slow the
next batch grows, so Postgres runs fewer, larger statements exactly when it is the limit.
The bound makes fetching wait for writing, so memory stays flat whatever the run's size.
"""

from __future__ import annotations

import asyncio
import itertools
from collections import defaultdict, deque
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass

from workbench.ingestion.report import UnitResult
from workbench.processing import ProcessedBatch, ProcessedRecord
from workbench.sources.source import WorkUnit

__all__ = ["CachedUnits", "PageQueue", "ReadyPage", "by_resource"]

#: Looks up the cached responses of several URLs at once (None where nothing is cached).
Lookup = Callable[[list[str]], Awaitable[list[bytes | None]]]


class CachedUnits:
    """Units for fetching tasks to share, each with its cached response (or None).

    Units are taken from ``units`` ``chunk`` at a time and their cached responses looked up
    in one call of ``lookup`` (none when it is None); tasks then take them one by one.
    """

    def __init__(self, units: Iterable[WorkUnit], lookup: Lookup | None, chunk: int) -> None:
        self._units = iter(units)
        self._lookup = lookup
        self._chunk = max(1, chunk)
        self._ready: deque[tuple[WorkUnit, bytes | None]] = deque()
        self._lock = asyncio.Lock()

    async def next(self) -> tuple[WorkUnit, bytes | None] | None:
        """Return the next unit and its cached response, or None once every unit is out."""
        if not self._ready:
            # One lookup at a time: the tasks that wait for it then share its units, and no
            # task gives up while units it could take are still being looked up.
            async with self._lock:
                if not self._ready:
                    chunk = list(itertools.islice(self._units, self._chunk))
                    if not chunk:
                        return None
                    if self._lookup is None:
                        cached: list[bytes | None] = [None] * len(chunk)
                    else:
                        cached = await self._lookup([unit.ref for unit in chunk])
                    self._ready.extend(zip(chunk, cached, strict=True))
        return self._ready.popleft() if self._ready else await self.next()


@dataclass(slots=True)
class ReadyPage:
    """A page fetched and processed, waiting for the write of the batch it will be part of."""

    unit: WorkUnit
    result: UnitResult
    #: The name of the task that fetched and processed it (the span's row in a timeline).
    worker: str
    batch: ProcessedBatch
    #: When its fetch started, its fetch ended (processing started) and processing ended.
    marks: tuple[float, float, float]
    total_pages: int | None
    fetched: int
    #: The response to cache once the page is written (None: it came from the cache).
    response: bytes | None = None

    @property
    def rows(self) -> int:
        """Return how many records and rejects the page adds to a batch."""
        return len(self.batch.records) + len(self.batch.rejects)


class PageQueue:
    """A bounded queue of ready pages that writers take in batches, closed once per writer."""

    def __init__(self, max_pages: int) -> None:
        # None is the end marker: one per writer, so each writer sees one and stops.
        self._queue: asyncio.Queue[ReadyPage | None] = asyncio.Queue(max_pages)

    async def put(self, page: ReadyPage) -> None:
        """Queue a page, waiting while the queue is full (the writers are behind)."""
        await self._queue.put(page)

    async def close(self, writers: int) -> None:
        """Tell ``writers`` writers that no more pages will come."""
        for _ in range(writers):
            await self._queue.put(None)

    async def take(self, max_rows: int) -> list[ReadyPage]:
        """Wait for a page, then add the pages already waiting, up to ``max_rows`` rows.

        An empty list means the queue is closed. A page is never split, so a batch may pass
        ``max_rows`` by less than one page.
        """
        first = await self._queue.get()
        if first is None:
            return []
        batch, rows = [first], first.rows
        while rows < max_rows and not self._queue.empty():
            page = self._queue.get_nowait()
            if page is None:
                # Another writer's end marker (or ours, next time): leave it for them. The
                # slot just freed guarantees room, and nothing is queued behind end markers.
                self._queue.put_nowait(None)
                break
            batch.append(page)
            rows += page.rows
        return batch


def by_resource(
    pages: Sequence[ReadyPage], records: Sequence[list[ProcessedRecord]]
) -> dict[str, list[ProcessedRecord]]:
    """Group the records of several pages (``records[i]`` belongs to ``pages[i]``) by resource."""
    grouped: defaultdict[str, list[ProcessedRecord]] = defaultdict(list)
    for page, page_records in zip(pages, records, strict=True):
        grouped[page.unit.resource].extend(page_records)
    return dict(grouped)
