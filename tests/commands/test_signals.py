"""SIGINT and SIGTERM end ``workbench ingest`` gracefully in every mode; a second at once."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from workbench.bench.memory import descendants
from workbench.db.postgres import PostgresStore
from workbench.ingestion import MODES
from workbench.local_api import FaultConfig, ServerHandle, serve_in_thread


@pytest.fixture(scope="module")
def slow_api() -> Iterator[ServerHandle]:
    """An API slow enough (30 ms a page) that a run is still going when the signal comes."""
    with serve_in_thread(seed=5, scale=0.5, faults=FaultConfig(latency_ms=30)) as handle:
        yield handle


def ingest_command(api: ServerHandle, mode: str) -> list[str]:
    """Return ``workbench ingest`` on both resources, pages of 10, a page per transaction."""
    command = [sys.executable, "-m", "workbench", "ingest", "--mode", mode, "--base-url", api.url]
    command += ["--resource", "posts,comments", "--page-size", "10", "--no-progress"]
    return [*command, "--concurrency", "2", "--workers", "2", "--batch-rows", "10"]


def start(env: dict[str, str], api: ServerHandle, mode: str) -> subprocess.Popen[str]:
    """Start ``workbench ingest`` in a process group of its own."""
    return subprocess.Popen(
        ingest_command(api, mode), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, start_new_session=True,
    )  # fmt: skip


def alive(pid: int) -> bool:
    """Tell whether a process exists and is not a zombie (nothing here reaps orphans)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def wait_for_pages(dsn: str, count: int, timeout: float = 30) -> None:
    """Wait until ``count`` records are stored (the run is well under way)."""
    deadline = time.monotonic() + timeout
    with PostgresStore(dsn) as store:
        store.ensure_schema()
        while store.count("local") < count:
            assert time.monotonic() < deadline, "the run never got going"
            time.sleep(0.05)


@pytest.fixture
def env(postgres_dsn: str, redis_url: str) -> dict[str, str]:
    """The environment pointing the command at the test database and Redis."""
    return {**os.environ, "WORKBENCH_POSTGRES_DSN": postgres_dsn, "WORKBENCH_REDIS_URL": redis_url}


class TestOneSignal:
    """The first signal: stop gracefully, report, resume later."""

    @pytest.mark.parametrize("mode", sorted(MODES))
    @pytest.mark.parametrize(("signum", "status"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
    def test_stops_with_its_report_status_and_one_line(
        self,
        mode: str,
        signum: int,
        status: int,
        slow_api: ServerHandle,
        env: dict[str, str],
        postgres_dsn: str,
    ) -> None:
        """Exit 128+N, the report last on stdout, one stderr line, run interrupted, no orphans."""
        process = start(env, slow_api, mode)
        try:
            wait_for_pages(postgres_dsn, 20)
            children = set(descendants(process.pid))
            process.send_signal(signum)
            out, err = process.communicate(timeout=60)
        finally:
            if process.poll() is None:
                process.kill()
        assert process.returncode == status, err
        [line] = err.strip().splitlines()
        name = signal.Signals(signum).name
        assert line.startswith(f"workbench: interrupted by {name} after "), line
        report = json.loads(out.strip().splitlines()[-1])
        assert (report["status"], report["stopped"]) == ("interrupted", name)
        with PostgresStore(postgres_dsn) as store:
            assert store.runs(1)[0]["status"] == "interrupted"
            assert store.count("local") == report["inserted"]
        time.sleep(0.2)
        assert not [pid for pid in children if alive(pid)]

    def test_the_next_run_resumes_without_refetching(
        self, slow_api: ServerHandle, env: dict[str, str], postgres_dsn: str
    ) -> None:
        """Run again after SIGTERM, committed pages come from the cache; every record lands."""
        process = start(env, slow_api, "threaded")
        wait_for_pages(postgres_dsn, 20)
        process.send_signal(signal.SIGTERM)
        first = json.loads(process.communicate(timeout=60)[0].strip().splitlines()[-1])
        again = subprocess.run(
            ingest_command(slow_api, "threaded"), env=env, capture_output=True, text=True,
            timeout=60,
        )  # fmt: skip
        report = json.loads(again.stdout.strip().splitlines()[-1])
        assert again.returncode == 0, again.stderr
        assert report["cache_hits"] >= first["pages"]
        assert report["inserted"] + first["inserted"] == 300


class TestSecondSignal:
    """A second signal does not wait."""

    def test_ends_at_once(
        self, slow_api: ServerHandle, env: dict[str, str], postgres_dsn: str
    ) -> None:
        """Two SIGTERMs: the process is gone at once with status 143."""
        slow_api.set_faults(FaultConfig(latency_ms=2000))
        try:
            process = start(env, slow_api, "threaded")
            time.sleep(2.5)  # the first pages are in flight, each for two seconds
            process.send_signal(signal.SIGTERM)
            time.sleep(0.2)
            sent = time.monotonic()
            process.send_signal(signal.SIGTERM)
            process.communicate(timeout=30)
            assert process.returncode == 143
            assert time.monotonic() - sent < 1.5
        finally:
            slow_api.set_faults(FaultConfig(latency_ms=30))


class TestKilled:
    """SIGKILL gives a run no chance to clean up: what it started must not outlive it."""

    @pytest.mark.parametrize("mode", sorted(MODES))
    def test_no_process_of_the_run_outlives_it(
        self, mode: str, slow_api: ServerHandle, env: dict[str, str], postgres_dsn: str
    ) -> None:
        """Its worker processes, the queue's local workers included, exit soon after it."""
        process = start(env, slow_api, mode)
        try:
            wait_for_pages(postgres_dsn, 20)
            children = set(descendants(process.pid))
            process.kill()
            process.communicate(timeout=30)
        finally:
            if process.poll() is None:
                process.kill()
        deadline = time.monotonic() + 10
        while [pid for pid in children if alive(pid)] and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not [pid for pid in children if alive(pid)]
