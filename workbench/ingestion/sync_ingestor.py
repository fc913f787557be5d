"""Sync mode: one ``requests.Session``, one page after another.

The baseline every other mode is measured against: simple, predictable, and idle while it
waits for the network or the database.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from workbench.ingestion.base import Ingestor, Worker
from workbench.ingestion.report import UnitResult
from workbench.sources.source import WorkUnit


class SyncIngestor(Ingestor):
    """Handle units sequentially in the calling thread."""

    mode = "sync"

    def schedule(self, units: Iterable[WorkUnit]) -> Iterator[UnitResult]:
        """Handle each unit in turn with one session."""
        worker = Worker("main", self.source.open_session())
        for unit in units:
            yield self.handle(unit, worker)
