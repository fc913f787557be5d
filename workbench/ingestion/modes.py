"""The mode registry: every ``--mode`` name, its class, and the aliases users know them by.

Adding a mode is one file (a subclass of ``Ingestor`` that only says how jobs are
scheduled) and one line in ``MODES`` below; the CLI, settings, the factory, the benchmark
and the tests all read this table.
"""

from __future__ import annotations

from workbench.ingestion.async_ingestor import AsyncIngestor
from workbench.ingestion.async_processes_ingestor import AsyncProcessesIngestor
from workbench.ingestion.base import Ingestor
from workbench.ingestion.multiprocess_ingestor import MultiprocessIngestor
from workbench.ingestion.queue_ingestor import QueueIngestor
from workbench.ingestion.sync_ingestor import SyncIngestor
from workbench.ingestion.threaded_ingestor import ThreadedIngestor

__all__ = ["ALIASES", "IN_PROCESS", "MODES", "SCALE_OUT", "ingestor_class", "resolve"]

MODES: dict[str, type[Ingestor]] = {
    cls.mode: cls
    for cls in (
        SyncIngestor,
        ThreadedIngestor,
        MultiprocessIngestor,
        AsyncIngestor,
        AsyncProcessesIngestor,
        QueueIngestor,
    )
}

#: Modes whose workers are processes of their own reached through Redis, as they could run on
#: other machines: the benchmark measures them in a scenario of their own (by workers).
SCALE_OUT: tuple[str, ...] = ("queue",)
#: The modes a run schedules within its own process tree: every per-mode benchmark scenario.
IN_PROCESS: tuple[str, ...] = tuple(mode for mode in MODES if mode not in SCALE_OUT)

#: Other names accepted for a mode. ``multi`` is the seed's name for multiprocess
#: ("main.py: entry point, mode: sync / async / multi").
ALIASES: dict[str, str] = {"multi": "multiprocess"}


def resolve(name: str) -> str:
    """Return the mode a name or alias stands for (KeyError for neither)."""
    name = ALIASES.get(name, name)
    if name not in MODES:
        raise KeyError(name)
    return name


def ingestor_class(name: str) -> type[Ingestor]:
    """Return the ingestor class of a mode name or alias (``sync``, ``multi``, ...)."""
    return MODES[resolve(name)]
