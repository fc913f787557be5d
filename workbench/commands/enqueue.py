"""``workbench enqueue``: put every page of some resources on the task queue as a job.

    workbench enqueue --base-url http://api:8000 --resource posts,comments [--wait]

It reads the first page of each resource (the page count), then puts one task per page, or
per small page range (``--pages-per-task``), on a new job's stream, and prints the job as
one JSON line: ``{"job": ..., "tasks": ..., "pages": ...}``. ``workbench worker`` processes,
on any machine, run the tasks; ``workbench queue status JOB`` follows them. ``--wait``
follows the job here to its end (a progress bar on a terminal). Exit status: 0 when
enqueued (with ``--wait``: when every page was saved), 1 when the first pages could not be
read (with ``--wait``: when pages failed), 2 on a bad flag or setting.
"""

from __future__ import annotations

import argparse
import json
import sys

from workbench.commands.ingest import add_source_flags, ingestor_from_args
from workbench.commands.queue import follow_job
from workbench.queue.jobs import enqueue
from workbench.queue.status import render


def _enqueue(args: argparse.Namespace) -> int:
    """Enqueue one job; print it; maybe follow it to its end."""
    ingestor = ingestor_from_args(args, queue_task_pages=args.pages_per_task)
    broker = ingestor.connections.broker()
    try:
        job = enqueue(ingestor, broker, job=args.job, task_pages=broker.options.task_pages)
        print(json.dumps({"job": job.job, "tasks": job.tasks, "pages": job.pages}), flush=True)
        if not args.wait:
            return 0
        status = follow_job(broker, job.job, progress=not args.no_progress)
        print(render(status, broker.workers()), file=sys.stderr)
        return 0 if status.status == "done" else 1
    finally:
        broker.close()
        ingestor.close()


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``enqueue`` and its flags (an unset flag falls back to WORKBENCH_* or the default)."""
    parser = subparsers.add_parser("enqueue", help="put pages on the task queue for workers")
    add_source_flags(parser)
    parser.add_argument(
        "--pages-per-task",
        type=int,
        help="pages per task (default: a write batch's worth, spread over at least 8 tasks)",
    )
    parser.add_argument("--job", help="the job's id (default: a new run id)")
    parser.add_argument("--wait", action="store_true", help="follow the job to its end")
    parser.set_defaults(handler=_enqueue)
