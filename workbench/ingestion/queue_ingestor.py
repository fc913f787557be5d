"""Queue mode: pages become tasks on a Redis stream, run by worker processes that write them.

The run opens a job of its own on the queue (``workbench.queue.local``) and starts
``workers`` local worker processes; each reads tasks through the job's consumer group, runs
them through the same stages as every mode (fetch, process, dedup, one transaction) and
acknowledges each only after its commit. Their page results come back here as they land,
so the report, the progress bar and the ``ingest_runs`` row are those of every mode. The
same workers, started with ``workbench worker``, can run on any machine that reaches Redis,
Postgres and the source (``workbench enqueue``).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

from workbench.ingestion.base import Ingestor, Job, Wait
from workbench.ingestion.report import UnitResult

if TYPE_CHECKING:
    from workbench.queue.local import LocalQueue


class QueueIngestor(Ingestor):
    """Put jobs on a Redis stream as tasks for ``workers`` local worker processes."""

    mode = "queue"

    def in_flight(self) -> int:
        """Return the workers: each runs one task at a time."""
        return self.workers

    def executor(self) -> LocalQueue:
        """Open the run's job and start its workers, once for the first pages and the rest."""
        from workbench.queue.local import LocalQueue  # the queue builds on ingestion: no cycle

        return LocalQueue(self)

    def schedule(self, jobs: Iterable[Job | Wait]) -> Iterator[UnitResult]:
        """Enqueue the jobs as tasks; yield each page's result as a worker settles it."""
        yield from self.pool.run(jobs)
