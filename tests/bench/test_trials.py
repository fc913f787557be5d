from __future__ import annotations

import pytest
import redis

from workbench.bench.context import BenchContext, scratch_source
from workbench.bench.runner import IncompleteRunError, measure
from workbench.bench.scenarios import Case
from workbench.bench.trials import (
    ChildIngestTrial,
    IngestTrial,
    QueueOverheadTrial,
    check_complete,
)
from workbench.db.postgres import PostgresStore
from workbench.ingestion import MODES
from workbench.services import Services


class TestIngestTrial:
    """A mode ingesting in this process."""

    @pytest.mark.parametrize("mode", MODES)
    def test_each_repetition_ingests_every_record_from_scratch(
        self, bench_services: Services, mode: str
    ) -> None:
        """Every repetition fetches and inserts all records (cleared first) and keeps its report."""
        case = Case("io", "ingest", mode, 200, concurrency=4, workers=2, page_size=20)
        with BenchContext(bench_services, max_records=1000) as ctx:
            samples = measure(IngestTrial(case, ctx, warmup_pages=2), 3)
        assert [s.count for s in samples] == [200, 200, 200]
        assert all(s.report is not None and s.report.inserted == 200 for s in samples)
        with PostgresStore(bench_services.postgres_dsn) as store:
            assert store.count(source=scratch_source("io", mode)) == 0  # closed: nothing left


class TestChildIngestTrial:
    """A mode ingesting in a child process."""

    def test_the_child_reports_time_records_and_peak_memory(self, bench_services: Services) -> None:
        """A growth repetition ingests every record in a child and reports its peak memory."""
        case = Case("growth", "ingest_child", "async", 300, concurrency=4, page_size=100)
        with BenchContext(bench_services, max_records=300) as ctx:
            trial = ChildIngestTrial(case, ctx, warmup_pages=1)
            sample = trial.run()
            trial.close()
        assert sample.count == 300 and sample.seconds > 0
        assert sample.peak_mb is not None and 20 < sample.peak_mb < 1000


class TestQueueOverheadTrial:
    """The queue's own cost per task, with no work."""

    def test_every_task_is_enqueued_claimed_and_settled(self, bench_services: Services) -> None:
        """A repetition settles every task and leaves no job behind."""
        case = Case("queue", "queue_overhead", "overhead", 200, unit="tasks")
        with BenchContext(bench_services, max_records=100) as ctx:
            trial = QueueOverheadTrial(case, ctx)
            samples = measure(trial, 3)
            jobs = redis.Redis.from_url(bench_services.redis_url).zcard("bench:q:jobs")
        assert [s.count for s in samples] == [200, 200, 200]
        assert all(s.seconds > 0 for s in samples)
        assert jobs == 0


class TestCheckComplete:
    """Incomplete runs void a measurement."""

    def test_missing_records_or_a_failed_run_raise(self) -> None:
        """Fewer records fetched or inserted than expected, or a failed run, raise."""
        check_complete("c", 10, 10, 10, True)
        for fetched, inserted, ok in ((9, 9, True), (10, 9, True), (10, 10, False)):
            with pytest.raises(IncompleteRunError, match="incomplete run"):
                check_complete("c", 10, fetched, inserted, ok)
