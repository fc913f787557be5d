from __future__ import annotations

import pytest
import redis

from workbench.bench.context import BenchContext
from workbench.bench.runner import measure
from workbench.bench.scenarios import Case
from workbench.bench.stores import DedupTrial, WriteTrial, fingerprints
from workbench.db.insert_strategies import STRATEGIES
from workbench.db.postgres import PostgresStore
from workbench.db.redis_dedup import DEDUP_STRATEGIES
from workbench.services import Services


class TestWriteTrial:
    """Insert strategies writing the same rows."""

    @pytest.mark.parametrize("name", list(STRATEGIES))
    def test_every_strategy_inserts_every_row(self, bench_services: Services, name: str) -> None:
        """Each strategy writes all rows in batches; the scratch source is empty afterwards."""
        case = Case("persist", "write", name, 250, unit="rows", batch=100)
        with BenchContext(bench_services, max_records=100) as ctx:
            samples = measure(WriteTrial(case, ctx), 3)
        assert [s.count for s in samples] == [250] * 3
        with PostgresStore(bench_services.postgres_dsn) as store:
            assert store.count() == 0

    def test_the_update_case_rewrites_every_row(self, bench_services: Services) -> None:
        """With update=True the rows exist first with other checksums; each run updates all.

        A repetition that inserted instead of updating would raise IncompleteRunError.
        """
        case = Case("persist", "write", "upsert_copy", 150, unit="rows", batch=100, update=True)
        with BenchContext(bench_services, max_records=100) as ctx:
            samples = measure(WriteTrial(case, ctx), 3)
        assert [s.count for s in samples] == [150] * 3


class TestDedupTrial:
    """Redis membership strategies checking the same fingerprints."""

    @pytest.mark.parametrize("name", list(DEDUP_STRATEGIES))
    def test_every_strategy_finds_half_seen_and_cleans_up(
        self, bench_services: Services, name: str
    ) -> None:
        """Half the fingerprints are in the set, each strategy agrees, the set is gone after."""
        case = Case("dedup", "dedup", name, 301, unit="keys", batch=100)
        with BenchContext(bench_services, max_records=100) as ctx:
            samples = measure(DedupTrial(case, ctx), 3)  # each run checks the answers itself
        assert [s.count for s in samples] == [301] * 3
        client = redis.Redis.from_url(bench_services.redis_url)
        try:
            assert list(client.scan_iter("wb:bench:dedup:*")) == []
        finally:
            client.close()

    def test_fingerprints_are_distinct_and_shaped_like_the_pipelines(self) -> None:
        """Fingerprints are id:checksum, all different."""
        members = fingerprints(1000)
        assert len(set(members)) == 1000
        assert members[7].startswith("7:") and len(members[7].split(":")[1]) == 32
