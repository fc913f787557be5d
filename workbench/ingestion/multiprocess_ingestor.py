"""Multiprocess mode: a process pool over pages; each process owns its connections.

Processes sidestep the GIL, so CPU-heavy processing scales with cores; the price is starting
interpreters, pickling every unit and result across a pipe, and one Postgres and Redis
connection set per process (made once, by the pool's initializer).

Workers come from a fork server where the platform has one: a clean process, started once
per parent, that has already imported what a worker needs, so each run's workers are forked
from it in milliseconds instead of each importing workbench (about half a second of CPU).
Like spawned ones, they inherit no lock or socket from the parent.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from workbench.ingestion.base import Ingestor, Worker
from workbench.ingestion.report import RunReport, UnitResult
from workbench.ingestion.scheduling import bounded_map
from workbench.sources.source import WorkUnit

# One per worker process, set by the pool's initializer: a process handles units with these.
_process_state: tuple[Ingestor, Worker] | None = None

#: What the fork server imports once, so that every worker forked from it starts warm.
PRELOAD = [__name__, "workbench.db.postgres", "workbench.db.redis_cache", "requests"]


def worker_context() -> multiprocessing.context.BaseContext:
    """Return the fork server context (preloading ``PRELOAD``), else spawn where there is none."""
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(PRELOAD)  # heeded when the server starts, once per parent
    return context


class _WorkerIngestor(Ingestor):
    """The ingestor a worker process rebuilds from the parent's settings; it never schedules."""

    mode = "multiprocess"

    def schedule(self, units: Iterable[WorkUnit]) -> Iterator[UnitResult]:
        """Not used: the parent process schedules."""
        raise NotImplementedError


def _init_process(recipe: dict[str, Any], started: float) -> None:
    """Build this process's ingestor, connections and session once."""
    global _process_state
    ingestor = _WorkerIngestor(**recipe)
    ingestor._started = started  # perf_counter is system-wide on Linux: one time axis
    _process_state = (ingestor, Worker(f"process-{os.getpid()}", recipe["source"].open_session()))


def _handle_in_process(unit: WorkUnit) -> UnitResult:
    """Handle one unit with this process's state."""
    assert _process_state is not None, "worker process was not initialised"
    ingestor, worker = _process_state
    return ingestor.handle(unit, worker)


class MultiprocessIngestor(Ingestor):
    """Handle units on ``workers`` processes (none inherits a lock or socket from this one)."""

    mode = "multiprocess"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._pool: ProcessPoolExecutor | None = None
        # Each process has its own cache client: the run's cache is up only if all of theirs are.
        self._cache_by_worker: dict[str, bool] = {}

    def recipe(self) -> dict[str, Any]:
        """Return what a worker process needs to rebuild this ingestor (all picklable)."""
        return {
            "source": self.source,
            "connections": self.connections,
            "resources": self.resources,
            "max_pages": self.max_pages,
            "retry_options": self.retry_options,
            "cpu_cost": self.cpu_cost,
            "run_id": self.run_id,
        }

    def run(self, progress: Callable[[UnitResult], None] | None = None) -> RunReport:
        """Run on one process pool for the first pages and the rest: interpreters start once."""
        self._cache_by_worker.clear()
        try:
            return super().run(progress)
        finally:
            if self._pool is not None:
                self._pool.shutdown()
                self._pool = None

    def schedule(self, units: Iterable[WorkUnit]) -> Iterator[UnitResult]:
        """Spread the units over the run's process pool, a bounded window of them in flight."""
        if self._pool is None:
            self._pool = ProcessPoolExecutor(
                self.workers,
                mp_context=worker_context(),
                initializer=_init_process,
                initargs=(self.recipe(), self._started),
            )
        for result in bounded_map(self._pool, _handle_in_process, units, window=4 * self.workers):
            if result.span is not None:
                self._cache_by_worker[result.span.worker] = result.cache_available
            yield result

    def cache_available(self) -> bool:
        """Tell whether every worker process's Redis answered when it last finished a unit."""
        return all(self._cache_by_worker.values())
