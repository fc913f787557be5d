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

from workbench.commands.queue import follow_job
from workbench.config import Settings
from workbench.errors import ConfigError
from workbench.ingestion.factory import build_ingestor
from workbench.logging_setup import configure_logging
from workbench.queue.jobs import enqueue
from workbench.queue.status import render


def _enqueue(args: argparse.Namespace) -> int:
    """Enqueue one job; print it; maybe follow it to its end."""
    overrides = {
        "base_url": args.base_url,
        "resources": args.resource,
        "page_size": args.page_size,
        "max_pages": args.max_pages,
        "batch_rows": args.batch_rows,
        "queue_task_pages": args.pages_per_task,
        "use_cache": False if args.no_cache else None,
        "log_format": args.log_format,
    }
    settings = Settings.from_env(**overrides)
    if args.cpu_cost < 0:
        raise ConfigError(f"--cpu-cost: expected an integer >= 0, got {args.cpu_cost}")
    configure_logging(settings.log_format, settings.log_level, stream=sys.stderr)
    ingestor = build_ingestor(settings, source_name=args.source_name, cpu_cost=args.cpu_cost)
    broker = ingestor.connections.broker()
    try:
        job = enqueue(ingestor, broker, job=args.job, task_pages=settings.queue_task_pages)
        print(json.dumps({"job": job.job, "tasks": job.tasks, "pages": job.pages}), flush=True)
        if not args.wait:
            return 0
        status = follow_job(broker, job.job, progress=not args.no_progress)
        print(render(status, broker.workers()), file=sys.stderr)
        return 0 if status.status == "done" else 1
    finally:
        broker.close()
        ingestor.close()


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``enqueue`` and its flags (an unset flag falls back to WORKBENCH_* or the default)."""
    parser = subparsers.add_parser("enqueue", help="put pages on the task queue for workers")
    parser.add_argument("--base-url", help="the API's base URL (the real JSONPlaceholder)")
    parser.add_argument("--resource", help="comma-separated resources")
    parser.add_argument("--page-size", type=int, help="records per page (100)")
    parser.add_argument("--max-pages", type=int, help="stop after this many pages per resource")
    parser.add_argument(
        "--pages-per-task",
        type=int,
        help="pages per task (default: a write batch's worth, spread over at least 8 tasks)",
    )
    parser.add_argument("--batch-rows", type=int, help="records per write transaction (5000)")
    parser.add_argument("--job", help="the job's id (default: a new run id)")
    parser.add_argument("--wait", action="store_true", help="follow the job to its end")
    parser.add_argument("--no-cache", action="store_true", help="workers bypass the cache")
    parser.add_argument("--log-format", choices=("json", "text"), help="log lines on stderr")
    parser.add_argument("--source-name", help="name stored with the records (from the URL)")
    parser.add_argument("--cpu-cost", type=int, default=0, help="extra CPU work per record (0)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.set_defaults(handler=_enqueue)
