"""Async + processes mode: the loop fetches, processes parse and process, two connections write.

The answer to "how would you make it faster?": give each kind of work what it needs. Waiting
on the network goes to an event loop (``concurrency`` lanes, one ``ClientSession``); the
CPU work of each page (parsing JSON, cleaning, validating, checksums, encoding the ``COPY``
lines) goes to ``workers`` processes, which receive raw response bodies and send back plain
rows, so it runs on every core instead of under one GIL; and the writer writes on two
Postgres connections at once. Where pages are tiny or the network is slow, the trip to a
process costs more than it saves: the benchmark shows both sides.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from functools import partial

from workbench.ingestion.base import Ingestor, Job, ReadyPage, Wait, Worker
from workbench.ingestion.processes import ahandle_on_processes, process_pool
from workbench.ingestion.scheduling import abounded_map, iterate_in_thread


class AsyncProcessesIngestor(Ingestor):
    """Fetch as tasks on an event loop; parse and process on a pool of processes."""

    mode = "async_processes"
    default_write_connections = 2

    def executor(self) -> ProcessPoolExecutor:
        """Start ``workers`` processes once per run for the pages' CPU work."""
        return process_pool(self, self.workers)

    def schedule(self, jobs: Iterable[Job | Wait]) -> Iterator[ReadyPage]:
        """Run ``aschedule`` on an event loop in a helper thread; yield its pages here."""
        return iterate_in_thread(self.aschedule(jobs), window=2 * self.concurrency)

    async def aschedule(self, jobs: Iterable[Job | Wait]) -> AsyncIterator[ReadyPage]:
        """Fetch with ``concurrency`` tasks sharing one session; process on the pool."""
        async with self.source.asession(self.concurrency) as session:
            lanes = [Worker(f"task-{i}", session) for i in range(self.concurrency)]
            async for page in abounded_map(partial(ahandle_on_processes, self), jobs, lanes):
                yield page
