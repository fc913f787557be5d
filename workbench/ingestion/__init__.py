"""Ingestors: one pipeline and one report, four ways to schedule it (the ``--mode`` flag)."""

from __future__ import annotations

from workbench.ingestion.async_ingestor import AsyncIngestor
from workbench.ingestion.base import Ingestor, RetryOptions, Worker
from workbench.ingestion.multiprocess_ingestor import MultiprocessIngestor
from workbench.ingestion.report import PageSpan, RunReport, UnitResult
from workbench.ingestion.sync_ingestor import SyncIngestor
from workbench.ingestion.threaded_ingestor import ThreadedIngestor

__all__ = [
    "MODES",
    "AsyncIngestor",
    "Ingestor",
    "MultiprocessIngestor",
    "PageSpan",
    "RetryOptions",
    "RunReport",
    "SyncIngestor",
    "ThreadedIngestor",
    "UnitResult",
    "Worker",
    "ingestor_class",
]

MODES: dict[str, type[Ingestor]] = {
    cls.mode: cls for cls in (SyncIngestor, ThreadedIngestor, MultiprocessIngestor, AsyncIngestor)
}


def ingestor_class(mode: str) -> type[Ingestor]:
    """Return the ingestor class for a mode name (``sync``, ``threaded``, ...)."""
    return MODES[mode]
