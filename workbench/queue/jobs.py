"""Enqueueing a job from the command line: learn the page counts, put every page on a stream.

    job = enqueue(ingestor, broker)     # workbench enqueue --base-url ... --resource ...

The first page of each resource is read here (it tells the page count, and its response is
cached so its worker does not fetch it again); then every page, the first ones included,
becomes part of a task on a new public job that any ``workbench worker`` serves. The job id
is the run id: its ``ingest_runs`` row is started here and finished by the worker that
settles the job's last task.
"""

from __future__ import annotations

from dataclasses import dataclass

from workbench.errors import ConfigError, SourceError
from workbench.ingestion.base import Ingestor
from workbench.ingestion.lifecycle import forget_unbacked_dedup
from workbench.ingestion.pages import Job
from workbench.ingestion.planning import Frontier, first_units
from workbench.ingestion.workers import Worker
from workbench.queue.broker import Broker
from workbench.queue.codec import encode_units, source_spec
from workbench.queue.keys import check_job_id
from workbench.queue.local import pages_per_task
from workbench.queue.pipeline import job_spec

__all__ = ["RESULTS_MAXLEN", "SPREAD", "Enqueued", "enqueue"]

#: Settled-task reports a public job keeps (about; older ones are trimmed): nobody has to
#: read them, so they must not grow with the job.
RESULTS_MAXLEN = 10_000
#: Workers a job's tasks are cut for, at least, before tasks grow to a write batch's size.
SPREAD = 8
#: Tasks added per round trip.
CHUNK = 1_000


@dataclass(frozen=True)
class Enqueued:
    """A job put on the queue: its id, tasks and pages."""

    job: str
    tasks: int
    pages: int


def enqueue(
    ingestor: Ingestor,
    broker: Broker,
    *,
    job: str | None = None,
    task_pages: int | None = None,
) -> Enqueued:
    """Put every page of the ingestor's resources on a new public job; return what was put."""
    source = ingestor.source
    spec = source_spec(source)
    if spec is None:
        raise ConfigError(f"{source!r} cannot be described to other machines: enqueue needs an API")
    ingestor.run_id = check_job_id(job or ingestor.run_id)
    ingestor.store.ensure_schema()
    forget_unbacked_dedup(ingestor.store, ingestor.cache, source.name, ingestor.resources)
    with source.session() as session:
        worker = Worker("enqueue", session)
        first = [
            ingestor.handle(Job(unit), worker) for unit in first_units(source, ingestor.resources)
        ]
    for page in first:
        if page.error is not None:
            raise SourceError(f"cannot learn the page count from {page.unit.ref}: {page.error}")
    if ingestor.cache is not None:
        ingestor.cache.set_responses([(p.unit.ref, p.response) for p in first if p.response])
    frontier = Frontier(source, ingestor.max_pages)
    for page in first:
        frontier.see(page)
    units = [page.unit for page in first]
    units += frontier.follow_ups(first)
    size = task_pages or pages_per_task(
        len(units),
        rows_per_unit=getattr(source, "page_size", None),
        batch_rows=ingestor.batch_rows,
        spread=SPREAD,
    )
    extra = {"record_run": 1, "results_maxlen": RESULTS_MAXLEN}
    broker.create_job(ingestor.run_id, job_spec(ingestor, spec, **extra), public=True)
    # The job's workers, not a heartbeat, tell whether it lives (``workbench queue status``).
    resources = list(ingestor.resources)
    ingestor.store.start_run(ingestor.run_id, "queue", source.name, resources, beats=False)
    tasks = [encode_units(units[i : i + size]) for i in range(0, len(units), size)]
    for start in range(0, len(tasks), CHUNK):
        broker.add_tasks(ingestor.run_id, tasks[start : start + CHUNK])
    broker.seal(ingestor.run_id)
    return Enqueued(ingestor.run_id, len(tasks), len(units))
