"""Sync mode: one ``requests.Session``, one page after another.

The baseline every other mode is measured against: simple, predictable, and idle while it
waits for the network or the database. Its pages reach the writer one by one; the writer
batches them like every mode's.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from workbench.ingestion.base import WAIT, Ingestor, Job, ReadyPage, Wait, Worker


class SyncIngestor(Ingestor):
    """Handle jobs one after another in the calling thread."""

    mode = "sync"

    def in_flight(self) -> int:
        """Return 1: one job at a time."""
        return 1

    def schedule(self, jobs: Iterable[Job | Wait]) -> Iterator[ReadyPage]:
        """Handle each job in turn with one session."""
        with self.source.session() as session:
            worker = Worker("main", session)
            for job in jobs:
                if job is not WAIT:  # nothing else is in flight: page 1 is already known
                    yield self.handle(job, worker)
