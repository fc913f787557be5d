"""``workbench queue``: what the task queue's jobs are doing, and their dead letters.

    workbench queue status                 # recent jobs, and every worker's last heartbeat
    workbench queue status JOB [--follow]  # one job: tasks waiting, in flight, done, failed,
                                           # dead-lettered, consumer lag; a progress bar
    workbench queue retry-dead JOB         # put the job's dead letters back on its stream

``--json`` prints the status as one JSON object instead. Exit status 0; with ``--follow``,
1 when the job ended with failed pages or dead letters; 2 for an unknown job.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from workbench.config import Settings
from workbench.ingestion.factory import connections_for
from workbench.queue.broker import Broker
from workbench.queue.status import JobStatus, follow, job_status, render, render_workers, retry_dead

__all__ = ["follow_job", "open_broker", "register"]


def open_broker(settings: Settings) -> Broker:
    """Open the queue's broker where the settings (or the embedded services) put it."""
    return connections_for(settings).broker()


def follow_job(broker: Broker, job: str, *, progress: bool) -> JobStatus:
    """Follow a job to its end with a progress bar of settled tasks (on a terminal)."""
    bar: Any = None
    if progress and sys.stderr.isatty():
        from tqdm import tqdm

        bar = tqdm(unit="task", desc=f"job {job}", file=sys.stderr)

    def update(status: JobStatus) -> None:
        if bar is not None:
            bar.total = status.counters["tasks"]
            bar.n = status.settled
            bar.set_postfix(in_flight=status.in_flight, dead=status.counters["dead"])
            bar.refresh()

    try:
        return follow(broker, job, update)
    finally:
        if bar is not None:
            bar.close()


def _status(args: argparse.Namespace) -> int:
    """Print one job's status (or the recent jobs), once or until the job ends."""
    broker = open_broker(Settings.from_env())
    try:
        if args.job is None:
            statuses = [job_status(broker, job) for job in broker.recent_jobs(args.limit)]
            if args.json:
                print(json.dumps([s.as_dict() for s in statuses], sort_keys=True))
            else:
                for status in statuses:
                    print("\n".join(render(status, {}).splitlines()[:2]))
                stale_s = 3 * broker.options.heartbeat_s
                print("\n".join(render_workers(broker.workers(), stale_s=stale_s)))
            return 0
        if args.follow:
            status = follow_job(broker, args.job, progress=not args.no_progress)
        else:
            status = job_status(broker, args.job)
        if args.json:
            print(json.dumps({**status.as_dict(), "workers": broker.workers()}, sort_keys=True))
        else:
            print(render(status, broker.workers(), stale_s=3 * broker.options.heartbeat_s))
        return 1 if args.follow and status.status != "done" else 0
    finally:
        broker.close()


def _retry_dead(args: argparse.Namespace) -> int:
    """Put a job's dead letters back on its stream."""
    broker = open_broker(Settings.from_env())
    try:
        count = retry_dead(broker, args.job)
    finally:
        broker.close()
    print(f"job {args.job}: {count} dead letter(s) put back on the stream")
    return 0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``queue`` with its ``status`` and ``retry-dead`` actions."""
    parser = subparsers.add_parser("queue", help="the task queue's jobs, workers and dead letters")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    status = actions.add_parser("status", help="a job's tasks, dead letters and the workers")
    status.add_argument("job", nargs="?", help="the job (default: list the recent jobs)")
    status.add_argument("--follow", action="store_true", help="follow the job to its end")
    status.add_argument("--json", action="store_true", help="print one JSON object")
    status.add_argument("--limit", type=int, default=10, help="recent jobs listed (10)")
    status.add_argument("--no-progress", action="store_true", help="no progress bar")
    status.set_defaults(handler=_status)
    retry = actions.add_parser("retry-dead", help="put a job's dead letters back on its stream")
    retry.add_argument("job", help="the job whose dead letters to retry")
    retry.set_defaults(handler=_retry_dead)
