"""Process pools for ingestion: workers forked from a warm fork server, set up like the parent.

Workers come from a fork server where the platform has one (the default start method on
Linux from Python 3.14): a clean process, started once per parent, that has already imported
what a worker needs, so each pool's workers are forked from it in milliseconds instead of
each importing workbench. Like spawned ones, they inherit no lock, socket or thread from the
parent. Each worker rebuilds the ingestor from a picklable recipe, configures logging as the
parent did and binds the run's log context, so its lines read like the parent's. A pool's
worker never opens Postgres or Redis: its pages go back to the parent's writer. (A queue's
local workers, ``workbench.queue.local``, come from the same fork server and recipe, and
write themselves.)
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from workbench.ingestion.base import Ingestor, Job, ReadyPage, Worker
from workbench.logging_setup import configure_logging, current_logging, get_context, set_context

__all__ = [
    "PRELOAD",
    "WorkerIngestor",
    "handle_in_process",
    "ingestor_from_recipe",
    "process_pool",
    "recipe",
    "set_up_like_parent",
    "worker_context",
]

#: What the fork server imports once, so that every worker forked from it starts warm.
PRELOAD = [__name__, "workbench.sources.http_api", "requests", "workbench.queue.local"]

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
        initargs=(recipe(ingestor), current_logging(), get_context()),
    )


def recipe(ingestor: Ingestor) -> dict[str, Any]:
    """Return what a worker process needs to rebuild ``ingestor`` (all picklable)."""
    return {
        "source": ingestor.source,
        "connections": ingestor.connections,
        "resources": ingestor.resources,
        "retry_options": ingestor.retry_options,
        "cpu_cost": ingestor.cpu_cost,
        "batch_rows": ingestor.batch_rows,
        "run_id": ingestor.run_id,
        "started": ingestor._started,  # perf_counter is system-wide on Linux: one time axis
    }


class WorkerIngestor(Ingestor):
    """The ingestor a worker rebuilds: it handles (and maybe writes) jobs, others schedule."""

    mode = "process-worker"

    def schedule(self, jobs: Iterable[Job]) -> Iterator[ReadyPage]:
        """Not used: whoever started this worker schedules."""
        raise NotImplementedError


def ingestor_from_recipe(recipe: dict[str, Any]) -> WorkerIngestor:
    """Rebuild an ingestor from ``recipe()``, on the parent's time axis."""
    options = dict(recipe)
    started = options.pop("started")
    ingestor = WorkerIngestor(**options)
    ingestor._started = started
    return ingestor


def set_up_like_parent(logging_settings: dict[str, str] | None, context: dict[str, Any]) -> None:
    """Configure logging as the parent did and bind its log context in this process."""
    if logging_settings is not None:
        configure_logging(**logging_settings)
    set_context(context)


def _init_process(
    recipe: dict[str, Any], logging_settings: dict[str, str] | None, context: dict[str, Any]
) -> None:
    """Set this process up like its parent: logging, log context, ingestor and session."""
    global _process_state
    set_up_like_parent(logging_settings, context)
    ingestor = ingestor_from_recipe(recipe)
    worker = Worker(f"process-{os.getpid()}", ingestor.source.open_session())
    _process_state = (ingestor, worker)


def handle_in_process(job: Job) -> ReadyPage:
    """Handle one job with this process's ingestor and worker."""
    assert _process_state is not None, "worker process was not initialised"
    ingestor, worker = _process_state
    return ingestor.handle(job, worker)
