"""Threaded mode: a thread pool over pages, one ``requests.Session`` per thread.

Threads overlap waiting (network, database) but share one GIL, so CPU-heavy processing does
not get faster; the benchmark's CPU scenario shows it.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor

from workbench.ingestion.base import Ingestor, Worker
from workbench.ingestion.report import UnitResult
from workbench.ingestion.scheduling import bounded_map
from workbench.sources.source import WorkUnit


class ThreadedIngestor(Ingestor):
    """Handle units on ``concurrency`` threads, each with its own session."""

    mode = "threaded"

    def schedule(self, units: Iterable[WorkUnit]) -> Iterator[UnitResult]:
        """Spread the units over a thread pool, a bounded window of them in flight."""
        local = threading.local()

        def work(unit: WorkUnit) -> UnitResult:
            worker = getattr(local, "worker", None)
            if worker is None:
                name = threading.current_thread().name
                worker = local.worker = Worker(name, self.source.open_session())
            return self.handle(unit, worker)

        with ThreadPoolExecutor(self.concurrency, thread_name_prefix="thread") as pool:
            yield from bounded_map(pool, work, units, window=2 * self.concurrency)
