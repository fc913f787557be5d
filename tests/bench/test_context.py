from __future__ import annotations

import redis

from workbench.bench.context import BenchContext, scratch_source
from workbench.db.postgres import PostgresStore
from workbench.db.redis_cache import RedisCache
from workbench.processing import ProcessedRecord
from workbench.services import Services


def record(external_id: str) -> ProcessedRecord:
    """Return a stored-shaped post."""
    return ProcessedRecord("posts", external_id, {"id": int(external_id)}, f"sum-{external_id}")


class TestScratch:
    """Clearing a scratch source touches nothing else."""

    def test_clearing_a_scratch_source_leaves_user_data_alone(
        self, bench_services: Services
    ) -> None:
        """Rows, dedup sets and cached responses of other sources and URLs survive a clear."""
        source = scratch_source("io", "async")
        store = PostgresStore(bench_services.postgres_dsn)
        cache = RedisCache(bench_services.redis_url)
        try:
            for name in (source, "user-data"):
                store.write_batch(name, [record("1"), record("2")])
                cache.mark_seen(name, "posts", [record("1")])
            cache.set_response("http://bench/posts?_page=1", b"[]")
            cache.set_response("http://user/posts?_page=1", b"[]")
            with BenchContext(bench_services, max_records=100) as ctx:
                ctx.clear_source(source, ["http://bench/posts?_page=1"])
            assert store.count(source=source) == 0
            assert store.count(source="user-data") == 2
            assert cache.filter_unseen(source, "posts", [record("1")]) == [record("1")]
            assert cache.filter_unseen("user-data", "posts", [record("1")]) == []
            assert cache.get_response("http://bench/posts?_page=1") is None
            assert cache.get_response("http://user/posts?_page=1") == b"[]"
        finally:
            store.close()
            cache.close()

    def test_scratch_names_say_bench_scenario_and_mode(self) -> None:
        """Scratch sources are named bench-<scenario>-<mode>."""
        assert scratch_source("growth", "multiprocess") == "bench-growth-multiprocess"


class TestServers:
    """One source server per added latency, in its own process."""

    def test_one_server_per_latency_reused_and_stopped(self, bench_services: Services) -> None:
        """The same latency gets the same server; closing the context stops every server."""
        with BenchContext(bench_services, max_records=1000) as ctx:
            plain, slow = ctx.server(0.0), ctx.server(20.0)
            assert ctx.server(0.0) is plain and slow is not plain
            assert plain.process.pid != slow.process.pid
            urls = ctx.page_urls(plain.url, 10, 3)
            assert urls[-1] == f"{plain.url}/posts?_page=3&_limit=10"
        assert plain.process.poll() is not None and slow.process.poll() is not None

    def test_the_redis_database_is_the_configured_one(self, bench_services: Services) -> None:
        """The context's cache talks to the configured Redis database (the tests' own)."""
        with BenchContext(bench_services, max_records=100) as ctx:
            ctx.cache.client.set("wb:bench:probe", b"1")
        client = redis.Redis.from_url(bench_services.redis_url)
        try:
            assert client.get("wb:bench:probe") == b"1"
        finally:
            client.close()
