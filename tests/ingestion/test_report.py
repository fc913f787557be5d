"""RunReport and UnitResult: how page results fold into one report, and how it is shown."""

from __future__ import annotations

import json
import pickle

import pytest

from workbench.ingestion.report import STAGES, PageSpan, RunReport, UnitResult, writer_names


def page(
    number: int, *, error: str | None = None, cache_hit: bool = False, **counts: int
) -> UnitResult:
    """Build the result of page ``number`` of posts with the given counts."""
    span = PageSpan("posts", number, "main", (0.0, 0.1), (0.1, 0.2), (0.2, 0.25), (0.25, 0.3))
    stage_seconds = {} if error else {"fetch": 0.1, "process": 0.1, "dedup": 0.0, "persist": 0.1}
    return UnitResult(
        "posts",
        number,
        f"http://api/posts?_page={number}",
        error=error,
        cache_hit=cache_hit,
        stage_seconds=stage_seconds,
        span=span,
        **counts,
    )


def report_of(*results: UnitResult, seconds: float = 2.0) -> RunReport:
    """Fold ``results`` into a fresh report that took ``seconds``."""
    report = RunReport("run-1", "sync", "local", ("posts",))
    for result in results:
        report.add(result)
    report.seconds = seconds
    return report


class TestAdd:
    """Folding page results into the totals."""

    def test_counts_add_up_over_pages(self) -> None:
        """Pages, records, retries and cache hits are the sums of the pages' own."""
        report = report_of(
            page(1, fetched=10, inserted=7, updated=2, unchanged=1, retries={"fetch": 3}),
            page(2, fetched=10, unchanged=8, rejected=2, cache_hit=True),
        )
        assert (report.pages, report.fetched, report.inserted, report.updated) == (2, 20, 7, 2)
        assert (report.unchanged, report.rejected, report.retries, report.cache_hits) == (
            9,
            2,
            3,
            1,
        )

    def test_stage_seconds_add_up_per_stage(self) -> None:
        """Each stage's seconds are summed over pages; a failed page adds none."""
        report = report_of(page(1), page(2), page(3, error="ServerError: HTTP 500"))
        assert report.stage_seconds == pytest.approx(
            {"fetch": 0.2, "process": 0.2, "dedup": 0.0, "persist": 0.2}
        )
        assert set(report.stage_seconds) == set(STAGES)

    def test_failed_pages_are_listed_with_their_reason(self) -> None:
        """A page with an error is named, with its URL and reason, and fails the run."""
        report = report_of(page(1), page(4, error="ServerError: HTTP 500"))
        assert report.failed_pages == [
            {
                "resource": "posts",
                "page": 4,
                "url": "http://api/posts?_page=4",
                "reason": "ServerError: HTTP 500",
            }
        ]
        assert not report.ok

    def test_rejected_records_do_not_fail_the_run(self) -> None:
        """Rejects alone leave the run ok."""
        assert report_of(page(1, fetched=3, rejected=3)).ok

    def test_every_span_is_kept_in_landing_order(self) -> None:
        """The report keeps one span per page, in the order the pages landed."""
        report = report_of(page(2), page(1), page(3, error="boom"))
        assert [span.page for span in report.spans] == [2, 1, 3]


class TestFigures:
    """Derived numbers and text."""

    def test_records_per_second(self) -> None:
        """Throughput is fetched records over wall-clock seconds, 0 for a run of no time."""
        assert report_of(page(1, fetched=30), seconds=2.0).records_per_second == 15.0
        assert report_of(page(1, fetched=30), seconds=0.0).records_per_second == 0.0

    def test_failure_summary_names_every_failed_page(self) -> None:
        """The one-line summary counts and names the failed pages."""
        report = report_of(page(2, error="a"), page(5, error="b"), page(6))
        assert report.failure_summary() == (
            "2 page(s) failed after retries: posts page 2, posts page 5"
        )


class TestSummary:
    """The report as plain data (the CLI's last line, ``ingest_runs.report``)."""

    def test_is_json_ready_with_status_and_rounded_times(self) -> None:
        """The summary survives JSON, says ok or failed and rounds its times."""
        ok = report_of(page(1, fetched=10, inserted=10), seconds=1.234567)
        data = json.loads(json.dumps(ok.summary()))
        assert data["status"] == "ok"
        assert data["seconds"] == 1.2346
        assert data["records_per_second"] == 8.1
        assert data["resources"] == ["posts"]
        assert (data["fetched"], data["inserted"], data["pages"]) == (10, 10, 1)
        assert report_of(page(1, error="x")).summary()["status"] == "failed"

    def test_spans_only_when_asked(self) -> None:
        """Spans are left out by default and included as plain dicts on request."""
        report = report_of(page(1))
        assert "spans" not in report.summary()
        [span] = report.summary(spans=True)["spans"]
        assert span["worker"] == "main"
        assert list(span["fetch"]) == [0.0, 0.1]


class TestUnitResult:
    """A page's result crosses process boundaries."""

    def test_pickles_unchanged(self) -> None:
        """A result with a span comes back from pickle equal to itself."""
        result = page(3, fetched=10, inserted=10, retries={"fetch": 1})
        assert pickle.loads(pickle.dumps(result)) == result

    def test_defaults_describe_an_empty_successful_page(self) -> None:
        """A new result has no counts, no error and, without a cache, an available one."""
        result = UnitResult("posts", 1, "u")
        assert (result.fetched, result.inserted, result.retries, result.error) == (0, 0, {}, None)
        assert result.cache_available


class TestWriterNames:
    """The names a run's writers carry in spans."""

    def test_one_connection_writes_as_the_writer(self) -> None:
        """With one connection the batches are written by ``writer``, the calling thread."""
        assert writer_names(1) == ("writer",)

    def test_several_connections_name_a_thread_each(self) -> None:
        """With three connections the writing threads are ``writer_0`` to ``writer_2``."""
        assert writer_names(3) == ("writer_0", "writer_1", "writer_2")

    def test_the_summary_keeps_the_write_connections(self) -> None:
        """A run's summary says how many connections its batches were written on."""
        report = RunReport("run-1", "async", "local", ("posts",), write_connections=2)
        assert report.summary()["write_connections"] == 2
