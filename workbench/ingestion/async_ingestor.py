"""Async mode: aiohttp on one event loop, ``concurrency`` pages in flight.

Each task is a lane: it fetches a page (awaiting the network, so the other tasks run) and
takes the next at once; the loop processes the fetched page (it is short) while the lanes'
requests are out, so a wave of pages answering together never holds a lane back for the
others' processing. All tasks share one ``ClientSession`` (connection reuse). The loop runs
in a helper thread and hands each ready page to the calling thread, which writes them in
batches while the loop keeps fetching.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Iterator

from workbench.ingestion.base import Ingestor, Job, ReadyPage, Wait, Worker
from workbench.ingestion.scheduling import abounded_map, iterate_in_thread


class AsyncIngestor(Ingestor):
    """Handle jobs as tasks on an event loop, ``concurrency`` of them at a time."""

    mode = "async"

    def schedule(self, jobs: Iterable[Job | Wait]) -> Iterator[ReadyPage]:
        """Run ``aschedule`` on an event loop in a helper thread; yield its pages here."""
        return iterate_in_thread(self.aschedule(jobs), window=2 * self.concurrency)

    async def aschedule(self, jobs: Iterable[Job | Wait]) -> AsyncIterator[ReadyPage]:
        """Fetch the jobs with ``concurrency`` tasks sharing one session; process each here."""
        async with self.source.asession(self.concurrency) as session:
            lanes = [Worker(f"task-{i}", session) for i in range(self.concurrency)]
            async for fetched in abounded_map(self.afetch_page, jobs, lanes):
                yield self.finish(fetched)
