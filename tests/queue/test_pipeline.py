"""The queue's pipeline: a job's spec rebuilds the run's own settings in any worker."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from workbench.db.connections import Connections
from workbench.ingestion import MODES, Ingestor, RetryOptions
from workbench.ingestion.writer import DEFAULT_LINGER_S
from workbench.local_api import ServerHandle
from workbench.queue.codec import source_spec
from workbench.queue.pipeline import job_spec, pipeline_for_job
from workbench.sources.http_api import HttpApiSource

#: What a worker rebuilds from a job's spec, and the values a test run sets them to.
SETTINGS = {
    "batch_rows": 30,
    "linger_s": 0.5,
    "write_connections": 3,
    "processor": "pandas",
    "cpu_cost": 2,
}


@pytest.fixture
def run(postgres_dsn: str, redis_url: str) -> Iterator[Ingestor]:
    """A queue run with every writing setting away from its default (never started)."""
    source = HttpApiSource("http://127.0.0.1:9/", name="local", page_size=10)
    ingestor = MODES["queue"](
        source,
        Connections(postgres_dsn, redis_url),
        resources=("posts", "comments"),
        retry_options=RetryOptions(attempts=4),
        **SETTINGS,  # type: ignore[arg-type]
    )
    yield ingestor
    ingestor.close()


def rebuilt(run: Ingestor, spec: dict[str, str]) -> dict[str, object]:
    """Return the settings of the ingestor a worker builds from ``spec``."""
    pipeline = pipeline_for_job(spec, run.connections, "worker-1")
    try:
        worker = pipeline.ingestor
        settings = {name: getattr(worker, name) for name in SETTINGS}
        return {**settings, "resources": worker.resources, "run_id": worker.run_id,
                "attempts": worker.retry_options.attempts}  # fmt: skip
    finally:
        pipeline.close()


class TestJobSpec:
    """What a job's spec carries to the workers that write its pages."""

    def test_a_worker_writes_as_the_run_was_told_to(self, run: Ingestor) -> None:
        """Batch rows, linger, write connections, processor and retries reach every worker."""
        spec = job_spec(run, source_spec(run.source) or {})
        assert all(isinstance(value, str) for value in spec.values())  # a Redis hash's fields
        assert rebuilt(run, spec) == {
            **SETTINGS,
            "resources": ("posts", "comments"),
            "run_id": run.run_id,
            "attempts": 4,
        }

    def test_a_job_enqueued_before_the_writer_settings_gets_their_defaults(
        self, run: Ingestor
    ) -> None:
        """A spec without linger or write connections (an older job) writes with the defaults."""
        spec = job_spec(run, source_spec(run.source) or {})
        for name in ("linger_s", "write_connections", "processor"):
            del spec[name]
        settings = rebuilt(run, spec)
        assert (settings["linger_s"], settings["write_connections"]) == (DEFAULT_LINGER_S, 1)
        assert settings["processor"] == "records"


class TestTaskPipeline:
    """One task's pages fetched, processed and written by a worker's pipeline."""

    def test_a_task_is_written_on_the_jobs_connections_and_leaves_no_thread(
        self, api: ServerHandle, postgres_dsn: str, redis_url: str
    ) -> None:
        """Each page lands once, its batch named by a writing thread that ends with the task."""
        source = HttpApiSource(api.url, name="local", page_size=10)
        ingestor = MODES["queue"](
            source, Connections(postgres_dsn, redis_url), batch_rows=10, write_connections=2
        )
        pipeline = pipeline_for_job(
            job_spec(ingestor, source_spec(source) or {}), ingestor.connections, "worker-1"
        )
        try:
            results = pipeline.run([source.unit("posts", page) for page in (1, 2, 3)])
        finally:
            pipeline.close()
            ingestor.close()
        assert sorted(result.page for result in results) == [1, 2, 3]
        assert sum(result.inserted for result in results) == 30
        assert {result.span.writer for result in results if result.span} <= {
            "writer_0",
            "writer_1",
        }
        assert not [t for t in threading.enumerate() if t.name.startswith("writer_")]
