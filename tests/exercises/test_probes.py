from __future__ import annotations

import asyncio
import io
import threading
from typing import Any

import aiohttp
import pytest
import requests

from workbench.exercises.probes import (
    InFlight,
    aiohttp_tracing,
    count_requests_in_flight,
    logging_connection,
)
from workbench.local_api import ServerHandle


class TestInFlight:
    """The concurrency counter."""

    def test_counts_the_peak_and_the_starts(self) -> None:
        """Overlapping operations raise the peak; every start is counted once."""
        in_flight = InFlight()
        in_flight.enter()
        in_flight.enter()
        in_flight.exit()
        in_flight.enter()
        in_flight.exit()
        in_flight.exit()
        assert (in_flight.now, in_flight.peak, in_flight.started) == (0, 2, 3)


class TestHttpProbes:
    """Watching requests and aiohttp calls."""

    def test_requests_calls_are_counted_from_any_thread(
        self, api: ServerHandle, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Four threads' requests, each answered after 100 ms, overlap: the peak is four."""
        in_flight = count_requests_in_flight(monkeypatch)
        url = f"{api.url}/posts/1?_latency_ms=100"
        threads = [threading.Thread(target=requests.get, args=(url,)) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert (in_flight.started, in_flight.peak, in_flight.now) == (4, 4, 0)

    def test_aiohttp_requests_are_counted_on_the_session(self, api: ServerHandle) -> None:
        """Three gathered requests on a traced session are in flight together."""
        in_flight = InFlight()

        async def fetch() -> None:
            async with aiohttp.ClientSession(trace_configs=[aiohttp_tracing(in_flight)]) as s:

                async def one() -> Any:
                    async with s.get(f"{api.url}/posts/1?_latency_ms=100") as response:
                        return await response.json()

                await asyncio.gather(one(), one(), one())

        asyncio.run(fetch())
        assert (in_flight.started, in_flight.peak, in_flight.now) == (3, 3, 0)


class TestStatementLog:
    """A connection that logs what its cursors send."""

    def test_every_cursor_logs_statements_and_copies(self, fresh_dsn: str) -> None:
        """Cursors the code under test opens itself log executes, executemany rows and COPYs."""
        conn = logging_connection(fresh_dsn)
        try:
            with conn.cursor() as cur:
                cur.execute("CREATE TEMP TABLE t (a int)")
                cur.executemany("INSERT INTO t VALUES (%s)", [(1,), (2,)])
                cur.copy_expert("COPY t FROM STDIN", io.BytesIO(b"3\n"))
            kinds = [kind for kind, _ in conn.statement_log.entries]
        finally:
            conn.close()
        assert kinds == ["execute", "execute", "execute", "copy"]
        assert conn.statement_log.copies == 1
