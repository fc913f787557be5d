"""Process pools for ingestion: workers forked from a warm fork server, set up like the parent.

Workers come from a fork server where the platform has one (the default start method on
Linux from Python 3.14): a clean process, started once per parent, that has already imported
what a worker needs, so each pool's workers are forked from it in milliseconds instead of
each importing workbench. Like spawned ones, they inherit no lock, socket or thread from the
parent. Each worker rebuilds the ingestor from a picklable recipe, configures logging as the
parent did and binds the run's log context, so its lines read like the parent's. A worker
never opens Postgres or Redis: its pages go back to the parent's writer.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
from collections.abc import Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from workbench.ingestion.base import Ingestor, Job, ReadyPage, Worker
from workbench.logging_setup import configure_logging, current_logging, get_context, set_context

__all__ = ["PRELOAD", "handle_in_process", "process_pool", "worker_context"]

#: What the fork server imports once, so that every worker forked from it starts warm.
PRELOAD = [__name__, "workbench.sources.http_api", "requests"]

# One per worker process, set by the pool's initializer: a process handles jobs with these.
_process_state: tuple[Ingestor, Worker] | None = None


def worker_context() -> multiprocessing.context.BaseContext:
    """Return the fork server context (preloading ``PRELOAD``), else spawn where there is none."""
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(PRELOAD)  # heeded when the server starts, once per parent
    return context


def process_pool(ingestor: Ingestor, processes: int) -> ProcessPoolExecutor:
    """Return a pool of ``processes`` workers, each able to handle the ingestor's jobs."""
    return ProcessPoolExecutor(
        processes,
        mp_context=worker_context(),
        initializer=_init_process,
        initargs=(_recipe(ingestor), current_logging(), get_context()),
    )


def _recipe(ingestor: Ingestor) -> dict[str, Any]:
    """Return what a worker process needs to rebuild ``ingestor`` (all picklable)."""
    return {
        "source": ingestor.source,
        "connections": ingestor.connections,
        "resources": ingestor.resources,
        "retry_options": ingestor.retry_options,
        "cpu_cost": ingestor.cpu_cost,
        "run_id": ingestor.run_id,
        "started": ingestor._started,  # perf_counter is system-wide on Linux: one time axis
    }


class _ProcessIngestor(Ingestor):
    """The ingestor a worker process rebuilds: it handles jobs, the parent schedules them."""

    mode = "process-worker"

    def schedule(self, jobs: Iterable[Job]) -> Iterator[ReadyPage]:
        """Not used: the parent process schedules."""
        raise NotImplementedError


def _init_process(
    recipe: dict[str, Any], logging_settings: dict[str, str] | None, context: dict[str, Any]
) -> None:
    """Set this process up like its parent: logging, log context, ingestor and session."""
    global _process_state
    # Ctrl-C reaches the whole process group: the parent decides when its workers stop.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if logging_settings is not None:
        configure_logging(**logging_settings)
    set_context(context)
    recipe = dict(recipe)
    started = recipe.pop("started")
    ingestor = _ProcessIngestor(**recipe)
    ingestor._started = started
    worker = Worker(f"process-{os.getpid()}", ingestor.source.open_session())
    _process_state = (ingestor, worker)


def handle_in_process(job: Job) -> ReadyPage:
    """Handle one job with this process's ingestor and worker."""
    assert _process_state is not None, "worker process was not initialised"
    ingestor, worker = _process_state
    return ingestor.handle(job, worker)
