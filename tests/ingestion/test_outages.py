"""Postgres going away: restarted mid-run, down past the retries, unreachable from the start."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from workbench.db.postgres import PostgresStore
from workbench.ingestion import RetryOptions
from workbench.local_api import FaultConfig, ServerHandle, serve_in_thread
from workbench.services.common import state_dir
from workbench.services.postgres import ThrowawayPostgres

#: Enough patience to outlast a restart (about a quarter of a second), not a long outage.
PATIENT = RetryOptions(attempts=12, base=0.05, cap=0.5)


@pytest.fixture(scope="module")
def postgres() -> Iterator[ThrowawayPostgres]:
    """A Postgres of the module's own, to restart and stop at will."""
    with ThrowawayPostgres(state_dir() / "throwaway" / uuid.uuid4().hex[:12]) as server:
        yield server


@pytest.fixture
def fresh(postgres: ThrowawayPostgres) -> ThrowawayPostgres:
    """The module's Postgres, running, with empty tables."""
    postgres.start()
    with PostgresStore(postgres.dsn) as store:
        store.ensure_schema()
        store.truncate()
    return postgres


@pytest.fixture(scope="module")
def slow_api() -> Iterator[ServerHandle]:
    """An API slow enough (15 ms a page) that restarts land in the middle of the run."""
    with serve_in_thread(seed=3, scale=0.5, faults=FaultConfig(latency_ms=15)) as handle:
        yield handle


def restarting(server: ThrowawayPostgres, times: int, every_s: float) -> threading.Thread:
    """Start a thread that restarts ``server`` ``times`` times, ``every_s`` apart."""

    def restart() -> None:
        for _ in range(times):
            time.sleep(every_s)
            server.restart()

    thread = threading.Thread(target=restart, name="restarter")
    thread.start()
    return thread


class TestRestarts:
    """Postgres restarted while a run writes."""

    def test_every_restart_is_survived_and_every_record_lands_once(
        self, mode: str, fresh: ThrowawayPostgres, slow_api: ServerHandle, build: Any,
        expected_of: Any, stored: Any,
    ) -> None:  # fmt: skip
        """Four restarts mid-run: the batch is retried each time; the run ends ok, exactly once."""
        ingestor = build(mode, slow_api.url, batch_rows=10, retry_options=PATIENT, dsn=fresh.dsn)
        restarter = restarting(fresh, times=4, every_s=0.25)
        try:
            report = ingestor.run()
        finally:
            restarter.join()
        assert report.ok, (report.stopped, report.failed_pages)
        expected = expected_of(slow_api)
        assert stored(ingestor.store) == expected.checksums
        assert report.inserted == expected.records


class TestLongOutage:
    """Postgres gone for longer than the retries wait."""

    @pytest.mark.parametrize("mode", ["threaded", "queue"])
    def test_the_run_stops_cleanly_with_nothing_half_written(
        self, mode: str, fresh: ThrowawayPostgres, slow_api: ServerHandle, build: Any
    ) -> None:
        """The run ends failed, saying Postgres is gone; it reports exactly what is stored."""
        ingestor = build(mode, slow_api.url, batch_rows=10, dsn=fresh.dsn)

        def stop_postgres_at_page_three(result: Any) -> None:
            landed.append(result)
            if len(landed) == 3:
                fresh.stop()

        landed: list[Any] = []
        report = ingestor.run(progress=stop_postgres_at_page_three)
        assert report.status == "failed"
        assert report.completed is False  # a bool in the report's JSON too, never null
        assert report.stopped is not None and "Postgres unavailable" in report.stopped
        fresh.start()
        with PostgresStore(fresh.dsn) as store:
            assert store.count("local") == report.inserted


class TestUnreachableAtStart:
    """No Postgres at all when the command starts."""

    def test_one_line_naming_postgres_exit_1(self, slow_api: ServerHandle, redis_url: str) -> None:
        """The command says which Postgres it could not reach, without the password: exit 1."""
        env = {
            **os.environ,
            "WORKBENCH_POSTGRES_DSN": "postgresql://wb:s3cret-pw@127.0.0.1:1/wb?connect_timeout=1",
            "WORKBENCH_REDIS_URL": redis_url,
        }
        done = subprocess.run(
            [sys.executable, "-m", "workbench", "ingest", "--base-url", slow_api.url],
            env=env, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert done.returncode == 1
        [line] = done.stderr.strip().splitlines()
        assert line.startswith("workbench: error: Postgres at 127.0.0.1:1/wb is unreachable")
        assert "s3cret-pw" not in done.stderr + done.stdout
