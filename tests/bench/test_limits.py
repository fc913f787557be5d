from __future__ import annotations

import psycopg2

from workbench.bench.context import BenchContext
from workbench.bench.limits import (
    COPY_LIMIT_TABLE,
    CopyLimitTrial,
    HttpLimitTrial,
    copy_buffer,
    processed_posts,
    run_coroutine,
)
from workbench.bench.runner import measure
from workbench.bench.scenarios import Case
from workbench.services import Services


def table_exists(dsn: str) -> bool:
    """Tell whether the DB limit's scratch table exists."""
    with psycopg2.connect(dsn) as conn, conn.cursor() as cur:
        cur.execute("SELECT to_regclass(%s) IS NOT NULL", (COPY_LIMIT_TABLE,))
        exists = bool(cur.fetchone()[0])
    conn.close()
    return exists


class TestRows:
    """The rows both the DB limit and the strategies write."""

    def test_posts_are_processed_like_the_pipeline_does(self) -> None:
        """The first N posts, cleaned and checksummed, ids 1..N."""
        posts = processed_posts(250)
        assert [p.external_id for p in posts[:3]] == ["1", "2", "3"] and len(posts) == 250
        assert all(p.resource == "posts" and p.checksum for p in posts)

    def test_the_copy_buffer_has_a_line_per_row(self) -> None:
        """The buffer is COPY text: one line per row, six tab-separated columns."""
        lines = copy_buffer(processed_posts(20), "s").decode().splitlines()
        assert len(lines) == 20
        assert all(line.count("\t") == 5 and line.startswith("s\tposts\t") for line in lines)


class TestHttpLimit:
    """Raw aiohttp fetches of the case's pages."""

    def test_every_page_is_fetched(self, bench_services: Services) -> None:
        """Each repetition fetches the case's pages; the server counts exactly those requests."""
        case = Case("limits", "http_limit", "http_limit", 500, concurrency=4, page_size=50)
        with BenchContext(bench_services, max_records=500) as ctx:
            server = ctx.server(0.0)
            server.reset_stats()
            samples = measure(HttpLimitTrial(case, ctx, warmup_pages=2), 3)
            requests = server.stats()["requests_total"]
        assert [s.count for s in samples] == [500] * 3
        assert requests == 2 + 3 * 10

    def test_coroutines_run_inside_a_running_loop_too(self) -> None:
        """run_coroutine works with and without an event loop already running (Jupyter)."""
        import asyncio

        async def answer() -> int:
            return 42

        async def inside() -> int:
            return run_coroutine(answer)

        assert run_coroutine(answer) == 42
        assert asyncio.run(inside()) == 42


class TestCopyLimit:
    """COPY of a prepared buffer into the scratch table."""

    def test_copy_is_timed_and_the_table_dropped(self, bench_services: Services) -> None:
        """Each repetition COPYs every row into the emptied table; closing drops it."""
        case = Case("limits", "copy_limit", "copy_limit", 300, unit="rows")
        with BenchContext(bench_services, max_records=100) as ctx:
            trial = CopyLimitTrial(case, ctx)
            assert table_exists(bench_services.postgres_dsn)
            samples = measure(trial, 3)
        assert [s.count for s in samples] == [300] * 3 and all(s.seconds > 0 for s in samples)
        assert not table_exists(bench_services.postgres_dsn)
