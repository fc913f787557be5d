"""The stages every mode runs, for one task's units at a time: what a queue worker runs.

    units -> with_cached -> Ingestor.handle (fetch, process) -> PageWriter (dedup, persist,
    remember) -> the units' results, each page written before this returns

The same classes as every mode: ``Ingestor.handle`` and a ``PageWriter`` of the task's
batch size; only the scheduling differs (one task after another, in this worker). A
``StreamSource`` consumer runs its delivered records through the same pipeline.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
from collections.abc import Mapping, Sequence
from typing import Any

from workbench.db.connections import Connections
from workbench.ingestion.base import Ingestor
from workbench.ingestion.planning import Frontier, with_cached
from workbench.ingestion.processes import WorkerIngestor
from workbench.ingestion.report import UnitResult
from workbench.ingestion.workers import RetryOptions, Worker
from workbench.ingestion.writer import DEFAULT_LINGER_S
from workbench.queue.codec import source_from_spec
from workbench.sources.source import WorkUnit

__all__ = ["TaskPipeline", "job_spec", "pipeline_for_job"]


class TaskPipeline:
    """Handle and write the units of one task after another, with one session and writer setup."""

    def __init__(self, ingestor: Ingestor, worker_name: str) -> None:
        self.ingestor = ingestor
        self.worker = Worker(worker_name, ingestor.source.open_session())

    @property
    def run_id(self) -> str:
        """Return the run (job) whose rows this pipeline writes."""
        return self.ingestor.run_id

    def run(self, units: Sequence[WorkUnit]) -> list[UnitResult]:
        """Fetch, process, dedup and persist ``units``; return their results once committed."""
        ingestor = self.ingestor
        cache = ingestor.cache if ingestor.source.cacheable else None
        results: list[UnitResult] = []
        # A short page ends its resource here too: a task's later units of it are not fetched.
        frontier = Frontier(ingestor.source, None)
        with contextlib.closing(ingestor.writer()) as writer:  # ends its writing threads
            for job in frontier.within(with_cached(units, cache)):
                page = ingestor.handle(job, self.worker)
                frontier.see(page)
                results += writer.add(page)
            return results + writer.flush()

    def close(self) -> None:
        """Close the session, the store and the cache."""
        close = getattr(self.worker.session, "close", None)
        if close is not None:
            close()
        self.ingestor.close()


def job_spec(ingestor: Ingestor, source: Mapping[str, Any], **extra: Any) -> dict[str, str]:
    """Return the job hash fields that let any worker rebuild ``ingestor``'s pipeline."""
    return {
        "source": json.dumps(dict(source)),
        "source_name": ingestor.source.name,
        "resources": ",".join(ingestor.resources),
        "run_id": ingestor.run_id,
        "cpu_cost": str(ingestor.cpu_cost),
        "batch_rows": str(ingestor.batch_rows),
        "linger_s": str(ingestor.linger_s),
        "write_connections": str(ingestor.write_connections),
        "processor": ingestor.processor,
        "retry_attempts": str(ingestor.retry_options.attempts),
        "use_cache": str(int(ingestor.connections.redis_url is not None)),
        **{key: str(value) for key, value in extra.items()},
    }


def pipeline_for_job(
    spec: Mapping[str, str], connections: Connections, worker_name: str
) -> TaskPipeline:
    """Build the pipeline a job's spec describes, on this worker's Postgres and Redis."""
    if spec.get("use_cache") == "0":
        connections = dataclasses.replace(connections, redis_url=None)
    ingestor = WorkerIngestor(
        source_from_spec(json.loads(spec["source"])),
        connections,
        resources=spec["resources"].split(","),
        retry_options=RetryOptions(attempts=int(spec["retry_attempts"])),
        cpu_cost=int(spec["cpu_cost"]),
        batch_rows=int(spec["batch_rows"]),
        # Jobs enqueued before a setting existed get its default.
        linger_s=float(spec.get("linger_s", DEFAULT_LINGER_S)),
        write_connections=int(spec.get("write_connections", "1")),
        processor=spec.get("processor", "records"),
        run_id=spec["run_id"],
    )
    return TaskPipeline(ingestor, worker_name)
