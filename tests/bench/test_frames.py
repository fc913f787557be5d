from __future__ import annotations

from collections.abc import Callable

import pytest

from workbench.bench.frames import headline_frame, scenario_frame, targets_frame
from workbench.bench.runner import Result
from workbench.bench.targets import MISSED, Target, evaluate

RateResult = Callable[..., Result]


class TestFrames:
    """DataFrames for the benchmark notebook."""

    def test_headline_has_a_row_per_mode_and_limit(self, rate_result: RateResult) -> None:
        """The headline frame is indexed by label, with speed-up over sync and share of limit."""
        results = [
            rate_result("growth", "sync", 10_000, size=1000, kind="ingest_child", peak_mb=50.0),
            rate_result("growth", "async", 30_000, size=1000, kind="ingest_child", peak_mb=60.0),
            rate_result("limits", "http_limit", 60_000, size=1000, kind="http_limit"),
            rate_result("limits", "copy_limit", 50_000, size=1000, kind="copy_limit", unit="rows"),
        ]
        frame = headline_frame(results)
        assert list(frame.index) == [
            "sync",
            "async",
            "HTTP limit: raw aiohttp fetch",
            "DB limit: raw COPY",
        ]
        assert frame.loc["async", "x sync"] == pytest.approx(3.0)
        assert frame.loc["async", "share of limit"] == pytest.approx(0.6)
        assert frame.loc["sync", "peak MB"] == 50.0

    def test_no_results_give_an_empty_headline(self) -> None:
        """Without end-to-end results the headline frame is empty."""
        assert headline_frame([]).empty

    def test_targets_show_what_limits_a_missed_one(
        self, rate_result: RateResult, targets: list[Target]
    ) -> None:
        """A missed target's row carries its limits note; the others leave it blank."""
        frame = targets_frame(
            evaluate(targets, [rate_result("dedup", "smismember", 1000, kind="dedup", unit="keys")])
        )
        dedup = frame.loc["Redis dedup batched (SMISMEMBER)"]
        limits = next(target.limits for target in targets if target.key == "dedup")
        assert dedup["status"] == MISSED and dedup["limits"] == limits
        assert (frame.drop(index=dedup.name)["limits"] == "").all()

    def test_a_scenario_frame_lists_its_cases_only(self, rate_result: RateResult) -> None:
        """One row per case of the asked scenario, with its rate."""
        results = [rate_result("cpu", "sync", 100), rate_result("io", "async", 200)]
        frame = scenario_frame(results, "cpu")
        assert list(frame["mode"]) == ["sync"] and list(frame["per second"]) == [100]
