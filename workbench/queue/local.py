"""A run's own job and its local workers: what ``workbench ingest --mode queue`` runs on.

``LocalQueue`` opens a private job (no ``workbench worker`` elsewhere serves it), starts
``workers`` worker processes from the warm fork server the multiprocess mode uses (each
rebuilds the run's ingestor from the same recipe and runs a ``QueueWorker`` on the job),
puts the run's units on the job as tasks, and yields each page's result as the workers
settle them, from the job's results stream. A graceful stop (``ingestor.stopping``)
withdraws the tasks no worker has read; those begun finish and are reported. Closing it stops
the workers (SIGTERM: each finishes its task), reaps them, and ends the job: sealed when the
run completed, cancelled (its tasks dropped) when an exception ended it.
"""

from __future__ import annotations

import contextlib
import itertools
import math
import os
import signal
from collections.abc import Iterable, Iterator
from types import TracebackType
from typing import TYPE_CHECKING, Any

from workbench.errors import ServiceError, StorageUnavailableError
from workbench.ingestion.pages import Job
from workbench.ingestion.processes import (
    ingestor_from_recipe,
    recipe,
    set_up_like_parent,
    watch_run,
    worker_context,
)
from workbench.ingestion.report import UnitResult
from workbench.ingestion.scheduling import WAIT, Wait
from workbench.logging_setup import current_logging, get_context
from workbench.queue.codec import decode_results, encode_units
from workbench.queue.pipeline import TaskPipeline, job_spec
from workbench.queue.worker import QueueWorker
from workbench.services.common import wait_until
from workbench.sources.source import WorkUnit

if TYPE_CHECKING:
    from workbench.ingestion.base import Ingestor

__all__ = ["LocalQueue", "pages_per_task", "serve_job"]

#: Seconds the local workers get to register before the run gives up on them.
START_TIMEOUT_S = 60.0
#: Seconds a stopping worker gets to finish its task before it is killed.
STOP_TIMEOUT_S = 30.0
#: Tasks on the queue, per worker, before the run waits for results to add more.
TASKS_AHEAD_PER_WORKER = 2


def pages_per_task(
    units: int, *, rows_per_unit: int | None, batch_rows: int, spread: int | None
) -> int:
    """Return how many units one task holds: a write batch's worth, spread over ``spread``.

    A task is the unit of delivery, of retry and of a transaction: bigger ones write bigger
    batches, smaller ones spread over more workers and redo less after a crash.
    """
    size = max(1, batch_rows // rows_per_unit) if rows_per_unit else 1
    if spread:
        size = min(size, max(1, math.ceil(units / spread)))
    return size


def serve_job(
    recipe_: dict[str, Any], logging_settings: Any, context: Any, job: str, name: str
) -> None:
    """Run one local worker on ``job`` until SIGTERM (the entry point of its process)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the run's: it stops us with SIGTERM
    set_up_like_parent(logging_settings, context)
    ingestor = ingestor_from_recipe(recipe_)
    pipeline = TaskPipeline(ingestor, name)
    broker = ingestor.connections.broker()
    worker = QueueWorker(broker, lambda _: pipeline, name=name, jobs=[job])
    signal.signal(signal.SIGTERM, lambda *_: worker.request_stop())
    # The run killed outright: finish the task in hand, then exit, as after its SIGTERM.
    watch_run(recipe_["run_pid"], lambda: os.kill(os.getpid(), signal.SIGTERM))
    try:
        worker.run()
    finally:
        pipeline.close()
        broker.close()


class LocalQueue:
    """A run's private job on the queue, served by ``ingestor.workers`` local processes."""

    def __init__(self, ingestor: Ingestor) -> None:
        self.ingestor = ingestor
        self.job = ingestor.run_id
        self.broker = ingestor.connections.broker()
        self.options = self.broker.options
        self.processes: list[Any] = []
        self.rows_per_unit: int | None = getattr(ingestor.source, "page_size", None)
        self._after = "0-0"

    def __enter__(self) -> LocalQueue:
        spec = job_spec(self.ingestor, {"kind": "run"}, results_maxlen=0)
        self.broker.create_job(self.job, spec, public=False)
        try:
            self._start_workers()
        except BaseException:
            self._stop_workers()
            self.broker.cancel(self.job)
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            self._stop_workers()
            if exc_type is None:
                self.broker.seal(self.job)
            else:
                self.broker.cancel(self.job)
        finally:
            self.broker.close()

    def _start_workers(self) -> None:
        """Start the workers and wait until each has registered (a bounded wait)."""
        context = worker_context()
        names = [f"worker-{i}.{self.job}" for i in range(1, self.ingestor.workers + 1)]
        args = (recipe(self.ingestor), current_logging(), get_context(), self.job)
        for name in names:
            process = context.Process(target=serve_job, args=(*args, name), name=name)
            process.start()
            self.processes.append(process)

        def registered() -> bool:
            self._check_alive()
            return set(names) <= set(self.broker.workers())

        if not wait_until(registered, timeout=START_TIMEOUT_S, interval=0.02):
            raise ServiceError(f"queue workers did not start within {START_TIMEOUT_S:g} s")

    def _check_alive(self) -> None:
        """Raise when every worker has exited: nothing would ever settle the tasks."""
        if self.processes and not any(process.is_alive() for process in self.processes):
            codes = [process.exitcode for process in self.processes]
            raise ServiceError(f"every queue worker exited (exit codes {codes})")

    def _check_storage(self, waiting: set[str]) -> None:
        """Raise, as every mode does, when a worker found Postgres unavailable past its retries.

        The task stays pending, so claims would run it again and again while Postgres is gone;
        the run stops instead, and a re-run writes what is missing.
        """
        prefix = f"{StorageUnavailableError.__name__}: "
        for task, error in self.broker.errors(self.job).items():
            if task in waiting and error.startswith(prefix):
                raise StorageUnavailableError(error.removeprefix(prefix))

    def _stop_workers(self) -> None:
        """SIGTERM every worker, wait for each to finish its task, kill the stragglers."""
        for process in self.processes:
            if process.is_alive():
                process.terminate()
        for process in self.processes:
            process.join(STOP_TIMEOUT_S)
            if process.is_alive():
                process.kill()
                process.join()
            process.close()
        self.processes = []
        with contextlib.suppress(Exception):  # the registry entries of killed workers
            for name in self.broker.workers():
                if name.endswith(f".{self.job}"):
                    self.broker.leave(name)

    def run(self, jobs: Iterable[Job | Wait]) -> Iterator[UnitResult]:
        """Put the jobs' units on the queue as tasks, a few per worker ahead; yield results.

        Units are taken only as tasks are needed, so what the run learns meanwhile (a short
        page ends its resource, a stop request) applies to the units not yet taken; at a
        ``WAIT`` none are taken until a task's results come back.
        """
        # A worker looks its cached responses up itself.
        units = (job if job is WAIT else job.unit for job in jobs)
        ahead = TASKS_AHEAD_PER_WORKER * self.ingestor.workers
        waiting: set[str] = set()
        more, withdrawn, paused = True, False, False
        while more or waiting:
            if self.ingestor.stopping:
                more = False
                if not withdrawn:  # a graceful stop: only the tasks a worker began
                    waiting -= set(self.broker.withdraw(self.job, sorted(waiting)))
                    withdrawn = True
                    continue
            if more and len(waiting) < ahead and not (paused and waiting):
                tasks, more, paused = self._tasks(units, ahead - len(waiting))
                waiting |= set(self.broker.add_tasks(self.job, tasks))
                continue
            reports = self.broker.results(self.job, self._after, block_ms=self.options.block_ms)
            if not reports:
                self._check_alive()
                self._check_storage(waiting)
                continue
            self._after = reports[-1][0]
            paused = False
            self.broker.drop_results(self.job, [id_ for id_, _ in reports])
            for _, fields in reports:
                if fields["task"] in waiting:
                    waiting.discard(fields["task"])
                    results = decode_results(fields["results"])
                    self._learn(results)
                    yield from results

    def _tasks(
        self, units: Iterator[WorkUnit | Wait], room: int
    ) -> tuple[list[dict[str, str]], bool, bool]:
        """Take up to ``room`` tasks' worth of units, up to a ``WAIT``.

        Return the tasks, whether more may come, and whether a ``WAIT`` ended them. The last
        units of a round are spread over the workers.
        """
        full = self.options.task_pages or pages_per_task(
            0, rows_per_unit=self.rows_per_unit, batch_rows=self.ingestor.batch_rows, spread=None
        )
        taken: list[WorkUnit] = []
        paused = False
        for unit in itertools.islice(units, full * room):
            if unit is WAIT:
                paused = True
                break
            taken.append(unit)
        more = paused or len(taken) == full * room
        spread = None if more else self.ingestor.workers
        size = self.options.task_pages or pages_per_task(
            len(taken),
            rows_per_unit=self.rows_per_unit,
            batch_rows=self.ingestor.batch_rows,
            spread=spread,
        )
        tasks = [encode_units(taken[i : i + size]) for i in range(0, len(taken), size)]
        return tasks, more, paused

    def _learn(self, results: list[UnitResult]) -> None:
        """Learn the records per unit from what a task fetched (sizes the later tasks)."""
        fetched = max((result.fetched for result in results), default=0)
        if fetched and not self.rows_per_unit:
            self.rows_per_unit = fetched
