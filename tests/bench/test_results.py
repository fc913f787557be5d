from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import pytest

from workbench.bench.results import (
    COLUMNS,
    RESULTS_FILE,
    Environment,
    collect_environment,
    environment_from_row,
    latest_folder,
    load_results,
    read_rows,
    result_from_row,
    row_for,
    run_folder_name,
    write_row,
)
from workbench.bench.runner import Result
from workbench.bench.scenarios import Case
from workbench.locks import file_digest
from workbench.services import Services
from workbench.services.common import project_root

ResultOf = Callable[..., Result]

ENV = Environment(2, "3.11.7", "Linux x86_64", "0.1.0", "18.1", "9.1.0", "", "0123456789abcdef")
IO = Case("io", "ingest", "threaded", 1000, latency_ms=20, concurrency=16, page_size=10)
GROWTH = Case("growth", "ingest_child", "sync", 10_000)
UPDATE = Case("persist", "write", "upsert_copy", 500, unit="rows", batch=100, update=True)


class TestRows:
    """One result as a CSV row and back."""

    def test_a_result_survives_the_round_trip(self, result_of: ResultOf, tmp_path: Path) -> None:
        """Writing a result and reading it back gives the same case, spreads and samples."""
        for case, peak in ((IO, None), (GROWTH, 120.5), (UPDATE, None)):
            result = result_of(case, [1.5, 1.25, 2.0], peak_mb=peak)
            write_row(tmp_path, row_for(result, run_id="r1", plan="full", environment=ENV))
        rows = read_rows(tmp_path)
        back = [result_from_row(row) for row in rows]
        assert [r.case for r in back] == [IO, GROWTH, UPDATE]
        assert back[0].seconds.median == 1.5 and back[0].samples == (1.5, 1.25, 2.0)
        assert back[1].peak_mb is not None and back[1].peak_mb.maximum == 120.5
        assert back[0].peak_mb is None

    def test_every_row_carries_the_environment_and_run(
        self, result_of: ResultOf, tmp_path: Path
    ) -> None:
        """Each row has every column, the environment's included, with the run's values."""
        write_row(
            tmp_path, row_for(result_of(IO, [1.0] * 3), run_id="r9", plan="quick", environment=ENV)
        )
        (row,) = read_rows(tmp_path)
        assert list(row) == list(COLUMNS)
        assert environment_from_row(row) == ENV
        assert (row["run_id"], row["plan"], row["case"]) == ("r9", "quick", IO.name)

    def test_ideal_seconds_are_written_when_the_case_has_one(self, result_of: ResultOf) -> None:
        """A case with added latency has its ideal written; a storage case leaves it empty."""
        with_ideal = row_for(result_of(IO, [1.0] * 3), run_id="r", plan="full", environment=ENV)
        without = row_for(result_of(UPDATE, [1.0] * 3), run_id="r", plan="full", environment=ENV)
        assert with_ideal["ideal_seconds"] == IO.ideal_seconds
        assert without["ideal_seconds"] == ""


class TestAppending:
    """Rows appended over several invocations."""

    def test_the_header_is_written_once(self, result_of: ResultOf, tmp_path: Path) -> None:
        """Appending twice writes one header and two rows."""
        for run_id in ("a", "b"):
            result = result_of(IO, [1.0] * 3)
            write_row(tmp_path, row_for(result, run_id=run_id, plan="full", environment=ENV))
        lines = (tmp_path / RESULTS_FILE).read_text().splitlines()
        assert len(lines) == 3 and lines[0].startswith("run_id,plan,case")

    def test_loading_keeps_the_latest_row_of_each_case(
        self, result_of: ResultOf, tmp_path: Path
    ) -> None:
        """A case measured twice is loaded once, with its later numbers, in first-seen order."""
        for case, seconds in ((IO, 1.0), (GROWTH, 2.0), (IO, 3.0)):
            result = result_of(case, [seconds] * 3)
            write_row(tmp_path, row_for(result, run_id="r", plan="full", environment=ENV))
        loaded = load_results(read_rows(tmp_path))
        assert [r.case for r in loaded] == [IO, GROWTH]
        assert loaded[0].seconds.median == 3.0

    def test_a_folder_without_results_reads_as_empty(self, tmp_path: Path) -> None:
        """No results.csv: no rows."""
        assert read_rows(tmp_path) == []


class TestOlderRuns:
    """Results written before a column existed still read, and take new rows."""

    def test_a_row_without_newer_columns_takes_their_defaults(self, result_of: ResultOf) -> None:
        """A case field missing from a row (an older run's) takes its default."""
        row = row_for(result_of(GROWTH, [1.0] * 3), run_id="r", plan="full", environment=ENV)
        del row["processor"], row["batch_rows"]
        assert result_from_row({k: str(v) for k, v in row.items()}).case == GROWTH

    def test_a_run_from_before_the_locks_reads_with_no_lock_digest(
        self, result_of: ResultOf
    ) -> None:
        """A row written before lock digests were recorded reads back with empty digests."""
        row = row_for(result_of(GROWTH, [1.0] * 3), run_id="r", plan="full", environment=ENV)
        old = {k: str(v) for k, v in row.items() if k not in ("env_lock", "env_peer_lock")}
        environment = environment_from_row(old)
        assert (environment.lock, environment.peer_lock) == ("", "")
        assert environment.python == ENV.python

    def test_appending_to_an_older_file_rewrites_its_header(
        self, result_of: ResultOf, tmp_path: Path
    ) -> None:
        """A results.csv with an older header gets today's, its rows kept, before the new row."""
        old = row_for(result_of(GROWTH, [1.0] * 3), run_id="old", plan="full", environment=ENV)
        older_columns = [column for column in COLUMNS if column != "processor"]
        lines = [",".join(older_columns), ",".join(str(old[c]) for c in older_columns)]
        (tmp_path / RESULTS_FILE).write_text("\n".join(lines) + "\n")
        write_row(
            tmp_path, row_for(result_of(IO, [1.0] * 3), run_id="new", plan="full", environment=ENV)
        )
        rows = read_rows(tmp_path)
        assert tuple(rows[0]) == COLUMNS
        assert [result_from_row(row).case for row in rows] == [GROWTH, IO]


@pytest.mark.services
class TestEnvironment:
    """What a run records of where it ran."""

    def test_the_lock_digest_is_recorded_and_the_peer_lock_only_with_the_peer(
        self, bench_services: Services
    ) -> None:
        """The environment carries requirements-lock.txt's digest; the peer's when dlt ran."""
        dsn, url = bench_services.postgres_dsn, bench_services.redis_url
        without, with_peer = collect_environment(dsn, url, None), collect_environment(dsn, url, "1")
        assert without.lock == file_digest(project_root() / "requirements-lock.txt") != ""
        assert without.peer_lock == "" and len(with_peer.peer_lock) == 16


class TestFolders:
    """Run folder names and finding the latest run."""

    def test_reference_and_local_folder_names(self) -> None:
        """Folders are named by the UTC start; non-reference runs get the local- prefix."""
        now = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
        assert run_folder_name(now, local=False) == "20260102T030405Z"
        assert run_folder_name(now, local=True) == "local-20260102T030405Z"

    def test_latest_folder_orders_by_time_whatever_the_prefix(self, tmp_path: Path) -> None:
        """The newest run with a results.csv wins, local or not; none gives None."""
        assert latest_folder(tmp_path) is None
        for name in ("20260101T000000Z", "local-20260301T000000Z", "20260201T000000Z"):
            (tmp_path / name).mkdir()
            (tmp_path / name / RESULTS_FILE).write_text("run_id\n")
        (tmp_path / "20270101T000000Z").mkdir()  # no results: not a run
        assert latest_folder(tmp_path) == tmp_path / "local-20260301T000000Z"
