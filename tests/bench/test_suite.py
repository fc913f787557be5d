from __future__ import annotations

from pathlib import Path

import pytest

from workbench.bench import suite
from workbench.bench.peer_env import PeerEnv
from workbench.bench.results import read_rows
from workbench.bench.runner import IncompleteRunError, Sample
from workbench.bench.scenarios import QUICK
from workbench.bench.suite import PEER_SKIPPED, run_benchmark, write_summary
from workbench.services import Services

TINY = QUICK.scaled(0.05)


class BrokenTrial:
    """A trial whose repetitions never complete."""

    def warm_up(self) -> None:
        """Warm up fine."""

    def run(self) -> Sample:
        """Fail like an incomplete ingestion."""
        raise IncompleteRunError("2 pages failed")

    def close(self) -> None:
        """Nothing to release."""


class TestRunBenchmark:
    """A run in this process."""

    def test_a_scenario_is_measured_appended_and_summarised(
        self, bench_services: Services, tmp_path: Path
    ) -> None:
        """Each case of the scenario gets a row; summary.md and its chart are written."""
        outcome = run_benchmark(TINY, ("dedup",), tmp_path, services=bench_services, progress=False)
        assert not outcome.failures
        assert [row["mode"] for row in read_rows(tmp_path)] == [
            "one_by_one",
            "pipelined",
            "smismember",
        ]
        assert "### dedup" in (tmp_path / "summary.md").read_text()
        assert (tmp_path / "dedup.png").exists()

    def test_the_processors_are_measured_side_by_side(
        self, bench_services: Services, tmp_path: Path
    ) -> None:
        """Both processors alone and end to end get rows, a comparison section and a chart."""
        run_benchmark(TINY, ("processors",), tmp_path, services=bench_services, progress=False)
        rows = read_rows(tmp_path)
        assert [(row["kind"], row["mode"], row["processor"]) for row in rows][-2:] == [
            ("ingest", "async", "records"),
            ("ingest", "async", "pandas"),
        ]
        assert {row["mode"] for row in rows if row["kind"] == "process"} == {"records", "pandas"}
        summary = (tmp_path / "summary.md").read_text()
        assert "## Processors" in summary and "| end to end, async |" in summary
        assert (tmp_path / "processors.png").exists()

    def test_a_failing_case_is_named_and_the_others_still_run(
        self, bench_services: Services, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A case that cannot be measured is listed as failed; the rest are still measured."""
        real = suite._TRIALS["dedup"]
        monkeypatch.setitem(
            suite._TRIALS,
            "dedup",
            lambda case, ctx, plan: (
                BrokenTrial() if case.mode == "pipelined" else real(case, ctx, plan)
            ),
        )
        outcome = run_benchmark(TINY, ("dedup",), tmp_path, services=bench_services, progress=False)
        assert len(outcome.failures) == 1 and "dedup/pipelined" in outcome.failures[0]
        assert [row["mode"] for row in read_rows(tmp_path)] == ["one_by_one", "smismember"]
        assert "2 pages failed" in (tmp_path / "summary.md").read_text()

    def test_without_dlt_the_summary_says_the_peer_was_skipped_and_why(
        self, bench_services: Services, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """With dlt not installable the limits run without the peer; the summary says why."""
        unavailable = PeerEnv(None, None, "dlt could not be installed (no registry)")
        monkeypatch.setattr(suite, "ensure_peer_env", lambda: unavailable)
        outcome = run_benchmark(
            TINY, ("limits",), tmp_path, services=bench_services, progress=False
        )
        assert [row["mode"] for row in read_rows(tmp_path)] == ["http_limit", "copy_limit"]
        text = (tmp_path / "summary.md").read_text()
        assert f"{PEER_SKIPPED}: dlt could not be installed (no registry)" in text
        assert outcome.failures == []  # the run goes on: a skipped peer is no failure


class TestWriteSummary:
    """Summaries of folders."""

    def test_an_empty_folder_gets_a_summary_saying_so(self, tmp_path: Path) -> None:
        """A folder without results gets a summary that says nothing was measured."""
        text = write_summary(tmp_path, notes=["x failed: y"]).read_text()
        assert "No results were measured" in text and "x failed: y" in text
