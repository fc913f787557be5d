"""Process pools for ingestion: workers forked from a warm fork server, set up like the parent.

Two ways to use them: ``handle_in_process`` runs a job's whole page path in a worker (the
multiprocess mode); ``ahandle_on_processes`` fetches on the event loop and sends only the
response body to a worker, which parses, processes and encodes it, and sends back plain rows
(the async_processes mode). Either way a worker encodes its records as ``COPY`` lines, so
the parent's writer only joins them.


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

import asyncio
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from workbench.db.copy_format import encode_records
from workbench.errors import MalformedPayloadError
from workbench.ingestion.base import Ingestor, Job, ReadyPage, Wait, Worker
from workbench.logging_setup import (
    bind_context,
    configure_logging,
    current_logging,
    get_context,
    set_context,
)
from workbench.processing import ProcessedBatch
from workbench.processing.registry import processor_class, processor_module
from workbench.sources.source import Payload, RawPage, WorkUnit

__all__ = [
    "PRELOAD",
    "WorkerIngestor",
    "ahandle_on_processes",
    "handle_in_process",
    "ingestor_from_recipe",
    "prepare_in_process",
    "process_pool",
    "recipe",
    "set_up_like_parent",
    "watch_run",
    "worker_context",
]

#: What the fork server imports once, so that every worker forked from it starts warm.
PRELOAD = [__name__, "workbench.sources.http_api", "requests", "workbench.queue.local"]

# One per worker process, set by the pool's initializer: a process handles jobs with these.
_process_state: tuple[Ingestor, Worker] | None = None


def worker_context(
    also: tuple[str, ...] = (),
) -> multiprocessing.context.ForkServerContext | multiprocessing.context.SpawnContext:
    """Return the fork server context (preloading ``PRELOAD`` and ``also``), else spawn.

    The preload is heeded when the server starts, once per parent: a module asked for later
    is imported by each worker as it starts instead.
    """
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload([*PRELOAD, *also])
    return context


def process_pool(ingestor: Ingestor, processes: int) -> ProcessPoolExecutor:
    """Return a pool of ``processes`` workers, each able to handle the ingestor's jobs."""
    return ProcessPoolExecutor(
        processes,
        # The processor's module (pandas, for the vectorised one) only when it is the one used.
        mp_context=worker_context((processor_module(ingestor.processor),)),
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
        "linger_s": ingestor.linger_s,
        "write_connections": ingestor.write_connections,
        "processor": ingestor.processor,
        "run_id": ingestor.run_id,
        "started": ingestor._started,  # perf_counter is system-wide on Linux: one time axis
        "run_pid": os.getpid(),  # a worker outlives the run by half a second at most
    }


class WorkerIngestor(Ingestor):
    """The ingestor a worker rebuilds: it handles (and maybe writes) jobs, others schedule."""

    mode = "process-worker"

    def schedule(self, jobs: Iterable[Job | Wait]) -> Iterator[ReadyPage]:
        """Not used: whoever started this worker schedules."""
        raise NotImplementedError


def ingestor_from_recipe(recipe: dict[str, Any]) -> WorkerIngestor:
    """Rebuild an ingestor from ``recipe()``, on the parent's time axis."""
    options = dict(recipe)
    started = options.pop("started")
    options.pop("run_pid")
    ingestor = WorkerIngestor(**options)
    ingestor._started = started
    return ingestor


def set_up_like_parent(logging_settings: dict[str, Any] | None, context: dict[str, Any]) -> None:
    """Configure logging as the parent did and bind its log context in this process."""
    if logging_settings is not None:
        configure_logging(**logging_settings)
    set_context(context)


def watch_run(pid: int, on_gone: Callable[[], None], every_s: float = 0.5) -> None:
    """Call ``on_gone`` once the run's process ``pid`` has ended (killed outright, say).

    Nothing else would stop a worker then: its fork server stays up while any worker lives
    (each holds the server's "alive" pipe), and a pool's idle worker waits on its queue forever.
    """

    def watch() -> None:
        while _running(pid):
            time.sleep(every_s)
        on_gone()

    threading.Thread(target=watch, name="run-watch", daemon=True).start()


def _running(pid: int) -> bool:
    """Tell whether process ``pid`` exists and has not ended (a zombie has ended)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:  # no /proc (macOS): the signal check is all there is
        return True


def _init_process(
    recipe: dict[str, Any], logging_settings: dict[str, str] | None, context: dict[str, Any]
) -> None:
    """Set this process up like its parent: logging, log context, ingestor and session."""
    global _process_state
    # Ctrl-C reaches the whole process group: the parent decides when its workers stop.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    set_up_like_parent(logging_settings, context)
    watch_run(recipe["run_pid"], lambda: os._exit(1))  # nobody is left to take its results
    ingestor = ingestor_from_recipe(recipe)
    processor_class(ingestor.processor)  # imported now, not inside the first page's timing
    worker = Worker(f"process-{os.getpid()}", ingestor.source.open_session())
    _process_state = (ingestor, worker)


def handle_in_process(job: Job) -> ReadyPage:
    """Handle one job with this process's ingestor and worker; send its records as rows."""
    assert _process_state is not None, "worker process was not initialised"
    ingestor, worker = _process_state
    page = ingestor.handle(job, worker)
    page.batch = _as_rows(ingestor, page.batch)
    return page


def prepare_in_process(unit: WorkUnit, payload: Payload) -> tuple[RawPage, ProcessedBatch]:
    """Parse, process and encode one response body; return its facts and its rows.

    The facts are the page's ``RawPage`` without its records (``total_pages``, ``more``,
    ``from_cache``) and their count in ``records`` is given by the batch.
    """
    assert _process_state is not None, "worker process was not initialised"
    ingestor, worker = _process_state
    raw = ingestor.source.parse(unit, payload)
    batch = _as_rows(ingestor, ingestor.process(raw, worker))
    facts = RawPage(unit, [], raw.total_pages, raw.from_cache, raw.more)
    return facts, batch


def _as_rows(ingestor: Ingestor, batch: ProcessedBatch) -> ProcessedBatch:
    """Return the batch with its records encoded as ``COPY`` lines (data left behind)."""
    rows = encode_records(batch.records, ingestor.source.name, ingestor.run_id)
    return ProcessedBatch(batch.resource, rows, batch.rejects)


async def ahandle_on_processes(ingestor: Ingestor, job: Job, worker: Worker) -> ReadyPage:
    """``ahandle`` with parsing, processing and encoding on ``ingestor.pool``'s processes.

    The event loop only moves bytes: it fetches the body (or takes the cached one) and
    awaits a worker's rows, so the loop's thread stays free for the network. A body that
    does not parse is fetched again, as in ``fetch``: both are one retried step.
    """
    page = ReadyPage.begin(job.unit, worker.name, ingestor.now())
    count = 0
    with bind_context(resource=job.unit.resource, page=job.unit.page, worker=worker.name):
        try:
            facts, page.batch, fetched = await _aprepare(ingestor, job, worker, page)
            count = len(page.batch.records) + len(page.batch.rejects)
        except Exception as exc:
            return ingestor.failed(page, exc)
    return ingestor.ready(page, facts, fetched, count)


async def _aprepare(
    ingestor: Ingestor, job: Job, worker: Worker, page: ReadyPage
) -> tuple[RawPage, ProcessedBatch, float]:
    """Return the page's facts, its rows and when its body had arrived."""
    loop = asyncio.get_running_loop()
    if job.cached is not None:
        try:
            facts, batch = await loop.run_in_executor(
                ingestor.pool, prepare_in_process, job.unit, Payload.from_bytes(job.cached)
            )
        except (MalformedPayloadError, ValueError):
            pass  # an unreadable cached body is a miss: fetch it again
        else:
            page.cache_hit = True
            return facts, batch, ingestor.now()

    # One module-level function, not a closure per page: the run keeps a retry wrapper per
    # function it is given, so a new closure each page would keep every page alive.
    step = ingestor.retrying(_afetch_and_prepare)
    try:
        payload, arrived, (facts, batch) = await step(ingestor, job, worker)
    finally:
        page.retries["fetch"] = step.statistics.attempts - 1
    page.response = payload.to_bytes() if ingestor.source.cacheable else None
    return facts, batch, arrived


async def _afetch_and_prepare(
    ingestor: Ingestor, job: Job, worker: Worker
) -> tuple[Payload, float, tuple[RawPage, ProcessedBatch]]:
    """Fetch a page's body on the loop, then parse and process it on a worker process."""
    payload = await ingestor.source.afetch(job.unit, worker.session)
    arrived = ingestor.now()
    loop = asyncio.get_running_loop()
    prepared = await loop.run_in_executor(ingestor.pool, prepare_in_process, job.unit, payload)
    return payload, arrived, prepared
