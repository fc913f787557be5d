"""A queue worker: a thin loop around a consumer group. Start as many as you like, anywhere.

    loop:  take a task   own pending first (a restart resumes), then any task idle past the
                         visibility timeout (XAUTOCLAIM), else a new one (XREADGROUP)
           run it        the same stages as every mode (``TaskPipeline``): fetch, process,
                         dedup, one transaction
           settle it     only after the commit: ack, count, report (``Broker.settle``)

Delivery is at least once: a worker killed mid-task leaves it pending, and another claims
it once it has been idle for ``idle_s``. Writes are idempotent (upsert by key, records
marked seen only after the commit), so running a task twice stores each record once:
exactly once *in effect*. A task whose run raises stays pending and is tried again by the
next claim; after ``max_deliveries`` it goes to the dead letters with its last error. Pages
that fail after their own retries are recorded like in every mode and dead-lettered too, so
``workbench queue retry-dead`` can put them back. A heartbeat thread records the worker in
the registry and keeps its task from being claimed while it is alive. SIGTERM lets the
worker finish its task, give back what it had not started, and exit.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any

from workbench.errors import CacheUnavailableError, StreamGoneError, WorkbenchError
from workbench.ingestion.pages import ReadyPage, units_context
from workbench.ingestion.report import UnitResult
from workbench.logging_setup import bind_context
from workbench.queue.broker import Broker
from workbench.queue.codec import decode_units, encode_results, encode_units
from workbench.queue.groups import Delivery
from workbench.queue.pipeline import TaskPipeline

__all__ = ["QueueWorker", "Stopping", "default_name", "totals"]

log = logging.getLogger("workbench.queue")

#: Counters of a job that each settled task adds its pages' totals to.
_TOTALS = ("fetched", "inserted", "updated", "unchanged", "rejected")


class Stopping(BaseException):
    """Raised by a stop signal into a worker blocked waiting for tasks (not an error)."""


def default_name() -> str:
    """Return a worker name unique on the network: host and process id."""
    return f"{socket.gethostname()}-{os.getpid()}"


def totals(results: Sequence[UnitResult]) -> dict[str, int]:
    """Return the job counters one settled task adds: pages, records, failed pages."""
    counts = {name: sum(getattr(r, name) for r in results) for name in _TOTALS}
    return {
        "pages": len(results),
        **counts,
        "failed_pages": sum(r.error is not None for r in results),
    }


class QueueWorker:
    """Take tasks of ``jobs`` (None: every active job), run and settle them until stopped."""

    def __init__(
        self,
        broker: Broker,
        pipelines: Callable[[str], TaskPipeline],
        *,
        name: str | None = None,
        jobs: Sequence[str] | None = None,
        until_empty: bool = False,
        stop: threading.Event | None = None,
    ) -> None:
        self.broker = broker
        self.pipelines = pipelines
        self.name = name or default_name()
        self.fixed_jobs = list(jobs) if jobs is not None else None
        self.until_empty = until_empty
        self.stop = stop or threading.Event()
        self.options = broker.options
        self.handled = 0
        #: The task being run and those read but not started: what the heartbeat touches.
        self.current: Delivery | None = None
        self.held: deque[Delivery] = deque()
        self._jobs: tuple[float, list[str]] = (-1.0, [])
        self._finished: set[str] = set()
        self._waiting = False
        self._swept = 0.0
        self._resumed = False

    # --- the loop ---------------------------------------------------------------------------

    def run(self) -> int:
        """Serve until stopped (or, ``until_empty``, until no job is active); return tasks run."""
        heartbeat = threading.Thread(target=self._beat_until_stopped, name="queue-heartbeat")
        self._beat("idle")
        heartbeat.start()
        try:
            while not self.stop.is_set():
                if self.until_empty and self.fixed_jobs and self._finished >= set(self.fixed_jobs):
                    break  # this worker settled the last task of every job it serves
                delivery = self._next()
                if delivery is not None:
                    self.current = delivery
                    try:
                        self.handle(delivery)
                    except CacheUnavailableError as exc:  # its ack failed: it stays pending
                        log.warning("queue Redis unavailable settling a task, waiting: %s", exc)
                        self.stop.wait(self.options.block_s)
                    self.current = None
                elif self.until_empty and not self.held and self._nothing_left():
                    break
        finally:
            self.stop.set()
            heartbeat.join()
            self._leave()
        return self.handled

    def jobs(self, *, fresh: bool = False) -> list[str]:
        """Return the jobs served: the fixed ones, or the active set (re-read every block_s)."""
        if self.fixed_jobs is not None:
            return self.fixed_jobs
        read_at = self._jobs[0]
        if fresh or time.monotonic() - read_at > self.options.block_s:
            self._jobs = (time.monotonic(), self.broker.active_jobs())
        return self._jobs[1]

    def _nothing_left(self) -> bool:
        """Tell whether every job served has ended (no active job, or the fixed ones done)."""
        if self.fixed_jobs is None:
            return not self.jobs(fresh=True)
        return all(self.broker.spec(job).get("status") != "running" for job in self.fixed_jobs)

    def _next(self) -> Delivery | None:
        """Return the next task to run, or None after waiting a while for one."""
        if self.held:
            return self.held.popleft()
        try:
            jobs = self.jobs()
            if not jobs:
                self.stop.wait(self.options.block_s)
                return None
            if not self._resumed:  # a restarted worker of the same name resumes its tasks
                self._resumed = True
                self.held.extend(self.broker.read(self.name, jobs, own=True))
            if not self.held and self._sweep_due():
                self._swept = time.monotonic()
                self.held.extend(self._claim(jobs))
            if not self.held:
                self._waiting = True  # a stop signal may interrupt this read: see request_stop
                try:
                    self.held.extend(self.broker.read(self.name, jobs))
                finally:
                    self._waiting = False
        except Stopping:
            return None  # whatever the read got is still ours: _leave gives it back
        except StreamGoneError:
            self._jobs = (-1.0, [])  # a job ended under us: read the active set again
        except CacheUnavailableError as exc:
            log.warning("queue Redis unavailable, waiting: %s", exc)
            self.stop.wait(self.options.block_s)
        return self.held.popleft() if self.held else None

    def _sweep_due(self) -> bool:
        """Tell whether to look for tasks idle past the timeout (every quarter of it)."""
        return time.monotonic() - self._swept > self.options.idle_s / 4

    def _claim(self, jobs: Sequence[str]) -> list[Delivery]:
        """Claim a task idle past the timeout from each job; dead-letter those tried too often."""
        claimed = []
        for job in jobs:
            for delivery in self.broker.claim(self.name, job):
                if delivery.deliveries > self.options.max_deliveries:
                    reason = self.broker.last_error(delivery) or (
                        f"not acknowledged after {delivery.deliveries - 1} deliveries: its "
                        "worker stopped or crashed while running it"
                    )
                    self.dead_letter(delivery, reason)
                else:
                    claimed.append(delivery)
        return claimed

    # --- one task ---------------------------------------------------------------------------

    def handle(self, delivery: Delivery) -> None:
        """Run one task and settle it; a failure leaves it pending (or dead-letters it)."""
        job = self.broker.keys.job_of(delivery.stream)
        with bind_context(run_id=job, mode="queue", worker=self.name, task=delivery.id):
            try:
                pipeline = self.pipelines(job)
                units = decode_units(delivery.fields)
                with bind_context(**units_context(units)):
                    results = pipeline.run(units)
            except Exception as exc:
                self._failed(delivery, exc)
                return
            failed = {r.url for r in results if r.error is not None}
            dead = [unit for unit in units if unit.ref in failed]
            more = not self.held and not self.stop.is_set() and not self._sweep_due()
            state, taken = self.broker.settle(
                delivery,
                "failed" if dead else "done",
                results=encode_results(results),
                counters=totals(results),
                dead_fields=json.dumps(encode_units(dead)) if dead else "",
                error=next((r.error for r in results if r.error), None) or "",
                then_read=(self.name, self.jobs()) if more else None,  # one trip, not two
            )
        self.held.extend(taken)
        self.handled += 1
        if state == 2:
            self.finished(job, pipeline)

    def _failed(self, delivery: Delivery, exc: Exception) -> None:
        """Keep why a task's run failed; dead-letter it when this was its last delivery."""
        error = f"{type(exc).__name__}: {exc}"
        if not isinstance(exc, WorkbenchError):
            log.error("unexpected error running task %s", delivery.id, exc_info=exc)
        if delivery.deliveries >= self.options.max_deliveries:
            self.dead_letter(delivery, error)
        else:
            log.error("task %s failed (delivery %d): %s", delivery.id, delivery.deliveries, error)
            self.broker.record_error(delivery, error)

    def dead_letter(self, delivery: Delivery, reason: str) -> None:
        """Move a task to the dead letters with its last error; its pages fail like any."""
        job = self.broker.keys.job_of(delivery.stream)
        log.error(
            "task %s dead-lettered after %d deliveries: %s",
            delivery.id,
            delivery.deliveries,
            reason,
        )
        results: list[UnitResult] = []
        try:
            writer = self.pipelines(job).ingestor.writer()
            units = decode_units(delivery.fields)
            results = [writer.fail(ReadyPage.begin(u, self.name, 0.0), reason) for u in units]
        except WorkbenchError:
            pass  # a poison task names no pages, or its job cannot be built: the letter says why
        state, _ = self.broker.settle(
            delivery,
            "dead",
            results=encode_results(results),
            counters=totals(results),
            dead_fields=json.dumps(delivery.fields),
            error=reason,
        )
        if state == 2:
            self.finished(job, None)

    def finished(self, job: str, pipeline: TaskPipeline | None) -> None:
        """Retire a job this worker completed; record its run when its enqueuer started one."""
        self._finished.add(job)
        self.broker.retire(job)
        spec = self.broker.spec(job)
        log.info("job %s finished: %s", job, spec.get("status"))
        if spec.get("record_run") == "1" and pipeline is not None:
            from workbench.queue.status import job_summary

            status = "ok" if spec.get("status") == "done" else "failed"
            pipeline.ingestor.store.finish_run(job, status, job_summary(spec))

    # --- heartbeat and exit -----------------------------------------------------------------

    def request_stop(self) -> None:
        """Stop after the task in hand; a read blocked waiting for one is cut short.

        Call it from a signal handler (the main thread): it raises ``Stopping`` into a
        blocking read, so a worker with nothing to do exits at once instead of after its
        read's timeout.
        """
        self.stop.set()
        if self._waiting:
            self._waiting = False
            raise Stopping

    def _beat(self, state: str) -> None:
        """Record this worker in the registry and keep the tasks it holds from being claimed."""
        held = [d for d in (self.current, *self.held) if d is not None]
        info: dict[str, Any] = {"host": socket.gethostname(), "pid": os.getpid(), "state": state}
        if self.current is not None:
            info["task"] = self.current.id
            info["job"] = self.broker.keys.job_of(self.current.stream)
        info["handled"] = self.handled
        self.broker.beat(self.name, info)
        self.broker.touch(self.name, held)

    def _beat_until_stopped(self) -> None:
        """Beat every ``heartbeat_s`` until the worker stops; an outage only skips beats."""
        while not self.stop.wait(self.options.heartbeat_s):
            try:
                self._beat("busy" if self.current is not None else "idle")
            except WorkbenchError as exc:
                log.warning("heartbeat failed: %s", exc)

    def _leave(self) -> None:
        """Give back every task this worker still holds, and leave the registry."""
        try:
            self.held.clear()
            for job in self.jobs():
                self.broker.give_back(self.name, self.broker.held(self.name, job))
            self.broker.leave(self.name)
        except WorkbenchError as exc:
            log.warning("could not leave the queue cleanly (claims will recover): %s", exc)
