"""Multiprocess mode: a process pool over pages, each process with its own interpreter.

Processes sidestep the GIL, so CPU-heavy processing scales with cores; the price is starting
interpreters (forked from a warm fork server: see ``workbench.ingestion.processes``) and
pickling every job and processed page across a pipe. While the processes fetch and process,
the calling process writes the pages they send back.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor

from workbench.ingestion.base import Ingestor, Job, ReadyPage, Wait
from workbench.ingestion.processes import handle_in_process, process_pool
from workbench.ingestion.scheduling import bounded_map


class MultiprocessIngestor(Ingestor):
    """Handle jobs on ``workers`` processes (none inherits a lock or socket from this one)."""

    mode = "multiprocess"

    def in_flight(self) -> int:
        """Return the processes: each handles one job at a time."""
        return self.workers

    def executor(self) -> ProcessPoolExecutor:
        """Start ``workers`` processes once per run, for the first pages and the rest."""
        return process_pool(self, self.workers)

    def schedule(self, jobs: Iterable[Job | Wait]) -> Iterator[ReadyPage]:
        """Spread the jobs over the run's processes, a bounded window of them in flight."""
        yield from bounded_map(self.pool, handle_in_process, jobs, window=4 * self.workers)
