"""Ingestors: one pipeline and one report, a few ways to schedule it (the ``--mode`` flag)."""

from __future__ import annotations

from workbench.ingestion.async_ingestor import AsyncIngestor
from workbench.ingestion.async_processes_ingestor import AsyncProcessesIngestor
from workbench.ingestion.base import Ingestor, Job, ReadyPage, RetryOptions, Worker
from workbench.ingestion.modes import ALIASES, MODES, ingestor_class
from workbench.ingestion.multiprocess_ingestor import MultiprocessIngestor
from workbench.ingestion.report import PageSpan, RunReport, UnitResult
from workbench.ingestion.sync_ingestor import SyncIngestor
from workbench.ingestion.threaded_ingestor import ThreadedIngestor
from workbench.ingestion.writer import DEFAULT_BATCH_ROWS, PageWriter

__all__ = [
    "ALIASES",
    "DEFAULT_BATCH_ROWS",
    "MODES",
    "AsyncIngestor",
    "AsyncProcessesIngestor",
    "Ingestor",
    "Job",
    "MultiprocessIngestor",
    "PageSpan",
    "PageWriter",
    "ReadyPage",
    "RetryOptions",
    "RunReport",
    "SyncIngestor",
    "ThreadedIngestor",
    "UnitResult",
    "Worker",
    "ingestor_class",
]
