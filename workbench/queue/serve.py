"""A worker serving any job: what ``workbench worker`` runs, in this process or a new one.

    handled = serve(connections, name="w1")            # until SIGTERM / Ctrl-C
    process = start_worker(connections, "w2")          # the same, in a worker process

Each job's spec says what to read (its source, resources, batch size); the worker's own
``Connections`` say where to write, so a worker runs on any machine that reaches Redis,
Postgres and the source.
"""

from __future__ import annotations

import signal
from collections.abc import Sequence
from typing import Any

from workbench.db.connections import Connections
from workbench.ingestion.processes import set_up_like_parent, worker_context
from workbench.logging_setup import current_logging, get_context
from workbench.queue.pipeline import TaskPipeline, pipeline_for_job
from workbench.queue.worker import QueueWorker

__all__ = ["serve", "start_worker"]


def serve(
    connections: Connections,
    *,
    name: str | None = None,
    jobs: Sequence[str] | None = None,
    until_empty: bool = False,
    signals: Sequence[signal.Signals] = (signal.SIGTERM, signal.SIGINT),
) -> int:
    """Serve the queue until a signal in ``signals`` (or, ``until_empty``, no job is left)."""
    broker = connections.broker()
    pipelines: dict[str, TaskPipeline] = {}

    def pipeline(job: str) -> TaskPipeline:
        if job not in pipelines:  # built once per job, from its spec, on our connections
            pipelines[job] = pipeline_for_job(broker.spec(job), connections, worker.name)
        return pipelines[job]

    worker = QueueWorker(broker, pipeline, name=name, jobs=jobs, until_empty=until_empty)
    for signum in signals:
        signal.signal(signum, lambda *_: worker.request_stop())
    try:
        return worker.run()
    finally:
        for opened in pipelines.values():
            opened.close()
        broker.close()


def _serve_in_process(
    connections: Connections, name: str, logging_settings: Any, context: Any
) -> None:
    """Entry point of a worker process: set up like the parent, then serve until SIGTERM."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C in a notebook is not for the workers
    set_up_like_parent(logging_settings, context)
    serve(connections, name=name, signals=(signal.SIGTERM,))


def start_worker(connections: Connections, name: str) -> Any:
    """Start a worker serving every active job in a process of its own (from the fork server).

    Stop it with ``terminate()`` (SIGTERM: it finishes its task) or kill it, then ``join()``.
    """
    args = (connections, name, current_logging(), get_context())
    process = worker_context().Process(target=_serve_in_process, args=args, name=name)
    process.start()
    return process
