"""Threaded mode: a thread pool over pages, one ``requests.Session`` per thread.

Threads overlap waiting (network, database) but share one GIL, so CPU-heavy processing does
not get faster; the benchmark's CPU scenario shows it. While the pool fetches and processes,
the calling thread writes the pages it gets back.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor

from workbench.ingestion.base import Ingestor, Job, ReadyPage, Wait
from workbench.ingestion.scheduling import bounded_map
from workbench.ingestion.workers import ThreadWorkers


class ThreadedIngestor(Ingestor):
    """Handle jobs on ``concurrency`` threads, each with its own session."""

    mode = "threaded"

    def schedule(self, jobs: Iterable[Job | Wait]) -> Iterator[ReadyPage]:
        """Spread the jobs over a thread pool, a bounded window of them in flight."""
        with (
            ThreadPoolExecutor(self.concurrency, thread_name_prefix="thread") as pool,
            ThreadWorkers(self.source) as workers,
        ):

            def handle(job: Job) -> ReadyPage:
                return self.handle(job, workers.current())

            yield from bounded_map(pool, handle, jobs, window=2 * self.concurrency)
