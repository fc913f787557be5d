"""Ingestion trials: a mode ingests posts from the local API, in this process or in a child.

Both run the real pipeline (fetch, process, dedup through Redis, upsert into Postgres) built
by ``build_ingestor``, bounded to the case's pages, under the case's scratch source name.
In-process runs keep their report (its spans draw the timelines); child runs (the growth
scenario) report their peak memory instead.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

from workbench.bench.context import BenchContext, scratch_source
from workbench.bench.memory import run_child
from workbench.bench.runner import IncompleteRunError, Sample
from workbench.bench.scenarios import Case
from workbench.config import Settings
from workbench.ingestion.report import RunReport

__all__ = [
    "ChildIngestTrial",
    "IngestTrial",
    "QueueOverheadTrial",
    "check_complete",
    "ingest_job",
    "run_ingestion",
]


def run_ingestion(values: dict[str, Any], source_name: str, cpu_cost: int = 0) -> RunReport:
    """Run one ingestion described by ``Settings`` values and return its report."""
    from workbench.ingestion.factory import build_ingestor

    ingestor = build_ingestor(Settings(**values), source_name=source_name, cpu_cost=cpu_cost)
    try:
        return ingestor.run()
    finally:
        ingestor.close()


def check_complete(name: str, expected: int, fetched: int, inserted: int, ok: bool) -> None:
    """Raise ``IncompleteRunError`` unless every record was fetched and inserted."""
    if not ok or fetched != expected or inserted != expected:
        raise IncompleteRunError(
            f"{name}: incomplete run (ok={ok}, fetched {fetched}, inserted {inserted}, "
            f"expected {expected}): its time would not be comparable"
        )


def ingest_job(job: dict[str, Any]) -> dict[str, Any]:
    """Run an ingestion in a child process (``workbench.bench.memory``); return its numbers."""
    report = run_ingestion(job["settings"], job["source_name"], job.get("cpu_cost", 0))
    return {
        "seconds": report.seconds,
        "fetched": report.fetched,
        "inserted": report.inserted,
        "ok": report.ok,
    }


class IngestTrial:
    """One ingestion case run in this process; each repetition starts from an empty source."""

    def __init__(self, case: Case, ctx: BenchContext, *, warmup_pages: int) -> None:
        self.case = case
        self.ctx = ctx
        self.warmup_pages = min(warmup_pages, case.pages)
        self.base_url = ctx.server(case.latency_ms).url
        self.source_name = scratch_source(case.scenario, case.mode)
        self.urls = ctx.page_urls(self.base_url, case.page_size, case.pages)

    def settings(self, pages: int) -> dict[str, Any]:
        """Return the ``Settings`` values of a run over the first ``pages`` pages."""
        case = self.case
        return {
            "mode": case.mode,
            "base_url": self.base_url,
            "resources": ("posts",),
            "page_size": case.page_size,
            "concurrency": case.concurrency,
            "workers": case.workers,
            "max_pages": pages,
            "batch_rows": case.batch_rows,
            "processor": case.processor,
            "postgres_dsn": self.ctx.postgres_dsn,
            "redis_url": self.ctx.redis_url,
            "use_cache": True,  # dedup is part of the pipeline; cached responses are cleared
        }

    def clear(self) -> None:
        """Empty the scratch source and forget its cached responses."""
        self.ctx.clear_source(self.source_name, self.urls)

    def warm_up(self) -> None:
        """Ingest the first few pages, untimed."""
        self.clear()
        run_ingestion(self.settings(self.warmup_pages), self.source_name, self.case.cpu_cost)

    def run(self) -> Sample:
        """Ingest every page of the case into an empty source, timed by the run report."""
        self.clear()
        report = run_ingestion(self.settings(self.case.pages), self.source_name, self.case.cpu_cost)
        check_complete(self.case.name, self.case.size, report.fetched, report.inserted, report.ok)
        return Sample(report.seconds, report.fetched, report=report)

    def close(self) -> None:
        """Leave nothing of the case behind."""
        self.clear()


class ChildIngestTrial(IngestTrial):
    """One ingestion case run in a fresh child process, which reports its peak memory."""

    def _child(self, pages: int) -> dict[str, Any]:
        """Run the ingestion of ``pages`` pages in a child; return its result and peak."""
        job = {
            "settings": self.settings(pages),
            "source_name": self.source_name,
            "cpu_cost": self.case.cpu_cost,
        }
        outcome = run_child("ingest", job)
        return {**outcome.result, "peak_mb": outcome.tree_peak_mb}

    def warm_up(self) -> None:
        """Ingest the first few pages in a child, untimed."""
        self.clear()
        self._child(self.warmup_pages)

    def run(self) -> Sample:
        """Ingest every page in a child into an empty source; time and peak come from it."""
        self.clear()
        done = self._child(self.case.pages)
        check_complete(
            self.case.name, self.case.size, done["fetched"], done["inserted"], done["ok"]
        )
        return Sample(done["seconds"], done["fetched"], peak_mb=done["peak_mb"])


class _NoWork:
    """A pipeline that does nothing: what is left of a task is the queue's own cost."""

    def run(self, units: Any) -> list[Any]:
        """Return no results."""
        return []


class QueueOverheadTrial:
    """The queue's cost per task with no work: enqueue, claim (XREADGROUP), settle (ack)."""

    def __init__(self, case: Case, ctx: BenchContext) -> None:
        from workbench.queue.broker import Broker
        from workbench.queue.options import QueueOptions

        self.case = case
        options = QueueOptions(url=ctx.redis_url)
        self.broker = Broker.connect(ctx.redis_url, namespace="bench", options=options)

    def _once(self, tasks: int) -> float:
        """Enqueue ``tasks`` one-page tasks and run them all with one worker; return seconds."""
        from workbench.queue.codec import encode_units
        from workbench.queue.worker import QueueWorker
        from workbench.sources.source import WorkUnit

        job = f"overhead-{uuid.uuid4().hex[:12]}"
        task = encode_units([WorkUnit("posts", 1, "http://127.0.0.1/posts?_page=1")])
        started = time.perf_counter()
        self.broker.create_job(job, {"run_id": job}, public=False)
        for first in range(0, tasks, 1000):
            self.broker.add_tasks(job, [task] * min(1000, tasks - first))
        self.broker.seal(job)
        worker = QueueWorker(
            self.broker,
            lambda _: _NoWork(),  # type: ignore[arg-type,return-value]
            name=job,
            jobs=[job],
            until_empty=True,
        )
        handled = worker.run()
        seconds = time.perf_counter() - started
        self.broker.client.delete(*self.broker.keys.of_job(job))
        self.broker.client.zrem(self.broker.keys.jobs, job)
        if handled != tasks:
            raise IncompleteRunError(f"{self.case.name}: {handled} of {tasks} tasks settled")
        return seconds

    def warm_up(self) -> None:
        """Run a few tasks, untimed (connections, scripts loaded)."""
        self._once(100)

    def run(self) -> Sample:
        """Enqueue and settle every task of the case, timed."""
        return Sample(self._once(self.case.size), self.case.size)

    def close(self) -> None:
        """Close the broker."""
        self.broker.close()
