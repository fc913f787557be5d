from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from workbench.bench.charts import write_charts, write_timeline
from workbench.bench.runner import Result
from workbench.ingestion.report import PageSpan, RunReport

RateResult = Callable[..., Result]
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def every_scenario(rate_result: RateResult) -> list[Result]:
    """Return a result or more of every scenario."""
    found = []
    for latency in (0.0, 20.0):
        for mode, concurrency in (("sync", 1), ("async", 4), ("async", 16), ("threaded", 16)):
            found.append(
                rate_result(
                    "io", mode, 100 * concurrency, latency_ms=latency, concurrency=concurrency
                )
            )
    found.append(rate_result("io", "multiprocess", 200, latency_ms=0.0, workers=2))
    found += [rate_result("cpu", mode, 1000) for mode in ("sync", "multiprocess")]
    found.append(rate_result("persist", "copy", 90_000, kind="write", unit="rows"))
    found.append(
        rate_result("persist", "upsert_copy", 50_000, kind="write", unit="rows", update=True)
    )
    found.append(rate_result("dedup", "smismember", 400_000, kind="dedup", unit="keys"))
    for size in (10_000, 100_000):
        found += [
            rate_result("growth", m, 10_000, size=size, peak_mb=80.0) for m in ("sync", "async")
        ]
    found.append(rate_result("limits", "http_limit", 300_000, size=100_000, kind="http_limit"))
    return found


class TestCharts:
    """The PNG files."""

    def test_every_scenario_gets_a_valid_png(self, rate_result: RateResult, tmp_path: Path) -> None:
        """Each scenario present gets its chart, each a real PNG, listed in a fixed order."""
        names = write_charts(tmp_path, every_scenario(rate_result))
        assert names == [
            "headline.png",
            "io.png",
            "cpu.png",
            "persist.png",
            "dedup.png",
            "growth.png",
        ]
        for name in names:
            assert (tmp_path / name).read_bytes().startswith(PNG_SIGNATURE)

    def test_only_the_scenarios_present_get_charts(
        self, rate_result: RateResult, tmp_path: Path
    ) -> None:
        """Results of one scenario write that scenario's chart only."""
        results = [rate_result("dedup", "smismember", 1, kind="dedup", unit="keys")]
        assert write_charts(tmp_path, results) == ["dedup.png"]

    def test_a_timeline_per_mode(self, tmp_path: Path) -> None:
        """A run report becomes timeline-<mode>.png, listed after the other charts."""
        report = RunReport("r", "async", "s", ("posts",), pages=2, seconds=0.3)
        report.spans = [
            PageSpan("posts", 1, "task-0", (0.0, 0.1), (0.1, 0.12), (0.13, 0.2)),
            PageSpan("posts", 2, "task-1", (0.0, 0.15), (0.15, 0.16), (0.2, 0.3)),
        ]
        path = write_timeline(tmp_path, report)
        assert path.name == "timeline-async.png"
        assert path.read_bytes().startswith(PNG_SIGNATURE)
        assert write_charts(tmp_path, []) == ["timeline-async.png"]
