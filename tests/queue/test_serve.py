"""A worker serving every job, in a process of its own, fed through the Python API."""

from __future__ import annotations

from typing import Any

from workbench.db.connections import Connections
from workbench.db.postgres import PostgresStore
from workbench.ingestion import MODES
from workbench.local_api import ServerHandle
from workbench.queue.jobs import enqueue
from workbench.queue.options import QueueOptions
from workbench.queue.serve import start_worker
from workbench.sources.http_api import HttpApiSource


class TestStartWorker:
    """``start_worker``: what a notebook uses to run workers beside its kernel."""

    def test_two_workers_finish_a_job_and_stop_cleanly_on_sigterm(
        self, api: ServerHandle, queue: Any, postgres_dsn: str, redis_url: str,
        expected_of: Any, stored: Any,
    ) -> None:  # fmt: skip
        """A job enqueued in Python is completed by two worker processes that then exit 0."""
        options = QueueOptions(url=redis_url, idle_s=1.0, heartbeat_s=0.2)
        connections = Connections(postgres_dsn, redis_url, queue=options)
        source = HttpApiSource(api.url, page_size=10, name="local")
        ingestor = MODES["queue"](source, connections, resources=("posts", "comments"))
        processes = [start_worker(connections, name) for name in ("p1", "p2")]
        try:
            job = enqueue(ingestor, queue.broker, task_pages=3)
            status = queue.finished(job.job)
        finally:
            for process in processes:
                process.terminate()
            for process in processes:
                process.join(60)
            ingestor.close()
        assert [process.exitcode for process in processes] == [0, 0]
        assert (status.status, job.pages, job.tasks) == ("done", 60, 20)
        assert set(queue.broker.workers()) == set()  # both left the registry
        with PostgresStore(postgres_dsn) as store:
            assert stored(store) == expected_of(api).checksums
            assert store.runs(1)[0]["status"] == "ok"
