"""``workbench ingest`` as a user runs it: every mode, a failed page, bad flags."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from workbench.db.postgres import PostgresStore
from workbench.ingestion import MODES
from workbench.local_api import FaultConfig, ServerHandle, serve_in_thread
from workbench.main import main

#: 50 posts and 250 comments: 3 + 13 pages of 20.
SCALE = 0.5
RECORDS = 300
PAGES = 16


@pytest.fixture(scope="module")
def api() -> Iterator[ServerHandle]:
    """A local API for the module's runs."""
    with serve_in_thread(seed=4, scale=SCALE) as handle:
        yield handle


@pytest.fixture
def env(cli_env: dict[str, str]) -> dict[str, str]:
    """The environment pointing the command at the test database and Redis."""
    return {**cli_env, "WORKBENCH_RETRY_ATTEMPTS": "2"}  # a failing page gives up quickly


def ingest(env: dict[str, str], api: ServerHandle, *flags: str) -> subprocess.CompletedProcess[str]:
    """Run ``python -m workbench ingest`` on both test resources, pages of 20, no progress bar."""
    command = [sys.executable, "-m", "workbench", "ingest", "--base-url", api.url]
    command += ["--resource", "posts,comments", "--page-size", "20", "--no-progress", *flags]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)


def last_line_json(stdout: str) -> dict[str, Any]:
    """Parse the report printed as the last line of stdout."""
    return json.loads(stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def checksums(dsn: str, source: str) -> dict[str, dict[str, str]]:
    """Return external_id -> checksum of every stored record of ``source``, per resource."""
    with PostgresStore(dsn) as store:
        return {resource: store.checksums(source, resource) for resource in ("posts", "comments")}


class TestIngestCommand:
    """Whole runs from the command line."""

    def test_every_mode_exits_0_and_stores_the_same_rows(
        self, api: ServerHandle, env: dict[str, str], postgres_dsn: str
    ) -> None:
        """Each mode exits 0, ends stdout with its JSON report, and stores the same records."""
        stored = {}
        for mode in MODES:
            done = ingest(env, api, "--mode", mode, "--source-name", mode)
            assert done.returncode == 0, done.stderr
            report = last_line_json(done.stdout)
            assert (report["status"], report["mode"], report["source"]) == ("ok", mode, mode)
            assert (report["pages"], report["fetched"], report["inserted"]) == (
                PAGES,
                RECORDS,
                RECORDS,
            )
            stored[mode] = checksums(postgres_dsn, mode)
        assert sum(map(len, stored["sync"].values())) == RECORDS
        assert all(found == stored["sync"] for found in stored.values())

    def test_a_second_run_is_served_from_the_cache(
        self, api: ServerHandle, env: dict[str, str]
    ) -> None:
        """Run again, the command reports every page a cache hit and every record unchanged."""
        assert ingest(env, api, "--mode", "threaded").returncode == 0
        done = ingest(env, api, "--mode", "threaded")
        report = last_line_json(done.stdout)
        assert (report["cache_hits"], report["inserted"], report["unchanged"]) == (
            PAGES,
            0,
            RECORDS,
        )

    def test_a_failed_page_exits_1_and_is_named(
        self, api: ServerHandle, env: dict[str, str]
    ) -> None:
        """A page failing every attempt makes the command exit 1 naming it on stderr."""
        api.set_faults(FaultConfig(always_fail=("/posts?_page=2&",)))
        try:
            done = ingest(env, api, "--mode", "async")
        finally:
            api.set_faults(FaultConfig())
        assert done.returncode == 1
        assert "workbench: 1 page(s) failed after retries: posts page 2" in done.stderr
        report = last_line_json(done.stdout)
        assert report["status"] == "failed"
        assert report["inserted"] == RECORDS - 20


class TestModesAndBatches:
    """The names a mode goes by, and the batching flag."""

    def test_multi_is_the_seeds_name_for_multiprocess(
        self, api: ServerHandle, env: dict[str, str]
    ) -> None:
        """``--mode multi`` runs the multiprocess mode (the seed's spelling)."""
        done = ingest(env, api, "--mode", "multi", "--max-pages", "1")
        assert done.returncode == 0, done.stderr
        assert last_line_json(done.stdout)["mode"] == "multiprocess"

    def test_batch_rows_sets_the_transactions_size(
        self, api: ServerHandle, env: dict[str, str]
    ) -> None:
        """``--batch-rows`` and ``WORKBENCH_BATCH_ROWS`` reach the writer: a flag beats the env."""
        flag = ingest(env, api, "--mode", "sync", "--batch-rows", "1", "--log-format", "json")
        assert flag.returncode == 0, flag.stderr
        from_env = ingest({**env, "WORKBENCH_BATCH_ROWS": "0"}, api, "--mode", "sync")
        assert from_env.returncode == 2
        assert "batch_rows: expected a positive integer" in from_env.stderr
        assert "(from WORKBENCH_BATCH_ROWS)" in from_env.stderr

    def test_linger_is_a_flag_and_a_variable(self, api: ServerHandle, env: dict[str, str]) -> None:
        """``--linger-s`` is accepted; a negative ``WORKBENCH_LINGER_S`` exits 2 in one line."""
        flag = ingest(env, api, "--mode", "sync", "--linger-s", "0", "--max-pages", "1")
        assert flag.returncode == 0, flag.stderr
        from_env = ingest({**env, "WORKBENCH_LINGER_S": "-1"}, api, "--mode", "sync")
        assert from_env.returncode == 2
        assert "linger_s: expected a number between 0.0 and 3600" in from_env.stderr
        assert len(from_env.stderr.strip().splitlines()) == 1


class TestProcessorChoice:
    """The processor flag and variable."""

    def test_pandas_stores_what_records_stores_and_a_bad_name_exits_2(
        self, api: ServerHandle, env: dict[str, str], postgres_dsn: str
    ) -> None:
        """``--processor pandas`` runs and stores the same rows; a bad WORKBENCH_PROCESSOR is 2."""
        pandas = ingest(env, api, "--mode", "async", "--processor", "pandas", "--source-name", "p")
        assert pandas.returncode == 0, pandas.stderr
        records = ingest({**env, "WORKBENCH_PROCESSOR": "records"}, api, "--source-name", "r")
        assert records.returncode == 0, records.stderr
        assert [last_line_json(done.stdout)["processor"] for done in (pandas, records)] == [
            "pandas",
            "records",
        ]
        assert checksums(postgres_dsn, "p") == checksums(postgres_dsn, "r")
        bad = ingest({**env, "WORKBENCH_PROCESSOR": "numpy"}, api, "--mode", "sync")
        assert bad.returncode == 2
        assert "(from WORKBENCH_PROCESSOR)" in bad.stderr


class TestLogContext:
    """Every log line of a run says which run, resource and page it is about, in every mode."""

    @pytest.mark.parametrize("mode", sorted(MODES))
    def test_every_json_line_carries_run_resource_and_page(
        self, mode: str, api: ServerHandle, env: dict[str, str]
    ) -> None:
        """With retried faults and a failed page, each stderr line is JSON with run context."""
        api.set_faults(FaultConfig(seed=9, error_rate=0.2, always_fail=("/posts?_page=2&",)))
        try:
            done = ingest(env, api, "--mode", mode, "--log-format", "json", "--batch-rows", "40")
        finally:
            api.set_faults(FaultConfig())
        assert done.returncode == 1
        lines = done.stderr.strip().splitlines()[:-1]  # the last one is the failure summary
        records = [json.loads(line) for line in lines]
        assert sum(r["logger"] == "workbench.retry" for r in records) >= 5
        run_id = last_line_json(done.stdout)["run_id"]
        for record in records:
            assert (record["run_id"], record["mode"]) == (run_id, mode), record
            assert record["resource"] in ("posts", "comments", "comments,posts"), record
            assert str(record["page"]), record
        # A retried fetch names the thread, process or task it ran in, whichever the mode.
        assert all(r["worker"] for r in records if r["logger"] == "workbench.retry"), records


class TestBadFlags:
    """Usage errors end in one stderr line and exit status 2, before any work."""

    def test_an_unknown_mode(self, capsys: pytest.CaptureFixture[str]) -> None:
        """``--mode warp`` exits 2 naming the flag and the choices."""
        with pytest.raises(SystemExit) as exited:
            main(["ingest", "--mode", "warp"])
        assert exited.value.code == 2
        [line] = capsys.readouterr().err.splitlines()
        assert "argument --mode: invalid choice: 'warp'" in line

    @pytest.mark.parametrize(
        ("flags", "message"),
        [
            (["--page-size", "0"], "page_size: expected a positive integer"),
            (["--concurrency", "0"], "concurrency: expected a positive integer"),
            (["--resource", "posts,nope"], "resources: expected a non-empty"),
            (["--cpu-cost", "-1"], "--cpu-cost: expected an integer >= 0"),
        ],
    )
    def test_an_invalid_value(
        self, flags: list[str], message: str, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """A value out of range exits 2 with one line naming the setting."""
        assert main(["ingest", *flags]) == 2
        [line] = capsys.readouterr().err.splitlines()
        assert line.startswith("workbench: error: ")
        assert message in line
