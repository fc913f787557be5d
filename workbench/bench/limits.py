"""The ceilings a pipeline is judged against: the HTTP limit and the DB limit, same load.

* HTTP limit: aiohttp fetches the same pages the pipeline reads, ``concurrency`` at a time,
  reads each body and does nothing else (no parsing, no processing, no writes).
* DB limit: the same rows the pipeline stores, encoded once as a COPY buffer up front; only
  the ``COPY`` of that buffer into an empty table shaped like ``ingested_data`` (same primary
  key) and its commit are timed. No Python work per row is left to measure.

The slower of the two is the *pipeline limit*: no design of the pipeline can beat it here.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import io
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

import psycopg2
from psycopg2 import sql

from workbench.bench.context import BenchContext
from workbench.bench.runner import IncompleteRunError, Sample
from workbench.bench.scenarios import Case
from workbench.db.insert_strategies import copy_payload, data_json
from workbench.db.upsert import COLUMNS
from workbench.error_mapping import map_psycopg2_errors
from workbench.local_api import Dataset
from workbench.processing import ProcessedRecord, Processor

__all__ = [
    "COPY_LIMIT_TABLE",
    "CopyLimitTrial",
    "HttpLimitTrial",
    "copy_buffer",
    "fetch_all",
    "processed_posts",
    "run_coroutine",
]

#: The DB limit's scratch table: created, truncated and dropped by the benchmark only.
COPY_LIMIT_TABLE = "wb_bench_copy_limit"
_TABLE = sql.Identifier(COPY_LIMIT_TABLE)
_COLUMNS = sql.SQL(", ").join(map(sql.Identifier, COLUMNS))

T = TypeVar("T")


def processed_posts(count: int, seed: int = 0) -> list[ProcessedRecord]:
    """Return the first ``count`` posts as the pipeline stores them (cleaned, checksummed)."""
    dataset = Dataset(seed=seed, scale=max(1.0, count / 100))
    return Processor("posts").process_many(dataset.slice("posts", 0, count)).records


def copy_buffer(records: Sequence[ProcessedRecord], source: str) -> bytes:
    """Encode records as ``ingested_data`` rows in one COPY text-format buffer."""
    rows = (
        (source, r.resource, r.external_id, data_json(r.data), r.checksum, None) for r in records
    )
    return copy_payload(rows)


def run_coroutine(make: Callable[[], Awaitable[T]]) -> T:
    """Run a coroutine to completion, on a helper thread when a loop already runs (Jupyter)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(make())  # type: ignore[arg-type]
    with concurrent.futures.ThreadPoolExecutor(1) as helper:
        return helper.submit(lambda: asyncio.run(make())).result()  # type: ignore[arg-type]


async def fetch_all(urls: Sequence[str], concurrency: int) -> int:
    """GET every URL, ``concurrency`` at a time on one session; return the bytes read."""
    import aiohttp

    pending = iter(urls)
    total = 0
    connector = aiohttp.TCPConnector(limit=concurrency, limit_per_host=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def worker() -> None:
            nonlocal total
            for url in pending:  # next() never awaits: no two workers take the same URL
                async with session.get(url) as response:
                    body = await response.read()
                    if response.status != 200:
                        raise IncompleteRunError(f"HTTP limit: {url} answered {response.status}")
                    total += len(body)

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return total


class HttpLimitTrial:
    """Fetch the case's pages with bare aiohttp: the fastest the API can be read from here."""

    def __init__(self, case: Case, ctx: BenchContext, *, warmup_pages: int) -> None:
        self.case = case
        base_url = ctx.server(case.latency_ms).url
        self.urls = ctx.page_urls(base_url, case.page_size, case.pages)
        self.warmup_urls = self.urls[:warmup_pages]

    def warm_up(self) -> None:
        """Fetch the first few pages, untimed."""
        run_coroutine(lambda: fetch_all(self.warmup_urls, self.case.concurrency))

    def run(self) -> Sample:
        """Fetch every page and time it."""
        started = time.perf_counter()
        run_coroutine(lambda: fetch_all(self.urls, self.case.concurrency))
        return Sample(time.perf_counter() - started, self.case.size)

    def close(self) -> None:
        """Nothing to release: each run opens and closes its own session."""


class CopyLimitTrial:
    """COPY a prepared buffer of the case's rows into an empty table with the same key."""

    def __init__(self, case: Case, ctx: BenchContext) -> None:
        self.case = case
        self.ctx = ctx
        self.buffer = copy_buffer(processed_posts(case.size), source="bench-copy-limit")
        ctx.store.ensure_schema()  # the scratch table copies ingested_data's shape
        ctx.execute(
            sql.SQL("DROP TABLE IF EXISTS {}").format(_TABLE),
            sql.SQL(
                "CREATE TABLE {} (LIKE ingested_data INCLUDING DEFAULTS"
                " INCLUDING CONSTRAINTS INCLUDING INDEXES)"
            ).format(_TABLE),
        )

    def _copy(self) -> float:
        """Empty the table (untimed), then COPY the buffer and commit; return the seconds."""
        self.ctx.execute(sql.SQL("TRUNCATE {}").format(_TABLE))
        with map_psycopg2_errors():
            connection = psycopg2.connect(self.ctx.postgres_dsn)
            try:
                with connection.cursor() as cur:
                    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(_TABLE, _COLUMNS)
                    started = time.perf_counter()
                    cur.copy_expert(statement, io.BytesIO(self.buffer))
                    connection.commit()
                    return time.perf_counter() - started
            finally:
                connection.close()

    def warm_up(self) -> None:
        """COPY once, untimed (the table's pages and the WAL get warm)."""
        self._copy()

    def run(self) -> Sample:
        """COPY every row into the empty table and time it."""
        return Sample(self._copy(), self.case.size)

    def close(self) -> None:
        """Drop the scratch table."""
        self.ctx.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(_TABLE))
